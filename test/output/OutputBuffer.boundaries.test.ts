// Boundaries a mutation-testing review (h23b) found unguarded: each test fails with its guard changed.
import { assert, describe, it } from "@effect/vitest"
import { OutputBuffer } from "../../src/output/OutputBuffer.ts"

const make = (options: Partial<OutputBuffer["options"]> = {}) =>
  new OutputBuffer({ maxLines: 1000, maxBytes: 1 << 20, maxLineBytes: 1 << 16, ...options })
const b = (s: string) => Buffer.from(s, "utf8")

describe("OutputBuffer", () => {
  it("a flush with nothing pending (a pipe closing after a newline, a restart) adds no line", () => {
    // Guards flush's `p.length === 0` guard
    const buffer = make()
    buffer.append("stdout", b("a\n"), 1)
    buffer.flush("stdout")
    buffer.markRun(2)
    buffer.append("stdout", b("b\n"), 3)
    assert.strictEqual(buffer.stats().totalLines, 2)
    assert.deepStrictEqual(buffer.read({ since: 0 }).lines.map((l) => [l.seq, l.text, l.run]), [
      [1, "a", undefined],
      [2, "b", 2]
    ])
  })

  it("paging: a first line longer than maxBytes is still given (one line per page at least)", () => {
    // Guards `&& lines.length > 0` in the since path (without it: no line and a TypeError)
    const buffer = make()
    buffer.append("stdout", b(`${"x".repeat(100)}\nshort\n`), 1)
    const page = buffer.read({ since: 0, maxBytes: 10 })
    assert.deepStrictEqual(page.lines.map((l) => l.text.length), [100])
    assert.strictEqual(page.truncated, true)
    assert.strictEqual(page.nextCursor, 1)
  })

  it("maxBytes is a limit lines may reach, not one they must stay under", () => {
    // Guards `bytes + len > maxBytes` → `>=`
    const buffer = make()
    buffer.append("stdout", b("abcd\nefgh\nij\n"), 1)
    const page = buffer.read({ since: 0, maxBytes: 8 })
    assert.deepStrictEqual(page.lines.map((l) => l.text), ["abcd", "efgh"])
    const tail = buffer.read({ tail: 10, maxBytes: 6 })
    assert.deepStrictEqual(tail.lines.map((l) => l.text), ["efgh", "ij"])
  })

  it("tail: 0 gives no line, and the cursor to read on from", () => {
    // Guards `tail > 0` → `tail >= 0`
    const buffer = make()
    buffer.append("stdout", b("a\nb\n"), 1)
    const read = buffer.read({ tail: 0 })
    assert.deepStrictEqual(read.lines, [])
    assert.strictEqual(read.nextCursor, 2)
  })

  it("a page cut by maxBytes does not end with the partial line that comes after what it left out", () => {
    // Guards `if (truncated) return lines` in withPartials
    const buffer = make()
    buffer.append("stdout", b("one\ntwo\nthree\nprompt> "), 1)
    const page = buffer.read({ since: 0, maxBytes: 7 })
    assert.deepStrictEqual(page.lines.map((l) => l.text), ["one", "two"])
    assert.strictEqual(page.truncated, true)
  })

  it("a read of one stream shows only that stream's partial line", () => {
    // Guards `|| !matches(stream)` in withPartials
    const buffer = make()
    buffer.append("stdout", b("out\nPassword: "), 1)
    buffer.append("stderr", b("err\n"), 2)
    assert.deepStrictEqual(buffer.read({ since: 0, stream: "stderr" }).lines.map((l) => l.text), ["err"])
    assert.deepStrictEqual(buffer.read({ tail: 5, stream: "stderr" }).lines.map((l) => l.text), ["err"])
  })

  it("a new run's mark goes on its first partial line only, not on both streams'", () => {
    // Guards `run = undefined` in withPartials
    const buffer = make()
    buffer.append("stdout", b("old\n"), 1)
    buffer.markRun(2)
    buffer.append("stdout", b("Name? "), 2)
    buffer.append("stderr", b("warn"), 3)
    const marks = buffer.read({ since: 0 }).lines.map((l) => [l.text, l.run])
    assert.deepStrictEqual(marks, [["old", undefined], ["Name? ", 2], ["warn", undefined]])
  })
})
