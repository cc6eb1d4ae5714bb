/**
 * A task's program on pipes, as a scoped Effect resource: the one module that touches
 * `node:child_process`.
 *
 * Why not `effect/process`'s spawner: it reports a signal death as a failure whose
 * message names the signal, and it decides a group is gone with `kill(-pgid, 0)`, which
 * keeps succeeding while zombies wait for a slow init to reap them (see ProcessTree).
 * Here the exit is the plain `{ code, signal }` pair.
 */
import { Deferred, Effect, Option, type Scope } from "effect"
import * as NodeChildProcess from "node:child_process"
import { existsSync } from "node:fs"
import * as Net from "node:net"
import type { Readable } from "node:stream"
import { SpawnFailed } from "../domain/errors.ts"
import * as ProcessTree from "./ProcessTree.ts"
import * as procfs from "./procfs.ts"
import { argv } from "./shellLine.ts"
import type { OutputSink, SpawnSpec, TaskProcess, WriteResult } from "./TaskProcess.ts"

/** How long to wait for pipes to close after the group is gone (a daemon that left the group may hold them). */
const DRAIN_MS = 2_000
export const spawn = (
  spec: SpawnSpec,
  output: OutputSink
): Effect.Effect<TaskProcess, SpawnFailed, Scope.Scope> =>
  Effect.acquireRelease(
    start(spec, output),
    // Returns at once when the tree is already gone.
    (process) => process.terminate({ signal: "SIGTERM", graceMs: spec.releaseGraceMs })
  )

const start = (spec: SpawnSpec, output: OutputSink) =>
  Effect.callback<TaskProcess, SpawnFailed>((resume) => {
    const [file, args] = argv(spec.command, spec.args)
    let child: NodeChildProcess.ChildProcess
    try {
      child = procfs.forkedAsOomChoice(() =>
        NodeChildProcess.spawn(file, args, {
          cwd: spec.cwd,
          env: spec.env,
          // Own session and process group, so the whole tree can be signalled as one.
          detached: true,
          stdio: ["pipe", "pipe", "pipe"]
        })
      )
    } catch (error) {
      // Some errors Node throws rather than emits (E2BIG: a command line over the kernel's limits).
      const { code, message } = error as NodeJS.ErrnoException
      return resume(Effect.fail(new SpawnFailed({ command: spec.command, code: code ?? "", reason: message })))
    }
    // What its output is, read now: spawn returns once it has exec'd, before it can have ended.
    const outputs = child.pid !== undefined && procfs.available
      ? [procfs.descriptor(child.pid, 1), procfs.descriptor(child.pid, 2)]
      : []
    child.once("error", (error: NodeJS.ErrnoException) => {
      // Node reports a missing cwd as ENOENT of the program: say which it was.
      const code = error.code === "ENOENT" && !existsSync(spec.cwd) ? "ENOCWD" : error.code ?? ""
      const reason = code === "ENOCWD" ? spec.cwd : error.message
      resume(Effect.fail(new SpawnFailed({ command: spec.command, code, reason })))
    })
    child.once("spawn", () => {
      // Later errors (a failed kill, a closed pipe) are answered where they happen, never thrown.
      child.on("error", () => {})
      resume(Effect.succeed(make(child, spec, outputs, output)))
    })
  })

/**
 * One read buffer for every task's pipes. Node allocates a fresh 64 KiB buffer for each pipe read,
 * which a flood turns into garbage faster than V8 collects it (RSS climbed by 100 MB and more, and
 * collecting it took a fifth of the server's time); reads land here instead, and each is copied
 * where it is kept (OutputBuffer, LogFile) before the next read can overwrite it.
 */
const readBuffer = Buffer.allocUnsafeSlow(64 * 1024)

/** A pipe being read: paused while the log file catches up, destroyed when a daemon holds it open. */
interface PipeReader {
  pause(): void
  resume(): void
  destroy(): void
}

/**
 * Reads a child's pipe into `readBuffer`, through a socket of our own on the pipe Node made for the
 * child: `net.Socket`'s `onread` option, which child_process does not offer. Node's own stream for
 * the pipe is left idle. Where its handle is not there to take (a Node that changed its insides),
 * the stream's own chunks serve, at the old cost.
 */
export const readPipe = (
  stream: Readable,
  onChunk: (chunk: Buffer) => boolean,
  onEnd: () => void,
  onClose: () => void
): PipeReader => {
  const handle = (stream as unknown as { readonly _handle?: object | null })._handle
  if (handle == null) {
    stream.on("data", (chunk: Buffer) => {
      if (!onChunk(chunk)) stream.pause()
    })
    stream.on("end", onEnd).on("close", onClose).on("error", () => {})
    return stream
  }
  stream.on("error", () => {})
  const socket = new Net.Socket({
    handle,
    readable: true,
    writable: false,
    // Returning false pauses the socket.
    onread: { buffer: readBuffer, callback: (bytes) => onChunk(readBuffer.subarray(0, bytes)) }
  } as Net.SocketConstructorOpts)
  socket.on("end", onEnd).on("close", onClose).on("error", () => {})
  return socket
}

