/**
 * Reaching a project's supervisor from a front or the CLI: connect to its socket, say hello, read its
 * welcome; start it first when none runs. Plain Node, loaded by the front before anything else.
 */
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as net from "node:net"
import * as NodePath from "node:path"
import { withAbsolutePaths, withoutProject } from "./frontArgs.ts"
import { type Hello, hello, readGreeting, type Welcome } from "./hello.ts"
import type { RuntimePaths } from "./runtimePaths.ts"
import { UsageError } from "./UsageError.ts"

export interface Connection {
  readonly socket: net.Socket
  readonly welcome: Welcome
  /** Bytes that came after the welcome line (the supervisor may speak first). */
  readonly rest: Buffer
}

/** How long a front waits for a supervisor it started to listen. */
const START_TIMEOUT_MS = 10_000

/**
 * How long a supervisor that took the connection may take to answer it: it answers in a few ms, and
 * one busy for seconds on end (a long collection of a big heap) is still worth the wait.
 */
const WELCOME_TIMEOUT_MS = 10_000

/** Connects and greets; undefined when nobody listens there (no socket, or a dead one's). */
export const connectIfRunning = (
  paths: RuntimePaths,
  role: Hello["role"],
  args?: ReadonlyArray<string>
): Promise<Connection | undefined> =>
  new Promise((resolve, reject) => {
    const socket = net.createConnection(paths.socket)
    const fail = (error: NodeJS.ErrnoException) => {
      socket.destroy()
      if (error.code === "ENOENT" || error.code === "ECONNREFUSED" || error.code === "ECONNRESET") resolve(undefined)
      else reject(new Error(`cannot reach the supervisor at ${paths.socket}: ${error.message}`))
    }
    socket.once("error", fail)
    socket.once("connect", () => socket.write(`${JSON.stringify(hello(role, args))}\n`))
    // Closed before a welcome: a supervisor on its way out.
    const onClose = () => resolve(undefined)
    socket.once("close", onClose)
    // Connected but never answered: a supervisor stopped (SIGSTOP, a debugger) or stuck. Said, not waited on.
    const silent = setTimeout(() => {
      socket.off("close", onClose).destroy()
      const pid = pidIn(`${paths.lock}.pid`)
      reject(
        new Error(
          `the supervisor of ${paths.project}${pid === undefined ? "" : ` (pid ${pid})`} took the connection ` +
            `but did not answer within ${WELCOME_TIMEOUT_MS / 1000} s: it may be stopped ` +
            `(${
              pid === undefined ? `pgrep -f "supervise.*${paths.project}" finds it` : `kill -CONT ${pid}`
            }) or stuck (its log: ${paths.log})`
        )
      )
    }, WELCOME_TIMEOUT_MS)
    socket.once("close", () => clearTimeout(silent))
    readGreeting<Welcome>(socket, (welcome, rest) => {
      clearTimeout(silent)
      socket.off("error", fail).off("close", onClose)
      if (welcome === undefined) {
        socket.destroy()
        return reject(new Error(`${paths.socket} answered something that is not a taskmux supervisor`))
      }
      resolve({ socket, welcome, rest })
    })
  })

/**
 * Connects to the project's supervisor, starting one (detached, outliving this process) when none runs.
 * Two callers at once both start one; the lock lets one of them serve, and both reach it.
 */
export const connectOrStart = async (
  paths: RuntimePaths,
  role: Hello["role"],
  supervisorArgs: ReadonlyArray<string>
): Promise<Connection> => {
  const args = role === "front" ? supervisorArgs : undefined
  // No socket: nobody listens, and not trying saves a front a few ms on its way to starting one.
  const running = fs.existsSync(paths.socket) ? await connectIfRunning(paths, role, args) : undefined
  if (running !== undefined && running.welcome.replacing !== true) return running
  running?.socket.destroy()
  let started = startSupervisor(paths, supervisorArgs)
  let startedAgain = false
  const deadline = performance.now() + START_TIMEOUT_MS
  // It says when it listens (or it ends); after that, or if it lost the race to another, look again.
  await Promise.race([started.ready, sleepUntil(deadline)])
  for (let delay = 5;; delay = Math.min(delay * 2, 100)) {
    const connection = await connectIfRunning(paths, role, args)
    if (connection !== undefined && connection.welcome.replacing !== true) return connection
    connection?.socket.destroy()
    if (started.exitCode !== null && started.exitCode !== 0 && !started.lostRace) {
      // Killed as it started (the OOM killer, a kill -9 meant for the one before): it holds no lock now, and
      // nothing it could say is why. One more start, rather than a session served alone for its whole life.
      if (started.signal !== null && !startedAgain) {
        startedAgain = true
        started = startSupervisor(paths, supervisorArgs)
        await Promise.race([started.ready, sleepUntil(deadline)])
        continue
      }
      // Its last line says why (a bad option, as the server alone would have said it): of what it wrote, not
      // an earlier supervisor's line in the same log.
      // Its line, without the time and pid the supervisor's log puts before each (Program.ts).
      const why = started.signal !== null
        ? `the supervisor was killed by ${started.signal} as it started, twice (its log: ${paths.log})`
        : lastLineSince(paths.log, started.logStart)?.replace(/^\S+ \[\d+\] /, "").replace(/^taskmux: /, "") ??
          (`the supervisor exited with code ${started.exitCode} without a word in its log (${paths.log}), as ` +
            "on a full disk")
      throw started.exitCode === 2 ? new UsageError(why) : new Error(why)
    }
    // The lock's holder was on its way out (one that made way for this build) and nobody listens: try again.
    if (started.lostRace && performance.now() - started.exitedAt > 1_000) {
      started = startSupervisor(paths, supervisorArgs)
      await Promise.race([started.ready, sleepUntil(deadline)])
      continue
    }
    if (performance.now() > deadline) {
      // Never said it listens (stuck: a process limit that left Node without its threads): not left behind.
      started.abandon()
      throw new Error(
        `no supervisor listened at ${paths.socket} within ${START_TIMEOUT_MS / 1000} s (its log: ${paths.log})`
      )
    }
    await new Promise((resolve) => setTimeout(resolve, delay))
  }
}

