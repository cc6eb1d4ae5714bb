/**
 * A terminal task's screen in a real terminal emulator (xterm.js, loaded on first use: it is most of
 * the page's weight). Each `screen` event redraws it; what the person types goes to the task with
 * send_input, in order, coalesced while a call is in flight. Ctrl+] moves the focus out of it (Tab
 * belongs to the program).
 */
import type { Terminal } from "@xterm/xterm"
import { h } from "./dom.ts"

export interface TerminalView {
  readonly el: HTMLElement
  /** Shows the screen as it is now (rows of text, the terminal's size). */
  screen(rows: ReadonlyArray<string>, cols: number, height: number, cursor?: { row: number; col: number }): void
  dispose(): void
}

export interface TerminalOptions {
  readonly label: string
  readonly readOnly: boolean
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
        : "Click the screen or Tab to it to type into the task; Ctrl+] moves the focus out."
    ),
    host
  )
  let term: Terminal | undefined
  let disposed = false
  let latest:
    | { rows: ReadonlyArray<string>; cols: number; height: number; cursor: { row: number; col: number } | undefined }
    | undefined
  let drawQueued = false

  const paint = () => {
    drawQueued = false
    if (term === undefined || latest === undefined) return
    const { cols, cursor, height, rows } = latest
    if (term.cols !== cols || term.rows !== height) term.resize(Math.max(2, cols), Math.max(1, height))
    // Home, then each row cleared to its end; the last row without a newline (that would scroll).
    const text = rows.slice(0, height).map((r) => r.slice(0, cols) + "\x1b[K").join("\r\n")
    // The cursor where the task's terminal has it; hidden when the event does not say.
    const place = cursor === undefined ? "\x1b[?25l" : `\x1b[${cursor.row + 1};${cursor.col + 1}H\x1b[?25h`
    term.write(`\x1b[H${text}\x1b[J${place}`)
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

  void import("./xterm.ts").then(({ Terminal }) => {
    if (disposed) return
    term = new Terminal({
      cols: latest?.cols ?? 120,
      rows: latest?.height ?? 40,
      disableStdin: options.readOnly,
      cursorBlink: false,
      cursorInactiveStyle: "outline",
      scrollback: 0,
      fontFamily: "ui-monospace, \"Cascadia Mono\", \"DejaVu Sans Mono\", Menlo, Consolas, monospace",
      fontSize: 13,
      screenReaderMode: false,
      theme: { background: "#14171c", foreground: "#e8eaed", cursor: "#e8eaed" }
    })
    term.open(host)
    term.textarea?.setAttribute("aria-label", `Type into ${options.label}`)
    term.textarea?.setAttribute("aria-describedby", "term-hint")
    if (options.readOnly) term.textarea?.setAttribute("aria-disabled", "true")
    term.attachCustomKeyEventHandler((e) => {
      if (e.type === "keydown" && e.ctrlKey && e.key === "]") {
        e.preventDefault()
        options.leave()
        return false
      }
      return true
    })
    term.onData((data) => {
      if (options.readOnly) return
      buffered += data
      void pump()
    })
    queuePaint()
  })

  return {
    el,
    screen: (rows, cols, height, cursor) => {
      latest = { rows, cols, height, cursor }
      queuePaint()
    },
    dispose: () => {
      disposed = true
      term?.dispose()
    }
  }
}
