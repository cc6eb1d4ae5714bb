/**
 * Where a project's supervisor lives: one private directory per user (`$XDG_RUNTIME_DIR/taskmux`,
 * else `/tmp/taskmux-UID`), and in it, per project, a socket, a lock, the record of what ran and the
 * supervisor's own log, all named after the project's real path. Plain Node: the front, the CLI and the
 * supervisor all use it, and the front must load fast.
 */
import { sha256 } from "@noble/hashes/sha2.js"
import { bytesToHex, utf8ToBytes } from "@noble/hashes/utils.js"
import * as fs from "node:fs"
import * as NodePath from "node:path"
import { mkdirFailure } from "../mkdirFailure.ts"
import { UsageError } from "./UsageError.ts"

export interface RuntimePaths {
  /** The project directory, symlinks resolved. */
  readonly project: string
  readonly dir: string
  readonly socket: string
  /** Held (a SQLite exclusive lock) by the one supervisor of the project. */
  readonly lock: string
  /** What ran, for the next supervisor if this one dies (see daemon/LostTasks.ts and lostRecord.ts). */
  readonly record: string
  /** The supervisor's stderr. */
  readonly log: string
  /** The web page's and HTTP endpoint's token (0600), once a page was opened. */
  readonly token: string
}

/**
 * SHA-256 in plain JS (@noble/hashes): loading node:crypto costs a front 6 ms before it can start its
 * supervisor; the digest is the same, so every build finds the same files for a project.
 */
const sha256Hex = (text: string) => bytesToHex(sha256(utf8ToBytes(text)))

const uid = () => process.getuid?.() ?? 0

/**
 * The user's directory. Without XDG_RUNTIME_DIR, the one it would name if set (`/run/user/UID`, the
 * user's own and private): an MCP client starts taskmux with a short environment that lacks it, and the
 * person's terminal has it, yet both must find the same supervisor. Else `/tmp` rather than the OS temp
 * dir: macOS's is so long that a socket path in it would pass the 104-byte limit of a unix socket's name.
 */
export const runtimeDir = (env: NodeJS.ProcessEnv = process.env, userRunDirs = "/run/user"): string => {
  const xdg = env.XDG_RUNTIME_DIR
  // Only the user's own: after `su` or `sudo -E` it is still the first user's, where root would make a
  // `taskmux` directory that user could then neither use nor remove. (Its `taskmux` is checked private.)
  if (xdg !== undefined && xdg !== "" && NodePath.isAbsolute(xdg) && isOwnDir(xdg)) {
    return NodePath.join(xdg, "taskmux")
  }
  const own = NodePath.join(userRunDirs, String(uid()))
  return isPrivateDir(own) ? NodePath.join(own, "taskmux") : `/tmp/taskmux-${uid()}`
}

const isOwnDir = (path: string) => {
  try {
    const stat = fs.statSync(path)
    return stat.isDirectory() && stat.uid === uid()
  } catch {
    return false
  }
}

const isPrivateDir = (path: string) => {
  try {
    const stat = fs.statSync(path)
    return stat.isDirectory() && stat.uid === uid() && (stat.mode & 0o077) === 0
  } catch {
    return false
  }
}

/** The longest path a unix socket may be bound at: 108 bytes on Linux, 104 on macOS and the BSDs, its NUL included. */
export const SOCKET_PATH_MAX = process.platform === "linux" ? 107 : 103

/**
 * The paths for a project; makes the user's directory if needed, and refuses one anybody else could enter.
 * `gone`: a project directory deleted since its supervisor started (a worktree removed under a kept
 * dev server) is still found by its path, where that supervisor still listens.
 */
export const runtimePaths = (
  project: string,
  env: NodeJS.ProcessEnv = process.env,
  { gone = false }: { readonly gone?: boolean } = {}
): RuntimePaths => {
  const missing = gone && !fs.existsSync(project)
  const real = missing ? realAsFarAsThere(NodePath.resolve(project)) : realProject(project)
  const base = NodePath.basename(real).replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 24) || "root"
  const key = `${base}-${sha256Hex(real).slice(0, 12)}`
  // A socket's name has a limit: under a long XDG_RUNTIME_DIR, /tmp/taskmux-UID (every client that
  // has the same XDG_RUNTIME_DIR comes to the same choice).
  const preferred = runtimeDir(env)
  const dir = Buffer.byteLength(NodePath.join(preferred, `${key}.sock`)) > SOCKET_PATH_MAX
    ? `/tmp/taskmux-${uid()}`
    : preferred
  ensurePrivateDir(dir)
  const at = (suffix: string) => NodePath.join(dir, `${key}${suffix}`)
  // Gone, and no supervisor listens for it: refused as any missing directory is (realProject throws).
  if (missing && !fs.existsSync(at(".sock"))) realProject(project)
  return {
    project: real,
    dir,
    socket: at(".sock"),
    lock: at(".lock"),
    record: at(".tasks.json"),
    log: at(".log"),
    token: at(".token")
  }
}

/**
 * A path that is gone, as its real path was: the part still there resolved (macOS's /tmp is
 * /private/tmp, and a supervisor knows its project by the real path), the rest as it was.
 */
const realAsFarAsThere = (path: string): string => {
  const parent = NodePath.dirname(path)
  if (parent === path) return path
  try {
    return NodePath.join(fs.realpathSync(parent), NodePath.basename(path))
  } catch {
    return NodePath.join(realAsFarAsThere(parent), NodePath.basename(path))
  }
}

const realProject = (project: string) => {
  let real: string
  try {
    real = fs.realpathSync(NodePath.resolve(project))
  } catch (error) {
    throw new UsageError(
      `--project ${project}: ${
        (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such directory" : (error as Error).message
      }`,
      { cause: error }
    )
  }
  // A project is a directory: `--project taskmux.yaml` means the one that holds it.
  if (!fs.statSync(real).isDirectory()) {
    throw new UsageError(`--project ${project}: not a directory (give the directory that holds the task file)`)
  }
  return real
}

/**
 * The directory must be ours, a real directory (not a symlink someone planted), and closed to everyone
 * else: only then is a socket in it reachable by this user alone, whatever the socket's own mode.
 */
export const ensurePrivateDir = (dir: string): void => {
  try {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 })
  } catch (error) {
    throw new Error(`cannot make ${dir}: ${(mkdirFailure(dir, error) as Error).message}`, { cause: error })
  }
  const stat = fs.lstatSync(dir)
  // Another user's cannot be removed by this one in a sticky /tmp: say the ways round it too.
  const elsewhere = "or set XDG_RUNTIME_DIR to a directory of yours (or use --isolated)"
  if (!stat.isDirectory()) throw new Error(`${dir} is not a directory (a symlink or a file): remove it, ${elsewhere}`)
  if (stat.uid !== uid()) {
    throw new Error(
      `${dir} belongs to uid ${stat.uid}, not to you (uid ${uid()}): ` +
        `${uid() === 0 ? "remove it" : "have it removed (only its owner or root can)"}, ${elsewhere}`
    )
  }
  if ((stat.mode & 0o077) !== 0) {
    throw new Error(`${dir} is open to other users (mode ${(stat.mode & 0o777).toString(8)}): chmod 700 it`)
  }
}
