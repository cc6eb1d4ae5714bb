/**
 * A task's recent output: a bounded ring of lines from stdout and stderr, interleaved in
 * arrival order, each numbered (`seq`) so readers can page with a cursor.
 *
 * Pure and synchronous (no effects, no timers), so it is property-tested on its own.
 *
 * Built for floods: lines are not decoded or even located when they arrive. A chunk is
 * kept as the byte range of its complete lines plus their count; lines are found and
 * decoded only when read. Appending a 64 KiB chunk of `yes` costs one newline count,
 * not 32,768 string allocations, and the ring drops whole chunks at a time.
 *
 * What it holds are views of the pipe's read buffers, until `compact` moves them into storage
 * of its own (see there for why).
 */

import { countAndTail, countNewlines } from "./newlines.ts"

export type StreamId = "stdout" | "stderr"

export interface OutputBufferOptions {
  /** Most lines held; the oldest are dropped (and counted) beyond it. */
  readonly maxLines: number
  /** Most bytes of line content held. */
  readonly maxBytes: number
  /** A line longer than this (in bytes) is cut into pieces of this length. */
  readonly maxLineBytes: number
}

export interface BufferedLine {
  readonly seq: number
  readonly stream: StreamId
  readonly text: string
  readonly time: number
  readonly partial?: true
  /** Set on the first line of each run after the first: the run's number. */
  readonly run?: number
}

export interface ReadOptions {
  readonly stream?: StreamId | "all"
  /** The last N matching lines. */
  readonly tail?: number
  /** Only lines with `seq` greater than this cursor. */
  readonly since?: number
  /** Stop adding lines once their text reaches this many bytes. */
  readonly maxBytes?: number
  /** Rewrites each line's text (cleaning) before it is matched and counted. */
  readonly transform?: (text: string) => string
  /** Only lines whose (transformed) text passes. */
  readonly filter?: (text: string) => boolean
}

export interface ReadResult {
  readonly lines: ReadonlyArray<BufferedLine>
  /** Pass as `since` to read what comes after this answer. */
  readonly nextCursor: number
  /** Lines after `since` (or in all, without it) that the ring dropped before they were read. */
  readonly dropped: number
  /** Some lines that matched were left out to respect `maxBytes`. */
  readonly truncated: boolean
}

export interface BufferStats {
  readonly lines: number
  readonly bytes: number
  readonly droppedLines: number
  readonly totalLines: number
}

/** A run of complete lines of one stream that arrived together. */
interface Entry {
  readonly stream: StreamId
  readonly time: number
  readonly firstSeq: number
  readonly count: number
  /** Each line ends with "\n", except that the last may end at the end of the bytes (a cut piece). */
  readonly bytes: Buffer
  /** Its first line is the first of this run. */
  readonly run?: number
}

interface Pending {
  parts: Array<Buffer>
  length: number
  time: number
}

const NEWLINE = 10
const DROPPED: Entry = { stream: "stdout", time: 0, firstSeq: 0, count: 0, bytes: Buffer.alloc(0) }
export const DEFAULT_TAIL = 100

export class OutputBuffer {
  private entries: Array<Entry> = []
  private head = 0
  /** Lines and bytes of `entries[head]` already dropped. */
  private headSkipLines = 0
  private headSkipBytes = 0
  private heldLines = 0
  private heldBytes = 0
  private nextSeq = 1
  private nextRun: number | undefined
  private readonly pending: Record<StreamId, Pending> = {
    stdout: { parts: [], length: 0, time: 0 },
    stderr: { parts: [], length: 0, time: 0 }
  }
  /** Where `compact` keeps the held lines, reused by the next call. */
  private storage: Buffer | undefined
  private appendedSinceCompact = 0
  /** Every byte ever appended, for "did it print anything?" */
  receivedBytes = 0

  readonly options: OutputBufferOptions

  constructor(options: OutputBufferOptions) {
    this.options = options
  }

