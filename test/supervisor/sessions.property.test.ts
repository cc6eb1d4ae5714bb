/**
 * Model-based test of task ownership against real processes: fast-check runs random sequences of
 * calls issued by two or three sessions (viewers): start (kept or not), stop, restart, remove, input,
 * read, wait, and the end of a session, after which a fresh session takes the ended one's place.
 * The model knows each task's owner, its state, the lines it echoed, and which of them each session
 * has been shown.
 *
 * Checked after every step, from every session (and the anonymous default one): list_tasks shows
 * exactly the model's tasks, each with the owner as that session sees it ("you", "other", "kept"),
 * the same `since`, and the status the model expects; /proc agrees: a running task's tree is alive,
 * and no process of a task that ended or was forgotten is (each start puts a token of its own in
 * the task's environment, so every process of the tree is found, not only those it printed).
 * After an end of session: every task it owned and did not keep is gone and its whole tree is dead;
 * every other task keeps its pid and its status. A start of a name another session's running task
 * holds fails with TaskAlreadyRunning naming that session; a wait without `since` starts after the
 * last line shown to the same session, or printed before its last input to the task (and at the current
 * run's first line at the earliest), so a line one session read is still new to another's wait.
 * One command races two sessions: a start sent just before another session ends (a start that
 * succeeds made the starter's task, which that end must leave alone).
 *
 * Then, as plain tests: the two sequences the model found wrong, and an end of session stopping
 * stubborn trees in parallel (one after the other would take a grace period each).
 */
import { assert, describe, it } from "@effect/vitest"
import { Cause, type Context, Effect, Exit, Fiber, Layer, Option, Scope } from "effect"
import fc from "fast-check"
import { execFileSync } from "node:child_process"
import { readdirSync, readFileSync } from "node:fs"
import { TaskmuxConfig } from "../../src/Config.ts"
import { isFinished, type TaskStatus } from "../../src/domain/Task.ts"
import { TasksLayer } from "../../src/Server.ts"
import { TaskRegistry } from "../../src/supervisor/TaskRegistry.ts"
import { makeViewer, Viewer, type ViewerShape } from "../../src/supervisor/Viewer.ts"
import { eventually, fixture, isAlive, pidsIn } from "../helpers.ts"

/**
 * A sh tree and a python3 tree, each with a child that sleeps, printing their pids and then echoing
 * each line of input as "got LINE"; one that ends at once; one that crashes and is restarted forever.
 */
type Kind = "sh" | "py" | "quick" | "flaky"

const TOKEN_VAR = "TM_SESSIONS"

/** The interpreter itself: a version manager's shim (pyenv's is a bash script) costs each start a lot. */
const PYTHON = execFileSync("python3", ["-c", "import sys; print(sys.executable)"], { encoding: "utf8" }).trim()

const PY = [
  "import os, sys",
  "child = os.posix_spawnp('sleep', ['sleep', '300'], os.environ)",
  "print('pid', child, flush=True)",
  "print('pid', os.getpid(), flush=True)",
  "for line in iter(sys.stdin.readline, ''):",
  "    print('got', line.strip(), flush=True)"
].join("\n")

const commandFor = (kind: Kind, token: string) => {
  const env = { [TOKEN_VAR]: token }
  switch (kind) {
    case "sh":
      return { command: "sleep 300 & echo \"pid $!\"; echo \"pid $$\"; while read l; do echo \"got $l\"; done", env }
    case "py":
      return { command: PYTHON, args: ["-I", "-S", "-c", PY], env }
    case "quick":
      return { command: "echo quick; exit 3", env }
    case "flaky":
      return {
        command: "sleep 0.2; exit 1",
        env,
        restart: { policy: "on-failure" as const, maxRestarts: 1_000, backoffMs: 50, maxBackoffMs: 100 }
      }
  }
}

/** Kinds that run until stopped, printing two pids a run and echoing their input. */
const echoes = (kind: Kind) => kind === "sh" || kind === "py"

interface ModelTask {
  readonly kind: Kind
  /** The session that started it; null: kept. */
  readonly owner: string | null
  /** "cycling": a crash loop, running or waiting to restart. */
  state: "running" | "ended" | "cycling"
  /** In the environment of each of its processes. */
  readonly token: string
  runs: number
  /** The lines it echoed ("got X"), in order. */
  readonly lines: Array<string>
  /** Per session: how many of `lines` an answer has shown it. */
  readonly shown: Map<string, number>
  /** How many of `lines` came before the current run: a wait without `since` looks at this run's only. */
  runFrom: number
  /** What list_tasks says it is its owner's since (recorded at the start). */
  readonly since: string
}

interface Model {
  readonly tasks: Map<string, ModelTask>
}

