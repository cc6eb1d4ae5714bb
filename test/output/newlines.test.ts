import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { afterNthNewline, countLines, countNewlines } from "../../src/output/newlines.ts"
import { simdCounter } from "../../src/output/newlinesSimd.ts"

const simpleCount = (b: Uint8Array, from: number, to: number) => {
  let c = 0
  for (let i = from; i < to; i++) if (b[i] === 10) c++
  return c
}

const simpleAfterNth = (b: Uint8Array, from: number, to: number, n: number) => {
  let seen = 0
  for (let i = from; i < to; i++) if (b[i] === 10 && ++seen === n) return i + 1
  return to
}

// Bytes biased towards newlines and bytes that differ from "\n" by one bit, at any alignment;
// some long enough to span several blocks of 255 words.
const input = fc.record({
  bytes: fc.oneof(fc.uint8Array({ maxLength: 80 }), fc.uint8Array({ minLength: 1000, maxLength: 4000 }))
    .map((a) => a.map((x) => [10, 10, 11, 8, 0x8a, 0xff, x][x % 7]!)),
  offset: fc.nat({ max: 7 }),
  from: fc.nat({ max: 80 }),
  span: fc.nat({ max: 4000 }),
  n: fc.oneof(fc.integer({ min: 1, max: 40 }), fc.integer({ min: 300, max: 2000 }))
})

describe("newlines", () => {
  it("counts every newline of a chunk at any alignment", () => {
    fc.assert(
      fc.property(input, ({ bytes, offset }) => {
        const backing = new Uint8Array(bytes.length + offset)
        backing.set(bytes, offset)
        const view = backing.subarray(offset)
        assert.strictEqual(countLines(view), simpleCount(view, 0, view.length))
      }),
      { numRuns: 2000 }
    )
  })

  it("counts with WebAssembly SIMD as the JavaScript loop does, chunks of any size included", () => {
    const simd = simdCounter()
    // Node 22+ runs WebAssembly SIMD on every platform it supports; where it could not, callers keep to JS.
    assert.isDefined(simd)
    fc.assert(
      fc.property(input, fc.nat({ max: 200_000 }), ({ bytes, from, offset, span }, extra) => {
        // Now and then longer than the module's 64 KiB of memory, counted in pieces.
        const long = new Uint8Array(bytes.length + offset + (extra > 150_000 ? extra : 0))
        long.set(bytes, offset)
        for (let i = bytes.length + offset; i < long.length; i += 7) long[i] = 10
        const view = long.subarray(offset)
        const lo = Math.min(from, view.length)
        const hi = extra > 150_000 ? view.length : Math.min(lo + span, view.length)
        assert.strictEqual(simd!(view, lo, hi), countNewlines(view, lo, hi))
      }),
      { numRuns: 1000 }
    )
  })

  it("counts and finds newlines as a byte-by-byte loop does, at any alignment", () => {
    fc.assert(
      fc.property(input, ({ bytes, from, n, offset, span }) => {
        const backing = new Uint8Array(bytes.length + offset)
        backing.set(bytes, offset)
        const view = backing.subarray(offset)
        const lo = Math.min(from, view.length)
        const hi = Math.min(lo + span, view.length)
        assert.strictEqual(countNewlines(view, lo, hi), simpleCount(view, lo, hi))
        assert.strictEqual(afterNthNewline(view, lo, hi, n), simpleAfterNth(view, lo, hi, n))
      }),
      { numRuns: 2000 }
    )
  })
})