  /** Adds a chunk of raw output. Bytes after the chunk's last newline wait for the rest of their line. */
  append(stream: StreamId, chunk: Buffer, time: number): void {
    this.appendedSinceCompact += chunk.length
    this.receivedBytes += chunk.length
    let pos = 0
    if (this.pending[stream].length > 0) {
      const nl = chunk.indexOf(NEWLINE)
      if (nl === -1) {
        this.addPending(stream, chunk, 0, chunk.length, time)
        return
      }
      this.addPending(stream, chunk, 0, nl, time)
      this.flush(stream)
      pos = nl + 1
    }
    const last = chunk.lastIndexOf(NEWLINE)
    if (last >= pos) {
      const body = chunk.subarray(pos, last + 1)
      if (mayHoldLongLine(body, this.options.maxLineBytes)) this.pushLongLines(stream, body, time)
      else this.pushLines(stream, body, countAndTail(body, this.options.maxLines), time)
      pos = last + 1
    }
    if (pos < chunk.length) this.addPending(stream, chunk, pos, chunk.length, time)
  }

  /** Ends the unterminated line of a stream, if any (its pipe closed). */
  flush(stream: StreamId): void {
    const p = this.pending[stream]
    if (p.length === 0) return
    const bytes = p.parts.length === 1 ? p.parts[0]! : Buffer.concat(p.parts, p.length)
    p.parts = []
    p.length = 0
    this.push(stream, bytes, 1, p.time)
  }

  /** The next line starts run `run` (a restart): it is marked so, and what is pending ends here. */
  markRun(run: number): void {
    this.flush("stdout")
    this.flush("stderr")
    this.nextRun = run
  }

  /**
   * Copies what the ring holds out of the read buffers it came in, into storage of its own
   * that the next call reuses. Meant to run before each young-generation collection while
   * output floods: read buffers the ring still held would survive it, those that survive two
   * are promoted, and promoted garbage is freed only by full collections — which V8 then
   * runs every few milliseconds, on the cores the task needs. Reads answer the same after.
   */
  compact(): void {
    this.appendedSinceCompact = 0
    const needed = this.heldBytes
    let storage = this.storage
    if (storage === undefined || storage.length < needed) {
      // Grows to what a flood fills (maxBytes), then stays.
      const grown = Math.min(Math.max(needed, 2 * (storage?.length ?? 0)), Math.max(needed, this.options.maxBytes))
      storage = Buffer.allocUnsafeSlow(grown)
    }
    // Entries already in this storage come first, in order, and each moves toward the front
    // (Buffer#copy is a memmove), so none is overwritten before it has moved.
    const moved: Array<Entry> = []
    let at = 0
    for (let i = this.head; i < this.entries.length; i++) {
      const entry = this.entries[i]!
      const skipBytes = i === this.head ? this.headSkipBytes : 0
      const skipLines = i === this.head ? this.headSkipLines : 0
      const length = entry.bytes.length - skipBytes
      entry.bytes.copy(storage, at, skipBytes)
      const bytes = storage.subarray(at, at + length)
      const firstSeq = entry.firstSeq + skipLines
      const count = entry.count - skipLines
      moved.push(
        entry.run === undefined || skipLines > 0
          ? { stream: entry.stream, time: entry.time, firstSeq, count, bytes }
          : { stream: entry.stream, time: entry.time, firstSeq, count, bytes, run: entry.run }
      )
      at += length
    }
    this.storage = storage
    this.entries = moved
    this.head = 0
    this.headSkipLines = 0
    this.headSkipBytes = 0
    // An unfinished line is small (under maxLineBytes): a copy of its own.
    for (const p of [this.pending.stdout, this.pending.stderr]) {
      if (p.length > 0) p.parts = [Buffer.concat(p.parts, p.length)]
    }
  }

  /** `compact`, when enough arrived since the last one that the copy is cheap next to it. */
  compactIfChurning(): void {
    if (this.appendedSinceCompact > 0 && this.appendedSinceCompact * 2 >= this.heldBytes) this.compact()
  }

