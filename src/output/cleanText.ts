/**
 * Output as a model should read it: no ANSI escape sequences (colours, cursor moves, OSC
 * titles cost tokens and mean nothing in text), redraws (progress bars, spinners, a line editor's
 * edits) collapsed to what a terminal would finally show, and no other control characters (a NUL, a bell).
 */
import ansiRegex from "ansi-regex"
import { cellsOfCode, ZERO_WIDTH } from "../domain/columns.ts"

/**
 * What edits a line in place: a carriage return, a backspace, and the CSI sequences progress bars,
 * spinners and line editors (readline, a shell's) write: cursor right, left, up and down (`ESC[nC`,
 * `ESC[nD`, `ESC[nA`, `ESC[nB`), to a column (`ESC[nG`), erase in line (`ESC[K`, `ESC[1K`, `ESC[2K`),
 * erase, delete and insert characters (`ESC[nX`, `ESC[nP`, `ESC[n@`).
 */
const EDIT = new RegExp(String.raw`(\r|\x08|\x1b\[\d*[@A-DGKPX])`)

/**
 * Escape sequences, their 8-bit forms too: a terminal takes U+009B, U+009D and U+0090 (sent as UTF-8)
 * as CSI, OSC and DCS, so an OSC 52 written that way would set the clipboard of whoever reads the line
 * in a terminal (`taskmux logs`). strip-ansi's shortcut passes over a line without ESC or U+009B.
 */
const SEQUENCES = ansiRegex()
/** What may begin one: ESC or a C1 control. */
const INTRODUCER = new RegExp(String.raw`[\x1b\x80-\x9f]`)

/**
 * What is left to say nothing: C0 controls but the tab, DEL, and C1 controls; and the byte-order mark
 * a Windows program or a file it wrote puts first (`^ready` would not match after it). Removed after the
 * sequences, so that what a sequence's parts would spell without a control in between
 * (`U+009B 2 CAN J`) is not a sequence any more: its introducer goes too.
 */
const CONTROL = new RegExp(String.raw`[\x00-\x08\x0b-\x1f\x7f-\x9f\ufeff]`)
const CONTROLS = new RegExp(CONTROL.source, "g")

/** An edit as it stands alone (see EDIT), kept while every other sequence goes. */
const AN_EDIT = new RegExp(String.raw`^\x1b\[\d*[@A-DGKPX]$`)

/**
 * A line's text as it shows. `cols`, a terminal task's width: a line longer than that wraps on its
 * terminal, and a carriage return or an erase acts on the row the cursor is on (a shell's long command
 * line, redrawn by its line editor, would otherwise come out scrambled). Without it (pipes) a line is one row.
 */
export const cleanText = (text: string, cols?: number): string => {
  if (text.includes("\u001b[?")) text = mainScreenOf(text)
  if (text.includes("\u001b(0")) text = withLineDrawing(text)
  if (!text.includes("\r") && !text.includes("\u001b[") && !text.includes("\b")) return withoutCodes(text)
  // Other sequences first: a title's \r (an OSC holds any text) is no edit of the line.
  const parts = (INTRODUCER.test(text) ? text.replace(SEQUENCES, keepEdits) : text).split(EDIT)
  return parts.length === 1 ? withoutCodes(text) : edited(parts, cols !== undefined && cols > 0 ? cols : undefined)
}

/** Into, and out of, the alternate screen (xterm's 1049, with its older 1047 and 47). */
const ALTERNATE = new RegExp(String.raw`\x1b\[\?(?:1049|1047|47)([hl])`, "g")

/**
 * A line without what was drawn on the alternate screen (an editor, a pager, a menu) before the program
 * left it: a terminal then shows the main screen again, as it was, and what follows (a shell's prompt, the
 * menu's choice) goes on there. What the line held before the program went there stays.
 */
const mainScreenOf = (text: string): string => {
  let shown = ""
  let from = 0
  /** Where the alternate screen still shown at the line's end began: its drawing stays (see fullScreen). */
  let open: number | undefined
  let first = true
  for (const match of text.matchAll(ALTERNATE)) {
    if (match[1] === "h") {
      if (open === undefined) shown += text.slice(from, match.index)
      open ??= match.index
    } else if (open !== undefined || first) {
      // Left it (having gone there on this line, or before it: then all the line held so far was drawn there).
      from = match.index + match[0].length
      open = undefined
    }
    first = false
  }
  return shown + text.slice(open ?? from)
}

/**
 * DEC's line-drawing set, which curses programs (dialog, mc) switch to for their boxes (`ESC ( 0`, back
 * with `ESC ( B`): its letters as the lines a terminal draws for them, not `lqqqk`.
 */
const LINE_DRAWING: Readonly<Record<string, string>> = {
  j: "┘",
  k: "┐",
  l: "┌",
  m: "└",
  n: "┼",
  q: "─",
  t: "├",
  u: "┤",
  v: "┴",
  w: "┬",
  x: "│",
  a: "▒",
  "`": "◆",
  "~": "·"
}
/** A switch of character set, a CSI sequence (a colour, a move: drawn as they are), or text. */
const DRAWING_PIECES = new RegExp(String.raw`\x1b\(([0B])|\x1b\[[0-?]*[ -/]*[@-~]|[^\x1b]+|\x1b`, "g")
const withLineDrawing = (text: string): string => {
  let drawing = false
  return text.replace(DRAWING_PIECES, (piece: string, set: string | undefined) => {
    if (set !== undefined) {
      drawing = set === "0"
      return ""
    }
    return drawing && piece[0] !== "\x1b" ? [...piece].map((char) => LINE_DRAWING[char] ?? char).join("") : piece
  })
}