/** The supervisor's descriptor for "listening now", open when a front started it. */
export const READY_FD = 3

/** Exit code of a supervisor that found another one holding the project's lock. */
export const LOST_RACE = 3

/** Whether this Node is one taskmux supports (22.19 or later). */
export const isSupportedNode = (): boolean => {
  const [major = 0, minor = 0] = process.versions.node.split(".").map(Number)
  return major > 22 || major === 22 && minor >= 19
}

/**
 * The Node a supervisor runs on: this one, unless it is older than taskmux supports (22.19) and the
 * checkout has its own (a terminal's `npm link` on a system Node 20): the supervisor serves every
 * session of the project, an assistant's included.
 */
export const supervisorNode = (): string => {
  if (isSupportedNode()) return process.execPath
  // Through the links on the way (`npm link` puts one on PATH, and one from the global node_modules to
  // the checkout): the checkout's own directory.
  const own = NodePath.join(NodePath.dirname(NodePath.dirname(realEntry())), "node_modules/node/bin/node")
  return fs.existsSync(own) ? own : process.execPath
}

const realEntry = () => {
  try {
    return fs.realpathSync(process.argv[1] ?? "")
  } catch {
    return process.argv[1] ?? ""
  }
}

/**
 * The log holds every supervisor's lines for as long as the runtime directory lasts (a tmpfs: memory), and
 * `--trace` writes a line per step: past this, a new supervisor starts a new file, the last kept as `.log.1`.
 */
const LOG_ROTATE_BYTES = 1024 * 1024

const startSupervisor = (paths: RuntimePaths, args: ReadonlyArray<string>) => {
  try {
    if (fs.statSync(paths.log).size > LOG_ROTATE_BYTES) fs.renameSync(paths.log, `${paths.log}.1`)
  } catch {
    // None yet, or another front moved it a moment ago.
  }
  const log = fs.openSync(paths.log, "a", 0o600)
  // Where its own lines will begin: the log holds earlier supervisors' too.
  const logStart = fs.fstatSync(log).size
  const node = supervisorNode()
  // It runs in the project: a relative --log-dir or --cwd-root is the front's, as the front's own reading takes it.
  const given = withAbsolutePaths(withoutProject(args), process.env, process.cwd())
  const child = spawn(
    node,
    // Its project as a full path: the front's own --project may be relative to where the front runs.
    [
      // node:sqlite's warning on Node 22; a Node before 20.11 knows no such flag, and would not start.
      ...(node !== process.execPath || process.allowedNodeEnvironmentFlags.has("--disable-warning")
        ? ["--disable-warning=ExperimentalWarning"]
        : []),
      process.argv[1]!,
      "supervise",
      ...given.argv,
      "--project",
      paths.project
    ],
    // fd 3: one line once it listens, then closed (see READY_FD).
    {
      detached: true,
      stdio: ["ignore", "ignore", log, "pipe"],
      cwd: paths.project,
      env: { ...given.env, TASKMUX_READY_FD: String(READY_FD) }
    }
  )
  fs.closeSync(log)
  child.unref()
  const readyPipe = child.stdio[3] as NodeJS.ReadableStream & { destroy(): void; unref?: () => void }
  let saidReady = false
  const ready = new Promise<void>((resolve) => {
    const done = () => {
      readyPipe.destroy()
      resolve()
    }
    readyPipe.once("data", () => {
      saidReady = true
      done()
    }).once("end", done).once("error", done)
    child.once("exit", done)
  })
  const state = {
    exitCode: null as number | null,
    /** The signal that ended it, if one did. */
    signal: null as string | null,
    exitedAt: 0,
    lostRace: false,
    ready,
    logStart,
    /** Ends it if it never said it listens: it holds no task, and nothing else will end it. */
    abandon: () => {
      if (!saidReady && state.exitCode === null) child.kill("SIGKILL")
    }
  }
  child.once("exit", (code, signal) => {
    state.exitCode = code ?? (signal === null ? 1 : 128)
    state.signal = signal
    state.exitedAt = performance.now()
    state.lostRace = code === LOST_RACE
  })
  child.once("error", () => {
    state.exitCode = 127
  })
  return state
}

const sleepUntil = (deadline: number) =>
  new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, deadline - performance.now())).unref())

/** The last line written to `file` after its first `start` bytes; undefined for none. */
const lastLineSince = (file: string, start: number) => {
  try {
    const line = fs.readFileSync(file).subarray(start).toString("utf8").trimEnd().split("\n").at(-1)
    return line === "" ? undefined : line
  } catch {
    return undefined
  }
}

/** The pid a pid file holds (the lock's: who holds the project), or undefined for none or no number. */
export const pidIn = (file: string): number | undefined => {
  try {
    const pid = Number(fs.readFileSync(file, "utf8").trim())
    return Number.isInteger(pid) && pid > 0 ? pid : undefined
  } catch {
    return undefined
  }
}
