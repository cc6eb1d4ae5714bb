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

  it("draws a redrawn partial line (a progress bar) over in place on a terminal, where it takes one row; in a pipe, each state on a line", () => {
    const bar = (percent: number, extra: Record<string, unknown> = {}) => ({
      text: `progress ${percent}%`,
      seq: 2,
      partial: true,
      ...extra
    })
    const p = textPrinter(plain, false, 80)
    expect(p.page([{ text: "start", seq: 1 }, bar(10)])).toBe("start\nprogress 10%")
    expect(p.page([bar(20)])).toBe("\r\x1b[Kprogress 20%")
    expect(p.page([{ text: "progress 100%", seq: 2 }, { text: "done" }])).toBe("\r\x1b[Kprogress 100%\ndone\n")
    // stderr's mark is drawn again with it, and counts in its width.
    const e = textPrinter(colours, true, 80)
    expect(e.page([bar(1, { stream: "stderr" })]) + e.page([bar(2, { stream: "stderr" })])).toBe(
      "\x1b[31m! progress 1%\x1b[39m\r\x1b[K\x1b[31m! progress 2%\x1b[39m"
    )
    // A partial line that wraps on the terminal is shown again below it: a row cleared would leave the rest.
    const narrow = textPrinter(plain, false, 12)
    expect(narrow.page([bar(10)]) + narrow.page([bar(20)])).toBe("progress 10%\nprogress 20%")
    // Another stream's line in between: shown again whole, as before.
    const q = textPrinter(plain, false, 80)
    expect(q.page([{ text: "Name? ", seq: 1, partial: true }])).toBe("Name? ")
    expect(q.page([{ text: "warning", seq: 1, stream: "stderr" }, { text: "Name: Bob", partial: true }])).toBe(
      "\n! warning\nName: Bob"
    )
    // In a pipe there is no row to draw over.
    const piped = printer()
    expect(piped.page([bar(10)]) + piped.page([bar(20)])).toBe("progress 10%\nprogress 20%")
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
