/** The screen of a terminal task: its byte ring (pure, property-tested) and what it renders. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { ByteRing, RECENT_BYTES, TerminalScreen } from "../../src/output/TerminalScreen.ts"

describe("ByteRing", () => {
  it("takes exactly what was written since the last take, or its newest bytes and says some were lost", () => {
    const op = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 40 }).map((bytes) => ({ write: bytes })),
      fc.constant({ take: true as const })
    )
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 64 }), fc.array(op, { maxLength: 60 }), (capacity, ops) => {
        const ring = new ByteRing(capacity)
        let since: Array<number> = []
        for (const o of [...ops, { take: true as const }]) {
          if ("write" in o) {
            ring.write(o.write)
            since.push(...o.write)
          } else {
            const { bytes, lost } = ring.take()
            expect([...bytes]).toEqual(since.slice(Math.max(0, since.length - capacity)))
            expect(lost).toBe(since.length > capacity)
            since = []
          }
        }
      })
    )
  })
})

describe("TerminalScreen", () => {
  it("shows the screen a terminal would, after cursor moves", async () => {
    const screen = new TerminalScreen({ cols: 20, rows: 5 })
    screen.write(Buffer.from("one\r\ntwo\r\n\x1b[1;1HONE\x1b[3;1Hthree"))
    expect(await screen.render()).toEqual({ rows: ["ONE", "two", "three"], cursor: { row: 2, col: 5 } })
    // Fed as it goes: later output continues from there.
    screen.write(Buffer.from("\x1b[2J\x1b[Hcleared"))
    expect((await screen.render()).rows).toEqual(["cleared"])
  })

  it("after a flood larger than it keeps, shows the newest lines", async () => {
    const screen = new TerminalScreen({ cols: 40, rows: 4 })
    const lines = Array.from({ length: 40_000 }, (_, i) => `line ${i}\r\n`).join("")
    expect(lines.length).toBeGreaterThan(RECENT_BYTES)
    screen.write(Buffer.from(lines))
    expect((await screen.render()).rows).toEqual(["line 39997", "line 39998", "line 39999"])
  })

  it("after a flood of redraws larger than it keeps, keeps what was drawn once (a header, a footer), with no stray bytes", async () => {
    const screen = new TerminalScreen({ cols: 40, rows: 6 })
    screen.write(Buffer.from("\x1b[?1049h\x1b[H\x1b[2JHEADER drawn once\x1b[6;1HFOOTER: q to quit"))
    expect((await screen.render()).rows[0]).toBe("HEADER drawn once")
    // htop's or watch's way: one region redrawn, far more bytes than the ring holds.
    const redraws = Array.from({ length: 20_000 }, (_, i) => `\x1b[3;1H\x1b[2Kcounter ${i}`).join("")
    expect(redraws.length).toBeGreaterThan(RECENT_BYTES)
    screen.write(Buffer.from(redraws))
    expect((await screen.render()).rows).toEqual([
      "HEADER drawn once",
      "",
      "counter 19999",
      "",
      "",
      "FOOTER: q to quit"
    ])
  })

  it("after a progress bar larger than it keeps (redrawn with \\r only), shows where the bar ended up and what came after", async () => {
    const screen = new TerminalScreen({ cols: 80, rows: 5 })
    const bar = (i: number) => `\r${String(i).padStart(5)}/10000 ${"#".repeat(Math.floor(i / 500))}`
    screen.write(Buffer.from(`Downloading\r\n${Array.from({ length: 1000 }, (_, i) => bar(i)).join("")}`))
    expect((await screen.render()).rows).toEqual(["Downloading", bar(999).slice(1)])
    const rest = Array.from({ length: 20_000 }, (_, i) => bar(i % 10_000)).join("") + bar(10000)
    expect(rest.length).toBeGreaterThan(RECENT_BYTES)
    screen.write(Buffer.from(`${rest}\r\ndone\r\n`))
    expect(await screen.render()).toEqual({
      rows: ["Downloading", bar(10000).slice(1), "done"],
      cursor: { row: 3, col: 0 }
    })
  })

  it("after one line longer than it keeps, shows that line's newest rows, not nothing", async () => {
    const screen = new TerminalScreen({ cols: 40, rows: 4 })
    // Characters of two bytes: the newest bytes may begin inside one.
    screen.write(Buffer.from(`${"é".repeat(200_000)}\r\nafter\r\n`))
    // Taken up at a column the line did not end on, its last row may be shorter than a terminal's.
    const { rows } = await screen.render()
    expect(rows).toEqual(["é".repeat(40), expect.stringMatching(/^é+$/), "after"])
  })

  it("a resize reflows to the new width", async () => {
    const screen = new TerminalScreen({ cols: 10, rows: 3 })
    screen.write(Buffer.from("abcdefghijklmno"))
    expect((await screen.render()).rows).toEqual(["abcdefghij", "klmno"])
    screen.resize({ cols: 30, rows: 3 })
    expect((await screen.render()).rows[0]).toMatch(/^abcdefghij/)
  })
})

describe("a program's terminal queries", () => {
  it("are found in one chunk or split across two at any byte", () => {
    for (const query of ["\x1b[6n", "\x1b[c", "\x1b[0c", "\x1b[>c", "\x1b[5n", "\x1b[?2026$p", "\x1bP$q"]) {
      for (let cut = 1; cut < query.length; cut++) {
        const screen = new TerminalScreen({ cols: 20, rows: 5 })
        expect(screen.write(Buffer.from(`abc${query.slice(0, cut)}`))).toBe(false)
        expect(screen.write(Buffer.from(`${query.slice(cut)}def`))).toBe(true)
      }
    }
    const screen = new TerminalScreen({ cols: 20, rows: 5 })
    // An escape that starts something else is not a query, and is not carried for ever.
    expect(screen.write(Buffer.from("\x1b[1m"))).toBe(false)
    expect(screen.write(Buffer.from("6n"))).toBe(false)
    expect(screen.write(Buffer.from("\x1b[?1;2c \x1b[31m 12$p"))).toBe(false)
  })

  it("are answered as xterm answers them, each once, the cursor where it was asked", async () => {
    const screen = new TerminalScreen({ cols: 20, rows: 5 })
    screen.write(Buffer.from("one\r\ntwo\x1b[6n\r\nthree\x1b[c\x1b[>c"))
    expect(await screen.replies()).toBe("\x1b[2;4R\x1b[?1;2c\x1b[>0;276;0c")
    expect(await screen.replies()).toBe("")
  })

  it("a cursor report is the cursor where the screen has it, 1-based", async () => {
    const screen = new TerminalScreen({ cols: 20, rows: 5 })
    screen.write(Buffer.from("one\r\ntwo"))
    expect(await screen.cursorReport()).toBe("\x1b[2;4R")
  })
})

describe("keys typed into a program that switched the cursor keys to application mode (ncurses' keypad)", () => {
  it("go as a terminal sends them then, ESC O A, and as ESC [ A again once it switches back", () => {
    const screen = new TerminalScreen({ cols: 80, rows: 24 })
    expect(screen.keys(Buffer.from("\x1b[A")).toString()).toBe("\x1b[A")
    screen.write(Buffer.from("\x1b[?1h\x1b=menu"))
    // Arrows, Home and End change; a modified arrow (Ctrl-Up) and other keys (PgUp) do not.
    expect(screen.keys(Buffer.from("x\x1b[A\x1b[B\x1b[C\x1b[D\x1b[H\x1b[F\x1b[1;5A\x1b[5~")).toString())
      .toBe("x\x1bOA\x1bOB\x1bOC\x1bOD\x1bOH\x1bOF\x1b[1;5A\x1b[5~")
    screen.write(Buffer.from("\x1b[?1l\x1b>"))
    expect(screen.keys(Buffer.from("\x1b[A")).toString()).toBe("\x1b[A")
    // Several modes in one switch, as some programs write them: both followed.
    screen.write(Buffer.from("\x1b[?1049;1h"))
    expect(screen.fullScreen).toBe(true)
    expect(screen.keys(Buffer.from("\x1b[A")).toString()).toBe("\x1bOA")
    screen.write(Buffer.from("\x1b[?1l\x1b[?1049l"))
    expect(screen.fullScreen).toBe(false)
    // A new run starts with the terminal's default: normal mode.
    screen.write(Buffer.from("\x1b[?1h"))
    screen.reset()
    expect(screen.keys(Buffer.from("\x1b[B")).toString()).toBe("\x1b[B")
  })
})

describe("a resize", () => {
  /** A box 60 columns wide, drawn once at 80 (a program that does not redraw on SIGWINCH). */
  const box = Buffer.from(Array.from({ length: 5 }, (_, i) => `row0${i} ${"=".repeat(54)}`).join("\r\n"))
  const narrowAndBack = async (readFirst: boolean) => {
    const screen = new TerminalScreen({ cols: 80, rows: 24 })
    screen.write(box)
    if (readFirst) await screen.render()
    screen.resize({ cols: 40, rows: 24 })
    const narrow = (await screen.render()).rows
    screen.resize({ cols: 80, rows: 24 })
    return { narrow, back: (await screen.render()).rows }
  }

  it("comes after the bytes written before it, whether or not the screen was read in between", async () => {
    const unread = await narrowAndBack(false)
    expect(unread).toEqual(await narrowAndBack(true))
    // Back at 80, each row as it was drawn, reflowed (all but the cursor's, which xterm cuts as it narrows).
    expect(unread.back.slice(0, 4)).toEqual(box.toString().split("\r\n").slice(0, 4))
  })
})
