/**
 * Everything a task started, as one thing to list, signal and wait for. A task's leader leads
 * its own session and process group; what it starts is found, on Linux, as:
 * - members of that session or group (an interactive shell puts each job in a group of its own),
 * - descendants of those by parent pid, and
 * - processes that left both (`setsid`, a daemon's double fork) and were re-parented: each run's
 *   environment carries a marker unique to it (`TASKMUX_RUN_ID`), which survives both, and a
 *   process that cleared its environment is still the task's while it holds the task's output
 *   (its pipes or terminal). A process with another run's marker is never this task's.
 *
 * It is gone when no member is alive; zombies count as gone, checked in `/proc`, because
 * `kill(-pgid, 0)` keeps succeeding while zombies wait for a slow init to reap them (1-2 s
 * on these machines). One shared poller serves every waiter. Off Linux, where there is no
 * `/proc`, a task is its leader's process group.
 */
import { Deferred, Effect, Option } from "effect"
import * as procfs from "./procfs.ts"

export interface ProcessTree {
  /** Sends a signal to every process of the task; false when none is left. */
  readonly signal: (signal: NodeJS.Signals) => boolean
  /**
   * Signals every process, waits up to `graceMs` for all to be gone, then SIGKILLs what is left;
   * ends once nothing of the task is alive. True when the grace ran out and SIGKILL ended something.
   */
  readonly terminate: (options: { readonly signal: NodeJS.Signals; readonly graceMs: number }) => Effect.Effect<boolean>
  /** The task's live processes now; empty off Linux, where they cannot be listed. */
  readonly members: () => ReadonlyArray<procfs.Proc>
  /**
   * What the last terminate's SIGKILL did not end in its wait: stuck in the kernel (a read from a mount that
   * does not answer, a frozen cgroup), going once the kernel lets it. Empty when all went (or off Linux).
   */
  readonly unkillable: () => ReadonlyArray<procfs.Proc>
  /** The task's output as `/proc/PID/fd` links show it: whoever holds it is the task's. */
  readonly outputs: ReadonlyArray<string>
  /** Call when the leader has exited: later looks at /proc must be taken after this. */
  readonly leaderGone: () => void
  /**
   * After the leader exited: ends what it left (as `terminate`), or joins a terminate under way.
   * The command lines of what it found still running and ended (none when it joined a terminate).
   */
  readonly sweep: Effect.Effect<ReadonlyArray<string>>
}

/** Signals that ask a program to end (SIGHUP more often asks a server to reload, and a nohup'd one ignores it). */
const ENDING_SIGNALS = new Set<NodeJS.Signals>(["SIGTERM", "SIGINT", "SIGQUIT"])

/** The variable that marks a run's processes; its value is unique to the run. */
export const MARKER_VARIABLE = "TASKMUX_RUN_ID"

const SERVER_TOKEN = `${process.pid.toString(36)}${Math.random().toString(36).slice(2, 8)}`
let runs = 0

/** A marker for a new run: this server's token (which the watchdog knows) and a counter. */
export const newMarker = (): string => `${SERVER_TOKEN}-${++runs}`

/** The watchdog ends every process whose marker starts with this, when the server dies. */
export const serverMarkerPrefix = `${SERVER_TOKEN}-`

/** After SIGKILL, stop waiting eventually (a process stuck in the kernel cannot be killed). */
const KILL_WAIT_MS = 5_000
const POLL_MS = 10
/**
 * How old a look at /proc may be before signalling a running task: what forks after it is still in
 * the group, and what escapes meanwhile is found by the look taken after the leader has gone.
 */
const BEFORE_SIGNAL_MS = 200

export interface TreeSpec {
  /** The leader: its own session and group. */
  readonly pid: number
  /** This run's marker (see `MARKER_VARIABLE`); without one, only the session, group and descendants. */
  readonly marker?: string | undefined
  /** What its output is (Node gives a child "socket:[123]" pairs, a terminal "/dev/pts/4"): who holds it is the task's. */
  readonly outputs: ReadonlyArray<string | undefined>
  readonly leaderExited: () => boolean
  /** How long what is left may take to end, after a signal that asks it to (`signal`), once the leader is gone. */
  readonly graceMs: number
}