const make = (
  child: NodeChildProcess.ChildProcess,
  spec: SpawnSpec,
  outputs: ReadonlyArray<string | undefined>,
  output: OutputSink
): TaskProcess => {
  const pid = child.pid!
  const exit = Deferred.makeUnsafe<{ code: number | null; signal: NodeJS.Signals | null }>()
  const closed = Deferred.makeUnsafe<void>()
  let leaderExited = false
  let stdinClosedBy: string | undefined

  const stdin = child.stdin!
  stdin.on("error", (error: NodeJS.ErrnoException) => {
    stdinClosedBy ??= error.code === "EPIPE" ? "it closed its stdin" : `stdin failed (${error.message})`
  })
  let open = 2
  const readers: Array<PipeReader> = []
  const resume = () => readers.forEach((r) => r.resume())
  for (const [i, stream] of (["stdout", "stderr"] as const).entries()) {
    readers.push(readPipe(
      [child.stdout!, child.stderr!][i]!,
      (chunk) => {
        if (output.append(stream, chunk, Date.now())) return true
        readers.forEach((r) => r.pause())
        output.onDrain(resume)
        return false
      },
      () => output.flush(stream),
      () => {
        if (--open === 0) Deferred.doneUnsafe(closed, Effect.void)
      }
    ))
  }
  const tree = ProcessTree.make({
    pid,
    marker: spec.marker,
    outputs,
    leaderExited: () => leaderExited,
    graceMs: spec.stopGraceMs
  })
  child.once("exit", (code, signal) => {
    leaderExited = true
    tree.leaderGone()
    Deferred.doneUnsafe(exit, Effect.succeed({ code, signal }))
  })

  const exited = Effect.gen(function*() {
    const info = yield* Deferred.await(exit)
    // Whatever the leader left running in its group ends with it: nothing outlives a task.
    // (A no-op when the group is gone; zombies are waited for by the shared poller.)
    const left = yield* tree.sweep
    // Most often closed by now: no timer to race (one per stop in a mass stop).
    const drained = Deferred.isDoneUnsafe(closed)
      ? Option.some(undefined)
      : yield* Deferred.await(closed).pipe(Effect.timeoutOption(DRAIN_MS))
    if (Option.isNone(drained)) {
      readers.forEach((r) => r.destroy())
      output.flush("stdout")
      output.flush("stderr")
    }
    return left.length > 0 ? { ...info, leftRunning: left } : info
  })

  /**
   * Nobody but a shell line's shell holds the task's stdin now: its program closed it, or runs with
   * another (`cmd </dev/null`), and the shell's own copy keeps writes filling the pipe. They may still be
   * read (a `while read` loop reads between its commands), so this only explains bytes not read. Known
   * where the shell waits for a program (not reading itself: `read`) and none of the others holds it.
   */
  const nobodyReads = () => {
    if (spec.args !== undefined || procfs.waitsIn(pid) !== "do_wait") return false
    // The shell's own copy is the stdin it was given ("socket:[123]").
    const input = procfs.descriptor(pid, 0)
    if (input === undefined) return false
    const others = tree.members().filter((p) => p.pid !== pid)
    return others.length > 0 && !others.some((p) => procfs.descriptors(p.pid).includes(input))
  }

  const isStdinOpen = () => !leaderExited && stdinClosedBy === undefined && !stdin.destroyed && !stdin.writableEnded

  const endInput = () => {
    stdinClosedBy ??= "its stdin was closed with eof"
    stdin.end()
  }

  const write = (data: Buffer, waitMs: number, end = false) =>
    Effect.suspend(() => {
      if (!isStdinOpen()) {
        return Effect.succeed<WriteResult>({ _tag: "Closed", reason: stdinClosedBy ?? "its stdin is closed" })
      }
      const done = Deferred.makeUnsafe<WriteResult>()
      stdin.write(data, (error) => {
        Deferred.doneUnsafe(
          done,
          Effect.succeed<WriteResult>(
            error
              ? {
                _tag: "Closed",
                reason: (error as NodeJS.ErrnoException).code === "EPIPE" ? "it closed its stdin" : error.message
              }
              : { _tag: "Written" }
          )
        )
      })
      if (end) endInput()
      // Handed to the kernel at once (or failed at once): its callback comes in this turn's next tick, so no
      // timer is needed (a timer and a race per write were most of a watchdog line's cost in a burst of starts).
      if (stdin.writableLength === 0) return Deferred.await(done)
      return Deferred.await(done).pipe(
        Effect.timeoutOption(waitMs),
        Effect.map(Option.getOrElse((): WriteResult => ({ _tag: "Queued" })))
      )
    })

  return {
    pid,
    exited,
    isStdinOpen,
    write,
    unread: () => stdin.writableLength,
    nobodyReads,
    endInput,
    signal: tree.signal,
    terminate: tree.terminate,
    members: tree.members,
    unkillable: tree.unkillable,
    outputs: tree.outputs,
    resize: () => false
  }
}
