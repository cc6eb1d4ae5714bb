/**
 * What Linux's `/proc` says about processes: the one place that parses it. Every reader
 * returns nothing (never throws) for a process that is gone or not ours to read, and
 * `available` is false off Linux, where callers fall back or say what they cannot tell.
 */
import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  openSync,
  readdirSync,
  readlinkSync,
  readSync,
  writeFileSync
} from "node:fs"
import { readFile } from "node:fs/promises"
import { clipText } from "../domain/clipText.ts"
import { escapeControls } from "../domain/escapeControls.ts"
import { withoutTraps } from "./shellLine.ts"

/**
 * Linux with a /proc this process can list and read (a container or sandbox may hide it, or deny its
 * listing), and of its own PID namespace: one of another (`unshare --pid` without a /proc of its own, a
 * sandbox that shows the host's) names processes by numbers that mean others here, which a stop would
 * signal. Else callers say what they cannot tell.
 */
const procReadable = existsSync("/proc/self/stat") && readable("/proc") && ownNamespace()
export const available = process.platform === "linux" && procReadable

/** Whether /proc is of this process's PID namespace: its /proc/self is this process. */
function ownNamespace(): boolean {
  try {
    return readlinkSync("/proc/self") === String(process.pid)
  } catch {
    return false
  }
}

/** Whether `lsof` can see more than taskmux: off Linux it asks the kernel; on Linux it reads this same /proc. */
export const lsofSees = process.platform !== "linux" || procReadable

/** Whether this process may list a directory: one access(2), not a listing of every pid at start-up. */
function readable(path: string): boolean {
  try {
    accessSync(path, constants.R_OK)
    return true
  } catch {
    return false
  }
}

let scratch = Buffer.allocUnsafe(64 * 1024)

/**
 * A /proc file as latin1 text, or undefined when it cannot be read. Into one reused buffer:
 * a third of `readFileSync`'s time, which also stats and allocates, for the many small files
 * that a look at every process reads.
 */
const read = (path: string): string | undefined => {
  try {
    return withDescriptor(() => readWhole(path))
  } catch {
    return undefined
  }
}

const readWhole = (path: string): string => {
  const fd = openSync(path, "r")
  try {
    let length = 0
    for (;;) {
      if (length === scratch.length) {
        const bigger = Buffer.allocUnsafe(scratch.length * 2)
        scratch.copy(bigger)
        scratch = bigger
      }
      const n = readSync(fd, scratch, length, scratch.length - length, null)
      if (n === 0) return scratch.toString("latin1", 0, length)
      length += n
    }
  } finally {
    closeSync(fd)
  }
}

/**
 * A descriptor kept for looking at /proc when every other is in use (a server at its RLIMIT_NOFILE): a look
 * that could not be taken would read as "nothing alive", and a stop would answer while its tree lives on.
 * `f` opens and closes its own descriptor; when that fails for want of one, it runs again with this one freed.
 */
let reserve: number | undefined = openReserve()
function openReserve(): number | undefined {
  try {
    return openSync("/dev/null", "r")
  } catch {
    return undefined
  }
}
const outOfDescriptors = (error: unknown) => {
  const code = (error as NodeJS.ErrnoException).code
  return code === "EMFILE" || code === "ENFILE"
}
/** Whether the last listing of /proc failed for want of a descriptor, even with the reserve: nothing can be told. */
export let blind = false
const withDescriptor = <A>(f: () => A): A => {
  try {
    return f()
  } catch (error) {
    if (!outOfDescriptors(error) || reserve === undefined) throw error
    closeSync(reserve)
    reserve = undefined
    try {
      return f()
    } finally {
      reserve = openReserve()
    }
  }
}

export interface Proc {
  readonly pid: number
  /** Not a zombie. */
  readonly live: boolean
  /** Stopped by a signal (SIGSTOP, Ctrl-Z), or by a debugger: it runs again on SIGCONT. */
  readonly paused: boolean
  readonly ppid: number
  readonly group: number
  readonly session: number
  /** Clock ticks after boot at which it started: with the pid, a process's identity. */
  readonly start: number
  /** User and system CPU time, in clock ticks. */
  readonly cpuTicks: number
  /** Resident memory, in pages. */
  readonly rssPages: number
}

