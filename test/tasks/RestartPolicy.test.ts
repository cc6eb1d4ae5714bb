import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Schedule } from "effect"
import { TestClock } from "effect/testing"
import { backoff, wantsRestart } from "../../src/tasks/RestartPolicy.ts"

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
