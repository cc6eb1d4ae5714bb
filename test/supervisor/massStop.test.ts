/**
 * Many tasks at once: each task's look for what escaped it reads the markers only of live processes
 * in no task's session, not of every other task's processes (which made a mass stop quadratic), nor
 * of zombies (a mass stop leaves many, waiting for init).
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { spawn } from "node:child_process"
import { vi } from "vitest"
import { TaskmuxConfig } from "../../src/Config.ts"
import * as procfs from "../../src/process/procfs.ts"
import { TasksLayer } from "../../src/Server.ts"
import { TaskRegistry } from "../../src/supervisor/TaskRegistry.ts"
import { eventually, isAlive } from "../helpers.ts"

vi.mock("../../src/process/procfs.ts", async (importOriginal) => {
  const actual = await importOriginal<typeof import("../../src/process/procfs.ts")>()
  return { ...actual, environValue: vi.fn(actual.environValue) }
})

const TestLayer = TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ shutdownGraceMs: 300 })))
const TASKS = 20

describe.runIf(procfs.available)("a mass stop", () => {
  it.layer(TestLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("lists and ends every task's processes without reading the other tasks' markers", () =>
      Effect.gen(function*() {
        const r = yield* TaskRegistry
        const names = Array.from({ length: TASKS }, (_, i) => `m${i}`)
        // dash forks `sleep`: two processes a task, in the task's session.
        yield* Effect.forEach(names, (name) => r.start({ command: "sleep 60; true", name }))
        // Under load, a shell may not have forked its `sleep` yet.
        const infos = yield* Effect.forEach(
          names,
          (name) => eventually(r.get(name), (info) => (info.processes ?? []).length >= 2)
        )
        const environValue = vi.mocked(procfs.environValue)
        environValue.mockClear()
        const pids = new Set(infos.flatMap((info) => (info.processes ?? []).map((p) => p.pid)))
        assert.isAtLeast(pids.size, 2 * TASKS)
        yield* Effect.forEach(names, (name) => r.stop(name), { concurrency: "unbounded" })
        assert.deepStrictEqual([...pids].filter(isAlive), [])
        const read = environValue.mock.calls.map(([pid]) => pid).filter((pid) => pids.has(pid))
        assert.deepStrictEqual(read, [], "markers read of the tasks' own processes")
      }))

    it.effect("does not read the marker of a zombie that no task's session holds", () =>
      Effect.gen(function*() {
        const r = yield* TaskRegistry
        yield* r.start({ command: "sleep 60", name: "z" })
        // `sleep 30` replaces the shell and never waits for its child, which stays a zombie: a
        // process outside every task, started after the task's leader.
        const parent = spawn("/bin/sh", ["-c", "sleep 0.1 & exec sleep 30"], { detached: true, stdio: "ignore" })
        try {
          const zombie = (yield* eventually(
            Effect.sync(() => procfs.processes().find((p) => p.ppid === parent.pid && !p.live)),
            (found) => found !== undefined,
            5_000
          ))!.pid
          const environValue = vi.mocked(procfs.environValue)
          environValue.mockClear()
          yield* r.stop("z")
          assert.isFalse(environValue.mock.calls.some(([pid]) => pid === zombie), "the zombie's marker was read")
        } finally {
          parent.kill("SIGKILL")
        }
      }))
  })
})