/** The server's own stdio, which a task's output can never be (a child may not have replaced it yet). */
const serverStdio = new Set(procfs.available ? [0, 1, 2].map((fd) => procfs.descriptor(process.pid, fd)) : [])

/** Call it right after the spawn: it notes when the leader started (nothing of the task is older). */
export const make = (spec: TreeSpec): ProcessTree => {
  const { leaderExited, marker, pid } = spec
  leaders.set(pid, (leaders.get(pid) ?? 0) + 1)
  let led = true
  /** Once nothing of the tree is left, its session and group are nobody's. */
  const forget = () => {
    if (!led) return
    led = false
    const count = leaders.get(pid)! - 1
    if (count === 0) leaders.delete(pid)
    else leaders.set(pid, count)
  }
  /** Looks at /proc for this tree must be newer than this: its spawn, later its leader's exit. */
  let freshAfter = performance.now()
  const since = (procfs.available ? procfs.stat(pid)?.start : undefined) ?? 0
  const outputs = [
    ...new Set(
      spec.outputs.filter((d): d is string =>
        d !== undefined && /^(pipe:|socket:|\/dev\/pts\/)/.test(d) && !serverStdio.has(d)
      )
    )
  ]
  // Who holds the task's output is the task's. A terminal's master closes as its leader exits: to who still
  // holds it, it is then "/dev/pts/N (deleted)", and its number is not another terminal's while anyone does;
  // once nobody does, the next terminal made (another supervisor's task, a person's login) may take it.
  const heldWhileRunning = new Set(outputs)
  const heldAfterExit = new Set(outputs.map((d) => d.startsWith("/dev/pts/") ? `${d} (deleted)` : d))
  /** A terminate found nothing left after the leader exited: the exit needs no second sweep. */
  let swept = false
  let unkillable: ReadonlyArray<procfs.Proc> = []

  const members = (withOutputs = false, maxAgeMs = SNAPSHOT_MS, notBefore = 0): Array<procfs.Proc> => {
    if (!procfs.available) return []
    const snapshot = processSnapshot(Math.max(freshAfter, notBefore, performance.now() - maxAgeMs))
    const found = new Map<number, procfs.Proc>()
    for (const p of snapshot.bySessionOrGroup.get(pid) ?? []) found.set(p.pid, p)
    for (const p of straysOf(snapshot)) {
      if (found.has(p.pid) || p.start < since) continue
      const theirs = markerOf(p)
      if (theirs === marker && marker !== undefined) found.set(p.pid, p)
      else if (
        theirs === null && withOutputs && holdsAny(snapshot, p.pid, leaderExited() ? heldAfterExit : heldWhileRunning)
      ) found.set(p.pid, p)
    }
    // And whatever those started, whether it kept the marker or not.
    const queue = [...found.values()]
    while (queue.length > 0) {
      for (const child of snapshot.children.get(queue.pop()!.pid) ?? []) {
        if (found.has(child.pid) || child.start < since) continue
        found.set(child.pid, child)
        queue.push(child)
      }
    }
    return [...found.values()].filter((p) => p.live)
  }

  /** Each process once: the leader's group as a group, the others one by one. */
  const signalAll = (targets: ReadonlyArray<procfs.Proc>, sig: NodeJS.Signals): boolean => {
    let any = kill(-pid, sig)
    for (const p of targets) if (p.group !== pid) any = kill(p.pid, sig) || any
    return any
  }

  /** The last signal that asks a program to end, sent to the whole task (signal_task), and when. */
  let asked: { readonly at: number } | undefined
  const signal = (sig: NodeJS.Signals): boolean => {
    if (ENDING_SIGNALS.has(sig)) asked = { at: performance.now() }
    return signalAll(procfs.available ? members() : [], sig)
  }

  /** Terminates under way: a sweep after the leader's exit has nothing to add to them. */
  let terminating = 0
  let terminated = Deferred.makeUnsafe<void>()

  /** A terminate, counted among those under way while it runs. */
  const counted = (opts: { readonly signal: NodeJS.Signals; readonly graceMs: number }, describe = false) =>
    Effect.suspend(() => {
      terminating += 1
      return terminateOnce(opts, describe).pipe(Effect.ensuring(Effect.sync(() => {
        if (--terminating > 0) return
        Deferred.doneUnsafe(terminated, Effect.void)
        terminated = Deferred.makeUnsafe<void>()
      })))
    })

  const terminate = (opts: { readonly signal: NodeJS.Signals; readonly graceMs: number }) =>
    Effect.map(counted(opts), (ended) => ended.forced)

  const sweep = Effect.suspend(() => {
    if (terminating > 0) return Effect.as(Deferred.await(terminated), [])
    const left = Effect.map(counted({ signal: "SIGTERM", graceMs: 1_000 }, true), (ended) => ended.found)
    // The leader ended on a signal sent to the whole task a moment ago (a shell line's shell, npm: what does
    // not wait for its program): the rest got it too, and may be shutting down (a database's checkpoint).
    // They have the grace a stop gives before anything else, unasked (many take a second signal as "quit
    // now"); what is left after it is swept as always, and said.
    if (asked === undefined || performance.now() - asked.at >= spec.graceMs || !procfs.available) return left
    const waiting = members(true)
    return Effect.andThen(
      awaitGone(pid, waiting, leaderExited).pipe(Effect.timeoutOption(spec.graceMs)),
      left
    )
  })

  /** `describe`: also the command lines of what it found, read before it signals them. */
  const terminateOnce = (opts: { readonly signal: NodeJS.Signals; readonly graceMs: number }, describe = false) =>
    Effect.gen(function*() {
      if (swept && leaderExited()) return { forced: false, found: [] }
      unkillable = []
      let notBefore = Math.max(freshAfter, performance.now() - BEFORE_SIGNAL_MS)
      yield* awaitLook(notBefore)
      let targets = procfs.available ? members(true, Infinity, notBefore) : []
      const found = describe ? describeRoots(targets) : []
      if (!signalAll(targets, opts.signal)) return { forced: settle(false), found: [] }
      // A stopped process acts on SIGTERM only once continued.
      if (opts.signal !== "SIGKILL") signalAll(targets, "SIGCONT")
      const gone = yield* awaitGone(pid, targets, leaderExited).pipe(Effect.timeoutOption(opts.graceMs))
      let forced = false
      if (Option.isNone(gone) || procfs.available && leaderExited()) {
        // Past the grace, or something may have started meanwhile: what is left now gets SIGKILL.
        // Gone: any look since the leader's exit finds what escaped before it; else one from now.
        notBefore = Option.isSome(gone) ? freshAfter : performance.now()
        yield* awaitLook(notBefore)
        targets = procfs.available ? members(true, Infinity, notBefore) : []
        // All gone, and a look since shows nothing alive: nothing is left to start anything either.
        const nothingLeft = procfs.available && Option.isSome(gone) && targets.length === 0
        const killed = !nothingLeft && signalAll(targets, "SIGKILL")
        forced = killed && Option.isNone(gone) && opts.signal !== "SIGKILL"
        if (killed || Option.isNone(gone)) {
          const died = yield* awaitGone(pid, targets, leaderExited).pipe(Effect.timeoutOption(KILL_WAIT_MS))
          if (Option.isNone(died)) unkillable = members(true, 0)
        }
      }
      return { forced: settle(forced), found }
    })

  /** After a terminate: once the leader has exited too, nothing of the tree is left. */
  const settle = (forced: boolean) => {
    swept = leaderExited()
    if (swept) forget()
    return forced
  }

  const leaderGone = () => {
    freshAfter = performance.now()
    checkSoon()
  }

  return {
    signal,
    terminate,
    members: () => members(),
    unkillable: () => unkillable,
    outputs,
    leaderGone,
    sweep
  }
}

