/**
 * How many columns text takes on a terminal: what a table lines up by, and what a cursor's column
 * counts (a cell each, two for a wide character). Pure.
 */
import { eastAsianWidth } from "get-east-asian-width"

/**
 * Marks drawn on the character before them (accents, variation selectors) and the zero-width format
 * characters (joiners, marks of direction, the BOM): no column of their own.
 */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u

/** East Asian wide and fullwidth characters and emoji take two columns, as Unicode's East Asian Width says (and wcwidth). */
export const widthOf = (char: string) => {
  if (ZERO_WIDTH.test(char)) return 0
  const code = char.codePointAt(0)!
  return code < 0x1100 ? 1 : eastAsianWidth(code, { ambiguousAsWide: false })
}

/** How many columns a text (without escape sequences) takes on a terminal. */
export const columnsOf = (text: string): number => {
  let width = 0
  for (const char of text) width += widthOf(char)
  return width
}
