/**
 * A 2025-era session's idle end, on fake timers and a clock set by hand: one timer per quiet spell, a
 * busy session not ended, a timer far late (the process was stopped) giving queued requests their turn.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { armIdle, type Quiet } from "../../../src/web/mcpHttp/armIdle.ts"

const IDLE_MS = 4000
let now = 0
let ended = 0
let session: Quiet & { open: number; ended: boolean }

/** `ms` pass, 10 ms at a time (the clock and the timers together). */
const pass = (ms: number) => {
  for (let left = ms; left > 0; left -= 10) {
    now += 10
    vi.advanceTimersByTime(10)
  }
}
const arm = () => armIdle(session, () => ended++)

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] })
  vi.spyOn(performance, "now").mockImplementation(() => now)
  vi.stubEnv("TASKMUX_HTTP_IDLE_MS", String(IDLE_MS))
  now = 1000
  ended = 0
  session = { open: 0, timer: undefined, quietSince: 0, ended: false }
})
afterEach(() => {
  vi.useRealTimers()
  vi.restoreAllMocks()
  vi.unstubAllEnvs()
})

describe("armIdle", () => {
  it("ends a session the idle time after its last exchange closed, and not before", () => {
    arm()
    pass(IDLE_MS - 100)
    expect(ended).toBe(0)
    pass(200)
    expect(ended).toBe(1)
  })

  it("keeps one timer for a quiet spell: an exchange that came and went meanwhile moves the end, not the timer", () => {
    arm()
    pass(2000)
    arm()
    const timer = session.timer
    pass(IDLE_MS - 2000 + 100)
    expect(ended).toBe(0)
    expect(session.timer).not.toBe(timer)
    pass(2000 - 200)
    expect(ended).toBe(0)
    pass(200)
    expect(ended).toBe(1)
  })

  it("ends no session with an exchange open: its close arms the timer again", () => {
    arm()
    session.open = 1
    pass(IDLE_MS * 3)
    expect([ended, session.timer]).toEqual([0, undefined])
    session.open = 0
    arm()
    pass(IDLE_MS + 100)
    expect(ended).toBe(1)
  })

  it("arms nothing for a session that has ended", () => {
    session.ended = true
    arm()
    expect(session.timer).toBeUndefined()
  })

  it("after a timer far later than asked (the process was stopped) waits 2 s for the requests queued meanwhile", () => {
    arm()
    // Stopped for a minute: the clock moves on, the timer fires only once the process runs again.
    now += 60_000
    pass(IDLE_MS)
    expect(ended).toBe(0)
    // A request read in the grace: quiet from now, its idle time whole.
    pass(1000)
    arm()
    pass(1000 + IDLE_MS - 1000 - 100)
    expect(ended).toBe(0)
    pass(200)
    expect(ended).toBe(1)
  })
})
