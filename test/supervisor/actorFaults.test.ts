/**
 * A bug in the supervisor's core (injected here: a throw, a defect) costs what it hit, said in the log: never
 * the server, a task's record, a stop's answer, or a session's end, and never a process left running.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer } from "effect"
import { vi } from "vitest"
import { TaskmuxConfig } from "../../src/Config.ts"
import { ChainClaims } from "../../src/project/ChainClaims.ts"
import { endSessionTasks } from "../../src/project/endSessionTasks.ts"
import { Project } from "../../src/project/Project.ts"
import { TasksLayer } from "../../src/Server.ts"
import { TaskRegistry } from "../../src/supervisor/TaskRegistry.ts"
import { makeViewer, Viewer } from "../../src/supervisor/Viewer.ts"
import { eventually, isAlive, pidsIn } from "../helpers.ts"

/** How many times each injected fault fires from now. */
const faults = vi.hoisted(() => ({ classify: 0, exited: 0, append: 0 }))

vi.mock("../../src/domain/Task.ts", async (original) => {
  const actual = await original<typeof import("../../src/domain/Task.ts")>()
  return {
    ...actual,
    classifyExit: (...args: Parameters<typeof actual.classifyExit>) => {
      if (faults.classify > 0 && faults.classify--) throw new Error("injected: classifyExit")
      return actual.classifyExit(...args)
    }
  }
})

vi.mock("../../src/process/spawn.ts", async (original) => {
  const actual = await original<typeof import("../../src/process/spawn.ts")>()
  return {
    ...actual,
    spawn: (...args: Parameters<typeof actual.spawn>) =>
      Effect.map(actual.spawn(...args), (process) =>
        faults.exited > 0 && faults.exited--
          ? { ...process, exited: Effect.die(new Error("injected: exited")) }
          : process)
  }
})

vi.mock("../../src/output/OutputBuffer.ts", async (original) => {
  const actual = await original<typeof import("../../src/output/OutputBuffer.ts")>()
  class OutputBuffer extends actual.OutputBuffer {
    override append(...args: Parameters<InstanceType<typeof actual.OutputBuffer>["append"]>) {
      if (faults.append > 0 && faults.append--) throw new Error("injected: append")
      return super.append(...args)
    }
  }
  return { ...actual, OutputBuffer }
})

const TestLayer = TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ shutdownGraceMs: 300, killGraceMs: 500 })))
const registry = Effect.service(TaskRegistry)
const statusOf = (name: string) => Effect.flatMap(registry, (r) => r.get(name))

/** Prints its pid, then sleeps: the pid to check. */
const sleeper = "python3 -c \"import os, time; print('pid', os.getpid(), flush=True); time.sleep(60)\""
const pidOf = (name: string) =>
  eventually(
    Effect.flatMap(registry, (r) => r.read(name, { since: 0 })).pipe(Effect.map((page) => pidsIn(page.lines))),
    (pids) => pids.length > 0
  ).pipe(Effect.map((pids) => pids[0]!))

describe("faults in the supervisor's core", () => {
  it.layer(TestLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("a throw while a run's end is looked at leaves the task listed, failed and saying why", () =>
      Effect.gen(function*() {
        const r = yield* registry
        faults.classify = 1
        yield* r.start({ command: "exit 3", name: "ends" })
        // Not gone from the list (its actor ended), not shown running.
        const failed = yield* eventually(statusOf("ends"), (task) => task.status === "failed")
        assert.match(failed.error ?? "", /taskmux failed \(a bug, in its log\)/)
        // And it runs again, as any failed task.
        yield* r.start({ command: "exit 3", name: "ends" })
        const again = yield* eventually(statusOf("ends"), (task) => task.status === "crashed")
        assert.strictEqual(again.exitCode, 3)
      }))

    it.effect("a throw during a stop answers the stop, and leaves no task shown running with no run", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: sleeper, name: "stopped" })
        const pid = yield* pidOf("stopped")
        faults.classify = 1
        const stop = yield* Effect.exit(r.stop("stopped"))
        assert.isTrue(Exit.isFailure(stop))
        assert.isFalse(isAlive(pid))
        assert.strictEqual((yield* statusOf("stopped")).status, "failed")
        // A start of the name is not refused as already running.
        yield* r.start({ command: "exit 0", name: "stopped" })
        yield* eventually(statusOf("stopped"), (task) => task.status === "exited")
      }))

    it.effect("a run whose end cannot be looked at is ended, its tree with it, not left shown running for good", () =>
      Effect.gen(function*() {
        const r = yield* registry
        faults.exited = 1
        const { pid } = yield* r.start({ command: sleeper, name: "unseen" })
        yield* eventually(statusOf("unseen"), (task) => task.status !== "running")
        yield* eventually(Effect.sync(() => isAlive(pid!)), (alive) => !alive)
        yield* r.start({ command: "exit 0", name: "unseen" })
        yield* eventually(statusOf("unseen"), (task) => task.status === "exited")
      }))

    it.effect("a throw while output is kept costs that output, not the server", () =>
      Effect.gen(function*() {
        const r = yield* registry
        faults.append = 1
        yield* r.start({ command: "echo lost; sleep 0.3; echo kept", name: "output" })
        yield* eventually(statusOf("output"), (task) => task.status === "exited")
        const page = yield* r.read("output", { since: 0 })
        assert.deepStrictEqual(page.lines.map((line) => line.text), ["kept"])
      }))
  })

  it.live(
    "a session's end that cannot read the project file still ends the session's own tasks",
    () =>
      Effect.gen(function*() {
        const r = yield* registry
        const viewer = makeViewer(() => "faulty")
        yield* r.start({ command: sleeper, name: "owned" }).pipe(Effect.provideService(Viewer, viewer))
        const pid = yield* pidOf("owned")
        yield* endSessionTasks(viewer.id)
        assert.isFalse(isAlive(pid))
        assert.isTrue(Exit.isFailure(yield* Effect.exit(r.get("owned"))))
      }).pipe(
        Effect.provide(Layer.mergeAll(
          TestLayer,
          ChainClaims.layer,
          Layer.succeed(Project, Project.of({ current: Effect.die(new Error("injected: the project file")) }))
        ))
      ),
    30_000
  )
})