/**
 * What a leader left running, as a person would name it: the command lines of the processes whose
 * parent is not one of them (a server, not the workers it forked), each once.
 */
const describeRoots = (procs: ReadonlyArray<procfs.Proc>): Array<string> => {
  const pids = new Set(procs.map((p) => p.pid))
  const roots = procs.filter((p) => !pids.has(p.ppid)).map((p) => procfs.commandLine(p.pid))
  return [...new Set(roots.filter((c) => c !== ""))]
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
// One look at /proc shared by every tree that asks within a few milliseconds (a mass stop asks
// hundreds of times, and a look takes 10-25 µs per process), unless it needs a look taken after its
// spawn or its leader's exit; markers read once per process.

interface Snapshot {
  readonly at: number
  readonly all: ReadonlyArray<procfs.Proc>
  readonly children: ReadonlyMap<number, ReadonlyArray<procfs.Proc>>
  /** Each process under its session and, when they differ, its group. */
  readonly bySessionOrGroup: ReadonlyMap<number, ReadonlyArray<procfs.Proc>>
  /** See `straysOf`: made when first asked for. */
  strays?: ReadonlyArray<procfs.Proc>
  /**
   * What each stray's descriptors point at, read when first asked for in this look: a mass stop asks
   * for every stray once per task, and each read is a readdir and a readlink per descriptor.
   */
  descriptors?: Map<number, ReadonlyArray<string>>
}

/** The leaders of trees not yet swept (a count, for a pid reused while its old tree is swept). */
const leaders = new Map<number, number>()

/**
 * The live processes that may have left a task: in no task's session or group (another task's are
 * that task's; one that left with `setsid` leads a session of its own). Only these need their marker
 * read: a mass stop would otherwise read every other task's processes' markers, for each task. A
 * zombie is gone, and what it started was re-parented when it exited (a mass stop leaves swept
 * tasks' processes that init has not reaped yet to every other task's look).
 */
const straysOf = (snapshot: Snapshot): ReadonlyArray<procfs.Proc> =>
  snapshot.strays ??= snapshot.all.filter((p) =>
    p.live && !leaders.has(p.session) && !leaders.has(p.group) && p.pid !== process.pid
  )

const SNAPSHOT_MS = 5
let snapshot: Snapshot | undefined

let pinned = 0

/** Runs `f` with one new look at /proc for all of it, however long it takes (a list of many tasks). */
export const withOneLook = <A>(f: () => A): A => {
  if (pinned === 0) snapshot = undefined
  pinned += 1
  try {
    return f()
  } finally {
    pinned -= 1
  }
}

/**
 * Waits for a look at /proc taken at `notBefore` or later. Requests close together share one:
 * a mass stop asks once per task as each leader exits, and a look at hundreds of processes takes
 * a millisecond or more, so the next look waits four times as long as the last one took.
 */
const awaitLook = (notBefore: number): Effect.Effect<void> =>
  !procfs.available || snapshot !== undefined && snapshot.at >= notBefore
    ? Effect.void
    : Effect.callback<void>((resume) => {
      const waiter = () => resume(Effect.void)
      lookWaiters.add(waiter)
      lookTimer ??= setTimeout(look, Math.min(Math.max(4 * lastLookMs, 2), 20))
      return Effect.sync(() => lookWaiters.delete(waiter))
    })

const lookWaiters = new Set<() => void>()
let lookTimer: ReturnType<typeof setTimeout> | undefined
let lastLookMs = 0

const look = () => {
  lookTimer = undefined
  const t0 = performance.now()
  processSnapshot(t0)
  lastLookMs = performance.now() - t0
  const waiting = [...lookWaiters]
  lookWaiters.clear()
  for (const resume of waiting) resume()
}

/** A look at /proc taken at `notBefore` or later (its time is when it began). */
const processSnapshot = (notBefore: number): Snapshot => {
  if (snapshot !== undefined && (pinned > 0 || snapshot.at >= notBefore)) return snapshot
  const at = performance.now()
  const all = procfs.processes()
  const children = new Map<number, Array<procfs.Proc>>()
  const bySessionOrGroup = new Map<number, Array<procfs.Proc>>()
  for (const p of all) {
    addTo(children, p.ppid, p)
    addTo(bySessionOrGroup, p.session, p)
    if (p.group !== p.session) addTo(bySessionOrGroup, p.group, p)
  }
  pruneMarkers(all)
  return snapshot = { at, all, children, bySessionOrGroup }
}

const addTo = (map: Map<number, Array<procfs.Proc>>, key: number, p: procfs.Proc) => {
  const list = map.get(key)
  if (list === undefined) map.set(key, [p])
  else list.push(p)
}

/** Each process's marker (null: none), by pid, with its start time to tell a reused pid. */
const markers = new Map<number, { readonly start: number; readonly marker: string | null }>()

const markerOf = (p: procfs.Proc): string | null => {
  const known = markers.get(p.pid)
  if (known !== undefined && known.start === p.start) return known.marker
  const marker = procfs.environValue(p.pid, MARKER_VARIABLE) ?? null
  markers.set(p.pid, { start: p.start, marker })
  return marker
}

const pruneMarkers = (all: ReadonlyArray<procfs.Proc>) => {
  if (markers.size < 2 * all.length + 64) return
  const alive = new Set(all.map((p) => p.pid))
  for (const pid of markers.keys()) if (!alive.has(pid)) markers.delete(pid)
}

const holdsAny = (snapshot: Snapshot, pid: number, outputs: ReadonlySet<string | undefined>) => {
  if (outputs.size === 0) return false
  const cache = snapshot.descriptors ??= new Map()
  let held = cache.get(pid)
  if (held === undefined) cache.set(pid, held = procfs.descriptors(pid))
  return held.some((d) => outputs.has(d))
}

// ---------------------------------------------------------------------------------------
// Is a tree gone? One shared poller for every waiter.

interface Waiter {
  readonly pid: number
  /** Processes outside the leader's group that must be gone too. */
  readonly others: ReadonlyArray<procfs.Proc>
  readonly leaderExited: () => boolean
  readonly resolve: (at: number) => void
}

const waiters = new Set<Waiter>()
let timer: ReturnType<typeof setTimeout> | undefined
let soon = false

/**
 * A leader was reaped: its tree is often gone with it, so look now rather than at the next
 * tick (a stop answers in about a millisecond, and a mass stop is not paced by the timer).
 */
const checkSoon = () => {
  if (soon || waiters.size === 0) return
  soon = true
  setImmediate(tick)
}

const tick = () => {
  clearTimeout(timer)
  timer = undefined
  soon = false
  const now = performance.now()
  let live: Set<number> | undefined
  /** Groups with a member that is not a zombie: one look at /proc for all waiters. */
  const liveGroups = () => {
    if (live === undefined) {
      live = new Set()
      if (procfs.available) { for (const p of processSnapshot(now).all) if (p.live) live.add(p.group) }
    }
    return live
  }
  for (const waiter of waiters) {
    if (!waiter.leaderExited()) continue
    // A look that could not be taken (no descriptor left, even the reserve) tells nothing: the group counts as
    // alive while it can be signalled (its zombies too, until reaped), rather than gone while it runs on.
    const groupAlive = kill(-waiter.pid, 0) && (!procfs.available || liveGroups().has(waiter.pid) || procfs.blind)
    if (groupAlive || waiter.others.some(isAlive)) continue
    waiters.delete(waiter)
    waiter.resolve(now)
  }
  if (waiters.size > 0) timer = setTimeout(tick, POLL_MS)
}

const isAlive = (p: procfs.Proc) => {
  const now = procfs.stat(p.pid)
  if (now === undefined) return procfs.blind && kill(p.pid, 0)
  return now.start === p.start && now.live
}

/** Completes once the leader's group and every one of `targets` is gone, with the time it was seen gone. */
const awaitGone = (
  pid: number,
  targets: ReadonlyArray<procfs.Proc>,
  leaderExited: () => boolean
): Effect.Effect<number> =>
  Effect.callback<number>((resume) => {
    const waiter: Waiter = {
      pid,
      others: targets.filter((p) => p.group !== pid),
      leaderExited,
      resolve: (at) => resume(Effect.succeed(at))
    }
    waiters.add(waiter)
    // The leader may be gone already (its tree lingering); else its exit calls checkSoon.
    if (leaderExited()) checkSoon()
    timer ??= setTimeout(tick, POLL_MS)
    return Effect.sync(() => waiters.delete(waiter))
  })
