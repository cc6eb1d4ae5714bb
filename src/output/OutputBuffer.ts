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
 * What it holds is its own: `append` gets a view of a read buffer that the next read reuses
 * (see PipeProcess), and copies what it keeps into slabs that it reuses once the lines in them
 * are dropped. A flood thus allocates nothing after its first few slabs, and leaves V8 no
 * garbage to collect.
 */

import type { StreamId } from "../domain/Task.ts"
import { cleanText } from "./cleanText.ts"
import { afterNthNewline, countLines, countNewlines } from "./newlines.ts"

export interface OutputBufferOptions {
  /** Most lines held; the oldest are dropped (and counted) beyond it. */
  readonly maxLines: number
  /** Most bytes of line content held. */
  readonly maxBytes: number
  /** A line longer than this (in bytes) is cut into pieces of at most this length. */
  readonly maxLineBytes: number
  /** The largest slab of storage (tests make it small to see slabs reused). */
  readonly slabBytes?: number
}

export interface BufferedLine {
  readonly seq: number
  readonly stream: StreamId
  readonly text: string
  readonly time: number
  readonly partial?: true
  /** A piece of a line longer than maxLineBytes, cut there: the next piece goes on with it. */
  readonly cut?: true
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
  /** Rewrites each line's text (cleaning) before it is matched and counted; `line`: which it is. */
  readonly transform?: (text: string, line: { readonly seq: number }) => string
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
  /** Its one line is a piece cut at maxLineBytes. */
  readonly cut?: true
  /** Where `bytes` lives. */
  readonly slab?: Slab
}

/** Storage for the bytes of entries, filled from the front, reused once no entry uses it. */
interface Slab {
  readonly bytes: Buffer
  used: number
  live: number
}

/** An unterminated line of one stream, in storage of its own (at most maxLineBytes, and a "\r"). */
interface Pending {
  bytes: Buffer
  length: number
  time: number
}

/** The largest slab: a few read buffers' worth. The first slabs are small, so a quiet task holds little. */
const SLAB_BYTES = 256 * 1024
const FIRST_SLAB_BYTES = 1024
/** Emptied slabs kept for reuse: a flood cycles through them instead of allocating. */
const SPARE_SLABS = 2
const NO_BYTES = Buffer.alloc(0)