  /**
   * Lines readers see: at most maxLines. The line limit hides the oldest lines of the head entry by
   * their seq instead of finding where they end (a flood of short lines would pay a second pass over
   * every chunk for it); they go with their entry, and are never shown.
   */
  private get visibleLines(): number {
    return Math.min(this.heldLines, this.options.maxLines)
  }

  stats(): BufferStats {
    const totalLines = this.nextSeq - 1
    const lines = this.visibleLines
    return { lines, bytes: this.heldBytes, droppedLines: totalLines - lines, totalLines }
  }

  /** The cursor after the newest complete line. */
  get cursor(): number {
    return this.nextSeq - 1
  }

  read(options: ReadOptions = {}): ReadResult {
    const want = options.stream ?? "all"
    const matches = (s: StreamId) => want === "all" || want === s
    const prepare = preparer(options)
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY
    const since = Math.max(0, options.since ?? 0)
    const firstHeld = this.nextSeq - this.visibleLines
    const dropped = Math.max(0, firstHeld - (since + 1))
    const from = Math.max(since + 1, firstHeld)
    const end = this.cursor

    if (options.since !== undefined && options.tail === undefined) {
      // Paging forward: the oldest lines after the cursor, as many as fit.
      const lines: Array<BufferedLine> = []
      let bytes = 0
      let truncated = false
      this.forEachFrom(from, (raw) => {
        if (!matches(raw.stream)) return true
        const line = prepare(raw)
        if (line === undefined) return true
        if (bytes + line.text.length > maxBytes && lines.length > 0) {
          truncated = true
          return false
        }
        bytes += line.text.length
        lines.push(line)
        return true
      })
      const nextCursor = truncated ? lines[lines.length - 1]!.seq : Math.max(end, since)
      return { lines: this.withPartials(lines, matches, prepare, truncated), nextCursor, dropped, truncated }
    }

    // Tail: the newest lines, newest first while collecting, then put back in order.
    const tail = options.tail ?? DEFAULT_TAIL
    const lines: Array<BufferedLine> = []
    let bytes = 0
    let truncated = false
    if (tail > 0) {
      this.forEachBackTo(from, (raw) => {
        if (!matches(raw.stream)) return true
        const line = prepare(raw)
        if (line === undefined) return true
        if (bytes + line.text.length > maxBytes && lines.length > 0) {
          truncated = true
          return false
        }
        bytes += line.text.length
        lines.push(line)
        return lines.length < tail
      })
    }
    lines.reverse()
    return {
      lines: this.withPartials(lines, matches, prepare, truncated),
      nextCursor: Math.max(end, since),
      dropped,
      truncated
    }
  }

  private withPartials(
    lines: Array<BufferedLine>,
    matches: (s: StreamId) => boolean,
    prepare: (line: BufferedLine) => BufferedLine | undefined,
    truncated: boolean
  ): ReadonlyArray<BufferedLine> {
    if (truncated) return lines
    for (const stream of ["stdout", "stderr"] as const) {
      const p = this.pending[stream]
      if (p.length === 0 || !matches(stream)) continue
      const text = decode(Buffer.concat(p.parts, p.length), 0, p.length)
      const line = prepare({ seq: this.nextSeq, stream, text, time: p.time, partial: true })
      if (line !== undefined) lines.push(line)
    }
    return lines
  }

  /** Visits held lines with seq >= from, oldest first, until `visit` returns false. */
  private forEachFrom(from: number, visit: (line: BufferedLine) => boolean): void {
    for (let i = this.findEntry(from); i < this.entries.length; i++) {
      const entry = this.entries[i]!
      const bounds = lineBounds(entry.bytes, i === this.head ? this.headSkipBytes : 0)
      const firstSeq = entry.firstSeq + (i === this.head ? this.headSkipLines : 0)
      for (let j = 0; j < bounds.length - 1; j++) {
        const seq = firstSeq + j
        if (seq < from) continue
        if (!visit(toLine(entry, seq, bounds[j]!, bounds[j + 1]!))) return
      }
    }
  }

