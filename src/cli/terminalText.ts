/**
 * Text from elsewhere (a task's command, a client's name) as a terminal may show it: every control
 * character made visible, as `cat -v` does, so an escape in a command cannot colour, retitle or redraw
 * the table a person reads to see what runs; and cut to a width in columns, not UTF-16 units. Pure.
 */

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
 * Text as the CLI prints it: its own colours (SGR) and line ends pass, and every other control character
 * is made visible. What it prints quotes tasks' output, names and commands, and whatever got past the
 * cleaning on the way must not retitle the person's terminal, write its clipboard or clear it. (attach
 * alone writes a program's terminal output as it is: that is what it is for.)
 */
export const shownSafely = (text: string): string =>
  UNSAFE.test(text) ? text.replace(UNSAFE_OR_OURS, (m) => m.length > 1 ? m : visibleControls(m)) : text

// eslint-disable-next-line no-control-regex -- they are what it finds
const UNSAFE = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/
// eslint-disable-next-line no-control-regex -- the same, and the colours and line ends that pass
const UNSAFE_OR_OURS = /\u001b\[[0-9;]*m|\r\n|[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

/** Marks drawn on the character before them, and the zero-width characters: no column of their own. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\u200b-\u200f\u2060\ufeff]$/u

/** East Asian wide and fullwidth characters, and emoji: two columns (the ranges wcwidth gives 2). */
const isWide = (code: number) =>
  code >= 0x1100 && code <= 0x115f || code >= 0x2e80 && code <= 0x303e || code >= 0x3041 && code <= 0x33ff ||
  code >= 0x3400 && code <= 0x4dbf || code >= 0x4e00 && code <= 0x9fff || code >= 0xa000 && code <= 0xa4cf ||
  code >= 0xac00 && code <= 0xd7a3 || code >= 0xf900 && code <= 0xfaff || code >= 0xfe30 && code <= 0xfe4f ||
  code >= 0xff00 && code <= 0xff60 || code >= 0xffe0 && code <= 0xffe6 || code >= 0x1f300 && code <= 0x1f64f ||
  code >= 0x1f900 && code <= 0x1f9ff || code >= 0x20000 && code <= 0x3fffd

const widthOf = (char: string) => ZERO_WIDTH.test(char) ? 0 : isWide(char.codePointAt(0)!) ? 2 : 1

/** How many columns a text (without escape sequences) takes on a terminal. */
export const columnsOf = (text: string): number => {
  let width = 0
  for (const char of text) width += widthOf(char)
  return width
}

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
