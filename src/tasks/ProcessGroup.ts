/**
 * A child process in a process group of its own, as a scoped Effect resource: the one
 * module that touches `node:child_process`.
 *
 * Why not `effect/process`'s spawner: it reports a signal death as a failure whose
 * message names the signal, and it decides a group is gone with `kill(-pgid, 0)`, which
 * keeps succeeding while zombies wait for a slow init to reap them (1-2 s on these
 * machines), so every stop of a shell tree would take a second or more. Here a group
 * is gone when it has no member that is not a zombie, checked in `/proc`, and the exit
 * is the plain `{ code, signal }` pair.
 */
import { Deferred, Effect, Option, type Scope } from "effect"
import * as NodeChildProcess from "node:child_process"
import { existsSync, readdirSync, readFileSync } from "node:fs"
import { SpawnFailed } from "../domain/errors.ts"
import type { StreamId } from "./OutputBuffer.ts"
import { noteBytesRead } from "./ReadBufferReclaimer.ts"

export interface SpawnSpec {
  /** A shell line when `args` is absent, else the program to exec. */
  readonly command: string
  readonly args?: ReadonlyArray<string> | undefined
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** Grace before SIGKILL when the scope closes with the group still alive. */
  readonly releaseGraceMs: number
}

export interface ExitInfo {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** Where output goes, synchronously, chunk by chunk: no per-line work on the hot path. */
export interface OutputSink {
  /** False asks to stop reading the pipes until `onDrain` calls back (a log file fell behind). */
  append(stream: StreamId, chunk: Buffer, time: number): boolean
  flush(stream: StreamId): void
  onDrain(resume: () => void): void
}

export type WriteResult = { readonly _tag: "Written" } | { readonly _tag: "Queued" } | {
  readonly _tag: "Closed"
  readonly reason: string
}

export interface ProcessGroup {
  /** The leader's pid, which is also the group id. */
  readonly pid: number
  /** The leader exited, what it left in its group was ended, and its output was drained. */
  readonly exited: Effect.Effect<ExitInfo>
  readonly isStdinOpen: () => boolean
  /** Writes to stdin; `Queued` when the child has not read it within `waitMs`. */
  readonly write: (data: Buffer, waitMs: number) => Effect.Effect<WriteResult>
  readonly endInput: () => void
  /** Sends a signal to every process of the group; false when none is left. */
  readonly signal: (signal: NodeJS.Signals) => boolean
  /** Signals the group, waits up to `graceMs` for it to be gone, then SIGKILLs what is left. */
  readonly terminate: (options: { readonly signal: NodeJS.Signals; readonly graceMs: number }) => Effect.Effect<void>
}

/** How long to wait for pipes to close after the group is gone (a daemon that left the group may hold them). */
const DRAIN_MS = 2_000
/** After SIGKILL, stop waiting eventually (a process stuck in the kernel cannot be killed). */
const KILL_WAIT_MS = 5_000

export const spawn = (
  spec: SpawnSpec,
  output: OutputSink
): Effect.Effect<ProcessGroup, SpawnFailed, Scope.Scope> =>
  Effect.acquireRelease(
    start(spec, output),
    // Returns at once when the group is already gone.
    (group) => group.terminate({ signal: "SIGTERM", graceMs: spec.releaseGraceMs })
  )

const start = (spec: SpawnSpec, output: OutputSink) =>
  Effect.callback<ProcessGroup, SpawnFailed>((resume) => {
    const [file, args] = spec.args === undefined ? ["/bin/sh", ["-c", spec.command]] : [spec.command, [...spec.args]]
    const child = NodeChildProcess.spawn(file, args, {
      cwd: spec.cwd,
      env: spec.env,
      // Own session and process group, so the whole tree can be signalled as one.
      detached: true,
      stdio: ["pipe", "pipe", "pipe"]
    })
    child.once("error", (error: NodeJS.ErrnoException) => {
      // Node reports a missing cwd as ENOENT of the program: say which it was.
      const code = error.code === "ENOENT" && !existsSync(spec.cwd) ? "ENOCWD" : error.code ?? ""
      const reason = code === "ENOCWD" ? spec.cwd : error.message
      resume(Effect.fail(new SpawnFailed({ command: spec.command, code, reason })))
    })
    child.once("spawn", () => {
      // Later errors (a failed kill, a closed pipe) are answered where they happen, never thrown.
      child.on("error", () => {})
      resume(Effect.succeed(makeGroup(child, output)))
    })
  })

const makeGroup = (child: NodeChildProcess.ChildProcess, output: OutputSink): ProcessGroup => {
  const pid = child.pid!
  const exit = Deferred.makeUnsafe<ExitInfo>()
  const closed = Deferred.makeUnsafe<void>()
  let leaderExited = false
  let stdinClosedBy: string | undefined

  const stdin = child.stdin!
  stdin.on("error", (error: NodeJS.ErrnoException) => {
    stdinClosedBy ??= error.code === "EPIPE" ? "it closed its stdin" : `stdin failed (${error.message})`
  })
  const readables = [child.stdout!, child.stderr!]
  const resume = () => readables.forEach((r) => r.resume())
  for (const [i, stream] of (["stdout", "stderr"] as const).entries()) {
    const readable = readables[i]!
    readable.on("data", (chunk: Buffer) => {
      noteBytesRead(chunk.length)
      if (!output.append(stream, chunk, Date.now())) {
        readables.forEach((r) => r.pause())
        output.onDrain(resume)
      }
    })
    readable.on("end", () => output.flush(stream))
    readable.on("error", () => {})
  }
  child.once("exit", (code, signal) => {
    leaderExited = true
    checkGroupsSoon()
    Deferred.doneUnsafe(exit, Effect.succeed({ code, signal }))
  })
  child.once("close", () => Deferred.doneUnsafe(closed, Effect.void))

  const signal = (sig: NodeJS.Signals): boolean => kill(-pid, sig)
  const hasExited = () => leaderExited

  const terminate = (options: { readonly signal: NodeJS.Signals; readonly graceMs: number }) =>
    Effect.gen(function*() {
      if (!signal(options.signal)) return
      // A stopped process acts on SIGTERM only once continued.
      if (options.signal !== "SIGKILL") signal("SIGCONT")
      const gone = yield* awaitGroupGone(pid, hasExited).pipe(Effect.timeoutOption(options.graceMs))
      if (Option.isSome(gone)) return
      signal("SIGKILL")
      yield* awaitGroupGone(pid, hasExited).pipe(Effect.timeoutOption(KILL_WAIT_MS))
    })

  const exited = Effect.gen(function*() {
    const info = yield* Deferred.await(exit)
    // Whatever the leader left running in its group ends with it: nothing outlives a task.
    // (A no-op when the group is gone; zombies are waited for by the shared poller.)
    yield* terminate({ signal: "SIGTERM", graceMs: 1_000 })
    const drained = yield* Deferred.await(closed).pipe(Effect.timeoutOption(DRAIN_MS))
    if (Option.isNone(drained)) {
      child.stdout?.destroy()
      child.stderr?.destroy()
      output.flush("stdout")
      output.flush("stderr")
    }
    return info
  })

  const isStdinOpen = () => !leaderExited && stdinClosedBy === undefined && !stdin.destroyed && !stdin.writableEnded

  const write = (data: Buffer, waitMs: number) =>
    Effect.callback<WriteResult>((resume) => {
      if (!isStdinOpen()) {
        resume(Effect.succeed({ _tag: "Closed", reason: stdinClosedBy ?? "its stdin is closed" }))
        return
      }
      stdin.write(data, (error) => {
        resume(Effect.succeed(
          error
            ? {
              _tag: "Closed",
              reason: (error as NodeJS.ErrnoException).code === "EPIPE" ? "it closed its stdin" : error.message
            }
            : { _tag: "Written" }
        ))
      })
    }).pipe(Effect.timeoutOption(waitMs), Effect.map(Option.getOrElse((): WriteResult => ({ _tag: "Queued" }))))

  const endInput = () => {
    stdinClosedBy ??= "its stdin was closed with eof"
    stdin.end()
  }

  return {
    pid,
    exited,
    isStdinOpen,
    write,
    endInput,
    signal,
    terminate
  }
}

// ---------------------------------------------------------------------------------------
// Is a process group gone? One shared poller for every waiter, so a mass stop scans /proc
// once per tick, not once per task.

const POLL_MS = 10

/** `process.kill`, without the stack trace its error would capture when the target is gone. */
const kill = (pid: number, signal: NodeJS.Signals | 0): boolean => {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    process.kill(pid, signal)
    return true
  } catch {
    return false
  } finally {
    Error.stackTraceLimit = limit
  }
}