  /**
   * Visits held lines with seq >= from, newest first, until `visit` returns false. Walks back from
   * the end of each entry: a tail of 20 finds 20 lines, not every line of the newest chunk.
   */
  private forEachBackTo(from: number, visit: (line: BufferedLine) => boolean): void {
    for (let i = this.entries.length - 1; i >= this.head; i--) {
      const entry = this.entries[i]!
      const lastSeq = entry.firstSeq + entry.count - 1
      if (lastSeq < from) return
      const skipBytes = i === this.head ? this.headSkipBytes : 0
      const bytes = entry.bytes
      let end = bytes.length
      for (let seq = lastSeq; end > skipBytes; seq--) {
        if (seq < from) return
        // The newline before this line's own (a cut piece has none of its own). A negative offset
        // would count from the end.
        const searchFrom = bytes[end - 1] === NEWLINE ? end - 2 : end - 1
        const nl = searchFrom < 0 ? -1 : bytes.lastIndexOf(NEWLINE, searchFrom)
        const start = nl < skipBytes ? skipBytes : nl + 1
        if (!visit(toLine(entry, seq, start, end))) return
        end = start
      }
    }
  }

  /** Index of the held entry that contains `seq` (or the first after it). */
  private findEntry(seq: number): number {
    let lo = this.head
    let hi = this.entries.length
    while (lo < hi) {
      const mid = (lo + hi) >>> 1
      const e = this.entries[mid]!
      if (e.firstSeq + e.count - 1 < seq) lo = mid + 1
      else hi = mid
    }
    return lo
  }

  private push(stream: StreamId, bytes: Buffer, count: number, time: number): void {
    const run = this.nextRun
    this.nextRun = undefined
    this.entries.push(
      run === undefined
        ? { stream, time, firstSeq: this.nextSeq, count, bytes }
        : { stream, time, firstSeq: this.nextSeq, count, bytes, run }
    )
    this.nextSeq += count
    this.heldLines += count
    this.heldBytes += bytes.length
    this.evict()
  }

  /** Complete lines; when they alone overflow the ring, everything older and their own head go at once. */
  private pushLines(
    stream: StreamId,
    body: Buffer,
    lines: { readonly count: number; readonly start: number },
    time: number
  ): void {
    const { maxLines } = this.options
    if (lines.count <= maxLines) return this.push(stream, body, lines.count, time)
    this.entries = []
    this.head = 0
    this.headSkipLines = 0
    this.headSkipBytes = 0
    this.heldLines = 0
    this.heldBytes = 0
    this.nextRun = undefined // the run's first line is among the dropped
    this.nextSeq += lines.count - maxLines
    this.push(stream, body.subarray(lines.start), maxLines, time)
  }

  /** Slow path: a run of lines of which some are longer than `maxLineBytes`. */
  private pushLongLines(stream: StreamId, body: Buffer, time: number): void {
    let start = 0
    while (start < body.length) {
      const nl = body.indexOf(NEWLINE, start)
      this.addPending(stream, body, start, nl, time)
      this.flush(stream)
      start = nl + 1
    }
  }

  /** Holds bytes of an unterminated line, emitting a piece each time it reaches `maxLineBytes`. */
  private addPending(stream: StreamId, chunk: Buffer, from: number, to: number, time: number): void {
    const p = this.pending[stream]
    const max = this.options.maxLineBytes
    let start = from
    while (p.length + (to - start) >= max) {
      let end = start + (max - p.length)
      // Cut before a UTF-8 continuation byte so a character is not split across pieces.
      let back = end
      while (back > start && back > end - 3 && (chunk[back]! & 0xc0) === 0x80) back--
      if (back > start && (chunk[back]! & 0xc0) !== 0x80) end = back
      if (p.length === 0) {
        this.push(stream, chunk.subarray(start, end), 1, time)
      } else {
        p.parts.push(chunk.subarray(start, end))
        p.length += end - start
        p.time = time
        this.flush(stream)
      }
      start = end
    }
    if (start < to) {
      // A view, not a copy: it keeps its chunk (at most 64 KiB) alive only until the line ends.
      p.parts.push(chunk.subarray(start, to))
      p.length += to - start
      p.time = time
    }
  }