/** Every process, from one read of each `/proc/PID/stat`. */
export const processes = (): Array<Proc> => {
  const out: Array<Proc> = []
  for (const pid of pids()) {
    const proc = stat(pid)
    if (proc !== undefined) out.push(proc)
  }
  return out
}

/** The pids /proc lists; none where it cannot be listed (a /proc mounted with hidepid, or denied). */
const pids = (): Array<number> => {
  let entries: Array<string>
  try {
    entries = withDescriptor(() => readdirSync("/proc"))
    blind = false
  } catch (error) {
    blind = outOfDescriptors(error)
    return []
  }
  const out: Array<number> = []
  for (const entry of entries) {
    const c = entry.charCodeAt(0)
    if (c >= 48 && c <= 57) out.push(Number(entry))
  }
  return out
}

/** One process, or undefined when it is gone. */
export const stat = (pid: number): Proc | undefined => {
  const text = read(`/proc/${pid}/stat`)
  if (text === undefined) return undefined // exited while we looked
  // "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
  // cutime cstime priority nice threads itrealvalue starttime vsize rss ...": comm may hold spaces.
  const f = text.slice(text.lastIndexOf(")") + 2).split(" ", 22)
  return {
    pid,
    live: f[0] !== "Z" && f[0] !== "X",
    paused: f[0] === "T" || f[0] === "t",
    ppid: Number(f[1]),
    group: Number(f[2]),
    session: Number(f[3]),
    start: Number(f[19]),
    cpuTicks: Number(f[11]) + Number(f[12]),
    rssPages: Number(f[21])
  }
}

/**
 * How much more the kernel's OOM killer should want a task's processes than taskmux's own. In a container
 * or cgroup with a memory limit it ends the biggest process, and a test run's workers of 50 MB each would
 * have it end the supervisor (70-90 MB), and so every task of every session, rather than one of them.
 */
const TASK_OOM_SCORE_ADJ = 500
/** This process's own score, read once: what it goes back to; undefined until read, NaN where it cannot be. */
let ownOomScoreAdj: number | undefined

/**
 * Runs `fork` (a task's spawn, which forks before it returns) with this process's OOM score raised, so
 * that the task's first process inherits it, and with it whatever that forks at once (a shell line's
 * first command) or later (a test runner's workers); then lowers it back. Raising it needs no
 * privilege, nor does lowering it back to what it was.
 */
export const forkedAsOomChoice = <A>(fork: () => A): A => {
  if (!available) return fork()
  ownOomScoreAdj ??= Number(read("/proc/self/oom_score_adj") ?? Number.NaN)
  const own = ownOomScoreAdj
  if (!(own < TASK_OOM_SCORE_ADJ) || !writeOwnOomScoreAdj(TASK_OOM_SCORE_ADJ)) return fork()
  try {
    return fork()
  } finally {
    // Should it ever fail, it is not raised again: taskmux stays no likelier a choice than its tasks.
    if (!writeOwnOomScoreAdj(own)) ownOomScoreAdj = Number.NaN
  }
}

const writeOwnOomScoreAdj = (score: number): boolean => {
  try {
    writeFileSync("/proc/self/oom_score_adj", String(score))
    return true
  } catch {
    return false
  }
}

/**
 * Why a forkpty(3) of this process failed, as far as /proc tells (node-pty says only "forkpty(3) failed."):
 * its descriptors at their limit (a terminal takes two), or every pseudo-terminal of the system in use;
 * undefined for neither, or where /proc cannot say (most likely then: the user's process limit).
 */
export const forkptyCause = (): "EMFILE" | "ENOPTY" | undefined => {
  if (!available) return undefined
  try {
    const open = readdirSync("/proc/self/fd").length
    const soft = /^Max open files\s+(\d+)/m.exec(readWhole("/proc/self/limits"))?.[1]
    if (soft !== undefined && open + 2 > Number(soft)) return "EMFILE"
  } catch (error) {
    if (outOfDescriptors(error)) return "EMFILE"
  }
  const [inUse, max] = [read("/proc/sys/kernel/pty/nr"), read("/proc/sys/kernel/pty/max")].map(Number)
  return inUse! >= max! ? "ENOPTY" : undefined
}

