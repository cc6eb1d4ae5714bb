/**
 * Output as a model should read it: no ANSI escape sequences (colours, cursor moves, OSC
 * titles cost tokens and mean nothing in text), redraws (progress bars, spinners) collapsed
 * to what a terminal would finally show, and no other control characters (a NUL, a bell).
 */
import stripAnsi from "strip-ansi"

/**
 * What redraws a line: a carriage return, a move to its first column (`ESC[G`, `ESC[1G`), an erase
 * of the line (`ESC[2K`), as ora, listr and pnpm redraw theirs, and a backspace.
 */
const REDRAW = new RegExp(String.raw`(\r|\x08|\x1b\[[01]?G|\x1b\[2K)`)

/** What is left to say nothing: C0 controls but the tab, and DEL. */
const CONTROL = new RegExp(String.raw`[\x00-\x08\x0b-\x1f\x7f]`)
const CONTROLS = new RegExp(CONTROL.source, "g")

export const cleanText = (text: string): string => {
  const shown = !text.includes("\r") && !text.includes("\u001b[") && !text.includes("\b")
    ? stripAnsi(text)
    : redrawn(text.split(REDRAW))
  return CONTROL.test(shown) ? shown.replace(CONTROLS, "") : shown
}

/**
 * The line a terminal shows after text and redraws in turn (odd parts are the redraws): each text
 * overwrites from the cursor ("abcdef\rXY" shows "XYcdef"). An erase clears the line; it is taken as a move to its start too
 * (where spinners write next). A backspace moves back one.
 */
const redrawn = (parts: ReadonlyArray<string>): string => {
  let shown = ""
  let column = 0
  for (let i = 0; i < parts.length; i++) {
    if (i % 2 === 1) {
      if (parts[i] === "\b") column = Math.max(0, column - 1)
      else {
        if (parts[i] === "\u001b[2K") shown = ""
        column = 0
      }
      continue
    }
    const part = stripAnsi(parts[i]!)
    if (part === "") continue
    shown = shown.slice(0, column) + part + shown.slice(column + part.length)
    column += part.length
  }
  return shown
}