interface Real {
  readonly run: <A, E>(effect: Effect.Effect<A, E, TaskRegistry>, viewer?: ViewerShape) => Promise<A>
  readonly runExit: <A, E>(
    effect: Effect.Effect<A, E, TaskRegistry>,
    viewer?: ViewerShape
  ) => Promise<Exit.Exit<A, E>>
  /** The sessions issuing commands now (an ended one is replaced by a fresh one). */
  readonly viewers: Array<ViewerShape>
  /** Their clients' names, by session id. */
  readonly clients: Map<string, string>
  /** Tokens of tasks that were forgotten (removed, their session ended, or replaced by a new start). */
  readonly deadTokens: Set<string>
  /** Counters of this sequence, for unique tokens and lines. */
  readonly count: { starts: number; sent: number }
  readonly prefix: string
}

const registry = Effect.service(TaskRegistry)

/** The anonymous viewer ("local", when none is provided): the harness's own looks go through it. */
const ANON: ViewerShape | undefined = undefined

/** Live pids by the task token in their environment, in one pass over /proc. */
const liveByToken = (prefix: string): Map<string, Array<number>> => {
  const found = new Map<string, Array<number>>()
  const key = `${TOKEN_VAR}=${prefix}`
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue
    let environ: string
    try {
      environ = readFileSync(`/proc/${entry}/environ`, "latin1")
    } catch {
      continue // Gone while we looked.
    }
    const at = environ.indexOf(key)
    if (at < 0 || (at > 0 && environ[at - 1] !== "\0")) continue
    const token = environ.slice(at + TOKEN_VAR.length + 1, environ.indexOf("\0", at))
    const pid = Number(entry)
    if (!isAlive(pid)) continue
    found.set(token, [...(found.get(token) ?? []), pid])
  }
  return found
}

const ownerAsSeenBy = (task: ModelTask, viewer: ViewerShape | undefined) =>
  task.owner === null ? "kept" : task.owner === (viewer?.id ?? "local") ? "you" : "other"

const statusFits = (task: ModelTask, status: TaskStatus) =>
  task.state === "running"
    ? status === "running"
    : task.state === "cycling"
    ? status === "running" || status === "restarting"
    : isFinished(status)

/** The pids of a running echoing task's current run: the last two it printed. */
const currentPids = async (real: Real, name: string, task: ModelTask) => {
  const page = await real.run(eventually(
    Effect.flatMap(registry, (r) => r.read(name, { since: 0 })),
    (p) => pidsIn(p.lines).length >= 2 * task.runs
  ))
  return pidsIn(page.lines).slice(-2)
}

/** Lists from every session and checks them, and /proc, against the model. */
const checkAll = async (model: Model, real: Real) => {
  const want = [...model.tasks.keys()].sort()
  for (const viewer of [...real.viewers, ANON]) {
    const list = await real.run(Effect.flatMap(registry, (r) => r.list), viewer)
    const who = viewer?.id ?? "local"
    assert.deepStrictEqual(list.map((t) => t.name).sort(), want, `tasks listed to ${who}`)
    for (const listed of list) {
      const task = model.tasks.get(listed.name)!
      assert.strictEqual(listed.owner, ownerAsSeenBy(task, viewer), `owner of ${listed.name} as ${who} sees it`)
      assert.strictEqual(listed.since, task.since, `since of ${listed.name}`)
      assert.isTrue(statusFits(task, listed.status), `${listed.name} is ${listed.status}, model: ${task.state}`)
    }
  }
  const live = liveByToken(real.prefix)
  for (const token of real.deadTokens) {
    assert.deepStrictEqual(live.get(token) ?? [], [], `processes of a forgotten task (${token}) alive`)
  }
  for (const [name, task] of model.tasks) {
    const alive = live.get(task.token) ?? []
    if (task.state === "ended") assert.deepStrictEqual(alive, [], `${name} ended, but processes of it are alive`)
    if (task.state === "running" && echoes(task.kind)) {
      const pids = await currentPids(real, name, task)
      for (const pid of pids) assert.include(alive, pid, `${name}: its process ${pid} should be alive`)
    }
  }
}

const errorOf = <A, E>(exit: Exit.Exit<A, E>): E | undefined =>
  Exit.isFailure(exit) ? Option.getOrUndefined(Cause.findErrorOption(exit.cause)) : undefined

const assertFailsWith = <A, E>(exit: Exit.Exit<A, E>, tag: string, what: string) => {
  const error = errorOf(exit) as { readonly _tag?: string } | undefined
  assert.strictEqual(error?._tag, tag, `${what}: ${Exit.isFailure(exit) ? String(exit.cause) : "it succeeded"}`)
}

