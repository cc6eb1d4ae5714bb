/**
 * Issue 29: the page itself, in headless Chromium, against a real supervisor with real tasks, opened as a
 * person opens it (`taskmux ui --print`). An assistant's session (the SDK's Client through a real front)
 * starts tasks; the page shows them live and does what its buttons say: Stop ends the whole tree, Restart
 * gives a new pid, Start runs a project task after its dependency, typing reaches a terminal task. A
 * read-only page disables every control. Screenshots of each view go to test-artifacts/.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as NodePath from "node:path"
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectIfRunning } from "../../src/daemon/connect.ts"
import { runtimePaths } from "../../src/daemon/runtimePaths.ts"
import { until } from "../e2e/client.ts"
import { isAlive } from "../helpers.ts"
import { launch, lowContrast, openWindow, screenshot } from "./fixtures/browser.ts"
import { pageProject, python } from "./fixtures/pageProject.ts"

const { close, contexts, pageUrl, problems, project, runtime, session, taskmux } = pageProject("page", {
  db: { command: "sleep 300" },
  api: { command: "sleep 300", dependsOn: { db: "started" } },
  // Never started here: a Start button the read-only page must show disabled.
  docs: { command: "sleep 300" },
  // Crashes at once: the page's answer says so as an error, not as a success.
  // (waitFor exit: its answer is its end however slow the machine, not a 100 ms look.)
  broken: { command: "echo 'ValueError: bad config' >&2; exit 3", waitFor: { exit: true } },
  // Run once, then removed from the page: back to not run yet.
  once: { command: "echo once" }
})
const tree = NodePath.join(import.meta.dirname, "fixtures", "tree.mjs")

interface Listed {
  readonly name: string
  readonly status: string
  readonly pid: number | null
}

/** A row's cell, by task name and column (status, name, owner, pid, ...). */
const cell = (page: Page, name: string, column: string) => page.locator(`tr[data-name="${name}"] td.c-${column}`)

