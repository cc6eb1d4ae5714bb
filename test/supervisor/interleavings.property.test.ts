/**
 * Commands sent at once, as agents with parallel tool calls send them: fast-check generates short
 * sequences of commands on one task (start, stop, a forced stop, restart, signal, input, remove, a
 * wait, a read), sends each after a random small delay without waiting for the ones before, and then
 * checks every answer against a model of the task run over the order they were sent in, and the task
 * against /proc: a process of the task is alive only while the task is listed as running.
 *
 * The order they were sent in is the order the task's actor takes them: each call is forked to run at
 * once, and reaches the actor's mailbox before its first wait.
 */
import { assert, describe, it } from "@effect/vitest"
import { type Context, Effect, Exit, Fiber, Layer, Scope } from "effect"
import fc from "fast-check"
import { TaskmuxConfig } from "../../src/Config.ts"
import { isFinished } from "../../src/domain/Task.ts"
import { TasksLayer } from "../../src/Server.ts"
import { TaskRegistry } from "../../src/supervisor/TaskRegistry.ts"
import { eventually, fixture, processesWithEnv } from "../helpers.ts"

type Kind = "long" | "short" | "stubborn" | "tree" | "flaky"

type Op =
  | { readonly op: "start"; readonly kind: Kind; readonly delay: number }
  | {
    readonly op: "stop" | "kill" | "restart" | "signal" | "input" | "remove" | "wait" | "read"
    readonly delay: number
  }

/** Commands of each kind: a `sleep` under sh, one that ends at once, trees (one ignoring SIGTERM), a crash loop. */
const startOf = (kind: Kind, token: string) => {
  const env = { TM_INTERLEAVING: token }
  switch (kind) {
    case "long":
      return { command: "sleep 30", env }
    case "short":
      return { command: "echo bye; exit 3", env }
    case "stubborn":
      return { command: fixture("ignore-term.sh"), args: [], env }
    case "tree":
      return { command: fixture("tree.sh"), args: [], env }
    case "flaky":
      return { command: "exit 1", env, restart: { policy: "on-failure" as const, maxRestarts: 2, backoffMs: 100 } }
  }
}

/**
 * What the model knows of the task: gone, or started with one of `kinds` (more than one when a start
 * may or may not have been refused), and whether it may have ended by itself.
 */
type Model =
  | {
    readonly state: "absent"
    /** A remove's stop of a run may still be under way: a signal reaches that run at once. */
    readonly stopping?: boolean
  }
  | { readonly state: "live"; readonly kinds: ReadonlyArray<Kind>; readonly mayHaveEnded: boolean }
  | {
    readonly state: "ended"
    readonly kinds: ReadonlyArray<Kind>
    /** A stop of a run may still be under way: a signal reaches that run at once, not queued behind it. */
    readonly stopping: boolean
  }

/** Kinds whose runs end by themselves soon. */
const endsByItself = (kind: Kind) => kind === "short" || kind === "flaky"

/** Answers the model allows for `op` in `model`, as the error tags (or "ok") the call may end with, and the model after it. */
const step = (model: Model, op: Op): { readonly allowed: ReadonlyArray<string>; readonly next: Model } => {
  const live = (kinds: ReadonlyArray<Kind>): Model => ({ state: "live", kinds, mayHaveEnded: kinds.some(endsByItself) })
  // Readers take no turn in the mailbox: they see the name as it is when they ask.
  if (op.op === "read" || op.op === "wait") return { allowed: ["ok", "TaskNotFound"], next: model }
  if (model.state === "absent") {
    if (op.op === "start") return { allowed: ["ok"], next: live([op.kind]) }
    return {
      allowed: op.op === "signal" && model.stopping === true ? ["ok", "TaskNotFound"] : ["TaskNotFound"],
      next: model
    }
  }
  const running = model.state === "live"
  const settled = model.state === "live" && !model.mayHaveEnded
  switch (op.op) {
    case "start":
      if (settled) return { allowed: ["TaskAlreadyRunning"], next: model }
      if (running) {
        // It may or may not have ended by itself yet: refused, or a new run of the new command.
        return {
          allowed: ["ok", "TaskAlreadyRunning"],
          next: { state: "live", kinds: [...new Set([...model.kinds, op.kind])], mayHaveEnded: true }
        }
      }
      return { allowed: ["ok"], next: live([op.kind]) }
    case "stop":
    case "kill":
      return {
        allowed: ["ok"],
        next: { state: "ended", kinds: model.kinds, stopping: running || model.state === "ended" && model.stopping }
      }
    case "restart":
      return { allowed: ["ok"], next: live(model.kinds) }
    case "signal": {
      // SIGTERM ends a sleep or a tree; a task that ended cannot be signalled. The stubborn tree ignores
      // it only once its shell has run its `trap`: a SIGTERM sent at once after a start or a restart
      // can reach it before (its run then ends, stopped by SIGTERM), so it may have ended too.
      // One sent during a stop's grace reaches the run being stopped.
      const stopping = model.state === "ended" && model.stopping
      const allowed = settled ? ["ok"] : running || stopping ? ["ok", "TaskNotRunning"] : ["TaskNotRunning"]
      const next: Model = running ? { state: "live", kinds: model.kinds, mayHaveEnded: true } : model
      return { allowed, next }
    }
    case "input":
      return {
        allowed: running ? ["ok", "StdinClosed"] : ["StdinClosed"],
        next: model
      }
    case "remove":
      return { allowed: ["ok"], next: { state: "absent", stopping: running || model.stopping } }
  }
}