/** Whether `pid` ignores signal number `n` (its SigIgn mask); false where /proc cannot say. */
export const ignoresSignal = (pid: number, n: number): boolean => {
  const mask = /SigIgn:\s+([0-9a-f]+)/.exec(read(`/proc/${pid}/status`) ?? "")?.[1]
  return mask !== undefined && ((BigInt(`0x${mask}`) >> BigInt(n - 1)) & 1n) === 1n
}

/** The value of one variable in the environment a process was started with. */
export const environValue = (pid: number, name: string): string | undefined => {
  const text = read(`/proc/${pid}/environ`)
  if (text === undefined) return undefined
  const key = `${name}=`
  const at = text.startsWith(key) ? 0 : text.indexOf(`\0${key}`) + 1
  if (at === 0 && !text.startsWith(key)) return undefined
  const end = text.indexOf("\0", at)
  return text.slice(at + key.length, end === -1 ? undefined : end)
}

/** What a process's open descriptors point at ("pipe:[123]", "/dev/pts/4", "socket:[456]"). */
export const descriptors = (pid: number): Array<string> => {
  let fds: Array<string>
  try {
    fds = withDescriptor(() => readdirSync(`/proc/${pid}/fd`))
  } catch {
    return []
  }
  const out: Array<string> = []
  for (const fd of fds) {
    // Undefined when it was closed while we looked.
    const target = link(`/proc/${pid}/fd/${fd}`)
    if (target !== undefined) out.push(target)
  }
  return out
}

/** A process that holds `target` ("socket:[123]") open, among those this user can look into. */
export const holderOf = (target: string): number | undefined => pids().find((pid) => descriptors(pid).includes(target))

/**
 * Where in the kernel a process sleeps ("do_wait": for a child to end), or undefined where the kernel
 * does not say (it may show "0" to whoever may not trace it).
 */
export const waitsIn = (pid: number): string | undefined => {
  const where = read(`/proc/${pid}/wchan`)
  return where === undefined || where === "0" || where === "" ? undefined : where
}

/** What one descriptor points at, or undefined. */
export const descriptor = (pid: number, fd: number): string | undefined => link(`/proc/${pid}/fd/${fd}`)

/** Where a /proc symlink points, or undefined when it is gone. */
const link = (path: string): string | undefined => {
  try {
    return readlinkSync(path)
  } catch {
    return undefined
  }
}

/** Where a process runs (its working directory), where this user may look. */
export const cwdOf = (pid: number): string | undefined => link(`/proc/${pid}/cwd`)

/** The command line, its arguments joined by spaces, cut to `max` characters. */
export const commandLine = (pid: number, max = 200): string => {
  const raw = read(`/proc/${pid}/cmdline`)
  if (raw === undefined) return ""
  // One line: arguments joined by spaces, and the line breaks of a `-c` script too. A process sets its
  // own (`exec -a`, process.title): any other control in it is quoted, not sent to a reader's terminal.
  const text = escapeControls(withoutTraps(
    Buffer.from(raw, "latin1").toString("utf8").replace(/\0+$/, "").replace(/[\0\s]+/g, " ")
  ))
  return clipText(text, max)
}

/**
 * TCP sockets listening in the network namespace of `pid`, as socket inode -> port, IPv4 and
 * IPv6. (A socket is a process's when one of its descriptors is "socket:[inode]".) The kernel
 * takes a millisecond or more to write each table, however short: one read per namespace serves
 * every caller for 50 ms (a list of many tasks, the waits polling for a port).
 */
