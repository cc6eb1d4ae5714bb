// Boundaries a mutation-testing review (h23b) found unguarded: each test fails with its guard changed.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TaskmuxConfig } from "../../src/Config.ts"
import { TasksLayer } from "../../src/Server.ts"
import { TaskRegistry } from "../../src/supervisor/TaskRegistry.ts"
import { eventually, fixture, isAlive, pidsIn } from "../helpers.ts"

const TestLayer = TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ shutdownGraceMs: 300 })))
const registry = Effect.service(TaskRegistry)

describe("stop", () => {
  it.layer(TestLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("force kills at once: no grace (killGraceMs is 5 s here) for a tree that ignores SIGTERM", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: fixture("ignore-term.sh"), name: "forced" })
        const pids = yield* eventually(
          Effect.flatMap(r.read("forced", { since: 0 }), (p) => Effect.succeed(pidsIn(p.lines))),
          (found) => found.length >= 3
        )
        const startedAt = Date.now()
        const ended = yield* r.stop("forced", { force: true })
        // At once: without force, SIGTERM is ignored and the stop takes the whole grace (5 s here).
        assert.isBelow(Date.now() - startedAt, 3_500)
        assert.deepStrictEqual([ended.status, ended.signal], ["stopped", "SIGKILL"])
        assert.deepStrictEqual(pids.filter(isAlive), [])
      }))

    it.effect("a stop of a paused task (SIGSTOP, Ctrl-Z) continues it, so its SIGTERM ends it, with no wait for the grace", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "sleep", args: ["30"], name: "paused" })
        yield* r.signal("paused", "SIGSTOP")
        const startedAt = Date.now()
        const ended = yield* r.stop("paused", { graceMs: 15_000 })
        // Still paused, SIGTERM would wait out the whole grace, and SIGKILL end it.
        assert.isBelow(Date.now() - startedAt, 7_500)
        assert.deepStrictEqual([ended.status, ended.signal], ["stopped", "SIGTERM"])
      }))
  })
})
