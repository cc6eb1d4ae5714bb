/**
 * A task's program on a pseudo-terminal (`@lydell/node-pty`), as a scoped Effect resource:
 * every program line-buffers, REPLs prompt, `test -t 1` holds, and Ctrl-C typed into it
 * interrupts the foreground job, as in a terminal. Its stdout and stderr are one stream.
 *
 * The native module is loaded on the first terminal start, not before: where it cannot load,
 * that start fails with `TerminalUnavailable` and everything else works.
 *
 * The child is a session leader; an interactive shell puts each job in a group of its own,
 * which ProcessTree finds as members of the session.
 */
import type * as NodePty from "@lydell/node-pty"
import { Deferred, Effect, Option, type Scope } from "effect"
import { accessSync, constants as fsConstants } from "node:fs"
import { constants as osConstants } from "node:os"
import * as NodePath from "node:path"
import { firstLineOf } from "../domain/clipText.ts"
import { SpawnFailed, TerminalUnavailable } from "../domain/errors.ts"
import type { TerminalSize } from "../domain/TerminalSize.ts"
import { loadOnce } from "../loadOnce.ts"
import * as ProcessTree from "./ProcessTree.ts"
import * as procfs from "./procfs.ts"
import { PtyInput } from "./PtyInput.ts"
import { argv } from "./shellLine.ts"
import type { ExitInfo, OutputSink, SpawnSpec, TaskProcess, WriteResult } from "./TaskProcess.ts"

type Pty = typeof NodePty

/** The native module, loaded on first use (and again after a load that failed). */
const importPty = loadOnce(() =>
  import("@lydell/node-pty").then((module) =>
    // CommonJS: its exports arrive as the default export.
    ((module as { default?: Pty }).default ?? module) as Pty
  )
)

const loadPty = Effect.tryPromise({
  try: importPty,
  catch: (error) => {
    // Its first line says what is missing; how to get it back is the same whatever it is, but for a limit.
    const first = firstLineOf(error)
    return new TerminalUnavailable({
      reason: /EMFILE|ENFILE|too many open files/i.test(first)
        ? `the native module @lydell/node-pty could not be loaded now: taskmux has too many files open (${first}); ` +
          "stop tasks it no longer needs, or raise its limit (ulimit -n), and try again"
        : `the native module @lydell/node-pty could not be loaded (${first}; installing taskmux again on this ` +
          "machine, without npm's --omit=optional, brings it back)"
    })
  }
})

export const spawn = (
  spec: SpawnSpec,
  size: TerminalSize,
  output: OutputSink
): Effect.Effect<TaskProcess, SpawnFailed | TerminalUnavailable, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.flatMap(loadPty, (pty) => start(pty, spec, size, output)),
    // Returns at once when the tree is already gone.
    (process) => process.terminate({ signal: "SIGTERM", graceMs: spec.releaseGraceMs })
  )

const start = (pty: Pty, spec: SpawnSpec, size: TerminalSize, output: OutputSink) =>
  Effect.try({
    try: () => {
      const [file, args] = argv(spec.command, spec.args, true)
      // The terminal's child reports a program it cannot exec only as output and exit code 1:
      // look for it first, so a typo fails as it does on pipes.
      const missing = missingProgram(file, spec.env.PATH, spec.cwd)
      if (missing !== undefined) throw missing
      const terminal = procfs.forkedAsOomChoice(() =>
        pty.spawn(file, args, {
          name: TERMINAL_TYPE,
          cols: size.cols,
          rows: size.rows,
          cwd: spec.cwd,
          env: spec.env,
          // Bytes, not strings: the output buffer finds lines in bytes and decodes only what is read.
          encoding: null
        })
      )
      return make(terminal, spec, output)
    },
    catch: (error) =>
      error instanceof SpawnFailed
        ? error
        : /forkpty/.test((error as Error).message)
        ? forkptyFailed(spec.command, (error as Error).message)
        : new SpawnFailed({ command: spec.command, code: "", reason: (error as Error).message })
  })

/** A terminal that could not be made, said with its likeliest cause, as a start on pipes says its own. */
const forkptyFailed = (command: string, message: string) => {
  const cause = procfs.forkptyCause()
  return cause === "EMFILE"
    ? new SpawnFailed({ command, code: "EMFILE", reason: message.replace(/\.$/, "") })
    : new SpawnFailed({
      command,
      code: "",
      reason: cause === "ENOPTY"
        ? `${message} Every pseudo-terminal of this system is in use (/proc/sys/kernel/pty/max): stop terminal ` +
          "tasks no longer needed, or start this one without terminal"
        : `${message} No terminal could be made: this user's limit of processes may be reached (ulimit -u), or ` +
          "no pseudo-terminal is left. Stop tasks no longer needed, or start this one without terminal"
    })
}

/** What a terminal task's programs are told they run on (TERM): what xterm.js, which draws it, emulates. */
export const TERMINAL_TYPE = "xterm-256color"

