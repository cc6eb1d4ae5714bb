/**
 * Output as a model should read it: no ANSI escape sequences (colours, cursor moves, OSC
 * titles cost tokens and mean nothing in text), and carriage-return redraws (progress
 * bars) collapsed to what a terminal would finally show.
 */
import stripAnsi from "strip-ansi"

export const cleanText = (text: string): string => collapseCarriageReturns(stripAnsi(text))

/** "50%\r100%" shows "100%"; "abcdef\rXY" shows "XYcdef", as on a terminal. */
export const collapseCarriageReturns = (text: string): string => {
  if (!text.includes("\r")) return text
  const parts = text.split("\r")
  let shown = parts[0]!
  for (let i = 1; i < parts.length; i++) {
    const part = parts[i]!
    shown = part + shown.slice(part.length)
  }
  return shown
}
