import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { shownSafely } from "../../src/cli/terminalText.ts"

describe("shownSafely: what the CLI prints, as a terminal gets it", () => {
  it("keeps its own colours, tabs and line ends, and shows every other control instead of sending it", () => {
    expect(shownSafely("\u001b[1mweb\u001b[22m\trunning\r\n")).toBe("\u001b[1mweb\u001b[22m\trunning\r\n")
    expect(shownSafely("a\u001b]52;c;ZXZpbA==\u0007b")).toBe("a^[]52;c;ZXZpbA==^Gb")
    expect(shownSafely("x\u009d0;T\u009c \u009b2J\rdone")).toBe("xM-^]0;TM-^\\ M-^[2J^Mdone")
  })

  it("lets nothing through but SGR after an escape, whatever the text", () => {
    const piece = fc.oneof(
      fc.constantFrom("\u001b", "\u001b[", "\u001b[31m", "\u009b", "\u009d", "\r", "\n", "\r\n", "m", "[", "2J"),
      fc.string({ unit: "binary", maxLength: 4 })
    )
    fc.assert(fc.property(fc.array(piece, { maxLength: 30 }), (parts) => {
      const shown = shownSafely(parts.join(""))
      // eslint-disable-next-line no-control-regex -- what must not be left
      expect(shown.replace(/\u001b\[[0-9;]*m|\r\n/g, "")).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/)
    }))
  })
})
