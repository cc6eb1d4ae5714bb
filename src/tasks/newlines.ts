/**
 * Counting and finding newlines in bytes, four bytes at a time (SWAR): the hot loop of a
 * task that floods its output, about 3.5x faster than a byte-by-byte loop. Where WebAssembly
 * SIMD runs (`newlinesSimd.ts`), a chunk is counted sixteen bytes a step instead.
 */

import { simdCounter } from "./newlinesSimd.ts"

const NL = 10
const NL4 = 0x0a0a0a0a
const LOW7 = 0x7f7f7f7f

/** Bit 7 of each byte of the result is set where that byte of `word` is a newline. */
const newlineBits = (word: number): number => {
  const x = word ^ NL4
  return ~(((x & LOW7) + LOW7) | x | LOW7)
}

/** Number of set high bits (at most four, one per byte). */
const countBits = (bits: number): number => Math.imul(bits >>> 7, 0x01010101) >>> 24

/** Words of `bytes` from `from` to `to`: [first aligned index, number of words]. */
const alignedWords = (bytes: Uint8Array, from: number, to: number): [number, number] => {
  const start = from + ((4 - ((bytes.byteOffset + from) & 3)) & 3)
  return start >= to ? [to, 0] : [start, (to - start) >> 2]
}

/** 0x01 in each byte of the result where that byte of `word` is a newline. */
const newlineLanes = (word: number): number => (newlineBits(word) >>> 7) & 0x01010101

/** The sum of the four byte lanes of `lanes`. */
const sumLanes = (lanes: number): number =>
  (lanes & 0xff) + ((lanes >>> 8) & 0xff) + ((lanes >>> 16) & 0xff) + (lanes >>> 24)

/** Words summed into the byte lanes of one number before a lane could overflow. */
const BLOCK_WORDS = 255

/** How many newlines bytes[from, to) holds. */
export const countNewlines = (bytes: Uint8Array, from: number, to: number): number => {
  let count = 0
  const [start, words] = alignedWords(bytes, from, to)
  for (let i = from; i < start; i++) if (bytes[i] === NL) count++
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + start, words)
    // Per-lane counts summed once a block, not per word: a third faster on `yes`.
    for (let w = 0; w < words;) {
      const stop = Math.min(words, w + BLOCK_WORDS)
      let lanes = 0
      for (; w < stop; w++) lanes += newlineLanes(view[w]!)
      count += sumLanes(lanes)
    }
  }
  for (let i = start + words * 4; i < to; i++) if (bytes[i] === NL) count++
  return count
}

/** The offset just after the `n`th newline at or after `from` (n >= 1), or `to` if there are fewer. */
export const afterNthNewline = (bytes: Uint8Array, from: number, to: number, n: number): number => {
  let seen = 0
  const [start, words] = alignedWords(bytes, from, to)
  for (let i = from; i < start; i++) if (bytes[i] === NL && ++seen === n) return i + 1
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + start, words)
    for (let w = 0; w < words; w++) {
      const bits = newlineBits(view[w]!)
      if (bits === 0) continue
      const found = countBits(bits)
      if (seen + found < n) {
        seen += found
        continue
      }
      // The nth newline is in this word: find it byte by byte.
      for (let i = start + w * 4;; i++) if (bytes[i] === NL && ++seen === n) return i + 1
    }
  }
  for (let i = start + words * 4; i < to; i++) if (bytes[i] === NL && ++seen === n) return i + 1
  return to
}

/**
 * How many newlines `bytes` holds (it ends with one), and where its last `n` lines start:
 * just after the (n+1)th newline from the end, or 0 when there are no more than `n` lines.
 * One pass in all: backwards a block at a time until that newline, then a count of what
 * is before it. A flood chunk of `yes` holds more than `n` lines, and is read once, not
 * counted whole and then searched again.
 */
export const countAndTail = (bytes: Uint8Array, n: number): { readonly count: number; readonly start: number } => {
  const simd = simdCounter()
  if (simd !== undefined) {
    // Count all sixteen bytes a step; only a chunk of more than n lines is searched for its tail.
    const count = simd(bytes, 0, bytes.length)
    return count <= n ? { count, start: 0 } : { count, start: countAndTailJs(bytes, n, false).start }
  }
  return countAndTailJs(bytes, n)
}

/** `countAndTail` in JavaScript alone: the reference, and the way where WebAssembly SIMD is missing. */
export const countAndTailJs = (
  bytes: Uint8Array,
  n: number,
  /** False when only `start` is wanted (the count is known): what is before it is not counted. */
  counting = true
): { readonly count: number; readonly start: number } => {
  const target = n + 1
  const found = (i: number) => ({ count: counting ? target + countNewlines(bytes, 0, i) : -1, start: i + 1 })
  let seen = 0
  const [first, words] = alignedWords(bytes, 0, bytes.length)
  for (let i = bytes.length - 1; i >= first + words * 4; i--) if (bytes[i] === NL && ++seen === target) return found(i)
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + first, words)
    for (let w = words; w > 0;) {
      const stop = Math.max(0, w - BLOCK_WORDS)
      let lanes = 0
      for (let k = w - 1; k >= stop; k--) lanes += newlineLanes(view[k]!)
      const inBlock = sumLanes(lanes)
      if (seen + inBlock >= target) {
        // It is in this block: byte by byte, backwards.
        for (let i = first + w * 4 - 1;; i--) if (bytes[i] === NL && ++seen === target) return found(i)
      }
      seen += inBlock
      w = stop
    }
  }
  for (let i = first - 1; i >= 0; i--) if (bytes[i] === NL && ++seen === target) return found(i)
  return { count: seen, start: 0 }
}
