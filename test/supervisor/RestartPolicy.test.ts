import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { backoff, decide, HEALTHY_AFTER_MS, MIN_BACKOFF_MS, wantsRestart } from "../../src/supervisor/RestartPolicy.ts"

const policy = { policy: "on-failure", maxRestarts: 5, backoffMs: 500, maxBackoffMs: 30_000 } as const

describe("RestartPolicy", () => {
  it("restarts on failure, or always, but never what was stopped", () => {
    assert.isTrue(wantsRestart(policy, "crashed"))
    assert.isFalse(wantsRestart(policy, "exited"))
    assert.isFalse(wantsRestart(policy, "stopped"))
    assert.isTrue(wantsRestart({ ...policy, policy: "always" }, "exited"))
    assert.isFalse(wantsRestart({ ...policy, policy: "always" }, "stopped"))
    assert.isFalse(wantsRestart({ ...policy, policy: "no" }, "crashed"))
  })

  it("counts restarts in a row, gives up after maxRestarts, and starts over after a healthy run", () => {
    const crashed = (uptimeMs: number) => ({ status: "crashed" as const, stopRequested: false, uptimeMs })
    let inARow = 0
    for (let i = 1; i <= 5; i++) {
      const next = decide(policy, crashed(100), inARow)
      assert.deepStrictEqual(next, { _tag: "Restart", inARow: i, resetBackoff: false })
      inARow = i
    }
    assert.deepStrictEqual(decide(policy, crashed(100), inARow), {
      _tag: "GiveUp",
      reason: "gave up after 5 restarts in a row (restart.maxRestarts is 5)"
    })
    // A run that stayed up HEALTHY_AFTER_MS resets the count and the backoff.
    assert.deepStrictEqual(decide(policy, crashed(HEALTHY_AFTER_MS), inARow), {
      _tag: "Restart",
      inARow: 1,
      resetBackoff: true
    })
    assert.deepStrictEqual(decide(policy, { status: "crashed", stopRequested: true, uptimeMs: 0 }, 0), { _tag: "Done" })
    assert.deepStrictEqual(decide(policy, { status: "failed", stopRequested: false, uptimeMs: 0 }, 0), { _tag: "Done" })
  })

  it.effect("backs off exponentially from backoffMs, with ±20% jitter, capped at maxBackoffMs", () =>
    Effect.gen(function*() {
      const step = yield* Schedule.toStep(backoff(policy))
      for (let i = 0; i < 12; i++) {
        const [, delay] = yield* step(0, undefined)
        const ms = Duration.toMillis(delay)
        const nominal = Math.min(500 * 2 ** i, 30_000)
        assert.isAtLeast(ms, Math.min(nominal * 0.8, 30_000) - 1e-6, `step ${i}`)
        assert.isAtMost(ms, Math.min(nominal * 1.2, 30_000) + 1e-6, `step ${i}`)
      }
    }))

  it.effect("never waits less than MIN_BACKOFF_MS, whatever backoffMs and maxBackoffMs say", () =>
    Effect.gen(function*() {
      for (const zero of [{ ...policy, backoffMs: 0 }, { ...policy, backoffMs: 0, maxBackoffMs: 0 }]) {
        const step = yield* Schedule.toStep(backoff(zero))
        for (let i = 0; i < 5; i++) {
          const [, delay] = yield* step(0, undefined)
          assert.isAtLeast(Duration.toMillis(delay), MIN_BACKOFF_MS, `step ${i}`)
        }
      }
    }))

  it.effect("waits the delay on the clock (TestClock): no restart before it, one right after", () =>
    Effect.gen(function*() {
      let runs = 0
      const fiber = yield* Effect.sync(() => runs++).pipe(
        Effect.repeat({ schedule: backoff(policy), times: 3 }),
        Effect.forkChild
      )
      yield* TestClock.adjust(399)
      assert.strictEqual(runs, 1)
      yield* TestClock.adjust(201) // 600 ms: the first delay (400-600 ms) has passed
      assert.strictEqual(runs, 2)
      yield* TestClock.adjust(799) // < 1399 ms: the second delay is at least 800 ms after the first run
      assert.isAtMost(runs, 3)
      yield* TestClock.adjust(60_000)
      yield* Fiber.join(fiber)
      assert.strictEqual(runs, 4)
    }))
})