/** A call issued by one session (a slot: after an end of session, a fresh session takes the slot). */
abstract class SessionCommand implements fc.AsyncCommand<Model, Real> {
  readonly slot: number
  constructor(slot: number) {
    this.slot = slot
  }
  check = () => true
  protected viewer = (real: Real) => real.viewers[this.slot % real.viewers.length]!
  abstract act(model: Model, real: Real): Promise<void>
  async run(model: Model, real: Real) {
    await this.act(model, real)
    await checkAll(model, real)
  }
}

abstract class TaskCommand extends SessionCommand {
  readonly name: string
  constructor(slot: number, name: string) {
    super(slot)
    this.name = name
  }
}

/** After a (re)start: a quick task has ended; an echoing one has printed its pids. */
const settleRun = async (real: Real, name: string, task: ModelTask) => {
  if (task.kind === "quick") {
    await real.run(eventually(Effect.flatMap(registry, (r) => r.get(name)), (t) => t.status === "crashed"))
  }
  if (echoes(task.kind)) await currentPids(real, name, task)
}

let ownStarts = 0
let refusedForOthers = 0
let keptStarts = 0

class Start extends TaskCommand {
  readonly kind: Kind
  readonly keep: boolean
  constructor(slot: number, name: string, kind: Kind, keep: boolean) {
    super(slot, name)
    this.kind = kind
    this.keep = keep
  }
  async act(model: Model, real: Real) {
    const viewer = this.viewer(real)
    const existing = model.tasks.get(this.name)
    const token = `${real.prefix}${real.count.starts++}`
    const exit = await real.runExit(
      Effect.flatMap(registry, (r) =>
        r.start({
          name: this.name,
          ...commandFor(this.kind, token),
          ...(this.keep && { keep: true })
        })),
      viewer
    )
    if (existing !== undefined && existing.state !== "ended") {
      assertFailsWith(exit, "TaskAlreadyRunning", "a start of a running task's name")
      real.deadTokens.add(token) // Nothing of a refused start runs.
      const message = (errorOf(exit) as Error).message
      const by = `a start${this.keep ? " (keep)" : ""} by ${viewer.id} of ${this.name}`
      if (existing.owner === null) {
        assert.include(message, "kept since", `${by}, a kept task`)
        assert.notInclude(message, "another session", `${by}, a kept task`)
      } else if (existing.owner === viewer.id) {
        ownStarts += 1
        // The caller's own task: the refusal says nothing of its owner.
        assert.notInclude(message, "another session", `${by}, its own task`)
        assert.notInclude(message, "kept", `${by}, its own task`)
      } else {
        refusedForOthers += 1
        assert.include(
          message,
          `started by another session (${real.clients.get(existing.owner)}) at ${existing.since}`
        )
      }
      return
    }
    assert.isTrue(Exit.isSuccess(exit), `start: ${Exit.isFailure(exit) ? String(exit.cause) : ""}`)
    if (this.keep) keptStarts += 1
    if (existing !== undefined) real.deadTokens.add(existing.token)
    const listed = await real.run(Effect.flatMap(registry, (r) => r.get(this.name)))
    if (existing !== undefined) assert.isTrue(listed.since >= existing.since, "a new start's since")
    const task: ModelTask = {
      kind: this.kind,
      owner: this.keep ? null : viewer.id,
      state: this.kind === "quick" ? "ended" : this.kind === "flaky" ? "cycling" : "running",
      token,
      runs: 1,
      lines: [],
      shown: new Map(),
      runFrom: 0,
      since: listed.since
    }
    model.tasks.set(this.name, task)
    await settleRun(real, this.name, task)
  }
  override toString = () => `start(v${this.slot}, ${this.name}, ${this.kind}${this.keep ? ", keep" : ""})`
}

class Stop extends TaskCommand {
  async act(model: Model, real: Real) {
    const exit = await real.runExit(Effect.flatMap(registry, (r) => r.stop(this.name)), this.viewer(real))
    const task = model.tasks.get(this.name)
    if (task === undefined) return assertFailsWith(exit, "TaskNotFound", "stop of no task")
    assert.isTrue(Exit.isSuccess(exit))
    if (task.state !== "ended") assert.strictEqual(Exit.isSuccess(exit) && exit.value.status, "stopped")
    task.state = "ended"
  }
  override toString = () => `stop(v${this.slot}, ${this.name})`
}

class Restart extends TaskCommand {
  async act(model: Model, real: Real) {
    const task = model.tasks.get(this.name)
    const before = task !== undefined && task.state === "running" && echoes(task.kind)
      ? await currentPids(real, this.name, task)
      : []
    const exit = await real.runExit(Effect.flatMap(registry, (r) => r.restart(this.name)), this.viewer(real))
    if (task === undefined) return assertFailsWith(exit, "TaskNotFound", "restart of no task")
    assert.isTrue(Exit.isSuccess(exit), `restart: ${Exit.isFailure(exit) ? String(exit.cause) : ""}`)
    // The previous run's tree is gone; the task keeps its owner (whoever restarts it) and its output.
    assert.deepStrictEqual(before.filter(isAlive), [], `${this.name}: the previous run's processes survived`)
    task.runs += 1
    task.runFrom = task.lines.length
    task.state = task.kind === "quick" ? "ended" : task.kind === "flaky" ? "cycling" : "running"
    await settleRun(real, this.name, task)
  }
  override toString = () => `restart(v${this.slot}, ${this.name})`
}