  /**
   * Whole entries go when the lines after them fill the ring (the line limit hides the rest, see
   * `visibleLines`) or the bytes overflow; then, for the bytes only, the oldest lines of the head
   * entry. The newest line always stays.
   */
  private evict(): void {
    const { maxBytes, maxLines } = this.options
    for (;;) {
      const entry = this.entries[this.head]!
      const left = entry.count - this.headSkipLines
      const entryBytes = entry.bytes.length - this.headSkipBytes
      const newest = this.head === this.entries.length - 1
      const excessBytes = this.heldBytes - maxBytes
      const whole = this.heldLines - left >= maxLines ||
        (excessBytes > 0 && !newest && (left === 1 || excessBytes >= entryBytes))
      if (whole) {
        this.heldLines -= left
        this.heldBytes -= entryBytes
        // Release the bytes now, not at the next compaction.
        this.entries[this.head] = DROPPED
        this.head++
        this.headSkipLines = 0
        this.headSkipBytes = 0
        continue
      }
      if (excessBytes <= 0 || left === 1) break
      // Drop the first lines of the head entry (it has several, each ending in "\n"), keeping its last.
      const nl = entry.bytes.indexOf(NEWLINE, this.headSkipBytes + excessBytes - 1)
      const pos = newest ? Math.min(nl + 1, entry.bytes.lastIndexOf(NEWLINE, entry.bytes.length - 2) + 1) : nl + 1
      const dropLines = countNewlines(entry.bytes, this.headSkipBytes, pos)
      this.heldLines -= dropLines
      this.heldBytes -= pos - this.headSkipBytes
      this.headSkipLines += dropLines
      this.headSkipBytes = pos
      if (newest) break
    }
    if (this.head > 1024 && this.head * 2 > this.entries.length) {
      this.entries = this.entries.slice(this.head)
      this.head = 0
    }
  }
}

/** Applies `transform` then `filter`; undefined for a line the filter rejects. */
const preparer = (options: ReadOptions) => {
  const { filter, transform } = options
  if (transform === undefined && filter === undefined) return (line: BufferedLine) => line
  return (line: BufferedLine): BufferedLine | undefined => {
    const text = transform === undefined ? line.text : transform(line.text)
    if (filter !== undefined && !filter(text)) return undefined
    return text === line.text ? line : { ...line, text }
  }
}

/**
 * False when every line of `body` is at most `max` bytes. Such a line would cover a whole
 * block of max/2 bytes, so probing one newline per block (16 probes for 64 KiB) suffices.
 */
const mayHoldLongLine = (body: Buffer, max: number): boolean => {
  const block = Math.max(1, max >> 1)
  for (let start = 0; start + block <= body.length; start += block) {
    const nl = body.indexOf(NEWLINE, start)
    if (nl === -1 || nl >= start + block) return true
  }
  return false
}

/** Start offsets of each line from `from`, plus the end offset. */
const lineBounds = (bytes: Buffer, from: number): Array<number> => {
  const bounds = [from]
  let pos = from
  while (pos < bytes.length) {
    const nl = bytes.indexOf(NEWLINE, pos)
    pos = nl === -1 ? bytes.length : nl + 1
    bounds.push(pos)
  }
  return bounds
}

const toLine = (entry: Entry, seq: number, start: number, end: number): BufferedLine => {
  const line = { seq, stream: entry.stream, text: decode(entry.bytes, start, end), time: entry.time }
  return entry.run !== undefined && seq === entry.firstSeq ? { ...line, run: entry.run } : line
}

/** UTF-8 text of a line without its "\n" (or "\r\n"); invalid bytes become U+FFFD. */
const decode = (bytes: Buffer, start: number, end: number): string => {
  if (end > start && bytes[end - 1] === NEWLINE) end--
  if (end > start && bytes[end - 1] === 13) end--
  return bytes.toString("utf8", start, end)
}