describe("the page in a browser", () => {
  let browser: Browser
  let url: string
  let readOnlyUrl: string

  /** A new window (its own cookies) on `address`, `width` wide, once the task list has come. */
  const open = async (address: string, width = 1280, height = 900) => {
    const page = await openWindow({ browser, contexts, problems }, address, { width, height, label: `page ${width}px` })
    await page.waitForSelector(`.conn[data-state="up"]`)
    return page
  }
  const listed = async () => (await (await session).structured<{ tasks: Array<Listed> }>("list_tasks")).tasks
  const taskOf = async (name: string) => (await listed()).find((t) => t.name === name)

  beforeAll(async () => {
    browser = await launch()
    const s = await session
    await s.structured("start_task", { command: `node ${tree}`, name: "web", waitFor: { pattern: "listening" } })
    await s.structured("start_task", {
      command: python("import time\ni = 0\nwhile True:\n  print(\"tick\", i, flush=True); i += 1; time.sleep(0.1)"),
      name: "ticker"
    })
    await s.structured("start_task", {
      command: "python3 -q",
      name: "repl",
      terminal: true,
      waitFor: { pattern: ">>>" }
    })
    url = await pageUrl()
    readOnlyUrl = await pageUrl("--read-only")
  }, 60_000)

  afterAll(() => close(browser), 30_000)

  it("lists the tasks an assistant started, with their status, owner and pid", async () => {
    const page = await open(url)
    const tasks = await listed()
    for (const name of ["web", "ticker", "repl"]) {
      const task = tasks.find((t) => t.name === name)!
      await expect.poll(() => cell(page, name, "status").textContent()).toContain("running")
      // Whose: the client of the session that started it.
      expect(await cell(page, name, "owner").textContent()).toBe("another session (taskmux-e2e)")
      expect(await cell(page, name, "pid").textContent()).toBe(String(task.pid))
    }
    // The project's tasks not run yet, each with its Start button.
    await expect.poll(() => cell(page, "api", "status").textContent()).toContain("defined")
    expect(await page.locator(`tr[data-name="api"] button`).textContent()).toBe("Start")
    // The project's dependency graph.
    expect(await page.locator(".graph .tree").textContent()).toMatch(/api.*db/)
    // What keeps the supervisor, as the person's ps says it: the page, too.
    expect((await taskmux(["ps"])).stderr).toMatch(
      /supervisor pid \d+, 1 other stdio session, the page or MCP over HTTP open\n/
    )
    await screenshot(page, "page-list")
  }, 60_000)

  it(
    "keeps its token from every other server on 127.0.0.1: the address bar holds none, no other port gets the cookie",
    async () => {
      const page = await open(url)
      expect(page.url()).not.toContain("token")
      // Another local server (a dev server, another user's): browsers send 127.0.0.1's cookies to every port.
      const cookies: Array<string> = []
      const other = http.createServer((request, response) => {
        cookies.push(request.headers.cookie ?? "")
        response.end("other")
      })
      await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve))
      try {
        const { port } = other.address() as AddressInfo
        const there = await page.context().newPage()
        await there.goto(`http://127.0.0.1:${port}/`)
        await there.goto(`http://127.0.0.1:${port}/api/events`)
        await there.close()
        expect(cookies.length).toBeGreaterThanOrEqual(2)
        expect(cookies.join(";")).not.toContain("taskmux_token")
      } finally {
        other.close()
      }
    },
    60_000
  )

  it("shows CPU, restarts, and how a task ended in its own words (a Python traceback's last line)", async () => {
    const page = await open(url)
    const s = await session
    await s.structured("start_task", {
      command: python("import json\njson.loads(\"{oops\")"),
      name: "config",
      restart: { policy: "on-failure", maxRestarts: 1, backoffMs: 50 },
      waitFor: { exit: true }
    })
    await expect.poll(() => cell(page, "config", "exit").textContent()).toContain("crashed, exit 1")
    expect(await page.locator(`tr[data-name="config"] .exit-why`).textContent()).toMatch(
      /^json\.decoder\.JSONDecodeError: /
    )
    expect(await cell(page, "config", "restarts").textContent()).toBe("1")
    await expect.poll(() => cell(page, "ticker", "cpu").textContent()).toMatch(/^\d+(\.\d)?%$/)
    await screenshot(page, "page-ended")
  }, 60_000)

  it("shows a task waiting out its restart's backoff as ended: how long it ran, no memory or CPU", async () => {
    const page = await open(url)
    const s = await session
    // Runs about a second, then waits 60 s to run again: "restarting", with no process meanwhile.
    await s.structured("start_task", {
      command: "sleep 1; exit 2",
      name: "respawn",
      restart: { policy: "on-failure", backoffMs: 60_000 }
    })
    await expect.poll(() => cell(page, "respawn", "status").textContent(), { timeout: 10_000 }).toContain(
      "restarting"
    )
    const uptime = await cell(page, "respawn", "uptime").textContent()
    expect(uptime).toMatch(/^ran \ds$/)
    expect(await cell(page, "respawn", "memory").textContent()).toBe("—")
    expect(await cell(page, "respawn", "cpu").textContent()).toBe("—")
    await cell(page, "respawn", "name").click()
    const fact = (label: string) =>
      page.locator("dl.facts .fact", { has: page.locator("dt", { hasText: new RegExp(`^${label}$`) }) }).locator("dd")
    expect(await fact("Uptime").textContent()).toBe(uptime)
    expect(await fact("Memory").textContent()).toBe("—")
    // Nothing runs: the time it ran does not tick on.
    await page.waitForTimeout(2_100)
    expect(await cell(page, "respawn", "uptime").textContent()).toBe(uptime)
    await s.structured("remove_task", { name: "respawn" })
  }, 60_000)

  it("shows a task's CPU in its detail as its row does, as it changes", async () => {
    const page = await open(url)
    const s = await session
    // Busy a third of each second: its share moves from one look to the next.
    await s.structured("start_task", {
      command: python(
        "import time\nwhile True:\n  t = time.time()\n  while time.time() - t < 0.3: pass\n  time.sleep(0.7)"
      ),
      name: "burner"
    })
    await cell(page, "burner", "name").click()
    const detailCpu = () =>
      page.locator("dl.facts .fact", { has: page.locator("dt", { hasText: /^CPU$/ }) }).locator("dd").textContent()
    const rowCpu = () => cell(page, "burner", "cpu").textContent()
    const seen = new Set<string>()
    for (let i = 0; i < 4; i++) {
      await expect.poll(async () => {
        const [detail, row] = [await detailCpu(), await rowCpu()]
        return detail === row && /%$/.test(row ?? "") ? row : undefined
      }, { timeout: 10_000 }).toBeDefined()
      seen.add((await rowCpu())!)
      await page.waitForTimeout(2_500)
    }
    // It did move, and the detail went with it.
    expect(seen.size).toBeGreaterThan(1)
    await s.structured("stop_task", { name: "burner" })
  }, 60_000)

  it("shows a task the moment it starts (measured from its start, and from start_task's answer)", async () => {
    const page = await open(url)
    const s = await session
    const fromStart: Array<number> = []
    const fromAnswer: Array<number> = []
    for (let i = 0; i < 5; i++) {
      const name = `late${i}`
      // The browser's clock, when the row is put in the page (both clocks are this machine's).
      const shown = page.evaluate(`new Promise((resolve) => {
        const seen = () => document.querySelector('tr[data-name="${name}"]') !== null
        if (seen()) return resolve(Date.now())
        new MutationObserver((_, observer) => {
          if (seen()) { observer.disconnect(); resolve(Date.now()) }
        }).observe(document.body, { childList: true, subtree: true })
      })`) as Promise<number>
      await s.structured("start_task", { command: "sleep 300", name })
      const answered = Date.now()
      const at = await shown
      const started = Date.parse((await s.structured<{ startedAt: string }>("get_task", { name })).startedAt)
      fromStart.push(at - started)
      fromAnswer.push(at - answered)
      await s.structured("remove_task", { name })
    }
    const median = (xs: ReadonlyArray<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!
    console.log(
      `row shown after the task started: ${fromStart.join(", ")} ms (median ${median(fromStart)}); ` +
        `after start_task answered: ${fromAnswer.join(", ")} ms (median ${median(fromAnswer)})`
    )
    // The goal is 250 ms from the event; CI machines are slow, so the check leaves room.
    expect(median(fromStart)).toBeLessThan(1000)
    expect(median(fromAnswer)).toBeLessThan(1000)
  }, 60_000)

  it("shows output as it comes, without a reload, and filters it by a search", async () => {
    const page = await open(url)
    await cell(page, "ticker", "name").click()
    await page.waitForSelector(".output .ln")
    const lines = page.locator(".output .ln")
    const before = await lines.count()
    // A line every 100 ms: more within two seconds, in the same page.
    await expect.poll(() => lines.count(), { timeout: 5000 }).toBeGreaterThan(before + 5)
    // The last whole line: Python writes a line in pieces (PYTHONUNBUFFERED), and the page shows the start
    // of one as a partial line ("tick") until its newline comes.
    expect(await page.locator(".output .ln:not(.partial)").last().textContent()).toMatch(/^tick \d+$/)
    await page.fill("#out-search", "tick 1")
    await expect.poll(() => page.locator(".output-tools .count").textContent()).toMatch(/\d+ of \d+ match/)
    const shown = await lines.allTextContents()
    expect(shown.length).toBeGreaterThan(0)
    expect(shown.every((text) => text.includes("tick 1"))).toBe(true)
    expect(await page.locator(".output .ln mark").first().textContent()).toBe("tick 1")
    await screenshot(page, "page-output")
  }, 60_000)

  it(
    "shows a bidirectional control in a command and in its output as a mark, never obeyed (Trojan Source)",
    async () => {
      const s = await session
      // Obeyed, the override would show the comment as "…#initialize-to-c…" and the line as "txt.exe".
      await s.structured("start_task", {
        command: "echo 'file \u202Etxt.exe\u202C'; sleep 60 #\u202E txt.eman-elif-ypoc-ot-ezilaitini \u202C",
        name: "bidi",
        waitFor: { pattern: "file" }
      })
      try {
        const page = await open(url)
        await cell(page, "bidi", "name").click()
        await page.waitForSelector(".output .ln")
        expect(await page.locator(".output .ln").first().textContent()).toBe("file ⟨U+202E⟩txt.exe⟨U+202C⟩")
        expect(await page.locator(".facts .fact.wide dd code").first().textContent()).toContain(
          "#⟨U+202E⟩ txt.eman-elif-ypoc-ot-ezilaitini ⟨U+202C⟩"
        )
      } finally {
        await s.structured("remove_task", { name: "bidi" })
      }
    },
    60_000
  )

  it("shows a task started anew under its name from its new output's start", async () => {
    const s = await session
    const count = (word: string, n: number) => python(`for i in range(${n}): print("${word}", i)`)
    await s.structured("start_task", { command: count("first", 60), name: "again", waitFor: { exit: true } })
    const page = await open(url)
    await cell(page, "again", "name").click()
    const lines = page.locator(".output .ln")
    await expect.poll(() => lines.last().textContent()).toBe("first 59")
    await s.structured("start_task", { command: count("second", 3), name: "again", waitFor: { exit: true } })
    await expect.poll(() => lines.allTextContents(), { timeout: 10_000 }).toEqual(["second 0", "second 1", "second 2"])
    // Removed and started again at once, a run that goes on printing: the view follows the new task.
    const ticker = python("import time\nfor i in range(1000):\n  print(\"third\", i, flush=True); time.sleep(0.05)")
    await s.structured("remove_task", { name: "again" })
    await s.structured("start_task", { command: ticker, name: "again" })
    await expect.poll(() => lines.first().textContent(), { timeout: 10_000 }).toBe("third 0")
    await expect.poll(async () => Number((await lines.last().textContent())?.split(" ")[1]), { timeout: 10_000 })
      .toBeGreaterThan(20)
    await s.structured("remove_task", { name: "again" })
  }, 60_000)

  it("a hidden page closes its output stream and keeps its task list without the figures; both go on when it shows", async () => {
    // Its streams, as the supervisor counts them (every page's): a page's task list's and its open task's output.
    const streams = async () => {
      const c = await connectIfRunning(runtimePaths(project, { XDG_RUNTIME_DIR: runtime }), "cli")
      c?.socket.destroy()
      return c?.welcome.viewers ?? 0
    }
    // The earlier tests' pages go first, and leave nothing open behind them: a closed page hides first,
    // and what it opened then (a hidden page's stream, a look at whether its token still works after a
    // stream failed) kept its supervisor counting a page open.
    await Promise.all(contexts.splice(0).map((context) => context.close()))
    await expect.poll(streams).toBe(0)
    const page = await open(url)
    const opened: Array<string> = []
    page.on("request", (request) => {
      if (request.url().includes("/api/")) opened.push(new URL(request.url()).pathname + new URL(request.url()).search)
    })
    await page.locator(`tr[data-name="ticker"] td.c-name`).click()
    await expect.poll(() => page.locator(".output .ln").count()).toBeGreaterThan(0)
    // Its task list's and its output's.
    await expect.poll(streams).toBe(2)
    const shown = 2
    const visibility = (hidden: boolean) =>
      page.evaluate(`Object.defineProperty(document, "hidden", { configurable: true, get: () => ${hidden} });
        document.dispatchEvent(new Event("visibilitychange"))`)
    const requested = opened.length
    await visibility(true)
    // Still a page open (the supervisor stays for it), its list sent only when tasks change.
    await expect.poll(streams).toBe(shown - 1)
    await expect.poll(() => opened.slice(requested).filter((u) => u.endsWith("/api/events?hidden=1")).length).toBe(1)
    await expect.poll(streams).toBe(shown - 1)
    expect(opened.slice(requested).filter((u) => u.includes("/api/output"))).toEqual([])
    const last = await page.locator(".output .ln").last().textContent()
    await visibility(false)
    await expect.poll(streams).toBe(shown)
    // The output goes on from where it was, the list is live again.
    await expect.poll(() => page.locator(".output .ln").last().textContent()).not.toBe(last)
    await page.waitForSelector(`.conn[data-state="up"]`)
  })

  it("Stop ends the task's whole tree", async () => {
    const s = await session
    const info = await s.structured<{ processes: Array<{ pid: number }> }>("get_task", { name: "web" })
    const pids = info.processes.map((p) => p.pid)
    // The server and its child.
    expect(pids.length).toBeGreaterThanOrEqual(2)
    expect(pids.every(isAlive)).toBe(true)
    const page = await open(url)
    await cell(page, "web", "name").click()
    const stop = page.locator(`.actions button:text-is("Stop")`)
    await expect.poll(() => stop.isEnabled()).toBe(true)
    await stop.click()
    await expect.poll(() => cell(page, "web", "status").textContent(), { timeout: 10_000 }).toContain("stopped")
    await until(() => pids.every((pid) => !isAlive(pid)) ? true : undefined)
    expect((await taskOf("web"))?.status).toBe("stopped")
    expect(await page.locator(".detail .status-line").textContent()).not.toMatch(/Error/)
  }, 60_000)

  it("while its Stop waits out the grace period, the task says stopping and Restart waits", async () => {
    const s = await session
    await s.structured("start_task", {
      command: "trap 'echo got TERM, ignoring' TERM; while true; do sleep 0.2; done",
      name: "stubborn"
    })
    const page = await open(url)
    await cell(page, "stubborn", "name").click()
    const stop = page.locator(`.actions button:text-is("Stop")`)
    await expect.poll(() => stop.isEnabled()).toBe(true)
    await stop.click()
    await expect.poll(() => page.locator(".detail-status").textContent()).toContain("stopping…")
    expect(await page.locator(`.actions button:text-is("Restart")`).isEnabled()).toBe(false)
    // SIGKILL after the 5 s grace: then stopped, and Restart is there again.
    await expect.poll(() => cell(page, "stubborn", "status").textContent(), { timeout: 20_000 }).toContain("stopped")
    await expect.poll(() => page.locator(`.actions button:text-is("Restart")`).isEnabled()).toBe(true)
    expect(await page.locator(".detail-status").textContent()).not.toContain("stopping")
    await s.structured("remove_task", { name: "stubborn" })
  }, 60_000)

  it("Restart runs the task again with a new pid", async () => {
    const old = (await taskOf("ticker"))!.pid!
    const page = await open(url)
    await cell(page, "ticker", "name").click()
    await page.locator(`.actions button:text-is("Restart")`).click()
    const pid = await until(async () => {
      const t = await taskOf("ticker")
      return t?.status === "running" && t.pid !== null && t.pid !== old ? t.pid : undefined
    })
    await expect.poll(() => cell(page, "ticker", "pid").textContent()).toBe(String(pid))
    // Its output goes on below a separator that says where the new run begins (generous: once under the
    // whole suite's load the new run's first line took over 5 s to reach the page).
    await expect.poll(() => page.locator(".output .run").allTextContents(), { timeout: 15_000 })
      .toContainEqual(expect.stringMatching(/^── run \d+ ──$/))
    expect(isAlive(old)).toBe(false)
    expect(isAlive(pid)).toBe(true)
  }, 60_000)

  it("marks a new run above its first line while that line is still partial (a prompt, a line in pieces)", async () => {
    const s = await session
    await s.structured("start_task", {
      command: python("import sys, time\nsys.stdout.write(\"ready? \"); sys.stdout.flush(); time.sleep(300)"),
      name: "asker"
    })
    const page = await open(url)
    await cell(page, "asker", "name").click()
    await expect.poll(() => page.locator(".output .ln.partial").allTextContents()).toContainEqual("ready? ")
    await page.locator(`.actions button:text-is("Restart")`).click()
    // The line never ends: its mark comes with it partial, or never (Python writes a line in pieces too).
    await expect.poll(() => page.locator(".output .run").allTextContents(), { timeout: 15_000 })
      .toEqual(["── run 2 ──"])
    expect(await page.locator(".output .run-start .ln.partial").textContent()).toBe("ready? ")
    await s.structured("stop_task", { name: "asker" })
    await s.structured("remove_task", { name: "asker" })
  }, 60_000)

  it("Start runs a project task after its dependency", async () => {
    const page = await open(url)
    await page.locator(`tr[data-name="api"] button`).click()
    await expect.poll(() => cell(page, "api", "status").textContent(), { timeout: 15_000 }).toContain("running")
    await expect.poll(() => cell(page, "db", "status").textContent()).toContain("running")
    // Both running, each with a live process (under load the list may lag the page a moment).
    for (const name of ["db", "api"]) {
      const t = await until(async () => {
        const now = await taskOf(name)
        return now?.status === "running" && now.pid !== null && isAlive(now.pid) ? now : undefined
      }, 15_000).catch(async () => taskOf(name))
      expect(t, JSON.stringify(t)).toMatchObject({ status: "running", pid: expect.any(Number) })
      expect(isAlive(t!.pid!), JSON.stringify(t)).toBe(true)
    }
  }, 60_000)

  it("says a paused task is paused, a start that crashed is an error, and a prompt's line once answered", async () => {
    const s = await session
    const page = await open(url)
    await s.structured("signal_task", { name: "ticker", signal: "SIGSTOP" })
    await expect.poll(() => cell(page, "ticker", "status").textContent(), { timeout: 10_000 }).toContain("paused")
    await s.structured("signal_task", { name: "ticker", signal: "SIGCONT" })
    await expect.poll(() => cell(page, "ticker", "status").textContent(), { timeout: 10_000 }).toContain("running")
    // Started from the page, crashed at once: the answer is an error.
    await page.locator(`tr[data-name="broken"] button`).click()
    const top = page.locator(".sticky .status-line")
    await expect.poll(() => top.getAttribute("data-kind"), { timeout: 10_000 }).toBe("error")
    expect(await top.textContent()).toMatch(/crashed, exit code 3/)
    // A prompt without its newline, then answered: the page shows the line whole.
    await s.structured("start_task", {
      command: "printf 'Password: '; read x; echo \"got $x\"; sleep 60",
      name: "asks"
    })
    await expect.poll(() => cell(page, "asks", "status").textContent(), { timeout: 10_000 }).toContain("running")
    await cell(page, "asks", "name").click()
    const output = page.locator(".output .ln")
    await expect.poll(() => output.allTextContents(), { timeout: 10_000 }).toContainEqual(
      expect.stringContaining("Password:")
    )
    await s.structured("send_input", { name: "asks", data: "hunter2\n" })
    await expect.poll(() => output.allTextContents(), { timeout: 10_000 })
      .toContainEqual(expect.stringContaining("Password: got hunter2"))
    await s.structured("stop_task", { name: "asks" })
  }, 60_000)

  it(
    "opened on a task that printed 10,000 lines before, shows as many as it keeps (5,000), not a flood's 2,000",
    async () => {
      const s = await session
      await s.structured("start_task", { command: "seq 1 10000", name: "tenk", waitFor: { exit: true } })
      const page = await open(url)
      await cell(page, "tenk", "name").click()
      const lines = page.locator(".output .ln")
      await expect.poll(() => lines.last().textContent(), { timeout: 15_000 }).toBe("10000")
      expect(await lines.first().textContent()).toBe("5001")
      expect(await lines.count()).toBe(5000)
      await s.structured("remove_task", { name: "tenk" })
    },
    60_000
  )

  it(
    "after a flood: every line is accounted for, shown, skipped or not kept, and no piece of a skipped line stays",
    async () => {
      const s = await session
      const page = await open(url)
      await s.structured("start_task", { command: "sleep 0.5; seq 1 2000000; sleep 60", name: "flood" })
      await cell(page, "flood", "name").click()
      const lines = page.locator(".output .ln")
      await expect.poll(() => lines.last().textContent(), { timeout: 30_000 }).toBe("2000000")
      const note = (await page.locator(".output .trimmed").textContent())!
      // The lines and the "… N lines skipped" markers, in order: each line follows what came before it.
      let next = 1 + Number(note.split(" ")[0]!.replaceAll(",", ""))
      for (const item of await page.locator(".output .ln, .output .skip").allTextContents()) {
        const skipped = /^… ([\d,]+) lines? skipped$/.exec(item)
        if (skipped !== null) next += Number(skipped[1]!.replaceAll(",", ""))
        else {
          expect(Number(item)).toBe(next)
          next++
        }
      }
      expect(next).toBe(2_000_001)
      await s.structured("remove_task", { name: "flood" })
    },
    60_000
  )

  it("Restart of a task that crashes a moment after it starts says so, as an error", async () => {
    const s = await session
    await s.structured("start_task", {
      command: "sleep 0.4; echo 'ValueError: late config' >&2; exit 2",
      name: "late",
      waitFor: { exit: true }
    })
    const page = await open(url)
    // A signal chosen for one task does not carry over to the next.
    await cell(page, "ticker", "name").click()
    await page.selectOption("#signal-select", "SIGKILL")
    await cell(page, "repl", "name").click()
    expect(await page.locator("#signal-select").inputValue()).toBe("SIGINT")
    await cell(page, "late", "name").click()
    const restart = page.locator(`.actions button:text-is("Restart")`)
    await expect.poll(() => restart.isEnabled()).toBe(true)
    await restart.click()
    const answer = page.locator(".detail .status-line")
    await expect.poll(() => answer.textContent(), { timeout: 10_000 })
      .toMatch(/"late" crashed.* right after it started: ValueError: late config/)
    expect(await answer.getAttribute("data-kind")).toBe("error")
    await s.structured("remove_task", { name: "late" })
  }, 60_000)

  it("Remove of a project task that ran shows it as not run yet, without the removed run's facts", async () => {
    const s = await session
    await s.structured("start_task", { name: "once", waitFor: { exit: true } })
    const page = await open(url)
    await cell(page, "once", "name").click()
    const facts = page.locator("dl.facts dt")
    await expect.poll(() => facts.allTextContents(), { timeout: 10_000 }).toContain("Log file")
    await page.locator(`.actions button:text-is("Remove")`).click()
    await page.locator(`.confirm button:has-text("Remove")`).click()
    await expect.poll(() => cell(page, "once", "status").textContent(), { timeout: 10_000 }).toContain("defined")
    await expect.poll(() => facts.allTextContents(), { timeout: 10_000 }).not.toContain("Log file")
    expect(await facts.allTextContents()).not.toContain("Previous run")
  }, 60_000)

  it("Escape in Remove's confirmation cancels it and gives the focus back to Remove", async () => {
    const page = await open(url)
    await cell(page, "ticker", "name").click()
    const remove = page.locator(`.actions button:text-is("Remove")`)
    await remove.focus()
    await page.keyboard.press("Enter")
    await expect.poll(() => page.locator(".confirm").isVisible()).toBe(true)
    await page.keyboard.press("Escape")
    await expect.poll(() => page.locator(".confirm").isVisible()).toBe(false)
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Remove")
    expect((await taskOf("ticker"))?.status).toBe("running")
  }, 60_000)

  it("types into a terminal task: print(6*7) in a Python REPL answers 42", async () => {
    const page = await open(url)
    await cell(page, "repl", "name").click()
    const rows = page.locator(".terminal-view .xterm-rows")
    // xterm.js draws only what is on screen: below a long list, the terminal is scrolled to first.
    await page.locator(".terminal-view").scrollIntoViewIfNeeded()
    await expect.poll(() => rows.textContent(), { timeout: 15_000 }).toContain(">>>")
    await page.locator(".terminal-view .term-host").click()
    await page.keyboard.type("print(6*7)")
    await page.keyboard.press("Enter")
    await expect.poll(() => rows.textContent(), { timeout: 10_000 }).toMatch(/print\(6\*7\)\s*42/)
    const read = await (await session).structured<{ lines: Array<{ text: string }> }>("read_output", { name: "repl" })
    expect(read.lines.map((l) => l.text)).toContain("42")
    await screenshot(page, "page-terminal")
  }, 60_000)

  it("a read-only page shows everything and disables every control", async () => {
    const page = await open(readOnlyUrl)
    await expect(page.locator(".badge.ro").textContent()).resolves.toBe("read-only")
    await expect.poll(() => cell(page, "docs", "status").textContent()).toContain("defined")
    expect(await page.locator(`tr[data-name="docs"] button`).isDisabled()).toBe(true)
    await cell(page, "ticker", "name").click()
    await page.waitForSelector(".output .ln")
    const controls = page.locator(".actions button, .actions select")
    expect(await controls.count()).toBeGreaterThanOrEqual(6)
    for (const control of await controls.all()) expect(await control.isDisabled()).toBe(true)
    const pid = (await taskOf("ticker"))!.pid!
    // Asked anyway (a forged click, as the page asks: beside its cookie), the supervisor refuses it, and
    // the task runs on.
    const refused = await page.evaluate(`fetch("api/call", {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Taskmux-Token":
        document.querySelector('meta[name="taskmux-token"]').content },
      body: JSON.stringify({ tool: "stop_task", arguments: { name: "ticker" } })
    }).then((r) => r.status)`)
    expect(refused).toBe(403)
    expect(isAlive(pid)).toBe(true)
    // Chromium logs the refused request as a console error: that one was asked for.
    for (let i = problems.length - 1; i >= 0; i--) if (/status of 403/.test(problems[i]!)) problems.splice(i, 1)
    // A terminal task's screen is shown, and typing into it sends nothing.
    await cell(page, "repl", "name").click()
    await page.locator(".terminal-view").scrollIntoViewIfNeeded()
    await expect.poll(() => page.locator(".terminal-view .xterm-rows").textContent(), { timeout: 15_000 })
      .toContain(">>>")
    expect(await page.locator(".terminal-view .hint").textContent()).toMatch(/Read-only/)
    await screenshot(page, "page-readonly")
  }, 60_000)

  it(
    "follows the system's theme, dark too, as it changes; every text at least 4.5:1 on its background in either",
    async () => {
      for (const colorScheme of ["light", "dark"] as const) {
        const page = await openWindow({ browser, contexts, problems }, url, {
          colorScheme,
          label: `page ${colorScheme}`
        })
        await page.waitForSelector(`.conn[data-state="up"]`)
        expect(await page.evaluate("document.documentElement.dataset.theme")).toBe(colorScheme)
        // Every kind of row (running, ended, crashed, not run yet), a task's facts, its buttons and output.
        await expect.poll(() => cell(page, "docs", "status").textContent()).toContain("defined")
        await cell(page, "ticker", "name").click()
        await page.waitForSelector(".output .ln")
        expect(await lowContrast(page)).toEqual([])
        const background = await page.evaluate("getComputedStyle(document.documentElement).backgroundColor")
        expect(background).toBe(colorScheme === "dark" ? "rgb(13, 17, 23)" : "rgb(255, 255, 255)")
        await screenshot(page, `page-theme-${colorScheme}`)
        if (colorScheme === "dark") {
          // The person turns their system light: the open page follows, without a reload.
          await page.emulateMedia({ colorScheme: "light" })
          await expect.poll(() => page.evaluate("document.documentElement.dataset.theme")).toBe("light")
        }
      }
    },
    60_000
  )

  it("fits a phone's width: each task a card", async () => {
    const page = await open(url, 360, 800)
    await expect.poll(() => cell(page, "ticker", "status").textContent()).toContain("running")
    const head = await page.locator("table.tasks thead").boundingBox()
    expect(head === null || head.width <= 1).toBe(true)
    const row = await page.locator(`tr[data-name="ticker"]`).boundingBox()
    expect(row!.width).toBeLessThanOrEqual(360)
    // Nothing wider than the window: no sideways scrolling.
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(360)
    // A long owner ("another session (its client)") is not drawn over the cell beside it.
    const owner = await cell(page, "ticker", "owner").evaluate((td) => [td.scrollWidth, td.clientWidth])
    expect(owner[0]).toBeLessThanOrEqual(owner[1]!)
    await screenshot(page, "page-narrow", true)
  }, 60_000)
})
