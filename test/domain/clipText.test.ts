import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { clipText, firstLineOf, headOf, tailOf } from "../../src/domain/clipText.ts"

/** A lone surrogate: what JSON.stringify writes as "\ud83d", and strict JSON parsers refuse. */
const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

describe("text cut to a length never splits a character", () => {
  it("leaves no half of an emoji at either end", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), fc.nat(300), (text, n) => {
      expect(lone.test(headOf(text, n))).toBe(false)
      expect(lone.test(tailOf(text, n))).toBe(false)
      expect(lone.test(clipText(text, n + 1))).toBe(false)
      expect(text.startsWith(headOf(text, n))).toBe(true)
      expect(text.endsWith(tailOf(text, n))).toBe(true)
    }))
  })

  it("cuts before the emoji a length would split, and keeps what fits", () => {
    expect(clipText("🚀".repeat(200), 300)).toBe(`${"🚀".repeat(149)}…`)
    expect(clipText("a🚀".repeat(101), 300)).toBe(`${"a🚀".repeat(99)}a…`)
    expect(tailOf("x🚀🚀", 3)).toBe("🚀")
    expect(clipText("short", 10)).toBe("short")
  })

  it("says a failure by its first line, whatever failed", () => {
    expect(firstLineOf(new Error("EMFILE: too many open files\n    at open (node:fs)"))).toBe(
      "EMFILE: too many open files"
    )
    expect(firstLineOf("plain\nmore")).toBe("plain")
    expect(firstLineOf(undefined)).toBe("undefined")
    expect(firstLineOf(new Error(""))).toBe("")
  })
})
