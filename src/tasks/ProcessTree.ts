/**
 * Everything a task started, as one thing to signal and to wait for: the leader's process
 * group, and with `session` every other group of the leader's session (an interactive shell
 * on a terminal puts each job in a group of its own).
 *
 * It is gone when no member is alive; zombies count as gone, checked in `/proc`, because
 * `kill(-pgid, 0)` keeps succeeding while zombies wait for a slow init to reap them (1-2 s
 * on these machines). One shared poller serves every waiter, so a mass stop scans `/proc`
 * once per tick, not once per task. Off Linux, where there is no `/proc`, a session is
 * signalled and waited for as its leader's group.
 */
import { Effect, Option } from "effect"
import { readdirSync, readFileSync } from "node:fs"

export interface ProcessTree {
  /** Sends a signal to every member; false when none is left. */
  readonly signal: (signal: NodeJS.Signals) => boolean
  /** Signals every member, waits up to `graceMs` for all to be gone, then SIGKILLs what is left. */
  readonly terminate: (options: { readonly signal: NodeJS.Signals; readonly graceMs: number }) => Effect.Effect<void>
}

/** After SIGKILL, stop waiting eventually (a process stuck in the kernel cannot be killed). */
const KILL_WAIT_MS = 5_000
const POLL_MS = 10
const hasProc = process.platform === "linux"

/**
 * The tree whose leader is `pid` (the leader of its own session and group).
 * `leaderExited` says when to start looking: while the leader lives, its group does.
 */
export const make = (pid: number, options: { readonly session: boolean; readonly leaderExited: () => boolean }) => {
  const session = options.session && hasProc
  const signal = (sig: NodeJS.Signals): boolean => {
    let any = kill(-pid, sig)
    if (session) {
      for (const group of otherGroupsOfSession(pid)) any = kill(-group, sig) || any
    }
    return any
  }
  const gone = awaitGone(pid, session, options.leaderExited)
  const terminate = (opts: { readonly signal: NodeJS.Signals; readonly graceMs: number }) =>
    Effect.gen(function*() {
      if (!signal(opts.signal)) return
      // A stopped process acts on SIGTERM only once continued.
      if (opts.signal !== "SIGKILL") signal("SIGCONT")
      if (Option.isSome(yield* gone.pipe(Effect.timeoutOption(opts.graceMs)))) return
      signal("SIGKILL")
      yield* gone.pipe(Effect.timeoutOption(KILL_WAIT_MS))
    })
  return { signal, terminate } satisfies ProcessTree
}

/** `process.kill`, without the stack trace its error would capture when the target is gone. */
export const kill = (pid: number, signal: NodeJS.Signals | 0): boolean => {
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

// ---------------------------------------------------------------------------------------
// /proc

interface ProcEntry {
  readonly pid: number
  readonly live: boolean
  readonly group: number
  readonly session: number
}

/** Every process: whether it is alive (not a zombie), its group and its session. */
const processes = (): Array<ProcEntry> => {
  const out: Array<ProcEntry> = []
  for (const entry of readdirSync("/proc")) {
    const c = entry.charCodeAt(0)
    if (c < 48 || c > 57) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${entry}/stat`, "latin1")
    } catch {
      continue // exited while we looked
    }
    // "pid (comm) state ppid pgrp session ...": comm may hold spaces and parentheses.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ", 4)
    out.push({
      pid: Number(entry),
      live: fields[0] !== "Z" && fields[0] !== "X",
      group: Number(fields[2]),
      session: Number(fields[3])
    })
  }
  return out
}

const otherGroupsOfSession = (sid: number): Set<number> => {
  const groups = new Set<number>()
  for (const p of processes()) if (p.session === sid && p.group !== sid && p.live) groups.add(p.group)
  return groups
}

// ---------------------------------------------------------------------------------------
// Is a tree gone? One shared poller for every waiter.

interface Waiter {
  readonly session: boolean
  readonly leaderExited: () => boolean
  readonly resolvers: Set<() => void>
}

const waiters = new Map<number, Waiter>()
let timer: ReturnType<typeof setTimeout> | undefined
let soon = false

/**
 * A leader was reaped: its tree is often gone with it, so look now rather than at the next
 * tick (a stop answers in about a millisecond, and a mass stop is not paced by the timer).
 */
export const checkSoon = () => {
  if (soon || waiters.size === 0) return
  soon = true
  setImmediate(tick)
}

const tick = () => {
  clearTimeout(timer)
  timer = undefined
  soon = false
  // Trees whose leader is gone but that may still have members, zombies perhaps.
  const remaining: Array<number> = []
  const gone: Array<number> = []
  for (const [pid, waiter] of waiters) {
    if (!waiter.leaderExited()) continue
    if (waiter.session || kill(-pid, 0)) remaining.push(pid)
    else gone.push(pid)
  }
  if (remaining.length > 0) {
    const live = new Set<number>()
    if (hasProc) {
      for (const p of processes()) {
        if (!p.live) continue
        live.add(p.group)
        if (waiters.get(p.session)?.session === true) live.add(p.session)
      }
    } else {
      for (const pid of remaining) if (kill(-pid, 0)) live.add(pid)
    }
    for (const pid of remaining) if (!live.has(pid)) gone.push(pid)
  }
  for (const pid of gone) {
    const waiter = waiters.get(pid)!
    waiters.delete(pid)
    for (const resolve of waiter.resolvers) resolve()
  }
  if (waiters.size > 0) timer = setTimeout(tick, POLL_MS)
}

/** Completes once no member of the tree is alive. */
const awaitGone = (pid: number, session: boolean, leaderExited: () => boolean): Effect.Effect<void> =>
  Effect.callback<void>((resume) => {
    const resolve = () => resume(Effect.void)
    let waiter = waiters.get(pid)
    if (waiter === undefined) waiters.set(pid, waiter = { session, leaderExited, resolvers: new Set() })
    waiter.resolvers.add(resolve)
    // The leader may be gone already (its tree lingering); else its exit calls checkSoon.
    if (leaderExited()) checkSoon()
    timer ??= setTimeout(tick, POLL_MS)
    return Effect.sync(() => {
      waiter.resolvers.delete(resolve)
      if (waiter.resolvers.size === 0 && waiters.get(pid) === waiter) waiters.delete(pid)
    })
  })
