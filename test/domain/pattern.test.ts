import fc from "fast-check"
import { describe, expect, it } from "vitest"
import {
  compilePattern,
  matchOnce,
  MAX_PATTERN,
  patternProblem,
  RefusedPattern,
  slashesHint
} from "../../src/domain/pattern.ts"

describe("compilePattern: a caller's pattern, with the flags other languages write", () => {
  it("takes a leading (?i) as Python, Go and PCRE do, and a /regex/flags literal", () => {
    expect(compilePattern("(?i)ready").test("Server READY")).toBe(true)
    expect(compilePattern("(?im)^ready$").test("x\nREADY")).toBe(true)
    expect(compilePattern("/ready/i").test("Server READY")).toBe(true)
    expect(compilePattern("/listening on \\d+/i").test("LISTENING ON 80")).toBe(true)
    // g and y, the flags most often written, mean nothing for one line: taken, and dropped (a global
    // regex would remember where it stopped and miss the next line).
    const global = compilePattern("/error/gi")
    expect([global.test("ERROR one"), global.test("ERROR two"), global.flags]).toEqual([true, true, "i"])
  })

  it("leaves everything else as JavaScript reads it: /api/ without flags is the path", () => {
    expect(compilePattern("/api/").test("GET /api/ 200")).toBe(true)
    expect(slashesHint(compilePattern("/READY/"))).toBe(
      "The pattern /READY/ was read as text, slashes included: /.../ is a regex literal only with flags " +
        "(/ready/i); without them, leave the slashes out."
    )
    expect(slashesHint(compilePattern("/READY/i"))).toBeUndefined()
    expect(slashesHint(compilePattern("READY"))).toBeUndefined()
    expect(compilePattern("ready").test("Server READY")).toBe(false)
    expect(() => compilePattern("(?x)ready")).toThrow(SyntaxError)
    expect(() => compilePattern("(unclosed")).toThrow(SyntaxError)
  })

  it("refuses a POSIX class (grep's [[:digit:]]), which JavaScript would read as other characters, and says what to write", () => {
    expect(() => compilePattern("port [[:digit:]]+")).toThrow(/\[:digit:\] is a POSIX class.*write \\d instead/)
    expect(() => compilePattern("[[:alpha:]_]+")).toThrow(/write \[A-Za-z\] instead/)
    expect(compilePattern("[:]").test(":")).toBe(true)
  })

  it("reads a Unicode property (\\p{L}, \\p{Script=Han}) as one, which JavaScript reads as text \"p{L}\" without the u flag", () => {
    expect(compilePattern("\\p{Script=Han}+完了").test("東京サーバー起動完了")).toBe(true)
    expect(compilePattern("(?i)^\\p{L}+$").test("École")).toBe(true)
    expect(compilePattern("\\u{1F680} up").test("🚀 up")).toBe(true)
    // Where unicode mode would refuse it (\- outside a class), the pattern is read as before.
    expect(compilePattern("a\\-b \\p{L}").test("a-b p{L}")).toBe(true)
  })

  it("compiles any valid JavaScript pattern to the same source", () => {
    fc.assert(fc.property(fc.stringMatching(/^[a-z .|]{0,12}$/), (source) => {
      expect(compilePattern(source).source).toBe(new RegExp(source).source)
    }))
  })
})