const make = (terminal: NodePty.IPty, spec: SpawnSpec, output: OutputSink): TaskProcess => {
  const pid = terminal.pid
  const exit = Deferred.makeUnsafe<ExitInfo>()
  let leaderExited = false
  // Not in the typings (node-pty is pinned): the master's fd, and the stream that owns it, which closes
  // it once destroyed.
  const master = terminal as unknown as { readonly fd: number; readonly _socket?: { readonly destroyed: boolean } }
  const input = new PtyInput(master.fd, () => !leaderExited && master._socket?.destroyed !== true)
  const tree = ProcessTree.make({
    pid,
    marker: spec.marker,
    // Not in the typings: the terminal's device, which is what its programs' output is.
    outputs: [(terminal as { readonly ptsName?: string }).ptsName],
    leaderExited: () => leaderExited,
    graceMs: spec.stopGraceMs
  })

  // With `encoding: null` the data are Buffers, whatever the typings say.
  terminal.onData((data) => {
    if (!output.append("stdout", data as unknown as Buffer, Date.now())) {
      terminal.pause()
      output.onDrain(() => terminal.resume())
    }
  })
  // Fires once the terminal is drained, or 200 ms after the leader exited while others hold it.
  terminal.onExit(({ exitCode, signal }) => {
    leaderExited = true
    input.close("its terminal is closed")
    tree.leaderGone()
    output.flush("stdout")
    // Killed by a signal: the code is 0 then, so the signal decides.
    const name = signal ? signalName(signal) : null
    Deferred.doneUnsafe(exit, Effect.succeed({ code: name === null ? exitCode : null, signal: name }))
  })

  const exited = Effect.gen(function*() {
    const info = yield* Deferred.await(exit)
    // Whatever the leader left running in its session ends with it: nothing outlives a task.
    const left = yield* tree.sweep
    return left.length > 0 ? { ...info, leftRunning: left } : info
  })

  /**
   * An interactive shell (bash -i, zsh -i) ignores SIGTERM and ends as its terminal closes: once only such
   * processes are left of the task (its jobs have had their SIGTERM, and their time to act on it), they get
   * SIGHUP, as a closed window sends it, not the grace's SIGKILL five seconds later, their history unsaved.
   * Runs beside a stop until the stop ends it; off Linux, where processes cannot be listed, it does nothing.
   */
  const hangUpShells = Effect.gen(function*() {
    for (;;) {
      yield* Effect.sleep(HANG_UP_LOOK_MS)
      // A shell line's shell waits out its session before it dies of the SIGTERM (shellLine.ts): not a
      // program that ignores it, and not one to hang up.
      const left = tree.members().filter((member) => member.live && !(spec.args === undefined && member.pid === pid))
      if (left.length === 0) break
      if (left.every((member) => procfs.ignoresSignal(member.pid, osConstants.signals.SIGTERM))) {
        for (const member of left) {
          try {
            process.kill(member.pid, "SIGHUP")
          } catch {
            // Gone meanwhile.
          }
        }
        break
      }
    }
    return yield* Effect.never
  })

  const isStdinOpen = () => !leaderExited

  // Ctrl-D: end of input for a program reading the terminal line by line.
  const endInput = () => {
    if (!leaderExited) input.write(Buffer.from("\x04"), () => {})
  }

  const write = (data: Buffer, waitMs: number, end = false) =>
    Effect.callback<WriteResult>((resume) => {
      if (leaderExited) return resume(Effect.succeed({ _tag: "Closed", reason: "its terminal is closed" }))
      input.write(data, (error) =>
        resume(Effect.succeed(error === undefined ? { _tag: "Written" } : { _tag: "Closed", reason: error })))
      if (end) {
        endInput()
        // A Ctrl-D after text that ends no line only hands that text over: a second one ends the input.
        const last = data[data.length - 1]
        if (last !== 0x0a && last !== 0x0d && last !== 0x04) {
          endInput()
        }
      }
    }).pipe(Effect.timeoutOption(waitMs), Effect.map(Option.getOrElse((): WriteResult => ({ _tag: "Queued" }))))

  return {
    pid,
    exited,
    isStdinOpen,
    write,
    unread: () => input.unread,
    // Its programs share the terminal, which the session leader holds: nobody else's copy to tell apart.
    nobodyReads: () => false,
    endInput,
    signal: tree.signal,
    terminate: (options) =>
      options.signal === "SIGTERM"
        ? tree.terminate(options).pipe(Effect.raceFirst(hangUpShells))
        : tree.terminate(options),
    members: tree.members,
    unkillable: tree.unkillable,
    outputs: tree.outputs,
    resize: ({ cols, rows }) => {
      if (leaderExited) return false
      try {
        terminal.resize(cols, rows)
        return true
      } catch {
        return false
      }
    }
  }
}

/** How often a stop looks for a task left with only processes that ignore SIGTERM. */
const HANG_UP_LOOK_MS = 50

const signalName = (signal: number): NodeJS.Signals | null => {
  for (const [name, number] of Object.entries(osConstants.signals)) {
    if (number === signal) return name as NodeJS.Signals
  }
  return null
}

/** A SpawnFailed when `file` cannot be found or run, as `execvp` would look for it. */
const missingProgram = (file: string, path: string | undefined, cwd: string): SpawnFailed | undefined => {
  const candidates = file.includes("/")
    ? [NodePath.resolve(cwd, file)]
    : (path ?? "/usr/bin:/bin").split(":").map((dir) => NodePath.resolve(cwd, dir || ".", file))
  let code = "ENOENT"
  for (const candidate of candidates) {
    try {
      accessSync(candidate, fsConstants.X_OK)
      return undefined
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "EACCES") code = "EACCES"
    }
  }
  return new SpawnFailed({ command: file, code, reason: code === "EACCES" ? "permission denied" : "not found" })
}
