import { assert, describe, it } from "@effect/vitest"
import { cleanText, collapseCarriageReturns } from "../../src/output/cleanText.ts"

describe("cleanText", () => {
  it("strips colours, cursor moves and OSC titles", () => {
    assert.strictEqual(cleanText("\u001b[31mred\u001b[0m \u001b[1;32mbold green\u001b[39m"), "red bold green")
    assert.strictEqual(cleanText("\u001b[2K\u001b[1Gdone"), "done")
    assert.strictEqual(cleanText("\u001b]0;my title\u0007prompt$"), "prompt$")
  })

  it("collapses carriage-return redraws to the final state", () => {
    assert.strictEqual(collapseCarriageReturns("[#   ] 25%\r[##  ] 50%\r[####] 100%"), "[####] 100%")
    assert.strictEqual(collapseCarriageReturns("abcdef\rXY"), "XYcdef")
    assert.strictEqual(collapseCarriageReturns("\rloading...\rdone      "), "done      ")
    assert.strictEqual(collapseCarriageReturns("plain"), "plain")
  })
})
