/**
 * The page's terminal view draws what the task's terminal shows, not its text only (review h17a, finding
 * 4), in headless Chromium against a real supervisor: colours and inverse video, emoji two cells wide,
 * rows with combining marks whole, and the program's modes (bracketed paste, application cursor keys).
 */
import * as NodePath from "node:path"
import type { Browser } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { launch, openWindow, screenshot } from "./fixtures/browser.ts"
import { pageProject } from "./fixtures/pageProject.ts"

const { close, contexts, pageUrl, problems, session } = pageProject("term", {})
const fixture = NodePath.join(import.meta.dirname, "fixtures", "screen.py")

describe("the page's terminal view", () => {
  let browser: Browser
  let url: string

  /** The page with task `name` selected and its screen in sight, once `shown` is on it. */
  const open = async (name: string, shown: string) => {
    const page = await openWindow({ browser, contexts, problems }, url)
    await page.locator(`tr[data-name="${name}"] td.c-name`).click()
    await page.locator(".terminal-view").scrollIntoViewIfNeeded()
    await expect.poll(() => page.locator(".terminal-view .xterm-rows").textContent(), { timeout: 15_000 })
      .toContain(shown)
    return page
  }
  /** The task's screen as the supervisor's emulator has it. */
  const rowsOf = async (name: string) =>
    (await (await session).structured<{ screen: Array<string> }>("read_output", { name, screen: true })).screen

  beforeAll(async () => {
    browser = await launch()
    const s = await session
    await s.structured("start_task", {
      command: `python3 ${fixture}`,
      name: "menu",
      terminal: true,
      cols: 80,
      rows: 12,
      waitFor: { pattern: "cherry" }
    })
    await s.structured("start_task", {
      command: "bash",
      args: ["--norc", "--noprofile", "-i"],
      name: "sh",
      terminal: true,
      env: { PS1: "sh> " },
      waitFor: { pattern: "sh>" }
    })
    url = await pageUrl()
  }, 60_000)

  afterAll(() => close(browser), 30_000)

  it("draws inverse video and colours: a menu's selected item is marked", async () => {
    const page = await open("menu", "cherry")
    await screenshot(page, "page-terminal-menu")
    const styleOf = (text: string) =>
      page.evaluate(`(() => {
        const span = [...document.querySelectorAll(".terminal-view .xterm-rows span")]
          .find((s) => s.textContent === ${JSON.stringify(text)})
        if (span === undefined) return null
        const { color, backgroundColor } = getComputedStyle(span)
        return { color, backgroundColor }
      })()`) as Promise<{ color: string; backgroundColor: string } | null>
    const banana = await styleOf("banana")
    // Inverse video: drawn on the foreground's colour, where the other items have no background.
    expect(banana?.backgroundColor).toBe("rgb(232, 234, 237)")
    const red = (await styleOf("red"))?.color.match(/\d+/g)?.map(Number) ?? []
    expect(red[0]).toBeGreaterThan(150)
    expect(red[1]).toBeLessThan(100)
  }, 60_000)

  it("draws emoji two cells wide, so the cursor is right after them, and rows with combining marks whole", async () => {
    const page = await open("menu", "cherry")
    expect(await page.locator(".terminal-view .xterm-rows").textContent()).toContain(
      `deco: ${"e\u0301".repeat(50)}|end`
    )
    // Ten emoji take the cells of twenty dots, and the text ends where the cursor is: the page's emulator
    // and the supervisor's agree on their width. (xterm.js draws its cursor once it had the focus.)
    await page.locator(".terminal-view .term-host").click()
    const cells = await page.evaluate(`(() => {
      const rows = document.querySelector(".terminal-view .xterm-rows")
      const cursor = rows.querySelector(".xterm-cursor").getBoundingClientRect()
      const ends = []
      const walker = document.createTreeWalker(rows, NodeFilter.SHOW_TEXT)
      for (let node = walker.nextNode(); node !== null; node = walker.nextNode()) {
        const at = node.textContent.indexOf("|end")
        if (at === -1) continue
        const range = document.createRange()
        range.setStart(node, at)
        range.setEnd(node, at + 4)
        ends.push(range.getBoundingClientRect().right)
      }
      // In cells: the dots' row's end, the emoji's row's, and the cursor's left.
      return [ends.at(-2), ends.at(-1), cursor.left].map((x) => x / cursor.width)
    })()`) as Array<number>
    const [dots, emoji, cursor] = cells as [number, number, number]
    expect(Math.abs(emoji - dots), cells.join(", ")).toBeLessThan(0.5)
    expect(Math.abs(cursor - emoji), cells.join(", ")).toBeLessThan(0.5)
  }, 60_000)

  it("keeps the page responsive through a flood of coloured lines, and shows where it ended", async () => {
    const s = await session
    await s.structured("start_task", {
      command: "python3 -c 'import sys, time\nend = time.time() + 4\ni = 0\nwhile time.time() < end:\n" +
        "  sys.stdout.write(\"\\x1b[3%dmline %d\\x1b[0m\\n\" % (i % 8, i)); i += 1\nprint(\"flood-done\")\ntime.sleep(60)'",
      name: "rainbow",
      terminal: true
    })
    const page = await open("rainbow", "line")
    // The page answers a script within a frame or so while the flood goes on.
    let slowest = 0
    for (const until = Date.now() + 3000; Date.now() < until;) {
      const asked = Date.now()
      await page.evaluate("new Promise((resolve) => requestAnimationFrame(resolve))")
      slowest = Math.max(slowest, Date.now() - asked)
    }
    expect(slowest).toBeLessThan(500)
    await expect.poll(() => page.locator(".terminal-view .xterm-rows").textContent(), { timeout: 15_000 })
      .toContain("flood-done")
    await s.structured("remove_task", { name: "rainbow" })
  }, 60_000)

  it("sends an arrow key as the program asked (application cursor keys: ESC O A)", async () => {
    const page = await open("menu", "cherry")
    await page.locator(".terminal-view .term-host").click()
    await page.keyboard.press("ArrowUp")
    await expect.poll(() => rowsOf("menu"), { timeout: 10_000 }).toContain("key b'\\x1bOA'")
  }, 60_000)

  it("brackets a paste when the program asked (bash): a pasted line does not run before Enter", async () => {
    const page = await open("sh", "sh>")
    await page.locator(".terminal-view .term-host").click()
    await page.evaluate(`(() => {
      const data = new DataTransfer()
      data.setData("text/plain", "echo pasted-one\\necho pasted-two")
      document.querySelector(".terminal-view textarea")
        .dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }))
    })()`)
    await expect.poll(async () => (await rowsOf("sh")).join("\n"), { timeout: 10_000 }).toContain("echo pasted-two")
    // Bash has both lines in its edit buffer: neither ran.
    expect(await rowsOf("sh")).not.toContain("pasted-one")
    await page.keyboard.press("Enter")
    await expect.poll(() => rowsOf("sh"), { timeout: 10_000 }).toContain("pasted-two")
    expect(await rowsOf("sh")).toContain("pasted-one")
  }, 60_000)

  it("does not bracket a paste once the program turned that off (cat, run by bash)", async () => {
    const page = await open("sh", "sh>")
    await page.locator(".terminal-view .term-host").click()
    // Bash turns bracketed paste off before it runs a command: a screen with what echo said is one after.
    await page.keyboard.type("echo cat-$((40 + 2)); cat\r")
    await expect.poll(() => page.locator(".terminal-view .xterm-rows").textContent(), { timeout: 10_000 })
      .toContain("cat-42")
    await page.evaluate(`(() => {
      const data = new DataTransfer()
      data.setData("text/plain", "line-one\\nline-two")
      document.querySelector(".terminal-view textarea")
        .dispatchEvent(new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true }))
    })()`)
    await expect.poll(async () => (await rowsOf("sh")).join("\n"), { timeout: 10_000 }).toContain("line-two")
    expect((await rowsOf("sh")).join("\n")).not.toContain("[200~")
    await page.keyboard.press("Control+D")
    await page.keyboard.press("Control+D")
  }, 60_000)
})
