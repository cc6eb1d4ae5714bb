import { describe, expect, it } from "vitest"
import { fullLines, LinePrinter } from "../../src/cli/LinePrinter.ts"
import { textPrinter } from "../../src/cli/logs.ts"
import { colours, plain } from "../../src/cli/style.ts"

const printer = () => textPrinter(plain, false)

describe("fullLines", () => {
  it("fills in each seq and stream read_output leaves out; a partial line repeats the seq after it", () => {
    expect(fullLines([{ text: "a", seq: 4 }, { text: "b", stream: "stderr" }, { text: "c", partial: true }]))
      .toEqual([
        { seq: 4, stream: "stdout", text: "a", partial: false, cut: false },
        { seq: 5, stream: "stderr", text: "b", partial: false, cut: false },
        { seq: 6, stream: "stdout", text: "c", partial: true, cut: false }
      ])
  })
})

describe("LinePrinter", () => {
  it("marks stderr lines as read_output's text does, and colours them too on a terminal", () => {
    expect(printer().page([{ text: "out", seq: 1 }, { text: "err", stream: "stderr" }])).toBe("out\n! err\n")
    expect(textPrinter(colours, true).page([{ text: "err", seq: 1, stream: "stderr" }])).toBe("\x1b[31m! err\x1b[39m\n")
  })

  it("joins the pieces of a line cut at the line limit: no newline inside it, nor a second stderr mark", () => {
    const p = printer()
    expect(p.page([{ text: "aaaa", seq: 1, cut: true }, { text: "bbbb", cut: true }])).toBe("aaaabbbb")
    expect(p.page([{ text: "cc", seq: 3 }, { text: "next" }])).toBe("cc\nnext\n")
    expect(printer().page([{ text: "e1", seq: 1, stream: "stderr", cut: true }, { text: "e2", stream: "stderr" }]))
      .toBe("! e1e2\n")
    // Another stream's line between: the cut line ends where it is; so does the output.
    const q = printer()
    expect(q.page([{ text: "aaaa", seq: 1, cut: true }, { text: "err", stream: "stderr" }])).toBe("aaaa\n! err\n")
    expect(q.page([{ text: "x", seq: 3, cut: true }]) + q.finish()).toBe("x\n")
  })

  it("shows a line once when two answers both hold it", () => {
    const p = printer()
    expect(p.page([{ text: "a", seq: 1 }, { text: "b" }])).toBe("a\nb\n")
    expect(p.page([{ text: "b", seq: 2 }, { text: "c" }])).toBe("c\n")
  })

  it("shows a partial line as it grows and finishes it in place", () => {
    const p = printer()
    expect(p.page([{ text: "a", seq: 1 }, { text: "Pass", seq: 2, partial: true }])).toBe("a\nPass")
    expect(p.page([{ text: "Passwo", seq: 2, partial: true }])).toBe("wo")
    expect(p.page([{ text: "Passwo", seq: 2, partial: true }])).toBe("")
    expect(p.page([{ text: "Password: ok", seq: 2 }, { text: "next" }])).toBe("rd: ok\nnext\n")
    expect(p.finish()).toBe("")
  })

  it("shows a partial line again whole when another stream's line came in between", () => {
    const p = printer()
    expect(p.page([{ text: "Name? ", seq: 1, partial: true }])).toBe("Name? ")
    expect(p.page([{ text: "warning", seq: 1, stream: "stderr" }, { text: "Name? Bob" }])).toBe(
      "\n! warning\nName? Bob\n"
    )
  })

  it("ends a partial line with a newline at the end of the output", () => {
    const p = printer()
    expect(p.page([{ text: ">>> ", seq: 3, partial: true }])).toBe(">>> ")
    expect(p.finish()).toBe("\n")
  })

  it("holds back a character cut in two at the end of a partial line", () => {
    const p = new LinePrinter({ piece: (_s, text) => text })
    expect(p.page([{ text: "caf\uFFFD", seq: 1, stream: "terminal", partial: true }])).toBe("caf")
    expect(p.page([{ text: "café!", seq: 1, stream: "terminal" }])).toBe("é!\n")
  })

  it("marks the first line of a new run", () => {
    expect(printer().page([{ text: "a", seq: 1 }, { text: "b", run: 2 }])).toBe("a\n── run 2 ──\nb\n")
  })

  it("starts over after reset (a new output numbered from 1)", () => {
    const p = printer()
    p.page([{ text: "a", seq: 1 }, { text: "b" }])
    p.reset()
    expect(p.page([{ text: "new", seq: 1 }])).toBe("new\n")
  })
})
