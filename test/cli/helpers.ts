/** The CLI's test helpers: a project directory, the CLI in-process with its output captured, or as a process. */
import { Deferred, Effect, Layer } from "effect"
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { CliIo } from "../../src/cli/CliIo.ts"
import { runCliWith } from "../../src/cli/main.ts"
import { serverEnv } from "./standIn.ts"

export const entry = NodePath.resolve(import.meta.dirname, "entry.ts")

/**
 * A fresh runtime directory for this test file (supervisor sockets go there, never into the user's),
 * set in this process and passed to every child.
 */
export const useFreshRuntimeDir = () => {
  const dir = mkdtempSync(NodePath.join(os.tmpdir(), "xdg-"))
  process.env.XDG_RUNTIME_DIR = dir
  return dir
}

/** A project directory with a taskmux.json holding `tasks`. */
export const tempProject = (tasks: Record<string, Record<string, unknown>> = {}) => {
  const dir = mkdtempSync(NodePath.join(os.tmpdir(), "proj-"))
  mkdirSync(dir, { recursive: true })
  writeFileSync(NodePath.join(dir, "taskmux.json"), JSON.stringify({ tasks }))
  return dir
}

export interface Ran {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs the CLI in this process, in `cwd`, as if on a terminal `columns` wide (or a pipe). */
export const cli = async (
  argv: ReadonlyArray<string>,
  options: {
    readonly cwd: string
    readonly columns?: number
    readonly colour?: boolean
    /** stderr a terminal too (default: as stdout). */
    readonly colourErr?: boolean
    readonly env?: Record<string, string>
  }
): Promise<Ran> => {
  let stdout = ""
  let stderr = ""
  const stop = Effect.runSync(Deferred.make<void>())
  const io = Layer.succeed(CliIo, {
    stdout: (text) => {
      stdout += text
    },
    stderr: (text) => {
      stderr += text
    },
    colour: options.colour ?? false,
    colourErr: options.colourErr ?? options.colour ?? false,
    columns: options.columns,
    terminal: options.columns !== undefined,
    cwd: options.cwd,
    env: { ...process.env, ...options.env },
    stopRequested: Deferred.await(stop)
  })
  const code = await runCliWith(argv, io)
  return { code, stdout, stderr }
}

/** A python3 one-liner as a shell command line (pipes: python buffers unless told not to). */
export const python = (source: string, flags: ReadonlyArray<string> = []) =>
  `python3 ${flags.map((f) => `${f} `).join("")}-c '${source.replaceAll("'", "'\\''")}'`

export interface Child {
  readonly pid: number
  readonly stdout: () => string
  readonly stderr: () => string
  readonly exited: Promise<number | null>
  readonly kill: (signal: NodeJS.Signals) => void
}

const children = new Set<Child>()

/** Kills the CLI processes a failed test left running. */
export const killLeftovers = () => {
  for (const child of children) child.kill("SIGKILL")
  children.clear()
}

/** The CLI as a process (`node test/cli/entry.ts ...argv`) in `cwd`, on pipes. */
export const cliProcess = (argv: ReadonlyArray<string>, cwd: string): Child => {
  const child = spawn(process.execPath, [entry, ...argv], {
    cwd,
    env: serverEnv(NodePath.join(os.tmpdir(), "unused-logs")),
    stdio: ["ignore", "pipe", "pipe"]
  })
  let stdout = ""
  let stderr = ""
  child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")))
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")))
  // As a shell's $? says it: 128 and the signal's number for a death by a signal (a Ctrl-C's 130).
  const exited = new Promise<number | null>((resolve) =>
    child.once("close", (code, signal) => resolve(signal === null ? code : 128 + os.constants.signals[signal]))
  )
  const handle: Child = {
    pid: child.pid!,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    kill: (signal) => child.kill(signal)
  }
  children.add(handle)
  void exited.then(() => children.delete(handle))
  return handle
}

/** Polls `check` until it returns a value, for at most `timeoutMs`: the end-to-end tests' own. */
export { until } from "../e2e/client.ts"
