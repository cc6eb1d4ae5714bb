/** Each session's place in each task's output: where its next wait starts, and the prompt it was shown. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { OutputBuffer } from "../../src/output/OutputBuffer.ts"
import { makeShownCursors } from "../../src/supervisor/ShownCursors.ts"
import type { ViewerShape } from "../../src/supervisor/Viewer.ts"

const buffer = () => new OutputBuffer({ maxLines: 1000, maxBytes: 1 << 20, maxLineBytes: 1 << 16 })
const session = (stateless = false) => ({ stateless }) as ViewerShape

describe("ShownCursors", () => {
  it("never moves a session's place back, and keeps each session's and each output's apart", () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat(1000))), (shows) => {
      const shown = makeShownCursors()
      const [a, b] = [session(), session()]
      const [one, two] = [buffer(), buffer()]
      let most = 0
      for (const [toA, at] of shows) {
        shown.show(toA ? a : b, one, at)
        if (toA) most = Math.max(most, at)
        expect(shown.cursor(a, one)).toBe(most)
      }
      expect(shown.cursor(a, two)).toBe(0)
    }))
  })

  it("remembers the prompt shown last, and nothing for a line that had its newline", () => {
    const shown = makeShownCursors()
    const a = session()
    const out = buffer()
    shown.show(a, out, 3, { seq: 4, text: ">>> " })
    expect(shown.partial(a, out)).toEqual({ seq: 4, text: ">>> " })
    expect(shown.partial(session(), out)).toBeUndefined()
  })

  it("gives a stateless (2026-07-28) request its run's start, and remembers nothing for it", () => {
    const shown = makeShownCursors()
    const out = buffer()
    out.append("stdout", Buffer.from("one\ntwo\n"), 0)
    out.markRun(2)
    const stateless = session(true)
    shown.show(stateless, out, 1, { seq: 1, text: "x" })
    expect(shown.cursor(stateless, out)).toBe(out.runStart)
    expect(shown.partial(stateless, out)).toBeUndefined()
  })
})