class Remove extends TaskCommand {
  async act(model: Model, real: Real) {
    const exit = await real.runExit(Effect.flatMap(registry, (r) => r.remove(this.name)), this.viewer(real))
    const task = model.tasks.get(this.name)
    if (task === undefined) return assertFailsWith(exit, "TaskNotFound", "remove of no task")
    assert.isTrue(Exit.isSuccess(exit))
    model.tasks.delete(this.name)
    real.deadTokens.add(task.token)
  }
  override toString = () => `remove(v${this.slot}, ${this.name})`
}

/**
 * A line sent to the task's input, which an echoing task prints back: a line printed on demand. What
 * the task printed before it is shown to the session that sent it (its answer comes after).
 */
class Send extends TaskCommand {
  async act(model: Model, real: Real) {
    const text = `t${real.count.sent++}`
    const viewer = this.viewer(real)
    const exit = await real.runExit(Effect.flatMap(registry, (r) => r.send(this.name, `${text}\n`, false)), viewer)
    const task = model.tasks.get(this.name)
    if (task === undefined) return assertFailsWith(exit, "TaskNotFound", "input to no task")
    if (task.state === "ended") return assertFailsWith(exit, "StdinClosed", "input to an ended task")
    if (task.state === "cycling") return // Running or between runs: taken, or refused.
    assert.isTrue(Exit.isSuccess(exit), `send: ${Exit.isFailure(exit) ? String(exit.cause) : ""}`)
    if (!echoes(task.kind)) return
    task.shown.set(viewer.id, Math.max(task.shown.get(viewer.id) ?? 0, task.lines.length))
    task.lines.push(text)
    const want = task.lines.length
    await real.run(eventually(
      Effect.flatMap(registry, (r) => r.read(this.name, { since: 0 })),
      (p) => p.lines.filter((l) => l.text.startsWith("got ")).length >= want
    ))
  }
  override toString = () => `send(v${this.slot}, ${this.name})`
}

/** A read by a session: everything it printed is shown to that session (and only to it). */
class Read extends TaskCommand {
  async act(model: Model, real: Real) {
    const viewer = this.viewer(real)
    const exit = await real.runExit(Effect.flatMap(registry, (r) => r.read(this.name, {})), viewer)
    const task = model.tasks.get(this.name)
    if (task === undefined) return assertFailsWith(exit, "TaskNotFound", "read of no task")
    assert.isTrue(Exit.isSuccess(exit))
    if (Exit.isFailure(exit)) return
    const got = exit.value.lines.filter((l) => l.text.startsWith("got ")).map((l) => l.text.slice(4))
    assert.deepStrictEqual(got, task.lines, `${this.name}: the lines it echoed, in order, once`)
    task.shown.set(viewer.id, task.lines.length)
  }
  override toString = () => `read(v${this.slot}, ${this.name})`
}

let newToOther = 0
let notNewToSame = 0

/**
 * A wait by a session, without `since`, for one of the lines the task echoed (the latest, or `back`
 * lines before it): it matches at once if that session was not shown the line yet, else waits in vain.
 */
class Wait extends TaskCommand {
  readonly back: number
  constructor(slot: number, name: string, back: number) {
    super(slot, name)
    this.back = back
  }
  async act(model: Model, real: Real) {
    const viewer = this.viewer(real)
    const task = model.tasks.get(this.name)
    const index = task === undefined || task.lines.length === 0
      ? -1
      : Math.max(0, task.lines.length - 1 - this.back)
    const text = index < 0 ? "never" : task!.lines[index]!
    const exit = await real.runExit(
      Effect.flatMap(registry, (r) => r.wait(this.name, { pattern: new RegExp(`^got ${text}$`), timeoutMs: 150 })),
      viewer
    )
    if (task === undefined) return assertFailsWith(exit, "TaskNotFound", "wait on no task")
    assert.isTrue(Exit.isSuccess(exit))
    if (Exit.isFailure(exit)) return
    // After the last line shown to this session, and of the current run.
    const shown = Math.max(task.shown.get(viewer.id) ?? 0, task.runFrom)
    const isNew = index >= shown
    const history = [...task.shown].map(([id, n]) => `${id}:${n}`).join(" ")
    assert.strictEqual(
      exit.value.matched,
      isNew,
      `${this.name}: wait by ${viewer.id} for line ${index} of ${task.lines.length} (shown: ${history})`
    )
    if (isNew) {
      assert.strictEqual(exit.value.line?.text, `got ${text}`)
      task.shown.set(viewer.id, index + 1)
      if ([...task.shown].some(([id, n]) => id !== viewer.id && n > index)) newToOther += 1
    } else {
      task.shown.set(viewer.id, task.lines.length)
      if (index >= 0) notNewToSame += 1
    }
  }
  override toString = () => `wait(v${this.slot}, ${this.name}${this.back > 0 ? `, ${this.back} back` : ""})`
}