describe("a pattern cannot stall the server", () => {
  it("matches a pattern that backtracks exponentially in linear time: (a+)+$ on a long line", () => {
    const t0 = Date.now()
    expect(compilePattern("(a+)+$").test(`${"a".repeat(5_000)}!`)).toBe(false)
    expect(compilePattern("^(\\w+\\s?)+$").test(`${"webpack compiled successfully in 1234 ms ".repeat(3)}!`)).toBe(
      false
    )
    expect(Date.now() - t0).toBeLessThan(2_000)
  })

  it("matches a leading .* (\".*ready\") on a long line at once, as the pattern without it, which it means", () => {
    // 32 KiB of a minified bundle or a JSON blob: V8 took over a second for ".*ready" from each position.
    const long = "x".repeat(32 * 1024)
    const t0 = Date.now()
    for (const pattern of [".*ready", "(?i).*ready", ".*?ready", ".*.*ready|never"]) {
      expect(compilePattern(pattern).test(long)).toBe(false)
    }
    expect(Date.now() - t0).toBeLessThan(200)
    fc.assert(fc.property(
      fc.constantFrom(".*", ".*?", ".*.*"),
      fc.constantFrom("ready", "^ready", "(\\d+) ms$", "a|b", "", "(?<=x)y", "\\bok\\b", "(.)\\1"),
      fc.stringMatching(/^[abdxy ok3ms^ready]{0,20}$/),
      (lead, rest, line) => {
        expect(compilePattern(`${lead}${rest}`).test(line)).toBe(new RegExp(`${lead}${rest}`).test(line))
      }
    ))
    // Only a leading one: inside, and before a repeat, it is what it was.
    expect(compilePattern("a.*b").source).toBe("a.*b")
    expect(compilePattern("(.*)x").source).toBe("(.*)x")
  })

  it("matches a megabyte printed without a newline (128 pieces) against a pattern that scans on from each position in well under a second", () => {
    // Each 8 KiB piece cost V8's backtracking engine 35 ms for these: 4.5 s of every session's time.
    const piece = "x".repeat(8 * 1024)
    for (const source of ["(\\w+)\\s+ready", "(.*) ready", "(?<name>\\S+) listening"]) {
      const pattern = compilePattern(source)
      const t0 = Date.now()
      for (let i = 0; i < 128; i++) expect(matchOnce(pattern, piece)).toBe(false)
      expect(Date.now() - t0).toBeLessThan(2_500)
    }
  })

  it("matches as the pattern does on any line, short or long, before and after it moves to the linear engine", () => {
    const patterns = ["(\\w+)\\s+ready", "(.*) ready", "^x+ ready$", "(?i)(\\w+) READY", "(.*)(?= ready)"]
      .map(compilePattern)
    // Each pattern slow once: from then on long lines go to the linear engine where it can run them.
    for (const pattern of patterns) matchOnce(pattern, "x".repeat(8 * 1024))
    fc.assert(
      fc.property(
        fc.constantFrom(...patterns),
        fc.nat(2_000),
        fc.constantFrom("ready", " ready", "x ready", " READY", "\n ready", ""),
        fc.nat(2_000),
        (pattern, before, middle, after) => {
          const line = `${"x".repeat(before)}${middle}${"y ".repeat(after)}`
          expect(matchOnce(pattern, line)).toBe(new RegExp(pattern.source, pattern.flags).test(line))
        }
      ),
      { numRuns: 100 }
    )
  })

  it("refuses one the linear engine cannot run (a lookahead, a backreference) that repeats a repeating group", () => {
    expect(() => compilePattern("(a+)+\\1$")).toThrow(RefusedPattern)
    expect(() => compilePattern("((?!x)\\w+)*$")).toThrow(/repeats a group that holds a repeat or a choice/)
    // A repeated choice backtracks as exponentially: Fibonacci(n) steps for n a's.
    expect(() => compilePattern("(a|aa)*(?=c)")).toThrow(RefusedPattern)
    expect(() => compilePattern("^(a|aa)*\\1c")).toThrow(RefusedPattern)
    // A lookbehind the linear engine runs: taken.
    expect(compilePattern("(?<=x)(\\w|\\d)+").test("x1")).toBe(true)
    // Without the nested repeat, or without the lookahead, it is taken.
    expect(compilePattern("ready(?! in)").test("ready now")).toBe(true)
    expect(compilePattern("(\\w+) \\1").test("bye bye")).toBe(true)
  })

  it("refuses a pattern longer than a few words, which V8 would fail at its first match past some 30,000 characters", () => {
    expect(() => compilePattern("x".repeat(MAX_PATTERN + 1))).toThrow(RefusedPattern)
    expect(compilePattern("x".repeat(MAX_PATTERN)).test("x".repeat(MAX_PATTERN))).toBe(true)
  })

  it("says what Python's named group is in JavaScript, and cuts a long pattern in its problem", () => {
    expect(() => compilePattern("(?P<port>\\d+)")).toThrow(
      "(?P<port> is Python's named group, which JavaScript writes without the P: (?<port>…)"
    )
    let error: unknown
    try {
      compilePattern(`${"(x)".repeat(300)}(`)
    } catch (e) {
      error = e
    }
    expect(patternProblem(error)).toMatch(/^\/(\(x\)){66}\(x…\/: Unterminated group$/)
  })
})
