/** A task's state changes, apart from the actor that makes them: each keeps the invariants readers rely on. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { canTransition, isFinished } from "../../src/domain/Task.ts"
import { OutputBuffer } from "../../src/output/OutputBuffer.ts"
import {
  afterRun,
  type EarlierWidth,
  failedRun,
  resized,
  runReset,
  stoppedNow,
  widthAt
} from "../../src/supervisor/TaskState.ts"

const end = fc.record({
  status: fc.constantFrom("exited" as const, "crashed" as const, "stopped" as const),
  exitCode: fc.option(fc.integer({ min: 0, max: 255 }), { nil: null }),
  signal: fc.option(fc.constantFrom("SIGTERM", "SIGKILL", "SIGINT"), { nil: null }),
  leftRunning: fc.option(fc.array(fc.string(), { maxLength: 3 }), { nil: undefined }),
  stoppedBy: fc.option(fc.constantFrom("stop_task from cursor", "its session ended"), { nil: undefined })
})
const at = fc.record({
  endedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  nowMs: fc.double({ min: 0, max: 1e9, noNaN: true }),
  runMs: fc.double({ min: 0, max: 1e9, noNaN: true }),
  exitHeadline: fc.option(fc.string(), { nil: null }),
  restartInMs: fc.option(fc.integer({ min: 0, max: 600_000 }), { nil: undefined }),
  gaveUp: fc.option(fc.string({ minLength: 1 }), { nil: undefined })
})

describe("a task's state changes", () => {
  it("a run's end: restarting exactly when a next run is due, ended otherwise, and how it ended kept", () =>
    fc.assert(fc.property(end, at, (ended, when) => {
      const after = afterRun(ended, when)
      expect(after.restartDueMs !== null).toBe(after.status === "restarting")
      expect(after.status === "restarting" || isFinished(after.status!)).toBe(true)
      expect(canTransition("running", after.status!)).toBe(true)
      expect(after.endedAt).toBe(when.endedAt)
      expect(after.lastExit).toEqual({
        status: ended.status,
        exitCode: ended.exitCode,
        signal: ended.signal,
        at: when.endedAt
      })
      expect(after.process).toBeUndefined()
      expect(after.stoppedBy).toBe(ended.stoppedBy ?? null)
      expect(after.error).toBe(when.gaveUp)
    })))

  it("a failed start, a stop between runs and a new run are transitions a task can make", () =>
    fc.assert(fc.property(fc.constantFrom("running" as const, "restarting" as const), fc.string(), (from, why) => {
      expect(canTransition(from, failedRun(why, "t").status!)).toBe(true)
      expect(canTransition("restarting", stoppedNow("t").status!)).toBe(true)
      expect(stoppedNow("t").restartDueMs).toBeNull()
      for (const finished of ["exited", "crashed", "stopped", "failed"] as const) {
        expect(canTransition(finished, runReset(1).status)).toBe(true)
      }
      expect(runReset(3)).toMatchObject({ restarts: 3, endedAt: null, restartDueMs: null, pid: null })
    })))

  it("a resize: each line held reads at the width it was printed at, and what is remembered stays bounded", () => {
    const op = fc.oneof(
      fc.integer({ min: 1, max: 30 }).map((lines) => ({ lines })),
      fc.integer({ min: 20, max: 300 }).map((cols) => ({ cols }))
    )
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const buffer = new OutputBuffer({ maxLines: 50, maxBytes: 1 << 20, maxLineBytes: 1024 })
      let state = { buffer, terminal: { cols: 80, rows: 24 }, earlierWidths: [] as ReadonlyArray<EarlierWidth> }
      const printedAt = new Map<number, number>()
      let resizes = 0
      for (const o of ops) {
        if ("lines" in o) {
          const first = buffer.cursor + 1
          buffer.append("stdout", Buffer.from("line\n".repeat(o.lines)), 0)
          for (let seq = first; seq <= buffer.cursor; seq++) printedAt.set(seq, state.terminal.cols)
        } else {
          state = { ...state, ...resized(state, { cols: o.cols, rows: 24 }) }
          resizes++
        }
      }
      expect(state.earlierWidths.length).toBeLessThanOrEqual(32)
      const firstHeld = buffer.cursor - buffer.stats().lines + 1
      for (let seq = firstHeld; seq <= buffer.cursor; seq++) {
        if (resizes <= 32) expect(widthAt(state, seq), `line ${seq}`).toBe(printedAt.get(seq))
      }
    }))
  })
})
