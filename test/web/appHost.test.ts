/**
 * Issue 29: the task page as an MCP App, rendered the way a host renders it. A small host page (the
 * ext-apps AppBridge over postMessage) loads `ui://taskmux/tasks`, read with resources/read from a real
 * taskmux by a client that declares the apps extension, into a sandboxed frame that may fetch nothing,
 * and forwards the app's tool calls to that client. In headless Chromium: the app lists a running task,
 * shows its output, stops it from its Stop button (the whole tree ends), and types into a terminal task.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { build } from "esbuild"
import { mkdtempSync } from "node:fs"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as os from "node:os"
import * as NodePath from "node:path"
import type { Browser, FrameLocator, Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { serverEntry, until } from "../e2e/client.ts"
import { isAlive } from "../helpers.ts"
import { launch, lowContrast, screenshot, watchProblems } from "./fixtures/browser.ts"

const UI = { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } }
const fixtures = NodePath.join(import.meta.dirname, "fixtures")

const HOST_PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>MCP host</title>
<style>body { font-family: sans-serif; margin: 0; background: #eef1f4 } header { padding: 10px 16px }
#frame { margin: 0 16px 16px; background: #fff; border: 1px solid #c8ced6; border-radius: 10px; overflow: hidden }
iframe { display: block; width: 100%; height: 600px; border: 0 }</style></head>
<body><header>A chat client, showing taskmux's app:</header><div id="frame"></div>
<script type="module" src="/host.js"></script></body></html>`

describe("the MCP App in a host", () => {
  let client: Client
  let browser: Browser
  let server: http.Server
  let hostUrl: string
  let appHtml: string
  const problems: Array<string> = []
  const requests: Array<string> = []
  /** The tools the apps called through their hosts, in order. */
  const calls: Array<string> = []

  const call = async (name: string, args: Record<string, unknown> = {}) => {
    const result = (await client.callTool({ name, arguments: args })) as CallToolResult
    if (result.isError === true) throw new Error(`${name} failed: ${JSON.stringify(result.content)}`)
    return result.structuredContent as Record<string, unknown>
  }

  /** The host page with the app loaded and initialized; `app` is the app's frame. */
  const openHost = async (
    viewport = { width: 1100, height: 900 },
    colorScheme: "light" | "dark" = "light"
  ): Promise<{ page: Page; app: FrameLocator }> => {
    const context = await browser.newContext({ viewport, colorScheme })
    const page = await context.newPage()
    watchProblems(page, problems, "host")
    page.on("request", (r) => requests.push(r.url()))
    await page.exposeFunction("taskmuxAppHtml", () => appHtml)
    // What the app asks of its host goes to taskmux as the host's own tools/call.
    await page.exposeFunction(
      "taskmuxCallTool",
      (params: { name: string; arguments?: Record<string, unknown> }) => {
        calls.push(params.name)
        return client.callTool({ name: params.name, arguments: params.arguments ?? {} })
      }
    )
    await page.goto(hostUrl)
    await page.waitForSelector(`body[data-app="initialized"]`)
    return { page, app: page.frameLocator("iframe") }
  }

  beforeAll(async () => {
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [serverEntry],
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: process.env.HOME ?? os.tmpdir(),
        TASKMUX_LOG_DIR: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-apphost-logs-")),
        TASKMUX_ISOLATED: "1"
      }
    })
    client = new Client({ name: "app-host", version: "1" }, { capabilities: { extensions: UI } as never })
    await client.connect(transport)
    const read = await client.readResource({ uri: "ui://taskmux/tasks" })
    appHtml = (read.contents[0] as { text: string }).text
    const bundled = await build({
      entryPoints: [NodePath.join(fixtures, "appHost.js")],
      bundle: true,
      format: "esm",
      platform: "browser",
      target: "es2022",
      write: false,
      logLevel: "warning"
    })
    const hostJs = bundled.outputFiles[0]!.text
    server = http.createServer((request, response) => {
      if (request.url === "/host.js") {
        response.writeHead(200, { "Content-Type": "text/javascript; charset=utf-8" })
        return response.end(hostJs)
      }
      if (request.url === "/") {
        response.writeHead(200, { "Content-Type": "text/html; charset=utf-8" })
        return response.end(HOST_PAGE)
      }
      response.writeHead(404).end()
    })
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
    hostUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
    browser = await launch()
  }, 60_000)

  afterAll(async () => {
    await browser?.close()
    server?.close()
    await client?.close()
    expect(problems).toEqual([])
    // The app fetched nothing: the only requests were the host's own page and script.
    expect(requests.filter((u) => !u.startsWith(hostUrl) && !u.startsWith("about:"))).toEqual([])
  }, 30_000)

  it("lists a running task, shows its output, and its Stop button ends the whole tree", async () => {
    await call("start_task", {
      command: `node ${NodePath.join(fixtures, "tree.mjs")}`,
      name: "web",
      waitFor: { pattern: "listening" }
    })
    const info = await call("get_task", { name: "web" }) as { pid: number; processes: Array<{ pid: number }> }
    const pids = info.processes.map((p) => p.pid)
    expect(pids.length).toBeGreaterThanOrEqual(2)
    expect(pids.every(isAlive)).toBe(true)

    const { app, page } = await openHost()
    const row = app.locator(`tr[data-name="web"]`)
    await expect.poll(() => row.locator("td.c-status").textContent(), { timeout: 10_000 }).toContain("running")
    expect(await row.locator("td.c-pid").textContent()).toBe(String(info.pid))
    expect(await row.locator("td.c-owner").textContent()).toBe("you")
    // This host opens no links: the port's link does nothing, and the frame's own try is not made.
    await expect.poll(() => row.locator("td.c-ports a").count(), { timeout: 10_000 }).toBeGreaterThan(0)
    await row.locator("td.c-ports a").first().click()
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(problems).toEqual([])
    await row.locator("td.c-name").click()
    await expect.poll(() => app.locator(".output .ln").allTextContents(), { timeout: 10_000 })
      .toContainEqual(expect.stringMatching(/^listening \d+$/))
    await screenshot(page, "app-host", true)

    const stop = app.locator(`.actions button:text-is("Stop")`)
    await expect.poll(() => stop.isEnabled()).toBe(true)
    await stop.click()
    await until(() => pids.every((pid) => !isAlive(pid)) ? true : undefined)
    await expect.poll(() => row.locator("td.c-status").textContent(), { timeout: 10_000 }).toContain("stopped")
    expect(await app.locator(".detail .status-line").textContent()).not.toMatch(/Error/)
    await page.context().close()
  }, 60_000)

  it(
    "shows the task the tool call it renders was about (get_task's name), and ends its polls at the host's teardown",
    async () => {
      await call("start_task", { command: "sleep 60", name: "first" })
      await call("start_task", {
        command: "python3 -c \"import time\nwhile True: print('about me', flush=True); time.sleep(0.2)\"",
        name: "about"
      })
      const { app, page } = await openHost()
      // What the host sends an app shown as get_task's result: the call's arguments.
      await page.evaluate(`window.taskmuxBridge.sendToolInput({ arguments: { name: "about" } })`)
      await expect.poll(() => app.locator(`tr[data-name="about"]`).getAttribute("aria-current"), { timeout: 10_000 })
        .toBe("true")
      await expect.poll(() => app.locator(".output .ln").allTextContents(), { timeout: 10_000 })
        .toContainEqual("about me")
      // The host ends the view: answered, and nothing more is called for it.
      const answer = await page.evaluate(`window.taskmuxBridge.teardownResource({})`)
      expect(answer).toEqual({})
      const before = calls.length
      await new Promise((resolve) => setTimeout(resolve, 2_500))
      expect(calls.slice(before)).toEqual([])
      await page.context().close()
      await call("stop_task", { name: "about" })
      await call("stop_task", { name: "first" })
    },
    60_000
  )

  it("takes the host's theme over the system's, follows it when it changes, and stays readable in both", async () => {
    await call("start_task", { command: "sleep 60", name: "themed" })
    // The system is dark, the host says light (the fixture's host context): the host's wins.
    const { app, page } = await openHost(undefined, "dark")
    const frame = page.frames().find((f) => f !== page.mainFrame())!
    const theme = () => frame.evaluate("document.documentElement.dataset.theme")
    await app.locator(`tr[data-name="themed"] td.c-name`).click()
    await expect.poll(() => app.locator(".detail .pill").textContent(), { timeout: 10_000 }).toContain("running")
    expect(await theme()).toBe("light")
    expect(await lowContrast(frame)).toEqual([])
    // The person switches their client to dark.
    await page.evaluate(`window.taskmuxBridge.setHostContext({ theme: "dark" })`)
    await expect.poll(theme).toBe("dark")
    expect(await frame.evaluate("getComputedStyle(document.documentElement).backgroundColor")).toBe("rgb(13, 17, 23)")
    expect(await lowContrast(frame)).toEqual([])
    await screenshot(page, "app-host-dark", true)
    await call("stop_task", { name: "themed" })
    await page.context().close()
  }, 60_000)

  it("takes the host's colours and fonts where it gives them, the theme's where not", async () => {
    await call("start_task", { command: "sleep 60", name: "styled" })
    const { app, page } = await openHost()
    const frame = page.frames().find((f) => f !== page.mainFrame())!
    const rootStyle = (property: "backgroundColor" | "fontFamily") =>
      frame.evaluate(`getComputedStyle(document.documentElement).${property}`)
    await app.locator(`tr[data-name="styled"] td.c-name`).click()
    await expect.poll(() => app.locator(".detail .pill").textContent(), { timeout: 10_000 }).toContain("running")
    expect(await rootStyle("backgroundColor")).toBe("rgb(255, 255, 255)")
    // A host with a warm palette of light-dark() values and a font of its own, as chat clients give.
    const variables = {
      "--color-background-primary": "light-dark(#faf9f5, #262624)",
      "--color-background-secondary": "light-dark(#f0eee6, #30302e)",
      "--color-text-primary": "light-dark(#141413, #faf9f5)",
      "--color-text-secondary": "light-dark(#5e5d59, #c2c0b6)",
      "--color-border-primary": "light-dark(#d1cfc5, #4a4945)",
      "--font-sans": "Georgia, serif"
    }
    const setContext = (context: Record<string, unknown>) =>
      page.evaluate(`window.taskmuxBridge.setHostContext(${JSON.stringify(context)})`)
    await setContext({ theme: "light", styles: { variables } })
    await expect.poll(() => rootStyle("backgroundColor")).toBe("rgb(250, 249, 245)")
    expect(await rootStyle("fontFamily")).toMatch(/^Georgia/)
    expect(await lowContrast(frame)).toEqual([])
    // Dark: the same values follow the theme.
    await setContext({ theme: "dark", styles: { variables } })
    await expect.poll(() => rootStyle("backgroundColor")).toBe("rgb(38, 38, 36)")
    expect(await lowContrast(frame)).toEqual([])
    await screenshot(page, "app-host-styles", true)
    // A host that gives them no longer: the theme's own.
    await setContext({ theme: "dark", styles: { variables: {} } })
    await expect.poll(() => rootStyle("backgroundColor")).toBe("rgb(13, 17, 23)")
    expect(await rootStyle("fontFamily")).toMatch(/^system-ui/)
    await call("stop_task", { name: "styled" })
    await page.context().close()
  }, 60_000)

  it("types into a terminal task from the app: print(6*7) answers 42", async () => {
    await call("start_task", { command: "python3 -q", name: "repl", terminal: true, waitFor: { pattern: ">>>" } })
    const { app, page } = await openHost()
    await app.locator(`tr[data-name="repl"] td.c-name`).click()
    const screen = app.locator(".lite-screen")
    await expect.poll(() => screen.textContent(), { timeout: 10_000 }).toContain(">>>")
    await screen.click()
    await page.keyboard.type("print(6*7)")
    await page.keyboard.press("Enter")
    await expect.poll(() => screen.textContent(), { timeout: 10_000 }).toMatch(/print\(6\*7\)\s*42/)
    const read = await call("read_output", { name: "repl" }) as { lines: Array<{ text: string }> }
    expect(read.lines.map((l) => l.text)).toContain("42")
    // Text that comes as text, not as keys: an emoji picker's or dictation's (insertText), and an input
    // method's commit (Japanese: composed, then committed), which a screen that took keys alone dropped.
    await page.keyboard.type("print(len('")
    await page.keyboard.insertText("é🚀")
    const cdp = await page.context().newCDPSession(page)
    await cdp.send("Input.imeSetComposition", { text: "にほん", selectionStart: 3, selectionEnd: 3 })
    await cdp.send("Input.insertText", { text: "日本" })
    await page.keyboard.type("'))")
    await page.keyboard.press("Enter")
    await expect.poll(() => screen.textContent(), { timeout: 10_000 }).toMatch(/print\(len\('é🚀日本'\)\)\s*4/)
    await call("stop_task", { name: "repl" })
    await page.context().close()
  }, 60_000)

  /** Where an element of the app's frame is in the host's window: [top, bottom], and the window's height. */
  const onScreen = async (page: Page, app: FrameLocator, selector: string) => {
    const frameTop = await page.locator("iframe").evaluate((f) => f.getBoundingClientRect().top)
    const box = await app.locator(selector).evaluate((el) => {
      const r = el.getBoundingClientRect()
      return [r.top, r.bottom] as const
    })
    const height = await page.evaluate("innerHeight") as number
    return { top: frameTop + box[0], bottom: frameTop + box[1], height }
  }
  const seen = async (page: Page, app: FrameLocator, selector: string) => {
    const { bottom, height, top } = await onScreen(page, app, selector)
    return top >= 0 && bottom <= height
  }

  it(
    "in a frame as tall as its content: a chosen task comes into sight, a button's answer shows beside it",
    async () => {
      for (let i = 0; i < 12; i++) {
        await call("start_task", {
          command: "sleep 300",
          name: `s${String(i).padStart(2, "0")}`
        })
      }
      const { app, page } = await openHost({ width: 700, height: 500 })
      const row = app.locator(`tr[data-name="s00"]`)
      await expect.poll(() => row.locator("td.c-status").textContent(), { timeout: 10_000 }).toContain("running")
      await row.locator("td.c-name").click()
      // Below twelve rows; in sight once the host has grown the frame for it.
      await expect.poll(() => seen(page, app, "#detail-title"), { timeout: 5000 }).toBe(true)
      const restart = app.locator(`.actions button:text-is("Restart")`)
      await expect.poll(() => restart.isEnabled()).toBe(true)
      await restart.click()
      const answer = app.locator(".status-line:not([data-empty])")
      await expect.poll(() => answer.textContent(), { timeout: 10_000 }).toMatch(/Restarted task "s00"/)
      expect(await seen(page, app, ".status-line:not([data-empty])")).toBe(true)
      // The skip link focuses the task and loads nothing (a srcdoc frame's "#…" is the host's page).
      await app.locator(".skip-link").focus()
      await page.keyboard.press("Enter")
      await page.waitForTimeout(300)
      expect(await app.locator("h2#detail-title").evaluate((h) => h.ownerDocument.activeElement === h)).toBe(true)
      expect(await app.locator("body").evaluate((b) => b.ownerDocument.URL)).toBe("about:srcdoc")
      for (let i = 0; i < 12; i++) await call("remove_task", { name: `s${String(i).padStart(2, "0")}` })
      await page.context().close()
    },
    60_000
  )

  it("shows a terminal task's cursor", async () => {
    await call("start_task", { command: "python3 -q", name: "repl2", terminal: true, waitFor: { pattern: ">>>" } })
    const { app, page } = await openHost()
    await app.locator(`tr[data-name="repl2"] td.c-name`).click()
    const screen = app.locator(".lite-screen")
    await expect.poll(() => screen.textContent(), { timeout: 10_000 }).toContain(">>>")
    await expect.poll(() => screen.locator(".cursor").count(), { timeout: 5000 }).toBe(1)
    await call("remove_task", { name: "repl2" })
    await page.context().close()
  }, 60_000)

  it(
    "keeps no tool result in its console: a browser holds a frame's last 1,000 console messages, arguments and all",
    async () => {
      await call("start_task", {
        command: "python3 -c \"import time\nwhile True: print('chatty', flush=True); time.sleep(0.05)\"",
        name: "chatty"
      })
      const { app, page } = await openHost()
      await app.locator(`tr[data-name="chatty"] td.c-name`).click()
      await expect.poll(() => app.locator(".ln").count(), { timeout: 10_000 }).toBeGreaterThan(10)
      // What the frame's console kept: a new DevTools session is given every stored message on Runtime.enable.
      const frame = page.frames().find((f) => f !== page.mainFrame())!
      const cdp = await page.context().newCDPSession(frame)
      const kept: Array<unknown> = []
      cdp.on("Runtime.consoleAPICalled", (e) => kept.push(e.args[0]?.value))
      await cdp.send("Runtime.enable")
      await page.waitForTimeout(500)
      expect(kept.filter((first) => first === "Parsed message" || first === "Sending message")).toEqual([])
      await call("remove_task", { name: "chatty" })
      await page.context().close()
    },
    60_000
  )
})
