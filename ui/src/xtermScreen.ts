/**
 * The page's screen: xterm.js and its stylesheet, one chunk loaded by the first terminal task shown. It
 * draws the redraw the supervisor's own emulator makes (src/output/TerminalScreen.ts), so the colours,
 * the cursor and the program's modes (bracketed paste, application cursor keys, mouse) are the task's.
 */
import "@xterm/xterm/css/xterm.css"
import { Unicode11Addon } from "@xterm/addon-unicode11"
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
    // For `unicode` below.
    allowProposedApi: true,
    theme: { background: "#14171c", foreground: "#e8eaed", cursor: "#e8eaed" }
  })
  term.open(host)
  // Emoji two cells wide, as the supervisor's emulator counts them: else the cursor lands past the text.
  term.loadAddon(new Unicode11Addon())
  term.unicode.activeVersion = "11"
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
    draw: (content, cols, height) => {
      if (term.cols !== cols || term.rows !== height) term.resize(Math.max(2, cols), Math.max(1, height))
      // On a reset terminal (RIS, in the same write: no blank frame between): a mode the program turned
      // off since is off here too.
      if ("redraw" in content) return term.write(`\x1bc${content.redraw}`)
      // Plain rows: home, then each row cleared to its end; the last without a newline (that would scroll).
      const text = content.text.slice(0, height).map((r) => r + "\x1b[K").join("\r\n")
      const { cursor } = content
      const place = cursor === undefined ? "\x1b[?25l" : `\x1b[${cursor.row + 1};${cursor.col + 1}H\x1b[?25h`
      term.write(`\x1b[H${text}\x1b[J${place}`)
    },
    dispose: () => term.dispose()
  }
}
