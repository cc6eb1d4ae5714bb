import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import { capTail, newlines } from "../../src/output/capTail.ts"
import { OutputBuffer } from "../../src/output/OutputBuffer.ts"

const filled = (text: string, maxLines = 1000) => {
  const buffer = new OutputBuffer({ maxLines, maxBytes: 1 << 20, maxLineBytes: 1 << 16 })
  buffer.append("stdout", Buffer.from(text), Date.now())
  return buffer
}

describe("capTail", () => {
  it("gives the lines after the last one the file holds whole, with no gap to tell of", () => {
    assert.strictEqual(
      capTail(filled("a\nb\nc\n"), 1, 1 << 20),
      "[taskmux] the run's last 2 lines, added at its end:\nb\nc\n"
    )
    assert.strictEqual(capTail(filled("a\nb\n"), 1, 1 << 20), "[taskmux] the run's last line, added at its end:\nb\n")
  })

  it("gives nothing when nothing came after the cap", () => {
    assert.strictEqual(capTail(filled("a\nb\n"), 2, 1 << 20), "")
  })

  it("says so when lines between the cap and the tail are gone: the ring dropped them, or the budget left them out", () => {
    const text = Array.from({ length: 50 }, (_, i) => `line ${i + 1}`).join("\n") + "\n"
    assert.match(
      capTail(filled(text, 10), 3, 1 << 20),
      /^\[taskmux\] the run's last 10 lines, added at its end \(those between the cap and them are not in this file\):\nline 41\n/
    )
    // At most the cap's size of text: the newest lines.
    const small = capTail(filled(text), 3, 16)
    assert.match(small, /last 2 lines, .*not in this file\):\nline 49\nline 50\n$/)
  })

  it("counts the lines the first bytes of a chunk end", () => {
    const chunk = Buffer.from("ab\ncd\nef")
    assert.strictEqual(newlines(chunk, 0), 0)
    assert.strictEqual(newlines(chunk, 3), 1)
    assert.strictEqual(newlines(chunk, 5), 1)
    assert.strictEqual(newlines(chunk, 6), 2)
    assert.strictEqual(newlines(chunk, 100), 2)
    fc.assert(fc.property(fc.string(), fc.nat(40), (s, n) => {
      const bytes = Buffer.from(s)
      assert.strictEqual(newlines(bytes, n), [...bytes.subarray(0, n)].filter((c) => c === 10).length)
    }))
  })
})
