/**
 * "Ready when it listens on port N": a probe that a wait asks every 100 ms.
 *
 * On Linux it reads `/proc`, without forking: ready when one of the task's processes (escaped
 * ones included) has a listening TCP socket on the port, IPv4 or IPv6, or, for a listener that
 * is not the task's own (a proxy it had started, such as `docker run -p`'s), when a listener on
 * the port appeared after the wait began. Where `/proc` cannot tell (another OS, another network
 * namespace), a TCP connect to loopback answers, again only for a port that was not accepting
 * connections when the wait began, so a port some other program already held never counts. A port
 * that was accepting then counts off Linux when `lsof` says one of the task's processes listens there
 * (of its group, or below its leader: a wait after a start that did not wait): macOS has lsof, not /proc.
 */
import { execFile } from "node:child_process"
import { existsSync } from "node:fs"
import * as Net from "node:net"
import * as procfs from "./procfs.ts"
import { listeningPorts } from "./usage.ts"

export type PortWanted = number | "any"

export interface PortProbe {
  /** The port it listens on now, if it does. */
  readonly check: () => Promise<number | undefined>
  /** Why a wait for it could not tell, if it could not (for its timeout's answer). */
  readonly unknown: () => string | undefined
  /**
   * Who else holds the port, and where the task listens instead (a dev server moves to the next port):
   * nothing where neither /proc nor lsof can tell. `moved`: only if it listens elsewhere (no holder is
   * looked for otherwise, which on Linux takes a look at every process's descriptors).
   */
  readonly elsewhere: (moved?: boolean) => Promise<Elsewhere>
}

export interface Elsewhere {
  readonly holder: Holder | undefined
  /** Ports the task listens on other than the one asked for. */
  readonly ports: ReadonlyArray<number>
}

export interface Holder {
  /** Null: a socket of this network no process here owns (another container, another PID namespace). */
  readonly pid: number | null
  readonly command: string
  /** Its process group, where lsof says it. */
  readonly group?: number
  /** Where it runs (another worktree's dev server), where /proc says it. */
  readonly cwd?: string
  /** It is a task of another taskmux (another project's supervisor): its environment carries the mark. */
  readonly taskmux?: boolean
}

const nowhere: Elsewhere = { holder: undefined, ports: [] }

export const make = (
  wanted: PortWanted,
  members: () => ReadonlyArray<procfs.Proc>,
  /** The task's process group now (its leader's pid), if it runs. */
  group: () => number | undefined = () => undefined
): PortProbe => {
  if (wanted === "any") {
    return {
      check: async () => listeningPorts(members())[0],
      unknown: () => undefined,
      elsewhere: () => Promise.resolve(nowhere)
    }
  }
  const port = wanted
  const listenersBefore = procfs.available ? listenersOn(port, 0) : new Set<string>()
  const acceptingBefore = procfs.available && listenersBefore.size > 0 ? Promise.resolve(true) : accepts(port)
  /** New listeners not held by the task, and whether each counts: only one whose holder cannot be seen. */
  const foreign = new Map<string, boolean>()
  const counts = (inode: string) => {
    let yes = foreign.get(inode)
    // Another program of this user (another task's server) is visible, and not the task's doing;
    // a proxy the task had started by someone else (docker run -p's, run as root) is not.
    if (yes === undefined) foreign.set(inode, yes = procfs.holderOf(`socket:[${inode}]`) === undefined)
    return yes
  }
  const check = async (): Promise<number | undefined> => {
    if (procfs.available) {
      if (listeningPorts(members()).includes(port)) return port
      const now = listenersOn(port)
      if ([...now].some((inode) => !listenersBefore.has(inode) && counts(inode))) return port
      // Seen in this namespace but none new: not the task's doing.
      if (now.size > 0) return undefined
    }
    if (!(await acceptingBefore)) {
      if (!(await accepts(port))) return undefined
      // The socket tables read in the last moments missed it: a listing right after must not.
      procfs.forgetSocketTables()
      return port
    }
    if (procfs.available) return undefined
    const leader = group()
    if (leader === undefined || !lsofUsable() || performance.now() - lsofAt < LSOF_EVERY_MS) return undefined
    lsofAt = performance.now()
    // Whether one of its processes listens there: of its group, or a job a shell of it put in another.
    const onPort = await lsofListeners(["-g", `-iTCP:${port}`])
    return (await ownedBy(leader, onPort)).some((owned) => owned) ? port : undefined
  }
  let lsofAt = -Infinity
  const unknown = () =>
    !procfs.available && !lsofUsable()
      ? `Port ${port} already accepted connections when the wait began, and without a readable /proc (or lsof, ` +
        "off Linux) this system cannot tell whether the listener is this task's."
      : undefined
  const elsewhere = async (moved = false): Promise<Elsewhere> => {
    if (procfs.available) {
      const own = members()
      const ports = listeningPorts(own).filter((p) => p !== port)
      return moved && ports.length === 0 ? nowhere : { holder: otherHolder(port, own), ports }
    }
    // Off Linux only a port that was taken when the wait began has a holder to name: lsof is slow,
    // and a wait for a free port needs none of it.
    const leader = group()
    if (leader === undefined || !lsofUsable() || !(await acceptingBefore)) return nowhere
    const listeners = await lsofListeners(["-g", "-iTCP"])
    const owned = await ownedBy(leader, listeners)
    const other = listeners.find((l, i) => l.port === port && !owned[i])
    if (other === undefined) return nowhere
    const holder = { pid: other.pid, command: other.command, group: other.group }
    const ports = listeners.filter((l, i) => owned[i] && l.port !== port).map((l) => l.port)
    return { holder, ports: [...new Set(ports)].sort((a, b) => a - b) }
  }
  return { check, unknown, elsewhere }
}

