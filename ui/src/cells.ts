/**
 * A screen's row as the cells a terminal draws it in (the emulator that drew it counts a wide character
 * as two, a mark as none): where the cursor's column is in its text, and as much of it as a width holds.
 * Pure.
 */
import { widthOf } from "../../src/domain/columns.ts"

/** A row as the cells a terminal shows it in: each character with the marks on it, and how many cells it takes. */
const cellsOf = (row: string): Array<{ text: string; width: number }> => {
  const cells: Array<{ text: string; width: number }> = []
  for (const char of row) {
    const width = widthOf(char)
    const last = cells[cells.length - 1]
    if (last !== undefined && width === 0) last.text += char
    else cells.push({ text: char, width })
  }
  return cells
}

/** A row cut at the cursor's column (counted in cells, as the emulator that drew it counts): before, under, after. */
export const atColumn = (row: string, col: number): [string, string, string] => {
  const cells = cellsOf(row)
  let at = 0
  let k = 0
  while (k < cells.length && at + cells[k]!.width <= col) at += cells[k++]!.width
  const before = cells.slice(0, k).map((c) => c.text).join("")
  if (k === cells.length) return [before + " ".repeat(col - at), " ", ""]
  return [before, cells[k]!.text, cells.slice(k + 1).map((c) => c.text).join("")]
}

/** As much of a row as `cols` cells hold. */
export const fitCells = (row: string, cols: number): string => {
  let used = 0
  let out = ""
  for (const cell of cellsOf(row)) {
    if (used + cell.width > cols) break
    used += cell.width
    out += cell.text
  }
  return out
}