/**
 * A line printed on demand, read by one session, then waited for by another (new to it: the wait
 * matches at once) and by the reader (not new: the wait goes by in vain), each by the rules above.
 */
class ReadThenWait extends TaskCommand {
  readonly other: number
  constructor(slot: number, name: string, other: number) {
    super(slot, name)
    this.other = other
  }
  async act(model: Model, real: Real) {
    // Another session than the reader, however many there are.
    const other = (this.slot + 1 + this.other % (real.viewers.length - 1)) % real.viewers.length
    await new Send(this.slot, this.name).act(model, real)
    await new Read(this.slot, this.name).act(model, real)
    await new Wait(other, this.name, 0).act(model, real)
    await new Wait(this.slot, this.name, 0).act(model, real)
  }
  override toString = () => `readThenWait(v${this.slot}, ${this.name}, +${this.other + 1})`
}

let endedOwning = 0
let sparedByEnd = 0

/** The session in the slot ends; a fresh one takes its place. */
class EndSession extends SessionCommand {
  async act(model: Model, real: Real) {
    const viewer = this.viewer(real)
    const before = await real.run(Effect.flatMap(registry, (r) => r.list))
    const owned = [...model.tasks].filter(([, task]) => task.owner === viewer.id)
    const ownedPids = await Promise.all(
      owned.map(([name, task]) =>
        task.state === "running" && echoes(task.kind) ? currentPids(real, name, task) : Promise.resolve([])
      )
    )
    const spared = [...model.tasks].filter(([, task]) => task.owner !== viewer.id)
    const sparedPids = await Promise.all(
      spared.map(([name, task]) =>
        task.state === "running" && echoes(task.kind) ? currentPids(real, name, task) : Promise.resolve([])
      )
    )
    await real.run(Effect.flatMap(registry, (r) => r.endSession(viewer.id)))
    // Its tasks are gone, whole trees: by the answer, not eventually.
    const live = liveByToken(real.prefix)
    owned.forEach(([name, task], i) => {
      assert.deepStrictEqual(live.get(task.token) ?? [], [], `${name} (${viewer.id}'s) left processes alive`)
      assert.deepStrictEqual(ownedPids[i]!.filter(isAlive), [], `${name} (${viewer.id}'s) left processes alive`)
      model.tasks.delete(name)
      real.deadTokens.add(task.token)
    })
    if (owned.length > 0) endedOwning += 1
    // Everyone else's (and the kept ones) are as they were.
    const after = await real.run(Effect.flatMap(registry, (r) => r.list))
    spared.forEach(([name, task], i) => {
      const was = before.find((t) => t.name === name)!
      const now = after.find((t) => t.name === name)
      assert.isDefined(now, `${name} (not ${viewer.id}'s) was forgotten`)
      if (task.state === "running") {
        assert.strictEqual(now!.status, "running", `${name} (not ${viewer.id}'s) stopped`)
        assert.strictEqual(now!.pid, was.pid, `${name} (not ${viewer.id}'s) was restarted`)
        for (const pid of sparedPids[i]!) assert.isTrue(isAlive(pid), `${name}: process ${pid} was killed`)
        sparedByEnd += 1
      }
    })
    real.clients.delete(viewer.id)
    real.viewers[this.slot % real.viewers.length] = newViewer(real)
  }
  override toString = () => `endSession(v${this.slot})`
}

let raced = 0

/**
 * Two sessions at once: one starts a task (a sh tree) while another session ends, the start sent
 * first and not yet answered. The start may be refused (a running task holds the name), but a start
 * that succeeds made the starter's task, which the other session's end leaves alone; everything the
 * ending session owned besides is gone, trees and all.
 */
