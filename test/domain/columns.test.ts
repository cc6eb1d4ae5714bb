import { describe, expect, it } from "vitest"
import { columnsOf } from "../../src/domain/columns.ts"

describe("columnsOf: the columns text takes on a terminal", () => {
  it("counts two for wide characters and emoji, none for marks and joiners, one for the rest", () => {
    expect(columnsOf("abc")).toBe(3)
    expect(columnsOf("日本語")).toBe(6)
    // Emoji a hand-made table missed (a row of `taskmux ps` wrapped on them): 🚀, ⚡, ⌚, 🫠.
    expect(columnsOf("🚀⚡⌚🫠")).toBe(8)
    expect(columnsOf("e\u0301")).toBe(1)
    expect(columnsOf("a\u200db\ufeff")).toBe(2)
    // Ambiguous width (Greek, box drawing) as one, as terminals outside East Asia draw them.
    expect(columnsOf("αβ─")).toBe(3)
  })
})
