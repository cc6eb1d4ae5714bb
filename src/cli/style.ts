/** ANSI colours for a terminal, or nothing at all: every formatter takes one of these. */
import { columnsOf } from "../domain/columns.ts"

export interface Style {
  readonly bold: (text: string) => string
  readonly dim: (text: string) => string
  readonly red: (text: string) => string
  readonly green: (text: string) => string
  readonly yellow: (text: string) => string
  readonly cyan: (text: string) => string
}

const sgr = (on: number, off: number) => (text: string) => text === "" ? "" : `\x1b[${on}m${text}\x1b[${off}m`

export const colours: Style = {
  bold: sgr(1, 22),
  dim: sgr(2, 22),
  red: sgr(31, 39),
  green: sgr(32, 39),
  yellow: sgr(33, 39),
  cyan: sgr(36, 39)
}

const same = (text: string) => text

export const plain: Style = { bold: same, dim: same, red: same, green: same, yellow: same, cyan: same }

export const style = (colour: boolean): Style => colour ? colours : plain

/** How wide a text shows: without its colours (the CLI's own), in a terminal's columns. */
const SGR = new RegExp(`${String.fromCharCode(0x1b)}\\[[0-9;]*m`, "g")

export const visibleLength = (text: string) => columnsOf(text.replace(SGR, ""))