class StartWhileSessionEnds extends TaskCommand {
  readonly ending: number
  constructor(slot: number, name: string, ending: number) {
    super(slot, name)
    this.ending = ending
  }
  async act(model: Model, real: Real) {
    const starter = this.viewer(real)
    const existing = model.tasks.get(this.name)
    // The session that owns the name's task (0), when it is not the starter; else another one.
    const starterSlot = this.slot % real.viewers.length
    const ownerSlot = real.viewers.findIndex((v) => v.id === existing?.owner)
    const endingSlot = this.ending === 0 && ownerSlot >= 0 && ownerSlot !== starterSlot
      ? ownerSlot
      : (starterSlot + 1 + this.ending % (real.viewers.length - 1)) % real.viewers.length
    const ending = real.viewers[endingSlot]!
    const owned = [...model.tasks].filter(([name, task]) => name !== this.name && task.owner === ending.id)
    const token = `${real.prefix}${real.count.starts++}`
    const started = await real.run(Effect.gen(function*(this: StartWhileSessionEnds) {
      const r = yield* registry
      const start = withViewer(r.start({ name: this.name, ...commandFor("sh", token) }), starter)
      const fiber = yield* Effect.forkChild(Effect.exit(start), { startImmediately: true })
      yield* r.endSession(ending.id)
      return yield* Fiber.join(fiber)
    }.bind(this)))
    raced += 1
    const live = liveByToken(real.prefix)
    for (const [name, task] of owned) {
      assert.deepStrictEqual(live.get(task.token) ?? [], [], `${name} (${ending.id}'s) left processes alive`)
      model.tasks.delete(name)
      real.deadTokens.add(task.token)
    }
    if (Exit.isSuccess(started)) {
      // Refused only while a task runs under the name; else the starter's task, whatever the end did.
      assert.isTrue(
        existing === undefined || existing.state === "ended" || existing.owner === ending.id,
        `${starter.id} started ${this.name} over a running task`
      )
      if (existing !== undefined) real.deadTokens.add(existing.token)
      const got = await real.runExit(Effect.flatMap(registry, (r) => r.get(this.name)), starter)
      assert.isTrue(
        Exit.isSuccess(got) && got.value.owner === "you" && got.value.status === "running",
        `${starter.id}'s start of ${this.name} succeeded, but ${ending.id}'s end then took it: ${
          Exit.isSuccess(got) ? `${got.value.status}, owner ${got.value.owner}` : "gone"
        }`
      )
      if (Exit.isFailure(got)) return
      const task: ModelTask = {
        kind: "sh",
        owner: starter.id,
        state: "running",
        token,
        runs: 1,
        lines: [],
        shown: new Map(),
        runFrom: 0,
        since: got.value.since
      }
      model.tasks.set(this.name, task)
      await settleRun(real, this.name, task)
    } else {
      assertFailsWith(started, "TaskAlreadyRunning", `${starter.id}'s start of ${this.name}`)
      assert.isTrue(existing !== undefined && existing.state !== "ended", "refused, but nothing ran under the name")
      real.deadTokens.add(token)
      if (existing!.owner === ending.id) {
        model.tasks.delete(this.name)
        real.deadTokens.add(existing!.token)
      }
    }
    real.clients.delete(ending.id)
    real.viewers[endingSlot] = newViewer(real)
  }
  override toString = () =>
    `startWhileSessionEnds(v${this.slot}, ${this.name}, ends: ${this.ending === 0 ? "its owner" : "another"})`
}

let clients = 0
const newViewer = (real: Pick<Real, "clients">) => {
  const client = `agent-${++clients}`
  const viewer = makeViewer(() => client)
  real.clients.set(viewer.id, client)
  return viewer
}

const slots = fc.integer({ min: 0, max: 2 })
const names = fc.constantFrom("a", "b")
const onTask = <C>(make: (slot: number, name: string) => C) => fc.tuple(slots, names).map(([s, n]) => make(s, n))
const start = fc.tuple(
  slots,
  names,
  fc.constantFrom<Kind>("sh", "sh", "sh", "py", "quick", "flaky"),
  fc.constantFrom(false, false, true)
).map(([s, n, k, keep]) => new Start(s, n, k, keep))
/** Each sequence begins with a task or two that print lines on demand, so most commands meet one. */
const setup = fc.array(
  fc.tuple(slots, names, fc.constantFrom<Kind>("sh", "sh", "sh", "py"), fc.constantFrom(false, false, true))
    .map(([s, n, k, keep]) => new Start(s, n, k, keep)),
  { minLength: 1, maxLength: 2 }
)
const send = onTask((s, n) => new Send(s, n))
const read = onTask((s, n) => new Read(s, n))
const wait = fc.tuple(slots, names, fc.nat(3)).map(([s, n, back]) => new Wait(s, n, back))
// Starts, input, reads and waits are weighted up, so most sequences print lines that sessions see.
const commands = fc.commands([
  start,
  start,
  start,
  send,
  send,
  send,
  read,
  read,
  wait,
  wait,
  fc.tuple(slots, names, fc.nat(1)).map(([s, n, o]) => new ReadThenWait(s, n, o)),
  onTask((s, n) => new Stop(s, n)),
  onTask((s, n) => new Restart(s, n)),
  onTask((s, n) => new Remove(s, n)),
  slots.map((s) => new EndSession(s)),
  fc.tuple(slots, names, fc.nat(1)).map(([s, n, e]) => new StartWhileSessionEnds(s, n, e))
], { maxCommands: 16, size: "max" })