export const listeningSockets = (pid: number, maxAgeMs = SOCKET_TABLE_MS): ReadonlyMap<string, number> => {
  const namespace = link(`/proc/${pid}/ns/net`) ?? `pid ${pid}`
  const cached = socketTables.get(namespace)
  const now = performance.now()
  if (cached !== undefined && now - cached.at < maxAgeMs) return cached.sockets
  if (socketTables.size > 16) socketTables.clear()
  const sockets = readListeningSockets(pid)
  // Fresh from when the read ended: a table of 40,000 connections takes longer to read than to go stale,
  // and every task of a listing would read it again.
  socketTables.set(namespace, { at: performance.now(), sockets })
  return sockets
}

const SOCKET_TABLE_MS = 50

/** A port was seen open some other way (a wait's connect): the tables read before it are out of date. */
export const forgetSocketTables = (): void => socketTables.clear()
const socketTables = new Map<string, { readonly at: number; readonly sockets: ReadonlyMap<string, number> }>()

const readListeningSockets = (pid: number): Map<string, number> => {
  const out = new Map<string, number>()
  for (const file of ["tcp", "tcp6"]) {
    const text = read(`/proc/${pid}/net/${file}`)
    if (text !== undefined) listenersIn(text, out)
  }
  return out
}

/**
 * The listening sockets of a /proc/net/tcp table, inode to port, into `out`. Only LISTEN lines are split:
 * " 0A " is found only as their state (the other fields are hex without spaces, or decimal), and a busy
 * machine's table holds tens of thousands of connections and a few listeners.
 */
export const listenersIn = (text: string, out = new Map<string, number>()): Map<string, number> => {
  for (const f of linesHolding(text, " 0A ")) {
    if (f[3] !== "0A" || f[9] === undefined) continue
    const local = f[1]!
    out.set(f[9], parseInt(local.slice(local.lastIndexOf(":") + 1), 16))
  }
  return out
}

/** The uids of the listeners on `port` in a /proc/net/tcp table (IPv4 or IPv6). */
export const listenerUidsIn = (text: string, port: number): Array<number> => {
  const local = `:${port.toString(16).toUpperCase().padStart(4, "0")}`
  const uids: Array<number> = []
  for (const f of linesHolding(text, " 0A ")) {
    if (f[3] === "0A" && f[1]?.endsWith(local) && f[7] !== undefined) uids.push(Number(f[7]))
  }
  return uids
}

/** The uids of this network namespace's listeners on `port`; undefined where /proc does not show them. */
export const listenerUids = (port: number): Array<number> | undefined => {
  const texts = ["tcp", "tcp6"].map((file) => read(`/proc/self/net/${file}`))
  return texts.every((text) => text === undefined)
    ? undefined
    : texts.flatMap((text) => listenerUidsIn(text ?? "", port))
}

/**
 * The fields of each line of a /proc/net/tcp table that holds `needle`, found with indexOf: a busy
 * machine's table has tens of thousands of lines, and a caller wants a few of them.
 * "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
 */
function* linesHolding(text: string, needle: string): Generator<Array<string>> {
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
    const start = text.lastIndexOf("\n", at) + 1
    const end = text.indexOf("\n", at)
    yield text.slice(start, end === -1 ? undefined : end).trim().split(/\s+/)
  }
}

/**
 * Who connected to a local TCP port: the uids of the sockets in `text` (a /proc/net/tcp table) whose own
 * port is `peerPort` and whose other end is port `ourPort`: the peer's side of a connection on this
 * machine. None for a peer elsewhere (another host, another network namespace).
 */
export const peerUidsIn = (text: string, peerPort: number, ourPort: number): Array<number> => {
  const hex = (port: number) => port.toString(16).toUpperCase().padStart(4, "0")
  const local = `:${hex(peerPort)} `
  const uids: Array<number> = []
  for (const f of linesHolding(text, local)) {
    if (!f[1]?.endsWith(local.trimEnd()) || !f[2]?.endsWith(`:${hex(ourPort)}`) || f[7] === undefined) continue
    // Any state a peer may be in while it is served (one that has half-closed too: FIN_WAIT), but a closed
    // connection's TIME_WAIT or CLOSE line, which shows uid 0 and says nothing of this one.
    if (f[3] === "06" || f[3] === "07") continue
    uids.push(Number(f[7]))
  }
  return uids
}

