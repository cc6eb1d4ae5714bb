/**
 * One run of a task's program, however it was spawned: on pipes (`PipeProcess`) or on a
 * pseudo-terminal (`TerminalProcess`). The task actor sees only this interface; `spawn` chooses.
 */
import type { Effect } from "effect"
import type { StreamId } from "../domain/Task.ts"
import type { TerminalSize } from "../domain/TerminalSize.ts"
import type { Proc } from "./procfs.ts"

export interface SpawnSpec {
  /** A shell line when `args` is absent, else the program to exec. */
  readonly command: string
  readonly args?: ReadonlyArray<string> | undefined
  readonly cwd: string
  readonly env: Readonly<Record<string, string>>
  /** Grace before SIGKILL when the scope closes with the process still alive. */
  readonly releaseGraceMs: number
  /** A stop's grace: what the leader leaves after a signal asking the task to end has this long to end. */
  readonly stopGraceMs: number
  /** This run's marker, in its environment too (see ProcessTree); none for the watchdog. */
  readonly marker?: string | undefined
  /** Run it on a pseudo-terminal of this size; absent: on pipes. */
  readonly terminal?: TerminalSize | undefined
}

export interface ExitInfo {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** The command lines of what it left running when it exited by itself, ended with it. */
  readonly leftRunning?: ReadonlyArray<string>
}

/** Where output goes, synchronously, chunk by chunk: no per-line work on the hot path. */
export interface OutputSink {
  /** False asks to stop reading until `onDrain` calls back (a log file fell behind). */
  append(stream: StreamId, chunk: Buffer, time: number): boolean
  flush(stream: StreamId): void
  onDrain(resume: () => void): void
}

export type WriteResult = { readonly _tag: "Written" } | { readonly _tag: "Queued" } | {
  readonly _tag: "Closed"
  readonly reason: string
}

export interface TaskProcess {
  /** The leader's pid, which is also its process group and session id. */
  readonly pid: number
  /** The leader exited, what it left behind was ended, and its output was drained. */
  readonly exited: Effect.Effect<ExitInfo>
  readonly isStdinOpen: () => boolean
  /**
   * Writes to its input; `Queued` when the child has not read it within `waitMs`. With `end`, the
   * input is ended behind these bytes at once, so that nothing written later reaches the program first.
   */
  readonly write: (data: Buffer, waitMs: number, end?: boolean) => Effect.Effect<WriteResult>
  /** Bytes written that the program has not read yet (held by taskmux, beyond what the kernel took). */
  readonly unread: () => number
  /** No process of the task but a shell line's shell holds its stdin now: what is written may never be read. */
  readonly nobodyReads: () => boolean
  /** Closes its input (on a terminal: types Ctrl-D). */
  readonly endInput: () => void
  /** Sends a signal to every process of the task; false when none is left. */
  readonly signal: (signal: NodeJS.Signals) => boolean
  /**
   * Signals every process, waits up to `graceMs` for all to be gone, then SIGKILLs what is left;
   * true when something outlived the grace and SIGKILL ended it.
   */
  readonly terminate: (options: { readonly signal: NodeJS.Signals; readonly graceMs: number }) => Effect.Effect<boolean>
  /** Every process of the task now, escaped ones included (Linux; empty elsewhere). */
  readonly members: () => ReadonlyArray<Proc>
  /** What the last terminate's SIGKILL could not end yet (stuck in the kernel); see ProcessTree. */
  readonly unkillable: () => ReadonlyArray<Proc>
  /** What its output is ("socket:[123]", "/dev/pts/4"; Linux): whoever holds it is the task's. */
  readonly outputs: ReadonlyArray<string>
  /** Changes the terminal's size; false for a task on pipes. */
  readonly resize: (size: TerminalSize) => boolean
}
