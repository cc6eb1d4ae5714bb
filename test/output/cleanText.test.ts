import { assert, describe, it } from "@effect/vitest"
import { cleanText } from "../../src/output/cleanText.ts"

describe("cleanText", () => {
  it("strips colours, cursor moves and OSC titles", () => {
    assert.strictEqual(cleanText("\u001b[31mred\u001b[0m \u001b[1;32mbold green\u001b[39m"), "red bold green")
    assert.strictEqual(cleanText("\u001b[2K\u001b[1Gdone"), "done")
    assert.strictEqual(cleanText("\u001b]0;my title\u0007prompt$"), "prompt$")
  })

  it("collapses carriage-return redraws to the final state", () => {
    assert.strictEqual(cleanText("[#   ] 25%\r[##  ] 50%\r[####] 100%"), "[####] 100%")
    assert.strictEqual(cleanText("abcdef\rXY"), "XYcdef")
    assert.strictEqual(cleanText("\rloading...\rdone      "), "done      ")
    assert.strictEqual(cleanText("plain"), "plain")
    assert.strictEqual(cleanText("\u001b[32m50%\u001b[0m\r\u001b[32m100%\u001b[0m"), "100%")
  })

  it("collapses a spinner's redraws (a move to column 1, an erase of the line) as ora, listr and pnpm write them", () => {
    assert.strictEqual(cleanText("frame1\u001b[2K\u001b[1Gframe2\u001b[2K\u001b[1Gframe3"), "frame3")
    assert.strictEqual(
      cleanText("\u001b[?25l⠋ Loading\u001b[G\u001b[2K⠙ Loading\u001b[G\u001b[2K\u001b[32m✔\u001b[39m Done"),
      "✔ Done"
    )
    // A move alone overwrites; an erase clears what a shorter frame would leave.
    assert.strictEqual(cleanText("loading...\u001b[1Gdone"), "doneing...")
    assert.strictEqual(cleanText("loading...\u001b[1G\u001b[2Kdone"), "done")
  })

  it("leaves no other control character: a NUL, a bell, a lone escape say nothing; a backspace moves back", () => {
    assert.strictEqual(cleanText("zero\u0000width\u0007 bell\u001b"), "zerowidth bell")
    assert.strictEqual(cleanText("tab\there"), "tab\there")
    assert.strictEqual(cleanText("50%\b\b\b75%"), "75%")
    assert.strictEqual(cleanText("\u0001\u0002\u001f\u007f"), "")
  })
})