/**
 * The uid of the process that connected from `peerPort` to this process's `ourPort`, where /proc shows
 * it (a peer on this machine, in this network namespace); undefined where it does not; null where there
 * is no /proc to ask. Two users' sockets on one pair of ports (IPv4 and IPv6) give the one that is not
 * `self`: a guard refuses it. Read off the event loop, one read for every connection that came while
 * another was under way: a busy machine's tables take long to read, and each connection must not.
 */
export const peerUid = async (peerPort: number, ourPort: number, self: number): Promise<number | undefined | null> => {
  if (!available) return null
  const tables = await freshTables()
  // A sandbox that shows /proc but not its socket tables: no one to tell apart, as without /proc.
  if (tables === null) return null
  const uids = peerUidsIn(tables, peerPort, ourPort)
  return uids.find((uid) => uid !== self) ?? uids[0]
}

let tablesReading: Promise<string | null> | undefined
let tablesNext: Promise<string | null> | undefined

/**
 * /proc/net/tcp and tcp6 as read after now: the read under way, if it began after the caller came, else
 * the next; null when neither can be read.
 */
const freshTables = (): Promise<string | null> => {
  if (tablesReading === undefined) {
    tablesReading = Promise.all(
      ["tcp", "tcp6"].map((file) =>
        readFile(`/proc/self/net/${file}`, "latin1").catch((error: NodeJS.ErrnoException) =>
          // Hidden (a sandbox): nothing to tell. Anything else (too many files open) passes: nobody is let in on it.
          HIDDEN.has(error.code ?? "") ? null : ""
        )
      )
    ).then((texts) => texts.every((text) => text === null) ? null : texts.join("\n")).finally(() => {
      tablesReading = undefined
    })
    return tablesReading
  }
  tablesNext ??= tablesReading.then(() => {
    tablesNext = undefined
    return freshTables()
  })
  return tablesNext
}

const HIDDEN = new Set(["ENOENT", "EACCES", "EPERM"])

/** Clock ticks per second (USER_HZ): 100 on every Linux that Node runs on. */
export const TICKS_PER_SECOND = 100

let page: number | undefined

/** The kernel's page size, from this process's own resident size in pages and in kB. */
export const pageBytes = (): number => {
  if (page !== undefined) return page
  try {
    const pages = Number(read("/proc/self/statm")!.split(" ")[1])
    const kb = Number(/VmRSS:\s+(\d+)/.exec(read("/proc/self/status")!)![1])
    // The nearest power of two: 4096 on x86-64; 4096, 16384 or 65536 on arm64.
    page = 2 ** Math.round(Math.log2((kb * 1024) / pages))
  } catch {
    page = 4096
  }
  return page
}

/** The number of read(2) on this machine, as /proc/PID/task/TID/syscall gives it first. */
const READ_SYSCALL = process.arch === "x64" ? 0 : process.arch === "arm64" ? 63 : undefined
/** select(2) and pselect6(2), which GNU readline sits in at its prompt (bash -i, python3, sqlite3): (nfds, readfds, …, timeout). */
const SELECT_SYSCALLS: ReadonlyArray<number> = process.arch === "x64" ? [23, 270] : process.arch === "arm64" ? [72] : []
/** poll(2) (x64 only), whose timeout is an int, not a pointer. */
const POLL_SYSCALL = process.arch === "x64" ? 7 : undefined
/** poll(2) and ppoll(2): (fds, nfds, timeout), each of fds `{ int fd; short events; short revents; }`. */
const POLL_SYSCALLS: ReadonlyArray<number> = process.arch === "x64" ? [7, 271] : process.arch === "arm64" ? [73] : []
/** Descriptors of a select or poll looked through: a prompt's are the first few. */
const WAITED_FDS = 256

/** A pointer argument that is NULL. */
const isNull = (arg: string | undefined) => arg !== undefined && /^0x0*$/.test(arg)