const kinds = fc.constantFrom<Kind>("long", "long", "short", "stubborn", "tree", "flaky")
const delay = fc.integer({ min: 0, max: 4 })
const op: fc.Arbitrary<Op> = fc.oneof(
  { arbitrary: fc.record({ op: fc.constant("start" as const), kind: kinds, delay }), weight: 3 },
  {
    arbitrary: fc.record({
      op: fc.constantFrom("stop" as const, "kill" as const, "restart" as const, "signal" as const, "input" as const),
      delay
    }),
    weight: 4
  },
  {
    arbitrary: fc.record({ op: fc.constantFrom("remove" as const, "wait" as const, "read" as const), delay }),
    weight: 2
  }
)
// Most sequences begin with a start, so most commands meet a task.
const sequence = fc.tuple(
  fc.record({ op: fc.constant("start" as const), kind: kinds, delay }),
  fc.array(op, { minLength: 1, maxLength: 6 })
)
  .map(([first, rest]) => [first, ...rest] as ReadonlyArray<Op>)

const processesWith = (token: string) => processesWithEnv("TM_INTERLEAVING", token)

const TestLayer = TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ shutdownGraceMs: 300, killGraceMs: 300 })))

const registry = Effect.service(TaskRegistry)
const NAME = "t"

/** The call for `op`, ending with "ok" or its error's tag; a defect or a hang fails the test. */
const call = (op: Op, token: string): Effect.Effect<string, never, TaskRegistry> =>
  Effect.flatMap(registry, (r): Effect.Effect<unknown, { readonly _tag: string }> => {
    switch (op.op) {
      case "start":
        return r.start({ name: NAME, ...startOf(op.kind, token) })
      case "stop":
        return Effect.tap(r.stop(NAME, {}), (ended) =>
          // A stop answers once the run has ended: never "running".
          Effect.sync(() => assert.notStrictEqual(ended.status, "running", "a stop answered running")))
      case "kill":
        return r.stop(NAME, { force: true })
      case "restart":
        return r.restart(NAME)
      case "signal":
        return r.signal(NAME, "SIGTERM")
      case "input":
        return r.send(NAME, "hello\n", false)
      case "remove":
        return r.remove(NAME)
      case "wait":
        return r.wait(NAME, { exit: true, timeoutMs: 1_500 })
      case "read":
        return r.read(NAME, { tail: 5 })
    }
  }).pipe(
    Effect.as("ok"),
    Effect.catch((error) => Effect.succeed(error._tag)),
    Effect.timeoutOrElse({ duration: 15_000, orElse: () => Effect.die(new Error(`${op.op} never answered`)) })
  )

let runs = 0
let concurrentPairs = 0

describe("commands sent at once (model-based, real processes)", () => {
  it(
    "every interleaving ends in one defined state: answers as the model says, and /proc agrees with list_tasks",
    async () => {
      await fc.assert(
        fc.asyncProperty(sequence, async (ops) => {
          const token = `${process.pid}-${runs++}`
          const scope = Effect.runSync(Scope.make())
          const context: Context.Context<TaskRegistry> = await Effect.runPromise(Layer.buildWithScope(TestLayer, scope))
          const run = <A, E>(effect: Effect.Effect<A, E, TaskRegistry>) =>
            Effect.runPromise(Effect.provideContext(effect, context))
          try {
            // Sent in order, each after its delay, none waiting for the answers before it.
            const answers = await run(Effect.gen(function*() {
              const fibers: Array<Fiber.Fiber<string>> = []
              for (const o of ops) {
                if (o.delay > 0) yield* Effect.sleep(o.delay)
                fibers.push(yield* Effect.forkChild(call(o, token), { startImmediately: true }))
              }
              return yield* Fiber.joinAll(fibers)
            }))
            concurrentPairs += ops.filter((o, i) => i > 0 && o.delay === 0).length
            const model = ops.reduce<Model>((model, o, i) => {
              const { allowed, next } = step(model, o)
              assert.include(allowed, answers[i], `${o.op} #${i} in ${JSON.stringify(ops.map((x) => x.op))}`)
              return next
            }, { state: "absent" })
            // What the model expects now, and what /proc says, against what the registry lists.
            const listed = await run(Effect.map(
              Effect.flatMap(registry, (r) => r.list),
              (tasks) => tasks.find((t) => t.name === NAME)
            ))
            assert.strictEqual(listed !== undefined, model.state !== "absent", "listed exactly when not removed")
            if (model.state === "live" && !model.mayHaveEnded) assert.strictEqual(listed?.status, "running")
            if (model.state === "ended") assert.isTrue(isFinished(listed!.status), `ended, but ${listed!.status}`)
            // A process of the task is alive only while it is listed as running. Looked at twice, /proc
            // first: a task that restarts may have a new run between the two looks.
            await run(eventually(
              Effect.flatMap(registry, (r) => {
                const alive = processesWith(token)
                return Effect.map(r.list, (tasks) => ({ alive, status: tasks.find((t) => t.name === NAME)?.status }))
              }),
              ({ alive, status }) => alive.length === 0 || status === "running",
              5_000
            ))
          } finally {
            await Effect.runPromise(Scope.close(scope, Exit.void))
          }
          assert.deepStrictEqual(processesWith(token), [], "processes left after shutdown")
        }),
        { numRuns: 60 }
      )
      assert.isAbove(concurrentPairs, 5, "some commands were sent in the same instant")
    },
    300_000
  )
})
