/**
 * When the supervisor has nothing to do it lingers, then ends: the counts and the waits of Idle.ts,
 * on fake timers (the shared supervisor's tests cover it end to end, with real fronts).
 */
import { Effect, Exit, Scope } from "effect"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { type Idle, makeIdle } from "../../src/daemon/Idle.ts"

let scope: Scope.Closeable
let running = 0
let ended = 0

const idleWith = (lingerSetting?: string): Idle =>
  Effect.runSync(
    makeIdle({ running: Effect.sync(() => ({ all: running })), lingerSetting, end: () => ended++ }).pipe(
      Scope.provide(scope)
    )
  )

/** A first session came and went: the first-session wait (10 s) is over. */
const served = (idle: Idle) => {
  idle.sessionStarted()
  idle.sessionEnded()
}

/** It ends `ms` from now, give or take 100 ms, and not before. */
const endsAfter = (ms: number) => {
  const before = ended
  vi.advanceTimersByTime(ms - 100)
  expect(ended).toBe(before)
  vi.advanceTimersByTime(200)
  expect(ended).toBe(before + 1)
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] })
  scope = Effect.runSync(Scope.make())
  running = 0
  ended = 0
})
afterEach(() => {
  Effect.runSync(Scope.close(scope, Exit.void))
  vi.useRealTimers()
})

describe("a supervisor with nothing to do", () => {
  it("waits for its first session at least 10 s, whatever the linger: the front that started it must find it", () => {
    const idle = idleWith("0")
    Effect.runSync(idle.check)
    endsAfter(10_000)
  })

  it("ends after the linger (3 s by default) once its last session has gone and nothing runs", () => {
    const idle = idleWith()
    served(idle)
    Effect.runSync(idle.check)
    endsAfter(3_000)
  })

  it("takes TASKMUX_LINGER_MS, and waits the default for one that is not a whole number of ms", () => {
    const short = idleWith("500")
    served(short)
    Effect.runSync(short.check)
    endsAfter(500)
    const bad = idleWith("soon")
    served(bad)
    Effect.runSync(bad.check)
    endsAfter(3_000)
  })

  it("goes on while a session, a page or a task is there, and a session that comes stops the linger", () => {
    const idle = idleWith("100")
    served(idle)
    idle.sessionStarted()
    Effect.runSync(idle.check)
    idle.sessionEnded()
    idle.viewersChanged(1)
    Effect.runSync(idle.check)
    idle.viewersChanged(-1)
    running = 1
    Effect.runSync(idle.check)
    vi.advanceTimersByTime(1_000)
    expect(ended).toBe(0)
    expect({ sessions: idle.sessions(), viewers: idle.viewers() }).toEqual({ sessions: 0, viewers: 0 })
    running = 0
    Effect.runSync(idle.check)
    idle.sessionStarted()
    vi.advanceTimersByTime(1_000)
    expect(ended).toBe(0)
  })

  it("gives a page someone asked for (taskmux ui) a minute to be opened", () => {
    const idle = idleWith("100")
    served(idle)
    idle.pageAsked()
    Effect.runSync(idle.check)
    endsAfter(60_000)
  })

  it("leaves no timer behind once its scope has closed", () => {
    const idle = idleWith("100")
    served(idle)
    Effect.runSync(idle.check)
    Effect.runSync(Scope.close(scope, Exit.void))
    vi.advanceTimersByTime(1_000)
    expect(ended).toBe(0)
    scope = Effect.runSync(Scope.make())
  })
})
