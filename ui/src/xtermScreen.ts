/** The page's screen: xterm.js and its stylesheet, one chunk loaded by the first terminal task shown. */
import "@xterm/xterm/css/xterm.css"
import { Terminal } from "@xterm/xterm"
import type { CreateScreen } from "./screen.ts"

export const createScreen: CreateScreen = (host, options) => {
  const term = new Terminal({
    cols: 120,
    rows: 40,
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
  term.textarea?.setAttribute(
    "aria-label",
    options.readOnly ? `${options.label}'s screen (read-only)` : `Type into ${options.label}`
  )
  term.textarea?.setAttribute("aria-describedby", options.describedBy)
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
    if (!options.readOnly) options.onData(data)
  })
  return {
    draw: (rows, cols, height, cursor) => {
      if (term.cols !== cols || term.rows !== height) term.resize(Math.max(2, cols), Math.max(1, height))
      // Home, then each row cleared to its end; the last row without a newline (that would scroll).
      const text = rows.slice(0, height).map((r) => r.slice(0, cols) + "\x1b[K").join("\r\n")
      // The cursor where the task's terminal has it; hidden when the event does not say.
      const place = cursor === undefined ? "\x1b[?25l" : `\x1b[${cursor.row + 1};${cursor.col + 1}H\x1b[?25h`
      term.write(`\x1b[H${text}\x1b[J${place}`)
    },
    dispose: () => term.dispose()
  }
}
