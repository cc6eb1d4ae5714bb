/** The `lines` event of a live output stream, built alone: what a line keeps, and what a flood skipped. */
import { describe, expect, it } from "vitest"
import type { LineRecord } from "../../src/domain/Task.ts"
import { linesEvent, lostLinesEvent } from "../../src/web/outputStream.ts"

const line = (seq: number, more: Partial<LineRecord> = {}): LineRecord => ({
  seq,
  stream: "stdout",
  text: `line ${seq}`,
  time: 0,
  ...more
})

describe("linesEvent", () => {
  it("keeps of each line its seq and text, its stream unless stdout, its run, and whether it is partial", () => {
    expect(linesEvent([line(1), line(2, { stream: "stderr", run: 2 }), line(3, { partial: true })], 3, 0)).toEqual({
      lines: [
        { seq: 1, text: "line 1" },
        { seq: 2, text: "line 2", stream: "stderr", run: 2 },
        { seq: 3, text: "line 3", partial: true }
      ],
      nextCursor: 3,
      skipped: 0
    })
  })

  it("says how many lines between the cursor and the first it sends it skipped", () => {
    expect(linesEvent([line(15), line(16)], 16, 10).skipped).toBe(4)
    expect(linesEvent([], 16, 10)).toEqual({ lines: [], nextCursor: 16, skipped: 0 })
  })
})

describe("lostLinesEvent", () => {
  it("numbers a lost task's last lines from 1, nothing skipped", () => {
    expect(lostLinesEvent(["a", "b"])).toEqual({
      lines: [{ seq: 1, text: "a" }, { seq: 2, text: "b" }],
      nextCursor: 2,
      skipped: 0
    })
  })
})