/**
 * The descriptors a thread in select(2) or poll(2) waits to read with no timeout, from its memory (as
 * readable to this user as its syscall file is); none where that cannot be read. One with a timeout
 * does something else between looks (top redraws, a game ticks): it does not sit at a prompt.
 */
const waitedToRead = (pid: number, call: number, args: ReadonlyArray<string>): Array<number> => {
  const select = SELECT_SYSCALLS.includes(call)
  // select and pselect6: a NULL timeval or timespec; poll: a negative int; ppoll: a NULL timespec.
  const forever = select
    ? isNull(args[4])
    : call === POLL_SYSCALL
    ? args[2] !== undefined && (Number.parseInt(args[2].slice(-8), 16) | 0) < 0
    : isNull(args[2])
  if (!forever) return []
  const [address, count] = select ? [args[1], args[0]] : [args[0], args[1]]
  if (address === undefined || count === undefined || isNull(address)) return []
  const n = Math.min(Number(count), WAITED_FDS)
  if (!(n > 0)) return []
  const bytes = select ? Math.ceil(n / 8) : n * 8
  const memory = Buffer.alloc(bytes)
  try {
    const fd = withDescriptor(() => openSync(`/proc/${pid}/mem`, "r"))
    try {
      if (readSync(fd, memory, 0, bytes, BigInt(address)) !== bytes) return []
    } finally {
      closeSync(fd)
    }
  } catch {
    return []
  }
  const fds: Array<number> = []
  if (select) {
    // An fd_set is a bit array, bit i of byte i / 8 (little-endian longs, on both).
    for (let i = 0; i < n; i++) if ((memory[i >> 3]! >> (i & 7)) & 1) fds.push(i)
  } else {
    // POLLIN, on a descriptor that is not ignored (a negative one is).
    for (let i = 0; i < n; i++) {
      const fd = memory.readInt32LE(i * 8)
      if (fd >= 0 && (memory.readInt16LE(i * 8 + 4) & 1) !== 0) fds.push(fd)
    }
  }
  return fds
}

/**
 * Whether the process waits to read `inputs` (the task's stdin, "socket:[123]", or its terminal,
 * "/dev/pts/4" and "/dev/tty"): one of its threads is in a read(2) of one of them (C, Python, a shell's
 * `read`, sudo, ssh and git at /dev/tty, Go's blocking reads), or in a select(2) or poll(2) on one of
 * them with no timeout (GNU readline's prompt: bash -i, the python3 REPL, sqlite3), or one of them is
 * in one of its epoll sets (Node's readline and prompt libraries; libuv opens a terminal anew, as another descriptor). What a
 * program at a prompt does, and a server or a build does not.
 */
export const readsInput = (pid: number, inputs: ReadonlyArray<string>): boolean => {
  const isInput = (fd: number) => {
    const target = descriptor(pid, fd)
    return target !== undefined && inputs.includes(target)
  }
  let threads: Array<string>
  try {
    threads = withDescriptor(() => readdirSync(`/proc/${pid}/task`))
  } catch {
    return false
  }
  for (const tid of threads) {
    // "0 0x5 0x7ffc… …": read(5, …). Unreadable where this user may not trace it.
    const [call, ...args] = (read(`/proc/${pid}/task/${tid}/syscall`) ?? "").split(" ")
    const number = Number(call)
    if (READ_SYSCALL !== undefined && number === READ_SYSCALL && args[0] !== undefined && isInput(Number(args[0]))) {
      return true
    }
    if (
      (SELECT_SYSCALLS.includes(number) || POLL_SYSCALLS.includes(number)) &&
      waitedToRead(pid, number, args).some(isInput)
    ) {
      return true
    }
  }
  let fds: Array<string>
  try {
    fds = withDescriptor(() => readdirSync(`/proc/${pid}/fd`))
  } catch {
    return false
  }
  return fds.some((fd) =>
    link(`/proc/${pid}/fd/${fd}`) === "anon_inode:[eventpoll]" &&
    [...(read(`/proc/${pid}/fdinfo/${fd}`) ?? "").matchAll(/^tfd:\s+(\d+)\s/gm)].some(([, target]) =>
      isInput(Number(target))
    )
  )
}
