/** Shared test helpers: real processes are checked through /proc, never mocked. */
import { Effect, Schedule } from "effect"
import { execFileSync, spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs"
import * as Net from "node:net"
import * as os from "node:os"
import * as NodePath from "node:path"

export const fixture = (name: string) => NodePath.join(import.meta.dirname, "fixtures", name)

/** True while the process exists and is not a zombie. */
export const isAlive = (pid: number): boolean => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
    const state = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3)
    return state !== "Z" && state !== "X"
  } catch {
    return false
  }
}

/** A process's resident memory now, in bytes. */
export const rssOf = (pid: number): number =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) * 1024

/** Live pids whose environment holds `name=value`: a task's processes, when its start set that variable. */
export const processesWithEnv = (name: string, value: string): Array<number> =>
  readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).flatMap((entry) => {
    try {
      const environ = readFileSync(`/proc/${entry}/environ`, "latin1")
      return environ.includes(`${name}=${value}\0`) && isAlive(Number(entry)) ? [Number(entry)] : []
    } catch {
      return [] // Gone while we looked.
    }
  })

/** Pids a fixture printed as "pid N" lines. */
export const pidsIn = (lines: ReadonlyArray<{ readonly text: string }>): Array<number> =>
  lines.flatMap((l) => {
    const m = /^pid (\d+)$/.exec(l.text)
    return m ? [Number(m[1])] : []
  })

/** Re-runs `effect` until `done` holds, for at most `timeoutMs` (generous: CI machines are slow). */
export const eventually = <A, E, R>(
  effect: Effect.Effect<A, E, R>,
  done: (a: A) => boolean,
  timeoutMs = 10_000
): Effect.Effect<A, E | Error, R> =>
  effect.pipe(
    Effect.repeat({ schedule: Schedule.spaced(20), until: done }),
    Effect.timeoutOrElse({
      duration: timeoutMs,
      orElse: () => Effect.fail(new Error(`condition not met within ${timeoutMs} ms`))
    })
  )

/**
 * What a Node `script` prints when run as another user (made with useradd, run with setpriv), after
 * `reachable` (a directory of ours) is opened for it to walk through; undefined unless the tests run
 * as root, the only way to make another uid.
 */
export const asOtherUser = (script: string, reachable: string): string | undefined => {
  if (process.getuid?.() !== 0) return undefined
  spawnSync("useradd", ["--no-create-home", "--shell", "/usr/sbin/nologin", "taskmux-other"])
  const uid = execFileSync("id", ["-u", "taskmux-other"], { encoding: "utf8" }).trim()
  execFileSync("chmod", ["o+x", reachable])
  const run = spawnSync(
    "setpriv",
    [`--reuid=${uid}`, `--regid=${uid}`, "--clear-groups", process.execPath, "-e", script],
    { encoding: "utf8" }
  )
  return run.stdout.trim()
}

/**
 * Whether this process may mount a small tmpfs (root, with the right to mount: not root in an
 * unprivileged container): the tests of a full disk make one to fill. Asked once.
 */
export const canMount = (): boolean => {
  if (mountable !== undefined) return mountable
  if (process.getuid?.() !== 0) return mountable = false
  const probe = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-mount-"))
  try {
    mountable = spawnSync("mount", ["-t", "tmpfs", "-o", "size=4k", "tmpfs", probe]).status === 0
    if (mountable) spawnSync("umount", [probe])
    return mountable
  } finally {
    rmSync(probe, { recursive: true, force: true })
  }
}
let mountable: boolean | undefined

/**
 * A TCP connection this process makes to itself on loopback, as the server's side of it (its ports are
 * what a peer check looks up); closed once `body` is done.
 */
export const withLoopbackConnection = async (body: (accepted: Net.Socket) => Promise<void>) => {
  const server = Net.createServer()
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  const { port } = server.address() as Net.AddressInfo
  const accepted = new Promise<Net.Socket>((resolve) => server.once("connection", resolve))
  const client = Net.connect({ host: "127.0.0.1", port })
  try {
    await body(await accepted)
  } finally {
    client.destroy()
    server.close()
  }
}

/**
 * A launcher (see connect's `launcher`) that runs the rest in a mount namespace of its own, after `setup`
 * (a shell line: mounts seen by the rest and its children alone); `then` goes before the rest (setpriv …).
 */
export const inMountNamespace = (setup: string, ...then: ReadonlyArray<string>): Array<string> => [
  "unshare",
  "-m",
  "--propagation",
  "private",
  "sh",
  "-c",
  `${setup} && exec "$@"`,
  "sh",
  ...then
]
