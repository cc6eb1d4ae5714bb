/**
 * What a task's processes use, read from `/proc` when asked: which TCP ports they listen on,
 * their resident memory and CPU, and who they are. Sampled at most once a second per task,
 * so listing many tasks stays cheap; off Linux every figure is null ("cannot tell here").
 */
import * as procfs from "./procfs.ts"

export interface TaskUsage {
  /** Its live processes; their command lines are read only when shown (see `processesOf`). */
  readonly pids: ReadonlyArray<number> | null
  /** Those of them stopped by a signal. */
  readonly paused?: ReadonlyArray<number>
  readonly ports: ReadonlyArray<number> | null
  readonly memoryBytes: number | null
  readonly cpuPercent: number | null
}

export const unknownUsage: TaskUsage = { pids: null, ports: null, memoryBytes: null, cpuPercent: null }
export const noUsage: TaskUsage = { pids: [], ports: [], memoryBytes: 0, cpuPercent: 0 }

export interface ProcessInfo {
  readonly pid: number
  readonly command: string
  readonly paused?: true
}

/** Each process with its command line, for the one task that get_task describes; read once per sample. */
export const processesOf = (usage: TaskUsage): ReadonlyArray<ProcessInfo> | null => {
  if (usage.pids === null) return null
  let processes = commandLines.get(usage)
  if (processes === undefined) {
    processes = usage.pids.map((pid) => ({
      pid,
      command: procfs.commandLine(pid),
      ...(usage.paused?.includes(pid) === true && { paused: true as const })
    }))
    commandLines.set(usage, processes)
  }
  return processes
}

const commandLines = new WeakMap<TaskUsage, ReadonlyArray<ProcessInfo>>()

const MAX_AGE_MS = 1_000

/** A task's last sample, and the CPU time it saw, for the next sample's CPU percentage. */
export class UsageSampler {
  private last: { readonly at: number; readonly usage: TaskUsage; readonly cpuTicks: number } | undefined
  private outdated = false

  /**
   * The usage of `members` (a run's live processes, `since` its start on the monotonic clock, performance.now()),
   * sampled at most once a second: by that clock, so a step back of the wall clock does not freeze the figures
   * for as long as the step, nor make the first sample's CPU absurd.
   */
  sample(members: () => ReadonlyArray<procfs.Proc>, since: number): TaskUsage {
    if (!procfs.available) return unknownUsage
    const now = performance.now()
    if (this.last !== undefined && !this.outdated && now - this.last.at < MAX_AGE_MS) return this.last.usage
    this.outdated = false
    const procs = members()
    const cpuTicks = procs.reduce((sum, p) => sum + p.cpuTicks, 0)
    // Since the last sample; the first time, since the run started.
    const [fromTicks, fromMs] = this.last === undefined ? [0, since] : [this.last.cpuTicks, this.last.at]
    const elapsedSeconds = Math.max(now - fromMs, 1) / 1000
    const usage: TaskUsage = {
      pids: procs.map((p) => p.pid),
      ...(procs.some((p) => p.paused) && { paused: procs.filter((p) => p.paused).map((p) => p.pid) }),
      ports: listeningPorts(procs),
      memoryBytes: procs.reduce((sum, p) => sum + p.rssPages, 0) * procfs.pageBytes(),
      cpuPercent: Math.round(
        Math.max(0, cpuTicks - fromTicks) / procfs.TICKS_PER_SECOND / elapsedSeconds * 1000
      ) / 10
    }
    this.last = { at: now, usage, cpuTicks }
    return usage
  }

  /** Something changed that the last sample cannot show (a port was seen open): the next call reads afresh. */
  outdate(): void {
    this.outdated = true
  }

  /** A new run: its figures start afresh. */
  reset(): void {
    this.last = undefined
  }
}

/** TCP ports that any of `procs` listens on, IPv4 or IPv6, in its own network namespace. */
export const listeningPorts = (procs: ReadonlyArray<procfs.Proc>): Array<number> => {
  if (procs.length === 0) return []
  const listening = procfs.listeningSockets(procs[0]!.pid)
  if (listening.size === 0) return []
  const ports = new Set<number>()
  for (const p of procs) {
    for (const target of procfs.descriptors(p.pid)) {
      if (!target.startsWith("socket:[")) continue
      const port = listening.get(target.slice(8, -1))
      if (port !== undefined) ports.add(port)
    }
  }
  return [...ports].sort((a, b) => a - b)
}
