/**
 * A short account of a task's output that explains how it ended, timed out or failed to get
 * ready: its last lines, and before them the lines that look like the cause (a stack trace's
 * message sits above thirty lines of frames; a build's first error above its summary), stderr
 * first, each with its position, within a fixed budget. Pure: property-tested.
 */
import { clipText } from "../domain/clipText.ts"

export interface SummaryLine {
  readonly seq: number
  readonly stream: "stdout" | "stderr" | "terminal"
  readonly text: string
}

export interface Explained {
  /** Lines before the last ones that look like an error, in order; empty when none does. */
  readonly errorLines: ReadonlyArray<SummaryLine>
  /** The last lines, oldest first. */
  readonly lastLines: ReadonlyArray<string>
  /** Each last line's seq, where the lines had one. */
  readonly lastSeqs?: ReadonlyArray<number>
}

/** About 2 KB in all: half for the last lines at most, the rest for what looks like the error. */
export const BUDGET_BYTES = 2048
const LAST_LINES = 8
const LAST_BYTES = 1024
const ERROR_LINES = 8
const LINE_CHARS = 300

/**
 * Words and phrases of failure, as compilers, runtimes, shells, servers and test runners print them:
 * a bundler's "[PARSE_ERROR] Unexpected token", a test's "Expected: 30" and "Received: 25" (Jest,
 * Vitest), pytest's "E   assert 25 == 30", Jest's "● suite › test".
 */
const FAILURE =
  /\b(errors?|exception|fail(ed|ure|ing)?|fatal|panic(ked)?|traceback|abort(ed)?|segmentation fault|core dumped|cannot|can't|could not|couldn't|unable to|not found|no such file|permission denied|refused|denied|eaddrinuse|eacces|enoent|address already in use|already in use|timed out|undefined reference|unhandled|uncaught|killed|out of memory|unexpected token)\b|\bERR!|^\s*E\d{3,}\b|[A-Z]_ERROR\b|^\s*(Expected|Received)( value| length)?:|^E {3,}\S|^\s*● |^\s*not ok \d+\b/i

/**
 * A stack frame, whatever its file is called ("…/error-z4CTM.mjs"): JavaScript's and Java's "at f
 * (file:1:2)", Python's 'File "x.py", line 3', Go's "/x.go:12 +0x1d". The message above the frames
 * says what went wrong; the frames only where.
 */
const FRAME = /^\s+at\s|^at \S.*[(:]\d+(:\d+)?\)?$|^\s*File ".*", line \d+|^\s+\S+\.go:\d+( \+0x[\da-f]+)?$/

/** Where in a file: "vite.config.js:4:1", "src/a.ts(1,14)", "line 3". */
const LOCATION = /\S\.\w+(:\d+|\(\d+,\d+\))|\bline \d+/

/** What says that nothing failed: "Found 0 errors", "0 failed", "no errors". */
const NO_FAILURE = /\b(0|no|zero) (errors?|failures?|failed|problems?)\b|\berrors?: 0\b|\bfailed: 0\b/i

/** A named error or exception: "ValueError: …", "java.lang.NullPointerException". */
const NAMED = /\b[A-Z]\w*(Error|Exception)\b/

/** A caret line under an echoed source line (Node's uncaught throw, compilers): the echo is code, not a message. */
const CARET = /^\s*[\^~]+\s*$/

/**
 * A traceback's first line, and Python's sentence between two chained ones: each says one came, not why;
 * the why is a traceback's last line, a cause of its own.
 */
const TRACEBACK_HEADER =
  /^\s*(?:Traceback \(most recent call last\)|The above exception was the direct cause of the following exception|During handling of the above exception, another exception occurred):\s*$/

export const looksLikeError = (text: string): boolean =>
  (FAILURE.test(text) || NAMED.test(text)) && !NO_FAILURE.test(text) && !FRAME.test(text)

const clip = (text: string) => clipText(text, LINE_CHARS)

const bytes = (text: string) => Buffer.byteLength(text) + 1

/**
 * The last lines of `lines`, as a summary shows them: newest first until the count or the bytes run
 * out, trailing blank lines skipped; `first` is the index of the oldest one shown.
 */
export const lastLinesOf = (
  lines: ReadonlyArray<{ readonly text: string }>
): { readonly lastLines: Array<string>; readonly first: number; readonly bytes: number } => {
  let end = lines.length
  while (end > 0 && lines[end - 1]!.text.trim() === "") end--
  const last: Array<string> = []
  let used = 0
  let first = end
  while (first > 0 && last.length < LAST_LINES) {
    const text = clip(lines[first - 1]!.text)
    if (used + bytes(text) > LAST_BYTES && last.length > 0) break
    used += bytes(text)
    last.unshift(text)
    first--
  }
  return { lastLines: last, first, bytes: used }
}

/** The summary of `lines` (a run's output, oldest first). */
export const explain = (lines: ReadonlyArray<SummaryLine>): Explained => {
  const { bytes: lastBytes, first, lastLines: last } = lastLinesOf(lines)
  let used = lastBytes
  // Before them, what looks like the cause, and where it is when the next line says so (a bundler's
  // "╭─[ vite.config.js:4:1 ]" under its error): stderr first, then the earliest; each text once.
  const candidates = lines.slice(0, first).filter((l, i) =>
    looksLikeError(l.text) && !TRACEBACK_HEADER.test(l.text) && !CARET.test(lines[i + 1]?.text ?? "") ||
    i > 0 && looksLikeError(lines[i - 1]!.text) && LOCATION.test(l.text) && !FRAME.test(l.text)
  )
  const ranked = [
    ...candidates.filter((l) => l.stream === "stderr"),
    ...candidates.filter((l) => l.stream !== "stderr")
  ]
  const seen = new Set<string>()
  const chosen: Array<SummaryLine> = []
  for (const line of ranked) {
    if (chosen.length === ERROR_LINES) break
    const text = clip(line.text.trim())
    if (seen.has(text)) continue
    if (used + bytes(text) + 8 > BUDGET_BYTES) continue
    seen.add(text)
    used += bytes(text) + 8
    // Only what a summary line is: the caller's records may carry more (a time).
    chosen.push({ seq: line.seq, stream: line.stream, text })
  }
  chosen.sort((a, b) => a.seq - b.seq)
  return { errorLines: chosen, lastLines: last, lastSeqs: lines.slice(first, first + last.length).map((l) => l.seq) }
}

/**
 * The one line that best says how a run ended, for a table's cell: the newest that looks like an error
 * (a traceback's or an uncaught error's message comes after "Traceback" or the throwing line), else the
 * last line.
 */
export const headline = ({ errorLines, lastLines }: Explained): string | null =>
  lastLines.findLast(looksLikeError)?.trim() ?? errorLines.at(-1)?.text ?? lastLines.at(-1)?.trim() ?? null