/** Where macOS keeps it, for a client whose PATH leaves /usr/sbin out. */
const LSOF = process.platform === "darwin" && existsSync("/usr/sbin/lsof") ? "/usr/sbin/lsof" : "lsof"

/** lsof is slow (tens of milliseconds on macOS): asked once a second at most. */
const LSOF_EVERY_MS = 1000
let lsofMissing = false
const lsofUsable = () => procfs.lsofSees && !lsofMissing

/**
 * Which of `listeners` are the task's: in its leader's group, or descended from its leader (a job that a
 * shell of it put in a group of its own). `ps` is asked only when some are in another group.
 */
const ownedBy = async (leader: number, listeners: ReadonlyArray<LsofListener>): Promise<Array<boolean>> => {
  if (listeners.every((l) => l.group === leader)) return listeners.map(() => true)
  const family = await descendantsOf(leader)
  return listeners.map((l) => l.group === leader || family.has(l.pid))
}

/** `leader` and every process below it, from `ps` (off Linux: no /proc to walk). */
const descendantsOf = (leader: number) =>
  new Promise<Set<number>>((resolve) => {
    execFile("ps", ["-A", "-o", "pid=,ppid="], { timeout: 2000 }, (_error, stdout) => {
      const children = new Map<number, Array<number>>()
      for (const line of stdout.split("\n")) {
        const [pid, parent] = line.trim().split(/\s+/).map(Number)
        if (pid === undefined || parent === undefined || Number.isNaN(pid) || Number.isNaN(parent)) continue
        const siblings = children.get(parent)
        if (siblings === undefined) children.set(parent, [pid])
        else siblings.push(pid)
      }
      const family = new Set([leader])
      for (const pid of family) for (const child of children.get(pid) ?? []) family.add(child)
      resolve(family)
    })
  })

interface LsofListener extends Holder {
  readonly pid: number
  readonly group: number
  readonly port: number
}

/**
 * Listening TCP sockets as lsof sees them (macOS), narrowed by `select`: one entry a socket, with its
 * process, group and command. `-F` gives a field a line, each a letter and its value; a process's
 * fields (p, g, c) come before its files' (f, n).
 */
const lsofListeners = (select: ReadonlyArray<string>) =>
  new Promise<Array<LsofListener>>((resolve) => {
    execFile(LSOF, ["-nP", ...select, "-sTCP:LISTEN", "-Fpgcn"], { timeout: 2000 }, (error, stdout) => {
      if ((error as NodeJS.ErrnoException | null)?.code === "ENOENT") lsofMissing = true
      const out: Array<LsofListener> = []
      let pid = 0
      let group = 0
      let command = ""
      for (const line of stdout.split("\n")) {
        const value = line.slice(1)
        if (line[0] === "p") pid = Number(value)
        else if (line[0] === "g") group = Number(value)
        else if (line[0] === "c") command = value
        // "*:5173", "127.0.0.1:5173", "[::1]:5173"
        else if (line[0] === "n") {
          out.push({ pid, group, command, port: Number(value.slice(value.lastIndexOf(":") + 1)) })
        }
      }
      resolve(out)
    })
  })

/**
 * Who else listens on `port` (a process that is none of `members`), as pid and command line; undefined
 * when nobody visible does. What a wait for the port says when it never came: another program had it
 * (a dev server then picks the next port, or fails).
 */
const otherHolder = (port: number, members: ReadonlyArray<procfs.Proc>): Holder | undefined => {
  const own = new Set(members.map((m) => m.pid))
  let unseen = false
  for (const inode of listenersOn(port)) {
    const pid = procfs.holderOf(`socket:[${inode}]`)
    if (pid !== undefined && !own.has(pid)) {
      const cwd = procfs.cwdOf(pid)
      return {
        pid,
        command: procfs.commandLine(pid, 80),
        ...(cwd !== undefined && { cwd }),
        ...(procfs.environValue(pid, "TASKMUX_RUN_ID") !== undefined && { taskmux: true })
      }
    }
    // A listener of this network that no process here holds: another container's (a pod's sidecar, a
    // devcontainer sharing the database's network), which shares the ports but not the processes.
    if (pid === undefined) unseen = true
  }
  return unseen ? { pid: null, command: "" } : undefined
}

/** Inodes of sockets listening on `port` in this process's network namespace. */
const listenersOn = (port: number, maxAgeMs?: number): Set<string> => {
  const out = new Set<string>()
  for (const [inode, p] of procfs.listeningSockets(process.pid, maxAgeMs)) if (p === port) out.add(inode)
  return out
}

/** Whether a TCP connection to the port on loopback (IPv4, then IPv6) is accepted. */
const accepts = async (port: number): Promise<boolean> =>
  await connects("127.0.0.1", port) || await connects("::1", port)

const connects = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = Net.connect({ host, port })
    const done = (ok: boolean) => {
      socket.destroy()
      resolve(ok)
    }
    socket.once("connect", () => done(true))
    socket.once("error", () => done(false))
    socket.setTimeout(500, () => done(false))
  })

/** Whether a port wait can be answered here. */
export const unsupported = (wanted: PortWanted): string | undefined =>
  wanted === "any" && !procfs.available
    ? `"any" needs Linux's /proc to see which ports a task listens on: pass the port number instead`
    : undefined