interface Waiter {
  /** While the leader lives, its group does: nothing to look at. */
  readonly leaderExited: () => boolean
  readonly resolvers: Set<() => void>
}

const waiters = new Map<number, Waiter>()
let timer: ReturnType<typeof setTimeout> | undefined
let soon = false

/**
 * A leader was reaped: its group is often gone with it, so look now rather than at the next
 * tick (a stop answers in about a millisecond, and a mass stop is not paced by the timer).
 */
const checkGroupsSoon = () => {
  if (soon || waiters.size === 0) return
  soon = true
  setImmediate(tick)
}

/** Process groups that have at least one member that is not a zombie (Linux `/proc`). */
const liveGroups = (): Set<number> => {
  const live = new Set<number>()
  for (const entry of readdirSync("/proc")) {
    const c = entry.charCodeAt(0)
    if (c < 48 || c > 57) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "latin1")
    } catch {
      continue // exited while we looked
    }
    // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ", 3)
    if (fields[0] !== "Z" && fields[0] !== "X") live.add(Number(fields[2]))
  }
  return live
}

const tick = () => {
  clearTimeout(timer)
  timer = undefined
  soon = false
  // Groups whose leader is gone but that still have members, zombies perhaps.
  const remaining: Array<number> = []
  const gone: Array<number> = []
  for (const [pgid, waiter] of waiters) {
    if (!waiter.leaderExited()) continue
    if (kill(-pgid, 0)) remaining.push(pgid)
    else gone.push(pgid)
  }
  if (remaining.length > 0) {
    const live = process.platform === "linux" ? liveGroups() : new Set(remaining)
    for (const pgid of remaining) if (!live.has(pgid)) gone.push(pgid)
  }
  for (const pgid of gone) {
    const waiter = waiters.get(pgid)!
    waiters.delete(pgid)
    for (const resolve of waiter.resolvers) resolve()
  }
  if (waiters.size > 0) timer = setTimeout(tick, POLL_MS)
}

/** Completes once no process of the group is alive (zombies count as gone). */
const awaitGroupGone = (pgid: number, leaderExited: () => boolean): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const resolve = () => resume(Effect.void)
    let waiter = waiters.get(pgid)
    if (waiter === undefined) waiters.set(pgid, waiter = { leaderExited, resolvers: new Set() })
    waiter.resolvers.add(resolve)
    // The leader may be gone already (its group lingering); else its exit calls checkGroupsSoon.
    if (leaderExited()) checkGroupsSoon()
    timer ??= setTimeout(tick, POLL_MS)
    return Effect.sync(() => {
      waiter.resolvers.delete(resolve)
      if (waiter.resolvers.size === 0 && waiters.get(pgid) === waiter) waiters.delete(pgid)
    })
  })
