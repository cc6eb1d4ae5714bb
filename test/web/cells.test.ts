import { describe, expect, it } from "vitest"
import { atColumn, fitCells } from "../../ui/src/cells.ts"

describe("the app's screen rows, in the cells the emulator drew them in", () => {
  it("finds the cursor's column after wide characters, and keeps an emoji under it whole", () => {
    // After "> 日本語日本語" and three presses of Left: cell 8, on the second 日 (a string index would say 語).
    expect(atColumn("> 日本語日本語", 8)).toEqual(["> 日本語", "日", "本語"])
    expect(atColumn("go 🚀 now", 3)).toEqual(["go ", "🚀", " now"])
    // On the right half of a wide character: that character.
    expect(atColumn("日本", 3)).toEqual(["日", "本", ""])
    // Past the text's end: spaces up to it, the cursor on a blank.
    expect(atColumn("日本", 6)).toEqual(["日本  ", " ", ""])
    // A mark stays on its letter.
    expect(atColumn("cafe\u0301!", 3)).toEqual(["caf", "e\u0301", "!"])
  })

  it("cuts a row at a width in cells, never half a character, marks kept with theirs", () => {
    expect(fitCells("日本語", 5)).toBe("日本")
    expect(fitCells("cafe\u0301s", 4)).toBe("cafe\u0301")
    expect(fitCells("abc", 80)).toBe("abc")
  })
})
