/**
 * Durations are measured on the monotonic clock, not the wall clock: NTP steps it, a person's `date -s`
 * sets it, and a laptop's sleep moves it on by hours while timers stand still. Here the wall clock (Date,
 * `new Date()` too) is stepped while tasks run and waits wait; timers and `performance.now()` go on as
 * they do on such a machine.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber, Layer } from "effect"
import { afterEach, vi } from "vitest"
import { TaskmuxConfig } from "../../src/Config.ts"
import { TasksLayer } from "../../src/Server.ts"
import { TaskRegistry } from "../../src/supervisor/TaskRegistry.ts"
import { eventually } from "../helpers.ts"

const TestLayer = TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ shutdownGraceMs: 300 })))
const HOUR = 3_600_000

/** The wall clock, faked from now on and going on with real time; `step` moves it at once. */
const wallClock = () => {
  vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true, advanceTimeDelta: 5 })
  return { step: (ms: number) => vi.setSystemTime(Date.now() + ms) }
}
afterEach(() => {
  vi.useRealTimers()
})

describe("a step of the wall clock", () => {
  it.layer(TestLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("neither ends a wait early (an hour on) nor keeps it past its timeout (a minute back)", () =>
      Effect.gen(function*() {
        const r = yield* TaskRegistry
        const clock = wallClock()
        yield* r.start({ command: "while :; do echo tick; sleep 0.1; done", name: "ticker" })
        for (const step of [HOUR, -60_000]) {
          const began = performance.now()
          const waiting = yield* Effect.forkChild(r.wait("ticker", { pattern: /never printed/, timeoutMs: 1_500 }))
          yield* Effect.sleep(300)
          clock.step(step)
          const answer = yield* Fiber.join(waiting)
          const took = performance.now() - began
          assert.isTrue(answer.timedOut)
          // Before: an hour on answered at the next line, `elapsedMs` 3,600,300; a minute back waited 61.5 s.
          assert.isAtLeast(took, 1_400, `step ${step}: answered after ${took} ms`)
          assert.isBelow(took, 10_000, `step ${step}: answered after ${took} ms`)
          assert.isAtLeast(answer.elapsedMs, 1_400)
          assert.isBelow(answer.elapsedMs, 10_000)
        }
        yield* r.stop("ticker")
      }))

    it.effect("leaves a run's duration its own: an hour back during it is no negative duration", () =>
      Effect.gen(function*() {
        const r = yield* TaskRegistry
        const clock = wallClock()
        yield* r.start({ command: "sleep 0.6", name: "short" })
        yield* Effect.sleep(200)
        clock.step(-HOUR)
        const end = yield* r.wait("short", { exit: true, timeoutMs: 10_000 })
        assert.strictEqual(end.status, "exited")
        // Before: -3,599,400 ms, said as "ended after running -3599.4 s".
        assert.isAtLeast(end.durationMs!, 500)
        assert.isBelow(end.durationMs!, 5_000)
      }))

    it.effect("counts a run that crashed at once as such: an hour on during it does not make it healthy", () =>
      Effect.gen(function*() {
        const r = yield* TaskRegistry
        const clock = wallClock()
        yield* r.start({
          command: "sleep 0.3; exit 1",
          name: "crashy",
          restart: { policy: "on-failure", backoffMs: 100, maxRestarts: 2 }
        })
        // During its second run (a first has no count to lose).
        yield* eventually(r.get("crashy"), (t) => t.restarts === 1 && t.status === "running", 10_000)
        clock.step(HOUR)
        // Before: that run looked an hour long, healthy, and the policy counted from zero again (3 restarts).
        const over = yield* eventually(r.get("crashy"), (t) => t.status === "crashed", 20_000)
        assert.strictEqual(over.restarts, 2)
        assert.match(over.error ?? "", /gave up|restart/i)
      }))
  })
})
