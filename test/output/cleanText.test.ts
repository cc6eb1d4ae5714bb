import { assert, describe, it } from "@effect/vitest"
import fc from "fast-check"
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
    // A byte-order mark first (a Windows program's output, a file it wrote): `^ready` matches the line.
    assert.strictEqual(cleanText("\ufeffready"), "ready")
  })

  it("strips escape sequences written with 8-bit (C1) introducers, which terminals obey as the 7-bit ones", () => {
    // OSC 52 (the clipboard), a title, a DCS request and a CSI clear, each as a terminal reads them in UTF-8.
    assert.strictEqual(cleanText("A osc52 \u009d52;c;ZXZpbA==\u009c end"), "A osc52  end")
    assert.strictEqual(cleanText("B title \u009d0;PWNED\u0007 end"), "B title  end")
    assert.strictEqual(cleanText("D dcs \u0090$q\"p\u009c end"), "D dcs  end")
    assert.strictEqual(cleanText("E csi \u009b2J end"), "E csi  end")
    // A lone introducer is a control that says nothing: no text after it goes missing.
    assert.strictEqual(cleanText("F \u0090 open"), "F  open")
    assert.strictEqual(cleanText("\u0080\u0085\u009f"), "")
  })

  it("leaves no sequence a control inside one would put back together, on a line of edits too", () => {
    // A CAN inside a CSI cancels it on a terminal; removed, it must not leave U+009B 2 J behind.
    assert.strictEqual(cleanText("C \u009b2\u0018J end"), "C 2J end")
    assert.strictEqual(cleanText("C \u001b[2\u0018J end"), "C [2J end")
    assert.strictEqual(cleanText("50%\r\u009b2\u0018J 75%"), "2J 75%")
    // A title's carriage return belongs to the title, not to the line.
    assert.strictEqual(cleanText("L29 \u001b]0;a\rb\u0007 after"), "L29  after")
    const introducers = new RegExp(String.raw`[\x00-\x08\x0a-\x1f\x7f-\x9f]`)
    const piece = fc.oneof(
      fc.constantFrom(
        "\u001b",
        "\u009b",
        "\u009d",
        "\u0090",
        "\u009c",
        "\u0018",
        "\r",
        "\b",
        "[",
        "]",
        "2",
        "J",
        ";",
        "\u0007"
      ),
      fc.string({ maxLength: 3 })
    )
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 40 }),
        fc.option(fc.integer({ min: 20, max: 200 }), { nil: undefined }),
        (parts, cols) => {
          assert.notMatch(cleanText(parts.join(""), cols), introducers)
        }
      )
    )
  })

  it("erases to the end of the line (ESC[K, ESC[0K), from its start (ESC[1K), and a cell count (ESC[nX)", () => {
    assert.strictEqual(cleanText("Downloading 100 files...\r\u001b[KDone"), "Done")
    assert.strictEqual(cleanText("Downloading...\r\u001b[0KOK"), "OK")
    assert.strictEqual(cleanText("abcdef\u001b[3D\u001b[1Kx"), "   xef")
    assert.strictEqual(cleanText("abcdef\u001b[4D\u001b[2X"), "ab  ef")
  })

  it("follows a line editor's moves: right, left, to a column, and deleted and inserted characters", () => {
    // Python's REPL: print(1) typed, 8 left, 7 right, "+0" typed over the rest, which readline redraws.
    const keys = ">>> print(1)" + "\b".repeat(8) + "\u001b[C".repeat(7) + "+0)\b\b"
    assert.strictEqual(cleanText(keys), ">>> print(1+0)")
    assert.strictEqual(cleanText("abc\u001b[2D\u001b[Pxyz"), "axyz")
    assert.strictEqual(cleanText("abcdef\u001b[4D\u001b[2@XY"), "abXYcdef")
    assert.strictEqual(cleanText("abc\u001b[3G!"), "ab!")
    // A move right past the end writes after spaces; a move alone adds nothing.
    assert.strictEqual(cleanText("ab\u001b[2Cc"), "ab  c")
    assert.strictEqual(cleanText("ab\u001b[5C"), "ab")
  })

  it("counts a wide character (CJK, emoji) as two cells, and a combining mark as none", () => {
    // readline's two backspaces over 文, then a space each and two back: 字 in its place.
    assert.strictEqual(cleanText(">>> print(\"中文\b\b  \b\b字\")"), ">>> print(\"中字\")")
    assert.strictEqual(cleanText("a😀\u001b[4GX|"), "a😀X|")
    // Half of a wide character overwritten leaves a space in the other half.
    assert.strictEqual(cleanText("中!\rx"), "x !")
    assert.strictEqual(cleanText("cafe\u0301!\b?"), "cafe\u0301?")
  })

  it("on a terminal of a width, acts on the row the cursor is on: a shell's wrapped command line", () => {
    // bash at 20 columns writes the 21st character, then a return to the start of that (second) row.
    const line = "$ echo aaaa bbbb ccc" + "c\r" + "cc dddd END"
    assert.strictEqual(cleanText(line, 20), "$ echo aaaa bbbb ccccc dddd END")
    // Without the width it would be one row, and the return would overwrite the prompt.
    assert.strictEqual(cleanText(line), "cc dddd END bbbb cccc")
    // Up a row and along it, as readline moves to edit the first row of a wrapped line.
    assert.strictEqual(cleanText("0123456789abcdefghij" + "XYZ" + "\u001b[A\u001b[3D!", 20), "!123456789abcdefghijXYZ")
  })

  it("an erase after the cursor changes nothing; a line rewritten in full after a return is the rewrite", () => {
    const printable = new RegExp(String.raw`[\x00-\x08\x0a-\x1f\x7f-\x9f]`, "g")
    const text = fc.array(fc.oneof(fc.constantFrom("a", "Z", " ", "中", "😀", "é", "\t"), fc.string()), {
      maxLength: 30
    }).map((parts) => parts.join("").replace(printable, ""))
    fc.assert(fc.property(text, fc.option(fc.integer({ min: 20, max: 200 }), { nil: undefined }), (s, cols) => {
      assert.strictEqual(cleanText(`${s}\u001b[K`, cols), s)
    }))
    fc.assert(fc.property(text, text, (before, after) => {
      assert.strictEqual(cleanText(`${before}\r\u001b[K${after}`), cleanText(after))
    }))
  })

  it("a cursor moved up past the line's first row shows what is written after it, not two lines mixed", () => {
    // tqdm's two bars: bar B on this line, then up to bar A's line and its new text ("bar A 1/50" never showed).
    assert.strictEqual(cleanText("\rbar B 0/10\u001b[A\rbar A 1/5", 60), "bar A 1/5")
    assert.strictEqual(cleanText("\rbar B 0/10\u001b[A\rbar A 1/5"), "bar A 1/5")
    // Nothing written after it: the line as it showed.
    assert.strictEqual(cleanText("\rbar B 10/10\u001b[A", 60), "bar B 10/10")
    // Up within a wrapped line still edits that line (a shell's long command line).
    assert.strictEqual(cleanText(`$ ${"x".repeat(70)}\u001b[A\r$ y`, 60), `$ y${"x".repeat(69)}`)
  })

  it("leaves out what was drawn on the alternate screen once the program left it, as a terminal shows the main screen again", () => {
    const into = "\u001b[?1049h"
    const out = "\u001b[?1049l"
    // vim typed at a prompt, its screen, then the shell's next prompt.
    assert.strictEqual(cleanText(`$ vim f.txt${into}\u001b[H~\r\n~ "f.txt" 4L written${out}$ `), "$ vim f.txt$ ")
    // Gone there on an earlier line (its drawing had newlines): this line's start was drawn there too.
    assert.strictEqual(cleanText(`~      ~\u001b[24;1H:wq${out}rc=0 choice=b`), "rc=0 choice=b")
    // Still there: its drawing is what the line holds (read_output says fullScreen).
    assert.strictEqual(cleanText(`menu${into}\u001b[H> apple`), "menu> apple")
    // There and back twice: only the main screen's text.
    assert.strictEqual(cleanText(`a${into}x${out}b\u001b[?47hy\u001b[?47lc`), "abc")
  })

  it("draws DEC's line-drawing letters (dialog's boxes) as the lines a terminal shows, colours and moves between them", () => {
    assert.strictEqual(cleanText("\u001b(0lqqqk\u001b(B Menu"), "┌───┐ Menu")
    assert.strictEqual(cleanText("\u001b(0x\u001b[7m\u001b[1Cx\u001b(B x"), "│ │ x")
    // Not switched: letters stay letters.
    assert.strictEqual(cleanText("lqqqk"), "lqqqk")
  })
})
