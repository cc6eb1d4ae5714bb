import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { hasMatch, matchRanges } from "../../ui/src/matchRanges.ts"

const marked = (text: string, query: string) =>
  matchRanges(text, query.toLowerCase()).map(([start, end]) => text.slice(start, end))

describe("the page's search marks what it found", () => {
  it("marks the words found, in any case, on a line whose letters lower to more than they are (Turkish İ)", () => {
    const line = "İstanbul ERROR here İİİ error again"
    expect(marked(line, "error")).toEqual(["ERROR", "error"])
    expect(marked(line, "İ")).toEqual(["İ", "İ", "İ", "İ"])
    expect(marked(line, "istanbul")).toEqual([])
    expect(marked(line, "stanbul")).toEqual(["stanbul"])
    expect(marked("ÉCOLE école", "école")).toEqual(["ÉCOLE", "école"])
    expect(hasMatch(line, "error")).toBe(true)
  })

  it("marks, in order and apart, parts of the text that lower to the query", () => {
    fc.assert(fc.property(
      fc.string({ unit: fc.constantFrom("a", "A", "İ", "i", "ß", "e", "É", "🚀", " ") }),
      fc.string({ unit: fc.constantFrom("a", "i", "e", "é"), minLength: 1, maxLength: 3 }),
      (text, query) => {
        const ranges = matchRanges(text, query)
        let last = 0
        for (const [start, end] of ranges) {
          expect(start).toBeGreaterThanOrEqual(last)
          expect(end).toBeGreaterThan(start)
          expect(text.slice(start, end).toLowerCase()).toContain(query)
          last = end
        }
        expect(ranges.length > 0).toBe(hasMatch(text, query))
      }
    ))
  })
})
