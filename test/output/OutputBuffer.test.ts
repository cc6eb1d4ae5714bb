import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
import type { StreamId } from "../../src/domain/Task.ts"
import { cleanText } from "../../src/output/cleanText.ts"

/** cleanText as a read's transform: a line's text, at no width. */
const clean = (text: string) => cleanText(text)
import { OutputBuffer } from "../../src/output/OutputBuffer.ts"

const make = (options: Partial<OutputBuffer["options"]> = {}) =>
  new OutputBuffer({ maxLines: 1000, maxBytes: 1 << 20, maxLineBytes: 1 << 16, ...options })

const b = (s: string) => Buffer.from(s, "utf8")
const texts = (buffer: OutputBuffer, options = {}) => buffer.read({ since: 0, ...options }).lines.map((l) => l.text)

describe("OutputBuffer", () => {
  it("numbers lines from both streams in arrival order", () => {
    const buffer = make()
    buffer.append("stdout", b("a\nb\n"), 1)
    buffer.append("stderr", b("oops\n"), 2)
    buffer.append("stdout", b("c\n"), 3)
    const { lines, nextCursor } = buffer.read({ since: 0 })
    assert.deepStrictEqual(lines.map((l) => [l.seq, l.stream, l.text, l.time]), [
      [1, "stdout", "a", 1],
      [2, "stdout", "b", 1],
      [3, "stderr", "oops", 2],
      [4, "stdout", "c", 3]
    ])
    assert.strictEqual(nextCursor, 4)
    assert.deepStrictEqual(texts(buffer, { stream: "stderr" }), ["oops"])
  })

  it("a run's mark goes to the first line shown of it when its first line is left out (grep, one stream)", () => {
    const buffer = make()
    buffer.append("stdout", b("job 1\nok\n"), 1)
    buffer.markRun(2)
    buffer.append("stderr", b("starting\n"), 2)
    buffer.append("stdout", b("job 1\n"), 3)
    buffer.markRun(3)
    buffer.append("stdout", b("skipped\n"), 4)
    buffer.markRun(4)
    buffer.append("stdout", b("again\njob 1\n"), 5)
    const marks = (lines: ReadonlyArray<{ text: string; run?: number }>) => lines.map((l) => [l.text, l.run])
    const grep = { filter: (text: string) => text.startsWith("job") }
    const expected = [["job 1", undefined], ["job 1", 2], ["job 1", 4]]
    assert.deepStrictEqual(marks(buffer.read({ since: 0, ...grep }).lines), expected)
    assert.deepStrictEqual(marks(buffer.read({ tail: 10, ...grep }).lines), expected)
    assert.deepStrictEqual(marks(buffer.read({ since: 0, stream: "stdout" }).lines.slice(2, 4)), [["job 1", 2], [
      "skipped",
      3
    ]])
  })

  it("a new run's first line carries its mark while it is partial, and whole", () => {
    const buffer = make()
    buffer.append("stdout", b("tick 9\n"), 1)
    buffer.markRun(2)
    buffer.append("stdout", b("tick"), 2)
    const marks = (lines: ReadonlyArray<{ text: string; run?: number; partial?: boolean }>) =>
      lines.map((l) => [l.text, l.run, l.partial === true])
    assert.deepStrictEqual(marks(buffer.read({ since: 1 }).lines), [["tick", 2, true]])
    buffer.append("stdout", b(" 0\nprompt> "), 3)
    assert.deepStrictEqual(marks(buffer.read({ since: 1 }).lines), [["tick 0", 2, false], [
      "prompt> ",
      undefined,
      true
    ]])
  })

  it("shows a partial line without a character a chunk cut in two, then with it whole", () => {
    const buffer = make()
    const thumb = b("colour red 👍")
    buffer.append("stdout", thumb.subarray(0, thumb.length - 2), 1)
    assert.deepStrictEqual(buffer.read({ since: 0 }).lines.map((l) => [l.text, l.partial]), [["colour red ", true]])
    buffer.append("stdout", thumb.subarray(thumb.length - 2), 2)
    assert.deepStrictEqual(buffer.read({ since: 0 }).lines.map((l) => l.text), ["colour red 👍"])
    // Bytes that are no character at all still show, as U+FFFD.
    buffer.append("stdout", b("\nbad "), 3)
    buffer.append("stdout", Buffer.from([0xff]), 4)
    assert.deepStrictEqual(buffer.read({ since: 1 }).lines.map((l) => l.text), ["bad \uFFFD"])
  })

  it("shows a partial line without an escape sequence whose rest has not come, then with it whole", () => {
    const buffer = make()
    buffer.append("stdout", b("Password\u001b[3"), 1)
    assert.deepStrictEqual(buffer.read({ since: 0, transform: clean }).lines.map((l) => l.text), ["Password"])
    buffer.append("stdout", b("1m: \u001b[0m"), 2)
    assert.deepStrictEqual(buffer.read({ since: 0, transform: clean }).lines.map((l) => l.text), ["Password: "])
    // An OSC title not yet ended, and one ended.
    buffer.append("stdout", b("\n\u001b]0;tit"), 3)
    assert.deepStrictEqual(buffer.read({ since: 1 }).lines.map((l) => l.text), [""])
    buffer.append("stdout", b("le\u0007$ "), 4)
    assert.deepStrictEqual(buffer.read({ since: 1, transform: clean }).lines.map((l) => l.text), ["$ "])
  })

  it("joins a line split across chunks, and shows an unterminated line as partial", () => {
    const buffer = make()
    buffer.append("stdout", b("hel"), 1)
    buffer.append("stdout", b("lo\r\nName: "), 2)
    const { lines, nextCursor } = buffer.read({ since: 0 })
    assert.deepStrictEqual(lines.map((l) => [l.text, l.partial]), [["hello", undefined], ["Name: ", true]])
    assert.strictEqual(nextCursor, 1)
    buffer.flush("stdout")
    assert.deepStrictEqual(buffer.read({ since: 1 }).lines.map((l) => [l.seq, l.text, l.partial]), [[
      2,
      "Name: ",
      undefined
    ]])
  })

  it("pages with since and reads the tail", () => {
    const buffer = make()
    for (let i = 1; i <= 10; i++) buffer.append("stdout", b(`line ${i}\n`), i)
    assert.deepStrictEqual(texts(buffer, { since: 7 }), ["line 8", "line 9", "line 10"])
    assert.deepStrictEqual(buffer.read({ tail: 2 }).lines.map((l) => l.seq), [9, 10])
    assert.deepStrictEqual(buffer.read({ since: 10 }).lines, [])
    assert.strictEqual(buffer.read({ since: 10 }).nextCursor, 10)
    assert.strictEqual(buffer.read({}).lines.length, 10)
  })

  it("reads from the start for a cursor past its end (one given for an earlier output of the task)", () => {
    const buffer = make()
    for (let i = 1; i <= 3; i++) buffer.append("stdout", b(`line ${i}\n`), i)
    const page = buffer.read({ since: 250 })
    assert.deepStrictEqual(page.lines.map((l) => l.text), ["line 1", "line 2", "line 3"])
    assert.strictEqual(page.nextCursor, 3)
    assert.deepStrictEqual(buffer.read({ since: 250, tail: 2 }).lines.map((l) => l.seq), [2, 3])
  })

  it("keeps at most maxLines, dropping and counting the oldest", () => {
    const buffer = make({ maxLines: 3 })
    buffer.append("stdout", b("1\n2\n3\n4\n5\n"), 1)
    assert.deepStrictEqual(texts(buffer), ["3", "4", "5"])
    const page = buffer.read({ since: 0 })
    assert.strictEqual(page.dropped, 2)
    // The chunk is kept whole, its first lines hidden: their bytes are held until it goes.
    assert.deepStrictEqual(buffer.stats(), { lines: 3, bytes: 10, droppedLines: 2, totalLines: 5 })
  })

  it("holds fewer lines once asked (a run that ended), its newest ones, and as many as before for a new run", () => {
    const chunk = fc.array(fc.stringMatching(/^[a-z0-9 ]{0,30}$/), { minLength: 1, maxLength: 40 })
    fc.assert(fc.property(
      fc.array(chunk, { minLength: 1, maxLength: 20 }),
      fc.integer({ min: 1, max: 60 }),
      fc.integer({ min: 1, max: 400 }),
      (chunks, lines, bytes) => {
        const buffer = make({ maxLines: 100, maxBytes: 2000 })
        chunks.forEach((c, i) => buffer.append("stdout", b(c.map((l) => `${l}\n`).join("")), i))
        const before = texts(buffer)
        const total = buffer.stats().totalLines
        buffer.holdAtMost(lines, bytes)
        const after = texts(buffer)
        // The newest lines, a suffix of what it held, at most `lines` of them, and the newest always.
        assert.deepStrictEqual(after, before.slice(before.length - after.length))
        assert.isAtMost(after.length, lines)
        assert.isAtLeast(after.length, 1)
        assert.isAtMost(buffer.stats().bytes, Math.max(bytes, Buffer.byteLength(`${before.at(-1)}\n`)))
        assert.strictEqual(buffer.stats().totalLines, total)
        assert.strictEqual(buffer.read({ since: 0 }).dropped, total - after.length)
        // A new run: the settings' limits again.
        buffer.holdAll()
        buffer.append("stdout", b("x\n".repeat(150)), 99)
        assert.strictEqual(texts(buffer).length, 100)
      }
    ))
  })

  it("keeps at most maxBytes", () => {
    const buffer = make({ maxBytes: 10 })
    for (let i = 0; i < 10; i++) buffer.append("stdout", b("abcd\n"), i)
    assert.isAtMost(buffer.stats().bytes, 10)
    assert.deepStrictEqual(texts(buffer), ["abcd", "abcd"])
    assert.strictEqual(buffer.stats().droppedLines, 8)
  })

  it("cuts a line without newline into pieces of maxLineBytes, never inside a character", () => {
    const buffer = make({ maxLineBytes: 8 })
    buffer.append("stdout", b("aaaaaaaaaaaaaaaaaaaa"), 1)
    assert.deepStrictEqual(buffer.read({ since: 0 }).lines.map((l) => [l.text, l.partial, l.cut]), [
      ["aaaaaaaa", undefined, true],
      ["aaaaaaaa", undefined, true],
      ["aaaa", true, undefined]
    ])
    const utf8 = make({ maxLineBytes: 8 })
    utf8.append("stdout", b("aaaaaaaé€éé\n"), 1)
    assert.deepStrictEqual(texts(utf8), ["aaaaaaa", "é€é", "é"])
  })

  it("takes a line of exactly maxLineBytes ending \\r\\n as one line, however it is chunked", () => {
    const text = "aaaaaaaa\r\nbbbbbbbb\r\n"
    for (let cut = 0; cut <= text.length; cut++) {
      const buffer = make({ maxLineBytes: 8 })
      if (cut > 0) buffer.append("stdout", b(text.slice(0, cut)), 1)
      if (cut < text.length) buffer.append("stdout", b(text.slice(cut)), 2)
      assert.deepStrictEqual(buffer.read({ since: 0 }).lines.map((l) => [l.text, l.cut]), [
        ["aaaaaaaa", undefined],
        ["bbbbbbbb", undefined]
      ])
    }
    // A \r that is not a line's end is the next piece's.
    const cr = make({ maxLineBytes: 8 })
    cr.append("stdout", b("aaaaaaaa\rbb\n"), 1)
    assert.deepStrictEqual(texts(cr), ["aaaaaaaa", "\rbb"])
  })

  it("never throws on bytes that are not UTF-8", () => {
    const buffer = make()
    buffer.append("stdout", Buffer.from([0xff, 0xfe, 0x41, 0x0a, 0xc3]), 1)
    buffer.append("stdout", Buffer.from([0x0a]), 2)
    assert.deepStrictEqual(texts(buffer), ["\ufffd\ufffdA", "\ufffd"])
  })

  it("limits the text of one answer to maxBytes and says so", () => {
    const buffer = make()
    for (let i = 0; i < 100; i++) buffer.append("stdout", b(`${"x".repeat(9)}\n`), i)
    const tail = buffer.read({ maxBytes: 50 })
    assert.strictEqual(tail.lines.length, 5)
    assert.isTrue(tail.truncated)
    assert.strictEqual(tail.lines[4]!.seq, 100)
    const page = buffer.read({ since: 0, maxBytes: 50 })
    assert.deepStrictEqual(page.lines.map((l) => l.seq), [1, 2, 3, 4, 5])
    assert.strictEqual(page.nextCursor, 5)
  })

  it("holds what a flood leaves, cheaply: the last maxLines of a million lines", () => {
    const buffer = make({ maxLines: 10_000 })
    const chunk = b("y\n".repeat(32_768))
    for (let i = 0; i < 31; i++) buffer.append("stdout", chunk, i)
    const stats = buffer.stats()
    assert.strictEqual(stats.totalLines, 31 * 32_768)
    assert.strictEqual(stats.lines, 10_000)
    assert.strictEqual(buffer.read({ tail: 1 }).lines[0]!.seq, 31 * 32_768)
  })

  // The model: split each stream's bytes at newlines, in the order chunks arrive.
  const writes = fc.array(
    fc.record({
      stream: fc.constantFrom<StreamId>("stdout", "stderr"),
      text: fc.stringMatching(/^[a-zé€\n]{0,40}$/),
      cut: fc.nat({ max: 40 })
    }),
    { maxLength: 60 }
  )

  it("holds exactly the newest lines, in order, however the output is chunked", () => {
    fc.assert(
      fc.property(
        writes,
        fc.integer({ min: 1, max: 30 }),
        fc.integer({ min: 4, max: 400 }),
        (ws, maxLines, maxBytes) => {
          const buffer = make({ maxLines, maxBytes })
          const model: Array<{ stream: StreamId; text: string; bytes: number }> = []
          const pending: Record<StreamId, Array<number>> = { stdout: [], stderr: [] }
          for (const [i, w] of ws.entries()) {
            const bytes = b(w.text)
            const at = Math.min(w.cut, bytes.length)
            for (const part of [bytes.subarray(0, at), bytes.subarray(at)]) {
              if (part.length === 0) continue
              buffer.append(w.stream, Buffer.from(part), i)
              for (const byte of part) {
                if (byte === 10) {
                  const line = Buffer.from(pending[w.stream])
                  model.push({ stream: w.stream, text: line.toString("utf8"), bytes: line.length + 1 })
                  pending[w.stream] = []
                } else pending[w.stream].push(byte)
              }
            }
          }
          const stats = buffer.stats()
          assert.strictEqual(stats.totalLines, model.length)
          assert.isAtMost(stats.lines, maxLines)
          // Bytes are bounded, except that the newest line is always kept.
          assert.isTrue(stats.bytes <= maxBytes || stats.lines === 1)
          const held = buffer.read({ since: 0 }).lines.filter((l) => !l.partial)
          const expected = model.slice(model.length - stats.lines)
          assert.deepStrictEqual(held.map((l) => [l.stream, l.text]), expected.map((l) => [l.stream, l.text]))
          assert.deepStrictEqual(held.map((l) => l.seq), expected.map((_, i) => model.length - stats.lines + i + 1))
          // Paging from any cursor starts at the line after it, whatever is hidden before it.
          for (const since of [1, Math.floor(model.length / 2), model.length - 2]) {
            const page = buffer.read({ since }).lines.filter((l) => !l.partial)
            assert.deepStrictEqual(page, held.filter((l) => l.seq > since))
          }
          // A tail walks back from the newest line: the same lines, whatever was hidden or trimmed.
          for (const tail of [1, 2, 5, maxLines]) {
            const got = buffer.read({ tail }).lines.filter((l) => !l.partial)
            assert.deepStrictEqual(got, held.slice(Math.max(0, held.length - tail)))
          }
          // Every line that fits the bounds is kept: dropping happens only when needed.
          if (stats.lines < maxLines && stats.lines < model.length) {
            assert.isAbove(stats.bytes + model[model.length - stats.lines - 1]!.bytes, maxBytes)
          }
        }
      ),
      { numRuns: 500 }
    )
  })

  it("cuts a long line into the same pieces however it is chunked, each but the last marked cut: one that ends on a cut makes no empty line", () => {
    const buffer = make({ maxLineBytes: 4 })
    buffer.append("stdout", b("aaaabbbb"), 1)
    buffer.append("stdout", b("\nnext\n"), 2)
    assert.deepStrictEqual(texts(buffer), ["aaaa", "bbbb", "next"])
    fc.assert(
      fc.property(
        fc.array(fc.stringMatching(/^[a-z]{0,13}$/), { maxLength: 8 }),
        fc.array(fc.nat({ max: 60 }), { maxLength: 10 }),
        fc.integer({ min: 1, max: 6 }),
        (lines, cuts, maxLineBytes) => {
          const text = lines.map((line) => `${line}\n`).join("")
          const buffer = make({ maxLineBytes })
          let at = 0
          for (const cut of [...cuts.map((c) => Math.min(c, text.length)).sort((x, y) => x - y), text.length]) {
            if (cut > at) buffer.append("stdout", b(text.slice(at, cut)), 1)
            at = Math.max(at, cut)
          }
          const pieces = lines.flatMap((line) =>
            line === "" ? [""] : Array.from(
              { length: Math.ceil(line.length / maxLineBytes) },
              (_, i) => line.slice(i * maxLineBytes, (i + 1) * maxLineBytes)
            )
          )
          assert.deepStrictEqual(texts(buffer), pieces)
          // A piece marked cut goes on in the next: joined, they are the lines as written.
          const joined = buffer.read({ since: 0 }).lines.reduce<Array<string>>(
            (all, line, i, read) =>
              i > 0 && read[i - 1]!.cut ? [...all.slice(0, -1), all.at(-1)! + line.text] : [...all, line.text],
            []
          )
          assert.deepStrictEqual(joined, lines)
        }
      ),
      { numRuns: 500 }
    )
  })

  it("cuts a long line neither inside a character nor inside an escape sequence, however it is chunked", () => {
    // A coloured line cut at 8: "abcde\x1b[3" and "1mfg…" would each show their half as text once cleaned.
    const buffer = make({ maxLineBytes: 8 })
    buffer.append("stdout", b("abcde\u001b[31mfg\u001b[0m\n"), 1)
    assert.deepStrictEqual(texts(buffer), ["abcde", "\u001b[31mfg", "\u001b[0m"])
    const piece = fc.oneof(
      fc.stringMatching(/^[a-zé€]{1,5}$/),
      fc.constantFrom(
        "\u001b[31m",
        "\u001b[1;32m",
        "\u001b[0m",
        "\u001b[2K",
        "\u001b(B",
        "\u001b]0;t\u0007",
        "\u001b]8;;u\u001b\\"
      )
    )
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 40 }),
        fc.array(fc.nat({ max: 200 }), { maxLength: 12 }),
        fc.integer({ min: 16, max: 40 }),
        (pieces, cuts, maxLineBytes) => {
          const line = b(`${pieces.join("")}\n`)
          const whole = make({ maxLineBytes })
          whole.append("stdout", line, 1)
          const chunked = make({ maxLineBytes })
          let at = 0
          for (const cut of [...cuts.map((c) => Math.min(c, line.length)).sort((x, y) => x - y), line.length]) {
            if (cut > at) chunked.append("stdout", line.subarray(at, cut), 1)
            at = Math.max(at, cut)
          }
          const read = texts(chunked)
          assert.deepStrictEqual(read, texts(whole))
          assert.strictEqual(read.join(""), pieces.join(""))
          for (const text of read) {
            assert.isAtMost(Buffer.byteLength(text), maxLineBytes)
            assert.notInclude(text, "\ufffd")
            // Cleaned apart, each piece shows only its own text: no half of an escape is left as text.
            assert.strictEqual(cleanText(text).replace(/[a-zé€]/g, ""), "")
          }
        }
      ),
      { numRuns: 500 }
    )
  })

  it("holds a progress bar redrawn with \\r past maxLineBytes as one line that shows where it is, not a piece per state", () => {
    // tqdm's way on a pipe: 5,000 redraws of a 60-byte bar (300 KB) before the newline.
    const bar = (i: number) =>
      `${String(Math.floor(i / 50)).padStart(3)}%|${"#".repeat(Math.floor(i / 250))}| ${i}/5000`
    const buffer = make({ maxLineBytes: 8192 })
    buffer.append("stderr", b("Downloading model\n"), 1)
    for (let i = 0; i <= 5000; i += 10) {
      buffer.append("stderr", b(Array.from({ length: 10 }, (_, j) => `\r${bar(Math.min(5000, i + j))}`).join("")), 2)
    }
    // Read while it goes: the partial line shows where it is now.
    assert.deepStrictEqual(texts(buffer, { transform: clean }), ["Downloading model", bar(5000)])
    buffer.append("stderr", b("\ndone\n"), 3)
    assert.deepStrictEqual(texts(buffer, { transform: clean }), ["Downloading model", bar(5000), "done"])
    assert.isUndefined(buffer.read({ since: 0 }).lines[1]!.cut)
  })

  it("holds a spinner redrawn with ESC [1G ESC [0K (npm's) past maxLineBytes as one line, not a piece per 8 KiB", () => {
    const buffer = make({ maxLineBytes: 8192 })
    const frames = ["⠋", "⠙", "⠹", "⠸"]
    for (let i = 0; i < 3000; i += 10) {
      buffer.append(
        "stdout",
        b(Array.from({ length: 10 }, (_, j) => `\x1b[1G\x1b[0K${frames[(i + j) % 4]}`).join("")),
        1
      )
    }
    assert.deepStrictEqual(texts(buffer, { transform: clean }), ["⠸"])
    buffer.append("stdout", b("\x1b[1G\x1b[0Kadded 1 package\n"), 2)
    assert.deepStrictEqual(texts(buffer, { transform: clean }), ["added 1 package"])
  })

  it("shows a line redrawn with \\r as a terminal would, however it is chunked and however long it grows", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 8, max: 40 }).chain((maxLineBytes) =>
          fc.tuple(
            fc.constant(maxLineBytes),
            // Each state shorter than half the limit: what the line shows and its last state fit in one.
            fc.array(fc.stringMatching(new RegExp(`^[a-zé]{0,${Math.floor(maxLineBytes / 4) - 1}}$`)), {
              minLength: 1,
              maxLength: 60
            }),
            fc.array(fc.nat({ max: 600 }), { maxLength: 12 })
          )
        ),
        ([maxLineBytes, states, cuts]) => {
          const line = b(`${states.join("\r")}\n`)
          const buffer = make({ maxLineBytes })
          let at = 0
          for (const cut of [...cuts.map((c) => Math.min(c, line.length)).sort((x, y) => x - y), line.length]) {
            if (cut > at) buffer.append("stdout", line.subarray(at, cut), 1)
            at = Math.max(at, cut)
          }
          assert.deepStrictEqual(texts(buffer, { transform: clean }), [cleanText(states.join("\r"))])
        }
      ),
      { numRuns: 500 }
    )
  })

  it("keeps nothing of the chunks it is given, and answers the same whatever its slabs", () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant("append" as const),
        stream: fc.constantFrom<StreamId>("stdout", "stderr"),
        // Several lines per chunk, so that the ring drops some of a chunk's lines and keeps others.
        text: fc.stringMatching(/^([a-zé]{0,3}\n){0,6}[a-z]{0,4}$/)
      }),
      fc.record({ kind: fc.constantFrom("markRun" as const, "flush" as const) })
    )
    fc.assert(
      fc.property(
        fc.array(op, { maxLength: 120 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 4, max: 200 }),
        fc.integer({ min: 2, max: 12 }),
        fc.integer({ min: 1, max: 64 }),
        (ops, maxLines, maxBytes, maxLineBytes, slabBytes) => {
          const plain = make({ maxLines, maxBytes, maxLineBytes })
          // Tiny slabs: filled, emptied and reused many times over.
          const slabbed = make({ maxLines, maxBytes, maxLineBytes, slabBytes })
          let run = 1
          for (const [i, o] of ops.entries()) {
            if (o.kind === "append") {
              plain.append(o.stream, b(o.text), i)
              const chunk = b(o.text)
              slabbed.append(o.stream, chunk, i)
              // The next read reuses the read buffer: whatever it needed, it has copied.
              chunk.fill(0x58)
            } else if (o.kind === "markRun") {
              plain.markRun(++run)
              slabbed.markRun(run)
            } else {
              plain.flush("stdout")
              slabbed.flush("stdout")
            }
          }
          const answers = (buffer: OutputBuffer) => [
            buffer.stats(),
            buffer.read({ since: 0 }),
            buffer.read({ tail: 3 }),
            buffer.read({ since: Math.floor(buffer.cursor / 2), stream: "stderr" })
          ]
          assert.deepStrictEqual(answers(slabbed), answers(plain))
        }
      ),
      { numRuns: 500 }
    )
  })
})

describe("OutputBuffer at its boundaries (found unguarded by a mutation review)", () => {
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