/** What redraws a whole line as it goes (a progress bar, a spinner): a \r before more text, a move to its first column, an erase of it. */
const REDRAWN = new RegExp(String.raw`\r(?!$)|\x1b\[[01]?[GK]|\x1b\[2K`)

/** Whether a raw line is redrawn in place as it is written, not a prompt that waits. */
export const redrawnInPlace = (raw: string): boolean => REDRAWN.test(raw)

/** A line without escape sequences and the control characters that say nothing. */
const withoutCodes = (text: string): string => {
  const shown = INTRODUCER.test(text) ? text.replace(SEQUENCES, "") : text
  return CONTROL.test(shown) ? shown.replace(CONTROLS, "") : shown
}

const keepEdits = (sequence: string) => AN_EDIT.test(sequence) ? sequence : ""

/**
 * The line a terminal shows after text and edits in turn (odd parts are the edits), as cells: each
 * character overwrites the cell at the cursor, a wide one (CJK, emoji) two; `""` is a wide character's
 * right half, `undefined` a cell nothing was written to (a space, where text follows it).
 */
const edited = (parts: ReadonlyArray<string>, cols: number | undefined): string => {
  const cells: Array<string | undefined> = []
  // The line as it showed when the cursor went up past its first row (see "A").
  let before: Array<string | undefined> | undefined
  let at = 0
  // Written up to the last column of a row: the next character goes on the next row, a \r to this row's start.
  let pending = false
  const rowStart = () => cols === undefined ? 0 : pending ? at - cols : at - (at % cols)
  const rowEnd = () => cols === undefined ? Infinity : rowStart() + cols
  // Overwriting half of a wide character leaves a space in its other half.
  const free = (i: number) => {
    if (cells[i] === "" && i > 0) cells[i - 1] = undefined
    if (cells[i + 1] === "") cells[i + 1] = undefined
  }
  const blank = (from: number, to: number) => {
    for (let i = from; i < Math.min(to, cells.length); i++) cells[i] = undefined
  }
  const put = (char: string) => {
    const code = char.codePointAt(0)!
    if (code < 0x20 || code >= 0x7f && code <= 0x9f) {
      if (code !== 0x09) return
    } else if (code >= 0x300 && ZERO_WIDTH.test(char)) {
      const base = cells[at - 1] === "" ? at - 2 : at - 1
      if (base >= 0 && cells[base] !== undefined) cells[base] += char
      return
    }
    const width = cellsOfCode(code)
    free(at)
    cells[at] = char
    if (width === 2) {
      free(at + 1)
      cells[at + 1] = ""
    }
    at += width
    pending = cols !== undefined && at % cols === 0
  }
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!
    if (i % 2 === 0) {
      // What is left of a sequence cut by a control (ESC [ 2 CAN J) goes with its introducer, in put.
      for (const char of part) put(char)
      continue
    }
    const start = rowStart()
    const end = rowEnd()
    pending = false
    if (part === "\r") {
      at = start
      continue
    }
    if (part === "\b") {
      at = Math.max(start, at - 1)
      continue
    }
    const n = Math.max(1, Number(part.slice(2, -1)) || 1)
    switch (part.at(-1)) {
      case "C":
        at = Math.min(end - 1, at + n)
        break
      case "D":
        at = Math.max(start, at - n)
        break
      case "A":
        if (cols !== undefined && at - n * cols >= 0) {
          at -= n * cols
        } else {
          // Up past the line's first row (tqdm's bars, a multi-line redraw): what follows is written on an
          // earlier line, which this one cannot show. Rather than mix the two lines' text into one that
          // never showed ("bar A 5/50"), this line shows what is written from here on, if anything is.
          if (cells.some((cell) => cell !== undefined)) before = cells.slice()
          cells.length = 0
          at = cols === undefined ? 0 : at % cols
        }
        break
      case "B":
        if (cols !== undefined) at += n * cols
        break
      case "G":
        at = Math.min(end - 1, start + n - 1)
        break
      case "K": {
        const mode = part.slice(2, -1)
        if (mode === "1") blank(start, at + 1)
        else if (mode === "2") {
          // Taken as a move to the row's start too, where spinners write next.
          if (end >= cells.length) cells.length = Math.min(cells.length, start)
          else blank(start, end)
          at = start
        } else if (end >= cells.length) cells.length = Math.min(cells.length, at)
        else blank(at, end)
        break
      }
      case "X":
        blank(at, Math.min(end, at + n))
        break
      case "P":
        if (at < cells.length) {
          cells.splice(at, Math.min(n, end - at))
          if (end - n < cells.length) cells.splice(end - n, 0, ...new Array<undefined>(n))
        }
        break
      case "@":
        if (at < cells.length) {
          cells.splice(at, 0, ...new Array<undefined>(n))
          if (end < cells.length) cells.splice(end, n)
        }
        break
    }
  }
  if (before !== undefined && !cells.some((cell) => cell !== undefined && cell !== "")) {
    cells.splice(0, cells.length, ...before)
  }
  let last = cells.length - 1
  while (last >= 0 && cells[last] === undefined) last--
  let shown = ""
  for (let i = 0; i <= last; i++) shown += cells[i] ?? " "
  return shown
}
