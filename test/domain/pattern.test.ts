import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { compilePattern } from "../../src/domain/pattern.ts"

describe("compilePattern: a caller's pattern, with the flags other languages write", () => {
  it("takes a leading (?i) as Python, Go and PCRE do, and a /regex/flags literal", () => {
    expect(compilePattern("(?i)ready").test("Server READY")).toBe(true)
    expect(compilePattern("(?im)^ready$").test("x\nREADY")).toBe(true)
    expect(compilePattern("/ready/i").test("Server READY")).toBe(true)
    expect(compilePattern("/listening on \\d+/i").test("LISTENING ON 80")).toBe(true)
  })

  it("leaves everything else as JavaScript reads it: /api/ without flags is the path", () => {
    expect(compilePattern("/api/").test("GET /api/ 200")).toBe(true)
    expect(compilePattern("ready").test("Server READY")).toBe(false)
    expect(() => compilePattern("(?x)ready")).toThrow(SyntaxError)
    expect(() => compilePattern("(unclosed")).toThrow(SyntaxError)
  })

  it("compiles any valid JavaScript pattern to the same source", () => {
    fc.assert(fc.property(fc.stringMatching(/^[a-z .|]{0,12}$/), (source) => {
      expect(compilePattern(source).source).toBe(new RegExp(source).source)
    }))
  })
})
