/**
 * The shared supervisor in the bench (rows 12–15): each measurement gets a runtime directory and a
 * project of its own, made here, so it never meets a real user's supervisor; `dispose` ends the
 * supervisor (and its tasks with it) and removes both directories.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { connectIfRunning } from "../src/daemon/connect.ts"
import { runtimePaths } from "../src/daemon/runtimePaths.ts"

export interface SharedSupervisor {
  /** What a front needs in its environment to reach this project's supervisor (or start it). */
  readonly env: Record<string, string>
  readonly project: string
  /** The running supervisor's pid, asked of it as the CLI asks; undefined when none runs. */
  readonly pid: () => Promise<number | undefined>
  /** Ends the supervisor, if one runs (SIGTERM, SIGKILL after 5 s), and removes the directories. */
  readonly dispose: () => Promise<void>
}

/**
 * Directories made here and not yet removed: removed when the bench ends however it ends (a supervisor
 * left behind by a failed row then ends by itself: its fronts end with the bench, then its sessions and
 * their tasks, and it lingers a moment and goes).
 */
const made = new Set<string>()
process.on("exit", () => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

const tempDir = (prefix: string) => {
  const dir = mkdtempSync(NodePath.join(os.tmpdir(), prefix))
  made.add(dir)
  return dir
}

const removeDir = (dir: string) => {
  rmSync(dir, { recursive: true, force: true })
  made.delete(dir)
}

/** A fresh runtime directory and a fresh (empty) project: no supervisor runs for it yet. */
export const sharedSupervisor = (): SharedSupervisor => {
  const xdg = tempDir("taskmux-bench-xdg-")
  const project = tempDir("taskmux-bench-project-")
  const env = { TASKMUX_ISOLATED: "false", XDG_RUNTIME_DIR: xdg, TASKMUX_PROJECT: project }
  let known: number | undefined
  const pid = async () => {
    const connection = await connectIfRunning(runtimePaths(project, { XDG_RUNTIME_DIR: xdg }), "cli")
    connection?.socket.destroy()
    if (connection !== undefined) known = connection.welcome.pid
    return connection?.welcome.pid
  }
  const dispose = async () => {
    const running = await pid().catch(() => undefined) ?? known
    if (running !== undefined) await endProcess(running)
    removeDir(xdg)
    removeDir(project)
  }
  return { env, project, pid, dispose }
}

/** An empty project directory for an isolated server (the same kind of project as a shared one's). */
export const emptyProject = (): { readonly path: string; readonly dispose: () => void } => {
  const path = tempDir("taskmux-bench-project-")
  return { path, dispose: () => removeDir(path) }
}

/** Gone: no such process, or a zombie nobody reaped yet (a detached supervisor is not our child). */
export const isGone = (pid: number): boolean => {
  try {
    // "123 (node) S ...": the state follows the command's closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) === "Z"
  } catch {
    return true
  }
}

const signal = (pid: number, name: NodeJS.Signals) => {
  try {
    process.kill(pid, name)
  } catch {
    // Already gone.
  }
}

/** SIGTERM, then waits for the end (SIGKILL after `graceMs`). */
export const endProcess = async (pid: number, graceMs = 5_000): Promise<void> => {
  signal(pid, "SIGTERM")
  const deadline = performance.now() + graceMs
  while (!isGone(pid)) {
    if (performance.now() > deadline) {
      signal(pid, "SIGKILL")
      for (let i = 0; i < 100 && !isGone(pid); i++) await new Promise((resolve) => setTimeout(resolve, 20))
      return
    }
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/** CPU time a process has used so far (user + system), in ms; 0 once it is gone. */
export const cpuMs = (pid: number): number => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8")
    // After "pid (comm) ": state is field 3, utime 14, stime 15.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ")
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND
  } catch {
    return 0
  }
}

/** Linux's USER_HZ: 100 everywhere that matters. */
const TICKS_PER_SECOND = 100

/** The whole machine's busy and total CPU time so far, in ms summed over its CPUs. */
export const machineCpuMs = (): { readonly busy: number; readonly total: number } => {
  try {
    const [, ...values] = readFileSync("/proc/stat", "utf8").split("\n", 1)[0]!.trim().split(/\s+/)
    const ticks = values.map(Number)
    const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0)
    const idle = ticks[3]! + ticks[4]!
    return { busy: ((total - idle) * 1000) / TICKS_PER_SECOND, total: (total * 1000) / TICKS_PER_SECOND }
  } catch {
    return { busy: 0, total: 0 }
  }
}
