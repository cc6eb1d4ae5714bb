/**
 * How many columns text takes on a terminal: what a table lines up by, and what a cursor's column
 * counts (a cell each, two for a wide character). Pure.
 */
import { eastAsianWidth } from "get-east-asian-width"

/**
 * Marks drawn on the character before them (accents, variation selectors) and the zero-width format
 * characters (joiners, marks of direction, the BOM): no column of their own.
 */
export const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}]$/u

/**
 * The cells a character of its own takes: two for East Asian wide and fullwidth characters and emoji,
 * as Unicode's East Asian Width says (and wcwidth), one for the rest (ambiguous ones too, as terminals
 * outside East Asia draw them).
 */
export const cellsOfCode = (code: number) => code < 0x1100 ? 1 : eastAsianWidth(code, { ambiguousAsWide: false })

/** The cells a character takes: none for a mark or a joiner, else cellsOfCode. */
export const widthOf = (char: string) => ZERO_WIDTH.test(char) ? 0 : cellsOfCode(char.codePointAt(0)!)

/** How many columns a text (without escape sequences) takes on a terminal. */
export const columnsOf = (text: string): number => {
  let width = 0
  for (const char of text) width += widthOf(char)
  return width
}
