/**
 * The page as a keyboard or screen-reader user meets it (accessibility review h17d), in headless
 * Chromium against a real supervisor: where the focus goes, what is said, what stays in sight.
 */
import type { Browser, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { launch, openWindow } from "./fixtures/browser.ts"
import { pageProject, python } from "./fixtures/pageProject.ts"

/** Project tasks not run yet: each has a Start button in its row. */
const DEFINED = ["db", "docs", "lint", "mail", "queue", "search", "cache", "proxy"]
const { close, contexts, pageUrl, problems, session } = pageProject(
  "kbd",
  Object.fromEntries(DEFINED.map((name) => [name, { command: "sleep 300" }]))
)

/** What has the focus: its tag, and its data-name, id or text. */
const focused = (page: Page) =>
  page.evaluate(`(() => {
    const a = document.activeElement
    if (a === null || a === document.body) return "body"
    const what = a.getAttribute("data-name") ?? (a.id === "" ? a.textContent.trim() : "#" + a.id)
    return a.tagName.toLowerCase() + " " + what
  })()`) as Promise<string>

/** Whether the element is wholly inside the window. */
const inView = (page: Page, selector: string) =>
  page.evaluate(`(() => {
    const r = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect()
    return r.top >= 0 && r.bottom <= innerHeight
  })()`) as Promise<boolean>

describe("the page by keyboard", () => {
  let browser: Browser
  let url: string
  let readOnlyUrl: string

  const open = async (address: string, width = 1280, height = 900) => {
    const page = await openWindow({ browser, contexts, problems }, address, { width, height, label: `page ${width}px` })
    await page.waitForSelector(`.conn[data-state="up"]`)
    await page.waitForSelector(`tr[data-name="w19"]`)
    return page
  }

  beforeAll(async () => {
    browser = await launch()
    const s = await session
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
    // A long list: the detail below it is out of sight of a 900 px window.
    for (let i = 0; i < 20; i++) {
      await s.structured("start_task", { command: "sleep 300", name: `w${String(i).padStart(2, "0")}` })
    }
    url = await pageUrl()
    readOnlyUrl = await pageUrl("--read-only")
  }, 90_000)

  afterAll(() => close(browser), 30_000)

  it("Skip moves the focus to the selected task and leaves the address (#task=NAME) as it was", async () => {
    const page = await open(url)
    await page.locator(`tr[data-name="ticker"] td.c-name`).click()
    const address = page.url()
    expect(address).toMatch(/#task=ticker$/)
    await page.locator(".skip-link").focus()
    await page.keyboard.press("Enter")
    expect(await focused(page)).toBe("h2 #detail-title")
    expect(page.url()).toBe(address)
  }, 60_000)

  it("keeps the focus on a pressed button while its call runs, and near it once the button is gone", async () => {
    const page = await open(url)
    const status = (name: string) => page.locator(`tr[data-name="${name}"] td.c-status`)
    // Restart: the same button, during and after the call.
    await page.locator(`tr[data-name="w00"] td.c-name`).click()
    const restart = page.locator(`.actions button:text-is("Restart")`)
    await expect.poll(() => restart.isEnabled()).toBe(true)
    await restart.focus()
    await page.keyboard.press("Enter")
    expect(await focused(page)).toBe("button Restart")
    await expect.poll(() => page.locator(".detail .status-line").textContent(), { timeout: 10_000 }).toMatch(
      /Restarted/
    )
    expect(await focused(page)).toBe("button Restart")
    // Stop: disabled once the task has stopped, so the focus goes to the task's heading.
    await page.locator(`.actions button:text-is("Stop")`).focus()
    await page.keyboard.press("Enter")
    await expect.poll(() => status("w00").textContent(), { timeout: 10_000 }).toContain("stopped")
    await expect.poll(() => focused(page)).toBe("h2 #detail-title")
    // A row's Start: the button leaves the row once the task runs, the focus stays on its row.
    await page.locator(`tr[data-name="db"] button`).focus()
    await page.keyboard.press("Enter")
    await expect.poll(() => status("db").textContent(), { timeout: 10_000 }).toContain("running")
    await expect.poll(() => focused(page)).toBe("tr db")
  }, 60_000)

  it(
    "gives the focus to the task's heading when a control is disabled under it and nothing is redrawn after",
    async () => {
      // Chrome keeps the focus on a control disabled under it, then moves it to the body a moment later,
      // outside any redraw: a stop's answer redrawn in between left the keyboard on the body (seen under load).
      const page = await open(url)
      await page.locator(`tr[data-name="w03"] td.c-name`).click()
      const signal = page.locator(`.actions button:text-is("Send signal")`)
      await expect.poll(() => signal.isEnabled()).toBe(true)
      await signal.focus()
      await page.evaluate(`document.activeElement.disabled = true`)
      await expect.poll(() => focused(page)).toBe("h2 #detail-title")
    },
    60_000
  )

  it(
    "brings a chosen task's detail into sight, wide or narrow, and Enter on its row moves the focus to it",
    async () => {
      for (const [width, height] of [[1280, 900], [360, 800]] as const) {
        const page = await open(url, width, height)
        expect(await inView(page, "#detail-title"), `${width}px, before`).toBe(false)
        await page.locator(`tr[data-name="w01"] td.c-name`).click()
        await expect.poll(() => inView(page, "#detail-title"), { message: `${width}px, clicked` }).toBe(true)
        await page.evaluate("scrollTo(0, 0)")
        await page.locator(`tr[data-name="w02"]`).focus()
        await page.keyboard.press("Enter")
        expect(await focused(page)).toBe("h2 #detail-title")
        await expect.poll(() => page.locator("#detail-title").textContent()).toBe("w02")
        await expect.poll(() => inView(page, "#detail-title"), { message: `${width}px, Enter` }).toBe(true)
      }
    },
    60_000
  )

  it("makes the table one Tab stop whose arrow keys move between rows, and names each row", async () => {
    const page = await open(url)
    // Every stop once: from the skip link, until the focus leaves the page.
    const stops: Array<string> = []
    for (let i = 0; i < 100 && stops.at(-1) !== "body"; i++) {
      await page.keyboard.press("Tab")
      stops.push(await focused(page))
    }
    expect(stops.filter((s) => s.startsWith("tr ")), stops.join("; ")).toEqual(["tr ticker"])
    await page.locator(`tr[data-name="ticker"]`).focus()
    await page.keyboard.press("ArrowDown")
    expect(await focused(page)).toBe("tr repl")
    // Left and come back: the row last on is the stop.
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Tab")
    expect(await focused(page)).toBe("tr repl")
    expect(await page.locator(`tr[data-name="ticker"]`).getAttribute("aria-label")).toBe("ticker, running")
  }, 60_000)

  it("has its status lines' live regions in the accessibility tree before their first message", async () => {
    const page = await open(url)
    await page.locator(`tr[data-name="w01"] td.c-name`).click()
    // The top one and the detail's.
    const regions = "[role=status][aria-live=polite]"
    expect(await page.locator(regions).count()).toBe(2)
    // Chromium's accessibility tree: a region that enters it with its text is often not announced.
    const cdp = await page.context().newCDPSession(page)
    const { root } = await cdp.send("DOM.getDocument")
    const { nodeIds } = await cdp.send("DOM.querySelectorAll", { nodeId: root.nodeId, selector: regions })
    expect(nodeIds.length).toBe(2)
    for (const nodeId of nodeIds) {
      const { nodes } = await cdp.send("Accessibility.getPartialAXTree", { nodeId, fetchRelatives: false })
      expect(nodes[0]?.ignored).toBe(false)
      expect(nodes[0]?.role?.value).toBe("status")
    }
    // The message comes into the region that was there, which holds the text and not the dismiss button.
    const near = await page.locator(`.detail ${regions}`).elementHandle()
    await page.locator(`.actions button:text-is("Restart")`).click()
    await expect.poll(() => near!.textContent(), { timeout: 10_000 }).toMatch(/Restarted/)
    expect(await near!.evaluate((el) => el.isConnected && el.querySelector("button") === null)).toBe(true)
    await page.locator(".detail .status-line .dismiss").click()
    expect(await near!.textContent()).toBe("")
    expect(await page.locator(".detail .status-line .dismiss").isVisible()).toBe(false)
  }, 60_000)

  it("says a search's matches once per search, not once per new line", async () => {
    const page = await open(url)
    await page.locator(`tr[data-name="ticker"] td.c-name`).click()
    const count = page.locator(".output-tools .count")
    await page.waitForSelector(".output .ln")
    const live = () =>
      page.locator(".output-view").evaluate((view) =>
        [...view.querySelectorAll("[aria-live], [role=status]")].map((el) => el.textContent).join("|")
      )
    const heard = await live()
    const lines = await count.textContent()
    await expect.poll(() => count.textContent()).not.toBe(lines)
    expect(await live()).toBe(heard)
    await page.fill("#out-search", "tick 1")
    await expect.poll(live).toMatch(/^\d+ of \d+ match$/)
    const said = await live()
    const shown = await count.textContent()
    await expect.poll(() => count.textContent()).not.toBe(shown)
    expect(await live()).toBe(said)
  }, 60_000)

  it("scrolls no focused control under the sticky status line", async () => {
    const page = await open(url, 360, 800)
    // A row's Start: its answer stays 15 s on the sticky line at the top.
    await page.locator(`tr[data-name="proxy"] button`).click()
    const line = page.locator(".sticky .status-line")
    await expect.poll(() => line.textContent(), { timeout: 10_000 }).toMatch(/Started task "proxy"/)
    // Running, its row has moved up among the running ones: the rows stay where they are from now on.
    await expect.poll(() => page.locator(`tr[data-name="proxy"] td.c-status`).textContent()).toContain("running")
    // From the end of the page upwards, as a person goes back to a row they passed.
    await page.locator(".graph button").last().focus()
    const covered: Array<string> = []
    const stops: Array<string> = []
    for (let i = 0; i < 16; i++) {
      await page.keyboard.press("Shift+Tab")
      const hit = await page.evaluate(`(() => {
        const a = document.activeElement
        if (a === document.body || a.closest(".sticky") !== null) return ""
        const r = a.getBoundingClientRect()
        const s = document.querySelector(".sticky").getBoundingClientRect()
        return r.top < s.bottom && r.bottom > s.top ? a.tagName + " " + a.textContent.slice(0, 20) : ""
      })()`) as string
      if (hit !== "") covered.push(hit)
      stops.push(await focused(page))
    }
    // It went up past the rows' Start buttons.
    expect(stops.filter((s) => s === "button Start").length, stops.join("; ")).toBeGreaterThan(3)
    expect(covered).toEqual([])
  }, 60_000)

  it("points a screen reader from a terminal task's screen to its Lines view", async () => {
    const page = await open(url)
    await page.locator(`tr[data-name="repl"] td.c-name`).click()
    const box = page.locator(".terminal-view textarea")
    await box.waitFor({ state: "attached", timeout: 15_000 })
    const hint = await page.locator(`#${await box.getAttribute("aria-describedby")}`).textContent()
    expect(hint).toMatch(/screen reader, the Lines view reads the output/)
  }, 60_000)

  it("read-only, says why the controls are off, in a line the keyboard reaches", async () => {
    const page = await open(readOnlyUrl)
    const note = page.locator(".ro-note")
    expect(await note.isVisible()).toBe(true)
    expect(await note.textContent()).toMatch(/Read-only.*not change them.*taskmux ui/)
    await page.locator("body").focus()
    const stops: Array<string> = []
    for (let i = 0; i < 3; i++) {
      await page.keyboard.press("Tab")
      stops.push(await focused(page))
    }
    expect(stops).toContain("p #ro-note")
    await page.locator(`tr[data-name="repl"] td.c-name`).click()
    expect(await page.locator(".actions").getAttribute("aria-describedby")).toBe("ro-note")
    expect(await page.locator(`tr[data-name="docs"] button`).getAttribute("aria-describedby")).toBe("ro-note")
    const box = page.locator(".terminal-view textarea")
    await box.waitFor({ state: "attached", timeout: 15_000 })
    expect(await box.getAttribute("aria-label")).toBe("repl's screen (read-only)")
  }, 60_000)
})