const NEWLINE = 10
const RETURN = 13
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
    stdout: { bytes: NO_BYTES, length: 0, time: 0 },
    stderr: { bytes: NO_BYTES, length: 0, time: 0 }
  }
  /** The slab being filled, and emptied ones to fill next. */
  private slab: Slab | undefined
  private spare: Array<Slab> = []
  private readonly largestSlab: number
  /** Every byte ever appended, for "did it print anything?" */
  receivedBytes = 0

  readonly options: OutputBufferOptions
  /** What the ring holds now: the options' limits, or fewer for a run that ended a while ago (holdAtMost). */
  private limits: { readonly maxLines: number; readonly maxBytes: number }

  constructor(options: OutputBufferOptions) {
    this.options = options
    this.limits = options
    this.largestSlab = options.slabBytes ?? SLAB_BYTES
  }

  /**
   * Keeps only the newest lines, at most these many (and never more than the options'), dropping the
   * oldest as a flood would, and the spare storage: for a task whose run ended, whose log file has it all.
   */
  holdAtMost(maxLines: number, maxBytes: number): void {
    this.limits = {
      maxLines: Math.min(maxLines, this.options.maxLines),
      maxBytes: Math.min(maxBytes, this.options.maxBytes)
    }
    if (this.head < this.entries.length) this.evict()
    this.spare = []
  }

  /** Holds as many lines as the options say again (a new run). */
  holdAll(): void {
    this.limits = this.options
  }

  /**
   * Adds a chunk of raw output, copying what it keeps: `chunk` may be reused once this returns.
   * Bytes after the chunk's last newline wait for the rest of their line.
   */
  append(stream: StreamId, chunk: Buffer, time: number): void {
    this.receivedBytes += chunk.length
    let pos = 0
    const p = this.pending[stream]
    if (p.length > 0) {
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
      else this.pushLines(stream, body, countLines(body), time)
      pos = last + 1
    }
    if (pos < chunk.length) this.addPending(stream, chunk, pos, chunk.length, time)
  }

  /** Ends the unterminated line of a stream, if any (its pipe closed); `cut`, a piece the line goes on after. */
  flush(stream: StreamId, cut = false): void {
    const p = this.pending[stream]
    if (p.length === 0) return
    const length = p.length
    p.length = 0
    this.push(stream, p.bytes.subarray(0, length), 1, p.time, cut)
  }

  /** The next line starts run `run` (a restart): it is marked so, and what is pending ends here. */
  markRun(run: number): void {
    this.flush("stdout")
    this.flush("stderr")
    this.nextRun = run
    this.runStart = this.cursor
  }

  /** The cursor just before the current run's first line (0 for the first run). */
  runStart = 0

  /**
   * Lines readers see: at most maxLines. The line limit hides the oldest lines of the head entry by
   * their seq instead of finding where they end (a flood of short lines would pay a second pass over
   * every chunk for it); they go with their entry, and are never shown.
   */
  private get visibleLines(): number {
    return Math.min(this.heldLines, this.limits.maxLines)
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
    const end = this.cursor
    // A cursor past the end was given for an earlier output of the task (started anew since): read this one from its start.
    const since = (options.since ?? 0) > end ? 0 : Math.max(0, options.since ?? 0)
    const firstHeld = this.nextSeq - this.visibleLines
    const dropped = Math.max(0, firstHeld - (since + 1))
    const from = Math.max(since + 1, firstHeld)

    if (options.since !== undefined && options.tail === undefined) {
      // Paging forward: the oldest lines after the cursor, as many as fit.
      const lines: Array<BufferedLine> = []
      let bytes = 0
      let truncated = false
      // A run's first line left out (by stream or filter): its mark goes to the next line shown.
      let skippedRun: number | undefined
      this.forEachFrom(from, (raw) => {
        const line = matches(raw.stream) ? prepare(raw) : undefined
        if (line === undefined) {
          skippedRun = raw.run ?? skippedRun
          return true
        }
        if (bytes + line.text.length > maxBytes && lines.length > 0) {
          truncated = true
          return false
        }
        bytes += line.text.length
        lines.push(skippedRun !== undefined && line.run === undefined ? { ...line, run: skippedRun } : line)
        skippedRun = undefined
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
        const line = matches(raw.stream) ? prepare(raw) : undefined
        if (line === undefined) {
          // A run's first line left out: the first line shown after it (the last one taken) carries its mark.
          const after = lines[lines.length - 1]
          if (raw.run !== undefined && after !== undefined && after.run === undefined) {
            lines[lines.length - 1] = { ...after, run: raw.run }
          }
          return true
        }
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
    // A new run's first line, still partial, shows its mark already (a viewer may not read it again whole).
    let run = this.nextRun
    for (const stream of ["stdout", "stderr"] as const) {
      const p = this.pending[stream]
      if (p.length === 0 || !matches(stream)) continue
      const text = decode(p.bytes, 0, wholeSequencesEnd(p.bytes, wholeCharsEnd(p.bytes, p.length)))
      const partial: BufferedLine = { seq: this.nextSeq, stream, text, time: p.time, partial: true }
      const line = prepare(run === undefined ? partial : { ...partial, run })
      if (line !== undefined) lines.push(line)
      run = undefined
    }
    return lines
  }

  /** Visits held lines with seq >= from, oldest first, until `visit` returns false. */
  private forEachFrom(from: number, visit: (line: BufferedLine) => boolean): void {
    for (let i = this.findEntry(from); i < this.entries.length; i++) {
      const entry = this.entries[i]!
      let start = i === this.head ? this.headSkipBytes : 0
      let firstSeq = entry.firstSeq + (i === this.head ? this.headSkipLines : 0)
      if (firstSeq < from) {
        // Straight to line `from` (a chunk of `yes` holds 30,000 lines, most of them hidden).
        start = afterNthNewline(entry.bytes, start, entry.bytes.length, from - firstSeq)
        firstSeq = from
      }
      const bounds = lineBounds(entry.bytes, start)
      for (let j = 0; j < bounds.length - 1; j++) {
        if (!visit(toLine(entry, firstSeq + j, bounds[j]!, bounds[j + 1]!))) return
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

  /** Keeps a copy of `data` (a view of a read buffer or of pending storage) as the newest entry. */
  private push(stream: StreamId, data: Buffer, count: number, time: number, cut = false): void {
    const run = this.nextRun
    this.nextRun = undefined
    const slab = this.slabFor(data.length)
    data.copy(slab.bytes, slab.used)
    const bytes = slab.bytes.subarray(slab.used, slab.used + data.length)
    slab.used += data.length
    slab.live++
    const entry: Entry = run === undefined
      ? { stream, time, firstSeq: this.nextSeq, count, bytes, slab }
      : { stream, time, firstSeq: this.nextSeq, count, bytes, run, slab }
    this.entries.push(cut ? { ...entry, cut: true } : entry)
    this.nextSeq += count
    this.heldLines += count
    this.heldBytes += bytes.length
    this.evict()
  }

  /** A slab with room for `length` more bytes: the current one, a spare, or a new one. */
  private slabFor(length: number): Slab {
    const current = this.slab
    if (current !== undefined && current.bytes.length - current.used >= length) return current
    this.slab = undefined
    if (current !== undefined) this.release(current, 0)
    let next = this.spare.pop()
    if (next === undefined || next.bytes.length < length) {
      // Twice the last, up to SLAB_BYTES: a task that prints a line holds a kilobyte, a flood a few slabs.
      const size = Math.max(length, Math.min(this.largestSlab, 2 * (current?.bytes.length ?? FIRST_SLAB_BYTES / 2)))
      next = { bytes: Buffer.allocUnsafeSlow(size), used: 0, live: 0 }
    }
    this.slab = next
    return next
  }

  /** One entry fewer in `slab` (`entries` of them): once none is left and it is not being filled, it is spare. */
  private release(slab: Slab, entries: number): void {
    slab.live -= entries
    if (slab.live > 0 || slab === this.slab) return
    slab.used = 0
    if (this.spare.length < SPARE_SLABS && slab.bytes.length <= this.largestSlab) {
      this.spare.push(slab)
    }
  }

  /**
   * Complete lines. When they alone fill the ring, everything older goes at once, and they are kept
   * whole: the line limit hides the oldest of them (see `visibleLines`), so where they end need not
   * be found. On `yes` that search was the flood's costliest step.
   */
  private pushLines(stream: StreamId, body: Buffer, count: number, time: number): void {
    if (count >= this.limits.maxLines) {
      for (let i = this.head; i < this.entries.length; i++) {
        const slab = this.entries[i]!.slab
        if (slab !== undefined) this.release(slab, 1)
      }
      this.entries = []
      this.head = 0
      this.headSkipLines = 0
      this.headSkipBytes = 0
      this.heldLines = 0
      this.heldBytes = 0
    }
    this.push(stream, body, count, time)
  }

  /** Slow path: a run of lines of which some are longer than `maxLineBytes`. */
  private pushLongLines(stream: StreamId, body: Buffer, time: number): void {
    let start = 0
    while (start < body.length) {
      const nl = body.indexOf(NEWLINE, start)
      // An empty line is a line (nothing pending makes it one).
      if (nl === start) this.pushLines(stream, body.subarray(start, nl + 1), 1, time)
      else {
        this.addPending(stream, body, start, nl, time)
        this.flush(stream)
      }
      start = nl + 1
    }
  }

  /**
   * Holds bytes of an unterminated line, emitting a piece each time it passes `maxLineBytes`. A piece
   * is cut only once the byte after it has come, so where it is cut does not depend on how the line
   * was chunked.
   */
  private addPending(stream: StreamId, chunk: Buffer, from: number, to: number, time: number): void {
    const p = this.pending[stream]
    // A "\r" that may be the first half of the line's "\r\n" does not count: a line of exactly
    // maxLineBytes ending "\r\n" is one line, not a piece and an empty one.
    const max = this.options.maxLineBytes
    const limit = max + ((to > from ? chunk[to - 1] : p.bytes[p.length - 1]) === RETURN ? 1 : 0)
    if (p.length + (to - from) > limit && this.collapse(p, chunk, from, to, time, limit)) return
    let start = from
    while (p.length + (to - start) > limit) {
      const end = cutPoint((i) => i < p.length ? p.bytes[i]! : chunk[start + i - p.length]!, max)
      if (end <= p.length) {
        // Cut inside what was pending: it goes out, the rest of it waits at the front.
        this.push(stream, p.bytes.subarray(0, end), 1, p.time, true)
        p.bytes.copyWithin(0, end, p.length)
        p.length -= end
        continue
      }
      const chunkEnd = start + end - p.length
      if (p.length === 0) {
        this.push(stream, chunk.subarray(start, chunkEnd), 1, time, true)
      } else {
        this.hold(p, chunk, start, chunkEnd, time)
        this.flush(stream, true)
      }
      start = chunkEnd
    }
    if (start < to) this.hold(p, chunk, start, to, time)
  }

  /**
   * A line redrawn in place (a progress bar's "\r", as tqdm, curl and pip write it on pipes) that outgrows
   * maxLineBytes is held as what it shows up to its last redraw, then that redraw: cut into pieces, each
   * would show a state the bar passed through, as a line of its own. The log file keeps every byte. False
   * where that is still too long (a long line, redrawn once): it is cut as any other.
   */
  private collapse(p: Pending, chunk: Buffer, from: number, to: number, time: number, limit: number): boolean {
    // The last "\r" before more text (one at the end may be the first half of "\r\n"), looked for before
    // anything is copied: a long line without one (a flood with no newline) costs a search per chunk.
    const inChunk = to - from >= 2 ? lastRedraw(chunk, to - 2) : -1
    const at = inChunk >= from
      ? p.length + inChunk - from
      : p.length > 0
      ? lastRedraw(p.bytes.subarray(0, to > from ? p.length : p.length - 1))
      : -1
    // What it shows now is written after that "\r": too long for a line already, it is cut as any other.
    if (at <= 0 || p.length + (to - from) - at > limit) return false
    const line = Buffer.concat([p.bytes.subarray(0, p.length), chunk.subarray(from, to)])
    const shown = Buffer.from(cleanText(line.toString("utf8", 0, at)))
    if (shown.length + (line.length - at) > limit) return false
    p.length = 0
    this.hold(p, Buffer.concat([shown, line.subarray(at)]), 0, shown.length + line.length - at, time)
    return true
  }

  /** Copies bytes of an unterminated line after those pending (at most maxLineBytes and a "\r" in all). */
  private hold(p: Pending, chunk: Buffer, from: number, to: number, time: number): void {
    const length = p.length + (to - from)
    if (p.bytes.length < length) {
      const bytes = Buffer.allocUnsafeSlow(
        Math.min(this.options.maxLineBytes + 1, Math.max(length, 2 * p.bytes.length, 64))
      )
      p.bytes.copy(bytes, 0, 0, p.length)
      p.bytes = bytes
    }
    chunk.copy(p.bytes, p.length, from, to)
    p.length = length
    p.time = time
  }

  /**
   * Whole entries go when the lines after them fill the ring (the line limit hides the rest, see
   * `visibleLines`) or the bytes overflow; then, for the bytes only, the oldest lines of the head
   * entry. The newest line always stays.
   */
  private evict(): void {
    const { maxBytes, maxLines } = this.limits
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
        if (entry.slab !== undefined) this.release(entry.slab, 1)
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

/** How far back an unfinished escape sequence is looked for: CSI sequences (colours, moves) are short. */
const ESCAPE_LOOKBACK = 64
const ESC = 0x1b

/**
 * Where a piece of a long line ends, given its bytes (`at`, with at least `max + 1` of them): at `max`,
 * or before a character that would be split there, or before an escape sequence that would (its halves
 * would each show as text once the pieces are cleaned apart: "[31" and "m").
 */
const cutPoint = (at: (i: number) => number, max: number): number => {
  let end = max
  // Before the first byte of a character whose continuation bytes (at most 3) come after the cut.
  let back = end
  while (back > 0 && back > end - 3 && (at(back) & 0xc0) === 0x80) back--
  if (back > 0 && (at(back) & 0xc0) !== 0x80) end = back
  // Back to the first byte of the last sequence not ended before the cut: moving the cut may leave
  // one before it unended too (an OSC whose "ESC \" terminator was cut in two).
  for (let i = end - 1; i > 0 && i >= max - ESCAPE_LOOKBACK; i--) {
    if (at(i) !== ESC) continue
    if (escapeEndsBefore(at, i, end)) break
    end = i
  }
  return end
}

/** Whether the escape sequence starting at `start` ends before `end`: CSI by its final byte, OSC and DCS by BEL or ESC \, others (ESC ( B) by theirs. */
const escapeEndsBefore = (at: (i: number) => number, start: number, end: number): boolean => {
  if (start + 1 >= end) return false
  const kind = at(start + 1)
  let i = start + 2
  if (kind === 0x5b) {
    // CSI: parameter and intermediate bytes, then a final byte.
    while (i < end && at(i) >= 0x20 && at(i) <= 0x3f) i++
    return i < end
  }
  if (kind === 0x5d || kind === 0x50 || kind === 0x5f || kind === 0x5e) {
    // OSC, DCS, APC, PM: a string up to BEL or ESC \.
    for (; i < end; i++) {
      if (at(i) === 0x07 || (at(i) === ESC && i + 1 < end && at(i + 1) === 0x5c)) return true
    }
    return false
  }
  // ESC, intermediate bytes, a final byte.
  i = start + 1
  while (i < end && at(i) >= 0x20 && at(i) <= 0x2f) i++
  return i < end
}

/** Applies `transform` then `filter`; undefined for a line the filter rejects. */
const preparer = (options: ReadOptions) => {
  const { filter, transform } = options
  if (transform === undefined && filter === undefined) return (line: BufferedLine) => line
  return (line: BufferedLine): BufferedLine | undefined => {
    const text = transform === undefined ? line.text : transform(line.text, line)
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
  const text = decode(entry.bytes, start, end, entry.cut)
  const line: BufferedLine = entry.cut === true
    ? { seq, stream: entry.stream, text, time: entry.time, cut: true }
    : { seq, stream: entry.stream, text, time: entry.time }
  return entry.run !== undefined && seq === entry.firstSeq ? { ...line, run: entry.run } : line
}

/**
 * `end`, or before a character that a chunk cut short there (its other bytes come with the next chunk):
 * a partial line shows "colour red", then "colour red 👍", never "colour red \uFFFD".
 */
const wholeCharsEnd = (bytes: Buffer, end: number): number => {
  for (let i = end - 1; i >= Math.max(0, end - 3); i--) {
    const byte = bytes[i]!
    if ((byte & 0xc0) === 0x80) continue
    // Only a byte that can begin a character may wait for the rest of it.
    const length = byte >= 0xf5 ? 1 : byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : byte >= 0xc2 ? 2 : 1
    return end - i < length ? i : end
  }
  return end
}

/**
 * Where a partial line's text may end: before an escape sequence whose rest has not come yet ("Password\x1b[3",
 * then "1m: "), which would otherwise show its half as text until then.
 */
const wholeSequencesEnd = (bytes: Buffer, end: number): number => {
  const at = (i: number) => bytes[i]!
  for (let i = end - 1; i >= 0 && i >= end - ESCAPE_LOOKBACK; i--) {
    if (at(i) === ESC) return escapeEndsBefore(at, i, end) ? end : i
  }
  return end
}

/**
 * Where a line is last redrawn from its first column: a "\r" (tqdm, curl, pip), or a move to the first
 * column, ESC [ G or ESC [ 1 G (npm's spinner, and most that erase with ESC [ K after it).
 */
const lastRedraw = (bytes: Buffer, before = bytes.length - 1): number =>
  Math.max(
    bytes.lastIndexOf(RETURN, before),
    bytes.lastIndexOf(COLUMN_ONE, before),
    bytes.lastIndexOf(COLUMN_1, before)
  )
const COLUMN_ONE = Buffer.from("\x1b[G")
const COLUMN_1 = Buffer.from("\x1b[1G")

/** UTF-8 text of a line without its "\n" (or "\r\n"); invalid bytes become U+FFFD. */
const decode = (bytes: Buffer, start: number, end: number, cut = false): string => {
  if (end > start && bytes[end - 1] === NEWLINE) end--
  // A \r at the end is the line's end (\r\n, its \n stored or not); at the end of a cut piece, the line's own.
  if (!cut && end > start && bytes[end - 1] === 13) end--
  return bytes.toString("utf8", start, end)
}
