/**
 * A terminal task's screen (drawn by a Screen: xterm.js on the page, plain text in the MCP App, loaded
 * on first use). Each `screen` event redraws it, once per animation frame; what the person types goes to
 * the task with send_input, in order, coalesced while a call is in flight. Ctrl+] moves the focus out
 * of it (Tab belongs to the program).
 */
import type { ScreenContent } from "./backend.ts"
import { h } from "./dom.ts"
import type { Screen, ScreenLoader } from "./screen.ts"

export interface TerminalView {
  readonly el: HTMLElement
  /** Shows the screen as it is now, at the terminal's size. */
  screen(content: ScreenContent, cols: number, height: number): void
  dispose(): void
}

export interface TerminalOptions {
  readonly label: string
  readonly readOnly: boolean
  readonly load: ScreenLoader
  /** Sends what was typed; resolves once the call answered (an error is shown by the caller). */
  readonly send: (data: string) => Promise<void>
  /** Where Ctrl+] moves the focus. */
  readonly leave: () => void
}

export const terminalView = (options: TerminalOptions): TerminalView => {
  const host = h("div", { class: "term-host" })
  const el = h(
    "div",
    { class: "terminal-view", role: "region", "aria-label": `${options.label}: terminal` },
    h(
      "p",
      { class: "hint", id: "term-hint" },
      options.readOnly
        ? "Read-only: the screen as the task shows it."
        : "Click the screen or Tab to it to type into the task; Ctrl+] moves the focus out.",
      // The emulator's rows are drawn for the eye; the Lines view is text that a screen reader reads.
      " With a screen reader, the Lines view reads the output as it comes."
    ),
    host
  )
  let screen: Screen | undefined
  let disposed = false
  let latest: { content: ScreenContent; cols: number; height: number } | undefined
  let drawQueued = false

  const paint = () => {
    drawQueued = false
    if (screen === undefined || latest === undefined) return
    screen.draw(latest.content, latest.cols, latest.height)
  }
  const queuePaint = () => {
    if (drawQueued) return
    drawQueued = true
    requestAnimationFrame(paint)
  }

  // Typing: one send_input at a time, what was typed meanwhile goes in the next one.
  let buffered = ""
  let sending = false
  const pump = async () => {
    if (sending) return
    sending = true
    while (buffered !== "") {
      const data = buffered
      buffered = ""
      await options.send(data)
    }
    sending = false
  }

  void options.load().then((create) => {
    if (disposed) return
    screen = create(host, {
      label: options.label,
      readOnly: options.readOnly,
      describedBy: "term-hint",
      leave: options.leave,
      onData: (data) => {
        if (options.readOnly) return
        buffered += data
        void pump()
      }
    })
    queuePaint()
  })

  return {
    el,
    screen: (content, cols, height) => {
      latest = { content, cols, height }
      queuePaint()
    },
    dispose: () => {
      disposed = true
      screen?.dispose()
    }
  }
}
