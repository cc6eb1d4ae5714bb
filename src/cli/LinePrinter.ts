/**
 * Turns read_output's pages into what a terminal or a pipe shows: each line once, in order. A line
 * still waiting for its newline (a prompt) comes in every page until it ends: it is shown as it grows
 * and finished in place, or shown again whole when another stream's line came in between; redrawn (a
 * progress bar's next state), it is drawn over where a terminal shows it on one row, else shown again.
 */
import { columnsOf } from "../domain/columns.ts"
import type { OutputLine } from "./answers.ts"

export type StreamName = "stdout" | "stderr" | "terminal"

/** A line with every field read_output leaves out filled in. */
export interface FullLine {
  readonly seq: number
  readonly stream: StreamName
  readonly text: string
  readonly partial: boolean
  readonly cut: boolean
  readonly run?: number
}

/** Fills in what one answer leaves out: each line's seq is the one before's + 1 (a partial's is repeated). */
export const fullLines = (lines: ReadonlyArray<OutputLine>): Array<FullLine> => {
  let next = 0
  return lines.map((line) => {
    const seq = line.seq ?? next
    next = line.partial === true ? seq : seq + 1
    return {
      seq,
      stream: line.stream ?? "stdout",
      text: line.text,
      partial: line.partial === true,
      cut: line.cut === true,
      ...(line.run !== undefined && { run: line.run })
    }
  })
}

export interface LineFormat {
  /** A piece of a line's text; `start` is true for the piece that begins the line (to mark stderr). */
  readonly piece: (stream: StreamName, text: string, start: boolean) => string
  /** Shown before the first line of run N (after a restart); nothing when absent. */
  readonly run?: (run: number) => string
  /**
   * The terminal's width, where the text goes to one: a partial line drawn again with other text (a
   * progress bar) is drawn over in place, as the program drew it, where it took less than one row.
   */
  readonly columns?: number | undefined
}

// eslint-disable-next-line no-control-regex -- a piece's own colours, which take no column
const COLOURS = /\u001b\[[0-9;]*m/g

/** Back to the start of the row, and the row cleared: what draws a line over in place. */
export const REDRAW = "\r\x1b[K"

export class LinePrinter {
  /** The partial line shown without its newline. */
  private open: { readonly stream: StreamName; readonly text: string; readonly seq: number } | undefined
  /** The newest complete line shown: an answer that repeats one does not show it twice. */
  private shown = 0
  /** The stream of the newest line shown when it was cut at the line limit: the next line goes on with it. */
  private cut: StreamName | undefined

  private readonly format: LineFormat

  constructor(format: LineFormat) {
    this.format = format
  }

  /** The text that shows one answer's lines after everything shown before. */
  page(lines: ReadonlyArray<OutputLine>): string {
    let out = ""
    for (const line of fullLines(lines)) {
      if (!line.partial && line.seq <= this.shown) continue
      const open = this.open
      const goesOn = this.cut === line.stream
      if (this.cut !== undefined && !goesOn) out += "\n"
      this.cut = undefined
      if (open !== undefined && open.stream === line.stream && line.text.startsWith(open.text)) {
        out += this.format.piece(line.stream, line.text.slice(open.text.length), false)
      } else {
        if (open !== undefined) out += this.drawnOver(open, line) ? REDRAW : "\n"
        if (line.run !== undefined && this.format.run !== undefined) out += this.format.run(line.run)
        out += this.format.piece(line.stream, line.text, !goesOn)
      }
      this.open = undefined
      if (line.partial) {
        this.open = { stream: line.stream, text: line.text, seq: line.seq }
      } else {
        if (line.cut) this.cut = line.stream
        else out += "\n"
        this.shown = line.seq
      }
    }
    return out.replace(/\uFFFD+$/, (held) => {
      // A character cut in two at the end of a partial line: shown once its other bytes come.
      if (this.open !== undefined) this.open = { ...this.open, text: this.open.text.slice(0, -held.length) }
      return ""
    })
  }

  /** Takes `text` as the partial line already on the screen (attach draws the screen first). */
  shownPartial(line: OutputLine | undefined): void {
    this.open = line?.partial === true
      ? { stream: line.stream ?? "stdout", text: line.text, seq: line.seq ?? -1 }
      : undefined
  }

  /** Whether `line` is the open partial line redrawn, and a terminal shows that on one row to draw over. */
  private drawnOver(open: NonNullable<LinePrinter["open"]>, line: FullLine): boolean {
    const columns = this.format.columns
    return columns !== undefined && line.run === undefined && open.seq === line.seq &&
      open.stream === line.stream &&
      columnsOf(this.format.piece(open.stream, open.text, true).replace(COLOURS, "")) < columns
  }

  /** Starts over: the task's output was replaced (a new start of a finished task numbers from 1). */
  reset(): void {
    this.shown = 0
  }

  /** What ends the output: the newline a partial line still lacks. */
  finish(): string {
    const out = this.open === undefined && this.cut === undefined ? "" : "\n"
    this.open = undefined
    this.cut = undefined
    return out
  }
}
