import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { escapeControls, jsonEscapingControls } from "../../src/domain/escapeControls.ts"
import { compilePattern } from "../../src/domain/pattern.ts"

// eslint-disable-next-line no-control-regex -- what must not be left
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

describe("escapeControls and jsonEscapingControls: text from elsewhere, quoted so no terminal obeys it", () => {
  it("writes every C0 and C1 control as an escape, and leaves the rest", () => {
    expect(escapeControls("evil\u001b]52;c;ZXZpbA==\u0007 \u009d0;T\u009c ok é")).toBe(
      "evil\\x1b]52;c;ZXZpbA==\\x07 \\x9d0;T\\x9c ok é"
    )
    fc.assert(fc.property(fc.string({ unit: "binary" }), (s) => {
      expect(escapeControls(s)).not.toMatch(CONTROL)
    }))
  })

  it("gives the same JSON value with C1 and DEL escaped, which JSON.stringify leaves raw", () => {
    const value = { command: "sleep 60 # \u009d52;c;ZXZpbA==\u009c\u007f", n: [1, "\u001b"] }
    expect(JSON.stringify(value)).toMatch(CONTROL)
    const json = jsonEscapingControls(value, 2)
    // Its own line breaks (the indent's) are all it holds.
    expect(json.replaceAll("\n", "")).not.toMatch(CONTROL)
    expect(JSON.parse(json)).toEqual(value)
    fc.assert(fc.property(fc.jsonValue(), (v) => {
      const text = jsonEscapingControls(v)
      expect(text).not.toMatch(CONTROL)
      expect(text).toBe(JSON.stringify(v).replace(/[\u007f-\u009f]/g, (c) => `\\u00${c.charCodeAt(0).toString(16)}`))
    }))
  })

  it("leaves no control of a pattern in the error that quotes it (a project file's \\e is an escape)", () => {
    let message = ""
    try {
      compilePattern("\u001b]52;c;ZXZpbA==\u0007\u009d0;TITLE\u009c((")
    } catch (error) {
      message = (error as Error).message
    }
    expect(message).toContain("\\x1b]52;c;ZXZpbA==\\x07\\x9d0;TITLE\\x9c((")
    expect(message).not.toMatch(CONTROL)
  })
})
