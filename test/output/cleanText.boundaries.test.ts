// Boundaries a mutation-testing review (h23b) found unguarded: each test fails with its guard changed.
import { assert, describe, it } from "@effect/vitest"
import { cleanText } from "../../src/output/cleanText.ts"
import { countNewlines } from "../../src/output/newlines.ts"
import { OutputBuffer } from "../../src/output/OutputBuffer.ts"

describe("cleanText", () => {
  it("a carriage return after a line that filled its row goes to that row's start (a shell's long line)", () => {
    // Guards the `pending` (last column written) flag
    assert.strictEqual(cleanText("abcdef\rX", 3), "abcXef")
  })
  it("a backspace at a row's first column stays there (no reverse wrap)", () => {
    // Guards Math.max(start, at - 1)
    assert.strictEqual(cleanText("abcde\b\b\bX", 3), "abcXe")
  })
  it("a cursor move right stops at the row's last column", () => {
    // Guards Math.min(end - 1, at + n)
    assert.strictEqual(cleanText("ab\x1b[10Cc", 5), "ab  c")
  })
  it("ESC[1K erases up to and including the cursor's cell", () => {
    // Guards blank(start, at + 1)
    assert.strictEqual(cleanText("abcd\x1b[2D\x1b[1K"), "   d")
  })
  it("a DEL in a redrawn line shows nothing", () => {
    // Guards code >= 0x7f
    assert.strictEqual(cleanText("a\x7fb\rc"), "cb")
  })
  it("cells blanked at the end of a line leave no trailing spaces", () => {
    // Guards the trailing-blank trim
    assert.strictEqual(cleanText("abc\b\x1b[X"), "ab")
  })
})

describe("newlines / cutting", () => {
  it("counts a run of more than 1020 newlines in a row (per-lane sums must not overflow)", () => {
    // Guards BLOCK_WORDS = 255
    const bytes = Buffer.alloc(8192, 10)
    assert.strictEqual(countNewlines(bytes, 0, bytes.length), 8192)
  })
  it("a piece of a long line is never cut inside a 4-byte character that ends past the cut", () => {
    // Guards cutPoint looks back up to 3 continuation bytes
    const buffer = new OutputBuffer({ maxLines: 100, maxBytes: 1 << 20, maxLineBytes: 5 })
    buffer.append("stdout", Buffer.from("ab\u{1F44D}cdefgh\n"), 1)
    const texts = buffer.read({ since: 0 }).lines.map((l) => l.text)
    assert.isFalse(texts.some((t) => t.includes("\uFFFD")), JSON.stringify(texts))
    assert.strictEqual(texts.join(""), "ab\u{1F44D}cdefgh")
  })
  it("only a run's first line carries its mark, not every line of the chunk it came in", () => {
    // Guards seq === entry.firstSeq in toLine
    const buffer = new OutputBuffer({ maxLines: 100, maxBytes: 1 << 20, maxLineBytes: 1 << 16 })
    buffer.append("stdout", Buffer.from("x\n"), 1)
    buffer.markRun(2)
    buffer.append("stdout", Buffer.from("a\nb\nc\n"), 2)
    assert.deepStrictEqual(buffer.read({ since: 0 }).lines.map((l) => l.run), [undefined, 2, undefined, undefined])
    assert.deepStrictEqual(buffer.read({ tail: 2 }).lines.map((l) => l.run), [undefined, undefined])
  })
})
