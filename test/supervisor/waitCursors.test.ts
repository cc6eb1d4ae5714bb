// Boundaries a mutation-testing review (h23b) found unguarded: each test fails with its guard changed.
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { TaskmuxConfig } from "../../src/Config.ts"
import { TasksLayer } from "../../src/Server.ts"
import { TaskRegistry } from "../../src/supervisor/TaskRegistry.ts"
import { eventually } from "../helpers.ts"

const TestLayer = TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ shutdownGraceMs: 300 })))
const registry = Effect.service(TaskRegistry)

describe("wait", () => {
  it.layer(TestLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("since: the nextCursor of a read that reached the end looks after it, not from the start", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "echo ready; sleep 30", name: "server" })
        yield* eventually(r.get("server"), (t) => t.totalLines >= 1)
        const { nextCursor } = yield* r.read("server", { since: 0 })
        assert.strictEqual(nextCursor, 1)
        // Nothing new has come: the line read already is no answer.
        const waited = yield* r.wait("server", { pattern: /ready/, since: nextCursor, timeoutMs: 300 })
        assert.isFalse(waited.matched)
        assert.isTrue(waited.timedOut)
        yield* r.stop("server")
      }))

    it.effect("a prompt matched before its newline: nextCursor leaves its line to be read again, whole", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "python3", args: ["-c", "n = input('Name? '); print('hello', n)"], name: "asker" })
        const waited = yield* r.wait("asker", { pattern: /Name\?/, timeoutMs: 10_000 })
        assert.isTrue(waited.matched)
        assert.isTrue(waited.line?.partial)
        yield* r.send("asker", "bob\n", false)
        const page = yield* eventually(
          r.read("asker", { since: waited.nextCursor }),
          (p) => p.lines.some((l) => l.text === "Name? hello bob")
        )
        assert.strictEqual(page.lines[0]?.text, "Name? hello bob")
      }))

    it.effect("an exit wait with a pattern says no line matched when none did", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "echo building; echo done", name: "build" })
        const waited = yield* r.wait("build", { exit: true, pattern: /ready/, timeoutMs: 10_000 })
        assert.strictEqual(waited.status, "exited")
        assert.isFalse(waited.matched)
        assert.isFalse(waited.timedOut)
      }))

    it.effect("a timed-out wait names as its cause only lines it looked at, not an error shown before it", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({
          command: "echo 'Error: old failure'; for i in 1 2 3 4 5 6 7 8 9 10; do echo tick $i; done; sleep 30",
          name: "repl"
        })
        yield* eventually(r.get("repl"), (t) => t.totalLines >= 11)
        yield* r.read("repl", { since: 0 })
        const waited = yield* r.wait("repl", { pattern: /never/, timeoutMs: 300 })
        assert.isTrue(waited.timedOut)
        assert.deepStrictEqual((waited.errorLines ?? []).map((l) => l.text), [])
        yield* r.stop("repl")
      }))
  })
})