const TestLayer = TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ shutdownGraceMs: 300, killGraceMs: 500 })))

const withViewer = <A, E>(effect: Effect.Effect<A, E, TaskRegistry>, viewer: ViewerShape | undefined) =>
  viewer === undefined ? effect : Effect.provideService(effect, Viewer, viewer)

let sequences = 0

describe("sessions own their tasks (model-based, real processes)", () => {
  it("list shows each owner, an end of session takes exactly its tasks, cursors are per session", async () => {
    let executed = 0
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 2, max: 3 }), setup, commands, async (sessions, starts, cmds) => {
        const scope = Effect.runSync(Scope.make())
        const context: Context.Context<TaskRegistry> = await Effect.runPromise(Layer.buildWithScope(TestLayer, scope))
        const clientsOf = new Map<string, string>()
        const real: Real = {
          run: (effect, viewer) => Effect.runPromise(Effect.provideContext(withViewer(effect, viewer), context)),
          runExit: (effect, viewer) =>
            Effect.runPromiseExit(Effect.provideContext(withViewer(effect, viewer), context)),
          viewers: Array.from({ length: sessions }, () => newViewer({ clients: clientsOf })),
          clients: clientsOf,
          deadTokens: new Set(),
          count: { starts: 0, sent: 0 },
          prefix: `${process.pid}-${sequences++}-`
        }
        try {
          const model: Model = { tasks: new Map() }
          for (const command of starts) await command.run(model, real)
          await fc.asyncModelRun(() => ({ model, real }), cmds)
          executed += [...cmds].length
        } finally {
          await Effect.runPromise(Scope.close(scope, Exit.void))
        }
        // Shutdown ends everything, kept or not.
        assert.deepStrictEqual([...liveByToken(real.prefix).keys()], [], "processes left after shutdown")
      }),
      {
        numRuns: 30,
        // However the random sequences fall, every run covers: a line one session read is new to
        // another's wait and not to its own; starts refused because the caller's own task, another
        // session's, or a kept one holds the name (with and without keep); a restart by another session;
        // an end of session among kept, another session's, and its own tasks (one of them python).
        examples: [
          [3, [new Start(0, "a", "sh", false)], [
            new Send(1, "a"),
            new Read(0, "a"),
            new Wait(1, "a", 0),
            new Wait(0, "a", 0),
            new Start(0, "a", "py", false),
            new Start(0, "a", "sh", true),
            new Start(1, "a", "sh", false),
            new Restart(1, "a"),
            new Start(1, "b", "py", false),
            new Start(2, "c", "sh", true),
            new Start(0, "c", "quick", false),
            new Start(1, "c", "sh", true),
            new EndSession(0),
            new Send(0, "b"),
            new Wait(0, "b", 0),
            new EndSession(1),
            new Start(0, "a", "flaky", false),
            new EndSession(0)
          ]],
          // A line of the run before a restart, shown to nobody, is not what a wait for it finds now.
          [2, [new Start(0, "a", "sh", false)], [new Send(0, "a"), new Restart(0, "a"), new Wait(0, "a", 0)]]
        ]
      }
    )
    assert.isAbove(executed, 100, "the sequences ran commands")
    assert.isAbove(refusedForOthers, 0, "some starts were refused for another session's task")
    assert.isAbove(ownStarts + keptStarts, 0, "some starts were of the caller's own or kept tasks")
    assert.isAbove(newToOther, 0, "some waits matched a line another session had been shown")
    assert.isAbove(notNewToSame, 0, "some waits did not see a line their own session had been shown")
    assert.isAbove(endedOwning, 0, "some sessions ended owning tasks")
    assert.isAbove(sparedByEnd, 0, "some tasks outlived another session's end")
    assert.isAbove(raced, 0, "some starts raced another session's end")
  }, 120_000)

  /** A small registry of its own, calls made as `viewer` (none: the anonymous one). */
  const withRegistry = async (
    body: (
      run: <A, E>(effect: Effect.Effect<A, E, TaskRegistry>, viewer?: ViewerShape) => Promise<A>
    ) => Promise<void>
  ) => {
    const scope = Effect.runSync(Scope.make())
    const context: Context.Context<TaskRegistry> = await Effect.runPromise(Layer.buildWithScope(TestLayer, scope))
    try {
      await body((effect, viewer) => Effect.runPromise(Effect.provideContext(withViewer(effect, viewer), context)))
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
  }

  it("a start with keep of the caller's own running task is refused as its own, not another session's", () =>
    withRegistry(async (run) => {
      const mine = makeViewer(() => "mine")
      await run(Effect.flatMap(registry, (r) => r.start({ name: "x", command: "sleep 30" })), mine)
      const exit = await run(
        Effect.exit(Effect.flatMap(registry, (r) => r.start({ name: "x", command: "sleep 30", keep: true }))),
        mine
      )
      assertFailsWith(exit, "TaskAlreadyRunning", "a second start of x")
      const message = (errorOf(exit) as Error).message
      assert.notInclude(message, "another session", "the caller's own task")
      assert.notInclude(message, "kept", "the caller's own task")
    }))

  it("an end of session leaves alone a task another session has just started under one of its names", () =>
    withRegistry(async (run) => {
      const ending = makeViewer(() => "ending")
      const starter = makeViewer(() => "starter")
      // The ending session's task has ended, so the name is free for anyone to start again.
      await run(Effect.flatMap(registry, (r) => r.start({ name: "x", command: "exit 0" })), ending)
      await run(eventually(Effect.flatMap(registry, (r) => r.get("x")), (t) => t.status === "exited"))
      const started = await run(Effect.gen(function*() {
        const r = yield* registry
        // Sent first, not yet answered when the other session ends.
        const fiber = yield* Effect.forkChild(
          Effect.exit(withViewer(r.start({ name: "x", command: "sleep 30" }), starter)),
          { startImmediately: true }
        )
        yield* r.endSession(ending.id)
        return yield* Fiber.join(fiber)
      }))
      assert.isTrue(Exit.isSuccess(started), "the start succeeded")
      const pid = Exit.isSuccess(started) ? started.value.pid! : 0
      const list = await run(Effect.flatMap(registry, (r) => r.list), starter)
      assert.deepStrictEqual(
        list.map((t) => [t.name, t.owner, t.status]),
        [["x", "you", "running"]],
        "the starter's task, running"
      )
      assert.isTrue(isAlive(pid), "its process is alive")
    }))

  it("an end of session stops its trees in parallel, even those that ignore SIGTERM", async () => {
    const killGraceMs = 1_000
    const layer = TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ shutdownGraceMs: 300, killGraceMs })))
    const scope = Effect.runSync(Scope.make())
    const context: Context.Context<TaskRegistry> = await Effect.runPromise(Layer.buildWithScope(layer, scope))
    const run = <A, E>(effect: Effect.Effect<A, E, TaskRegistry>, viewer?: ViewerShape) =>
      Effect.runPromise(Effect.provideContext(withViewer(effect, viewer), context))
    const mine = makeViewer(() => "mine")
    const theirs = makeViewer(() => "theirs")
    const prefix = `${process.pid}-stubborn-`
    try {
      const stubborn = (name: string, viewer: ViewerShape, keep = false) =>
        run(
          Effect.flatMap(registry, (r) =>
            r.start({
              name,
              command: fixture("ignore-term.sh"),
              args: [],
              env: { [TOKEN_VAR]: `${prefix}${name}` },
              keep
            })),
          viewer
        )
      for (const name of ["m1", "m2", "m3"]) await stubborn(name, mine)
      await stubborn("kept", mine, true)
      await stubborn("t1", theirs)
      const pidsOf = async (name: string) =>
        pidsIn(
          (await run(eventually(
            Effect.flatMap(registry, (r) => r.read(name, { since: 0 })),
            (p) => pidsIn(p.lines).length === 3
          ))).lines
        )
      const mineBefore = (await Promise.all(["m1", "m2", "m3"].map(pidsOf))).flat()
      const othersBefore = (await Promise.all(["kept", "t1"].map(pidsOf))).flat()
      const began = Date.now()
      await run(Effect.flatMap(registry, (r) => r.endSession(mine.id)))
      const took = Date.now() - began
      // Each tree holds out for the whole grace: one after the other would take three graces.
      assert.isBelow(took, 2.5 * killGraceMs, `the end of a session with three stubborn tasks took ${took} ms`)
      assert.deepStrictEqual(mineBefore.filter(isAlive), [], "its trees are dead")
      const live = liveByToken(prefix)
      assert.deepStrictEqual(["m1", "m2", "m3"].flatMap((n) => live.get(`${prefix}${n}`) ?? []), [])
      assert.deepStrictEqual(othersBefore.filter((pid) => !isAlive(pid)), [], "kept and others' trees live on")
      const list = await run(Effect.flatMap(registry, (r) => r.list), theirs)
      assert.deepStrictEqual(
        list.map((t) => [t.name, t.owner, t.status]).sort(),
        [["kept", "kept", "running"], ["t1", "you", "running"]]
      )
    } finally {
      await Effect.runPromise(Scope.close(scope, Exit.void))
    }
    assert.deepStrictEqual([...liveByToken(prefix).keys()], [], "processes left after shutdown")
  }, 30_000)
})
