/**
 * Text from elsewhere (a task's command, a client's name) as a terminal may show it: every control
 * character made visible, as `cat -v` does, so an escape in a command cannot colour, retitle or redraw
 * the table a person reads to see what runs; and cut to a width in columns, not UTF-16 units. Pure.
 */

import { columnsOf, widthOf } from "../domain/columns.ts"

/** C0 controls and DEL as `^X`, C1 controls as `M-^X`: what `cat -v` shows. */
export const visibleControls = (text: string): string =>
  // eslint-disable-next-line no-control-regex
  text.replace(/[\u0000-\u001f\u007f-\u009f]/g, (c) => {
    const code = c.charCodeAt(0)
    if (code === 0x7f) return "^?"
    if (code >= 0x80) return `M-${code === 0x9f ? "^?" : `^${String.fromCharCode(code - 0x80 + 64)}`}`
    return `^${String.fromCharCode(code + 64)}`
  })

/**
 * Text as the CLI prints it: its own colours (SGR), line ends and a line drawn over (`\r ESC[K`) pass, and every other control character
 * is made visible. What it prints quotes tasks' output, names and commands, and whatever got past the
 * cleaning on the way must not retitle the person's terminal, write its clipboard or clear it. (attach
 * alone writes a program's terminal output as it is: that is what it is for.)
 */
export const shownSafely = (text: string): string =>
  UNSAFE.test(text) ? text.replace(UNSAFE_OR_OURS, (m) => m.length > 1 ? m : visibleControls(m)) : text

// eslint-disable-next-line no-control-regex -- they are what it finds
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/
// eslint-disable-next-line no-control-regex -- the same, and the colours and line ends that pass
const UNSAFE_OR_OURS = /\u001b\[[0-9;]*m|\r\n|\r\u001b\[K|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

/** The text, or as much of it as fits in `room` columns with "…" after it; never half a character. */
export const fitColumns = (text: string, room: number): string => {
  if (columnsOf(text) <= room) return text
  let out = ""
  let width = 0
  for (const char of text) {
    const w = widthOf(char)
    if (width + w > room - 1) break
    out += char
    width += w
  }
  return `${out}…`
}
