/**
 * The page when its supervisor dies (SIGKILL) and another takes its place: while none runs, a page's
 * buttons act on nothing; a page opened on the new one shows a lost task's last lines from its log file,
 * and a page left open with the old link, whose token the new supervisor does not take, says that link
 * no longer works rather than "reconnecting…" forever.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import type { Browser } from "playwright-core"
import { afterAll, describe, expect, it } from "vitest"
import { connectIfRunning } from "../../src/daemon/connect.ts"
import { runtimePaths } from "../../src/daemon/runtimePaths.ts"
import { builtCli } from "../builtCli.ts"
import { until } from "../e2e/client.ts"
import { isAlive } from "../helpers.ts"
import { launch, screenshot, watchProblems } from "./fixtures/browser.ts"

const runtime = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-recovery-rt-"))
const project = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-recovery-"))
writeFileSync(
  NodePath.join(project, "taskmux.json"),
  JSON.stringify({
    tasks: { counter: { command: "for i in $(seq 1 30); do echo line $i; done; sleep 300", keep: true } }
  })
)
const env = { ...process.env, XDG_RUNTIME_DIR: runtime, TASKMUX_ISOLATED: "false", TASKMUX_LINGER_MS: "300" }
const taskmux = builtCli(project, env)
const paths = runtimePaths(project, { XDG_RUNTIME_DIR: runtime })

const supervisorPid = async () => {
  const c = await connectIfRunning(paths, "cli")
  c?.socket.destroy()
  return c?.welcome.pid
}

describe("the page when its supervisor dies", () => {
  let browser: Browser | undefined
  afterAll(async () => {
    await browser?.close()
    await taskmux(["stop", "counter"])
    const pid = await supervisorPid()
    if (pid !== undefined) process.kill(pid, "SIGTERM")
  })

  it(
    "a new supervisor's page shows a lost task's last lines; a page with the old link says it no longer works",
    async () => {
      expect((await taskmux(["start", "counter"])).code).toBe(0)
      await until(async () =>
        (await taskmux(["logs", "counter", "--tail", "1"])).stdout.includes("line 30") || undefined
      )
      const old = (await taskmux(["ui", "--print"])).stdout.trim()
      browser = await launch()
      const problems: Array<string> = []
      const oldPage = await (await browser.newContext()).newPage()
      // Each request it makes of the API, with what made it (a stream, a fetch).
      const asked: Array<string> = []
      oldPage.on("request", (request) => {
        const path = new URL(request.url()).pathname
        if (path.includes("/api/")) asked.push(`${request.resourceType()} ${path.replace(/^.*\/api\//, "")}`)
      })
      await oldPage.goto(old)
      await oldPage.waitForSelector(`.conn[data-state="up"]`)

      // The supervisor dies; its token file goes (how a person asks for a new token); another starts.
      await oldPage.locator(`tr[data-name="counter"] td.c-name`).click()
      const pid = (await supervisorPid())!
      process.kill(pid, "SIGKILL")
      await until(() => !isAlive(pid) || undefined)
      // Disconnected, its buttons act on nothing: what it shows may be out of date.
      await oldPage.waitForSelector(".banner:visible")
      await oldPage.locator(`.actions button:text-is("Stop")`).click()
      await expect.poll(() => oldPage.locator(".detail .status-line").textContent()).toContain(
        "Not connected to taskmux"
      )
      rmSync(paths.token, { force: true })
      const fresh = (await taskmux(["ui", "--print"])).stdout.trim()
      expect(new URL(fresh).searchParams.get("token")).not.toBe(new URL(old).searchParams.get("token"))
      // On the project's port again, where the old page looks (were it taken, the page could not know).
      expect(new URL(fresh).port).toBe(new URL(old).port)

      await expect.poll(() => oldPage.locator(".banner").textContent(), { timeout: 30_000 })
        .toContain("This page's link no longer works")
      expect(await oldPage.locator(".banner").textContent()).toContain("Run taskmux ui again")
      // It learnt that from api/ping, which opens nothing: a stream opened only to read its status, by a
      // page being closed, outlived the page (its supervisor counted it open, and stayed for it).
      expect(asked).toContain("fetch ping")
      expect(asked.filter((a) => /^(?!eventsource).* (events|output)$/.test(a))).toEqual([])
      await screenshot(oldPage, "page-link-expired")

      const page = await (await browser.newContext()).newPage()
      watchProblems(page, problems, "new page")
      await page.goto(fresh)
      await page.waitForSelector(`.conn[data-state="up"]`)
      await page.locator(`tr[data-name="counter"] td.c-name`).click()
      await expect.poll(() => page.locator(`tr[data-name="counter"] td.c-status`).textContent()).toContain("lost")
      // Its output, from its log file: not "No output yet".
      await expect.poll(() => page.locator(".output .ln").last().textContent(), { timeout: 10_000 }).toBe("line 30")
      expect(await page.locator(".output .ln").count()).toBe(30)
      await screenshot(page, "page-lost-task")
      // And for the person at the keyboard: its last lines, as many as asked, from the same file.
      const logs = await taskmux(["logs", "counter", "--tail", "3"])
      expect([logs.code, logs.stdout]).toEqual([0, "line 28\nline 29\nline 30\n"])
      expect(logs.stderr).toContain("counter is lost")
      expect(problems).toEqual([])
    },
    90_000
  )

  it(
    "a page whose supervisor stops answering (SIGSTOP) says so within seconds, and is live again once it answers",
    async () => {
      const pid = (await supervisorPid())!
      const link = (await taskmux(["ui", "--print"])).stdout.trim()
      browser ??= await launch()
      const page = await (await browser.newContext()).newPage()
      await page.goto(link)
      await page.waitForSelector(`.conn[data-state="up"]`)
      // Its connection stays open (the kernel keeps it): only the list it no longer sends says it is gone.
      process.kill(pid, "SIGSTOP")
      try {
        await page.waitForSelector(`.conn[data-state="down"]`, { timeout: 30_000 })
        expect(await page.locator(".banner").textContent()).toContain("Disconnected from taskmux")
        await screenshot(page, "page-supervisor-stopped")
      } finally {
        process.kill(pid, "SIGCONT")
      }
      await page.waitForSelector(`.conn[data-state="up"]`, { timeout: 30_000 })
      expect(await page.locator(".banner").isVisible()).toBe(false)
    },
    90_000
  )
})
