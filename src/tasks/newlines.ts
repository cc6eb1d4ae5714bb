/**
 * Counting and finding newlines in bytes, four bytes at a time (SWAR): the hot loop of a
 * task that floods its output, about 3.5x faster than a byte-by-byte loop.
 */

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

/** How many newlines bytes[from, to) holds. */
export const countNewlines = (bytes: Uint8Array, from: number, to: number): number => {
  let count = 0
  const [start, words] = alignedWords(bytes, from, to)
  for (let i = from; i < start; i++) if (bytes[i] === NL) count++
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + start, words)
    for (let w = 0; w < words; w++) {
      const bits = newlineBits(view[w]!)
      if (bits !== 0) count += countBits(bits)
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
 * Where the last `n` lines of `bytes` start (`bytes` ends with a newline): just after the
 * (n+1)th newline from the end, or 0 when there are no more than `n` lines. Scans backwards,
 * so keeping the tail of a flood chunk touches only the tail.
 */
export const startOfLastLines = (bytes: Uint8Array, n: number): number => {
  const target = n + 1
  let seen = 0
  const [start, words] = alignedWords(bytes, 0, bytes.length)
  const end = start + words * 4
  for (let i = bytes.length - 1; i >= end; i--) if (bytes[i] === NL && ++seen === target) return i + 1
  if (words > 0) {
    const view = new Uint32Array(bytes.buffer, bytes.byteOffset + start, words)
    for (let w = words - 1; w >= 0; w--) {
      const bits = newlineBits(view[w]!)
      if (bits === 0) continue
      const found = countBits(bits)
      if (seen + found < target) {
        seen += found
        continue
      }
      for (let i = start + w * 4 + 3;; i--) if (bytes[i] === NL && ++seen === target) return i + 1
    }
  }
  for (let i = start - 1; i >= 0; i--) if (bytes[i] === NL && ++seen === target) return i + 1
  return 0
}
