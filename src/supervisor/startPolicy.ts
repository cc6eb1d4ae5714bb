/**
 * What a start is allowed to do and what it runs with, decided before anything runs: the
 * server's allow/deny rules and cwd root, the task's working directory, its environment,
 * and a readable name when the caller gave none.
 */
import { Effect, Option } from "effect"
import { constants, type Stats } from "node:fs"
import { access, realpath, stat } from "node:fs/promises"
import * as NodePath from "node:path"
import { CommandRefused, CwdOutsideRoot } from "../domain/errors.ts"
import { homeDir, withHome } from "../domain/withHome.ts"
import type { StartPolicy } from "./Viewer.ts"

/** The policy's word on a command line and a working directory; both as checked. */
export const checkPolicy = Effect.fnUntraced(function*(
  config: StartPolicy,
  request: {
    readonly command: string
    readonly args?: ReadonlyArray<string> | undefined
    readonly cwd?: string | undefined
  },
  /** Where a relative (or no) cwd starts: the caller's directory; else the server's. */
  from: string = process.cwd(),
  /** What `~` is: the caller's home; else the server's. */
  home: string | undefined = homeDir()
) {
  const line = commandLine(request.command, request.args ?? null)
  const denied = config.deny.find((rule) => rule.test(line))
  if (denied !== undefined) {
    return yield* new CommandRefused({ command: line, rule: `it matches --deny ${denied.source}` })
  }
  if (config.allow.length > 0 && !config.allow.some((rule) => rule.test(line))) {
    const rules = config.allow.map((rule) => rule.source).join(", ")
    return yield* new CommandRefused({ command: line, rule: `it matches no --allow rule (${rules})` })
  }
  const cwd = NodePath.resolve(config.cwdRoot ?? from, withHome(request.cwd ?? ".", home))
  if (config.cwdRoot !== undefined) {
    const root = yield* Effect.promise(() => realpath(config.cwdRoot!).catch(() => config.cwdRoot!))
    const real = yield* Effect.promise(() => realpath(cwd).catch(() => cwd))
    if (real !== root && !real.startsWith(root + NodePath.sep)) return yield* new CwdOutsideRoot({ cwd, root })
  }
  return { cwd, line }
})

/** How long a start waits for its directory to be looked at: a mount that hangs must not hold the task. */
const DIRECTORY_CHECK_MS = 3_000
/** How long a start of a running task waits to learn whether its directory was replaced; unknown counts as not. */
const SAME_DIRECTORY_MS = 1_000

/**
 * Which directory is at a path: device, inode and birth. A directory removed and made again (a fresh clone, a
 * worktree's path given to another branch) is another, even where it gets the same inode (ext4 reuses it at once).
 */
export type DirectoryIdentity = string

const identityOf = (stat: Stats): DirectoryIdentity => `${stat.dev}:${stat.ino}:${stat.birthtimeMs}`

/** Why a directory cannot be used, or which one it is. */
type Look = { readonly problem: string } | { readonly problem?: undefined; readonly identity: DirectoryIdentity }

/** Looks under way, by directory: a hung one takes one of libuv's four threads once, not once per start. */
const looking = new Map<string, Promise<Look>>()

/** Why `cwd` cannot be used, or (a directory this user can enter) which directory it is, looked at off the event loop. */
export const lookAtDirectory = (cwd: string): Effect.Effect<Look> =>
  Effect.promise(() => {
    let look = looking.get(cwd)
    if (look === undefined) {
      look = lookAt(cwd).finally(() => looking.delete(cwd))
      looking.set(cwd, look)
    }
    return look
  }).pipe(
    Effect.timeoutOption(DIRECTORY_CHECK_MS),
    Effect.map(Option.getOrElse((): Look => ({
      problem: `does not answer (nothing came back within ${
        DIRECTORY_CHECK_MS / 1000
      } s: a network or FUSE mount that hangs?)`
    })))
  )

/** Why `cwd` cannot be used, or undefined when it is a directory this user can enter. */
export const checkDirectory = (cwd: string) => Effect.map(lookAtDirectory(cwd), (look) => look.problem)

const lookAt = async (cwd: string): Promise<Look> => {
  if (cwd.includes("\0")) return { problem: "contains a NUL byte (\\u0000), which no path can hold" }
  let found: Stats
  try {
    found = await stat(cwd)
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return { problem: code === "ENOENT" ? "does not exist" : `cannot be used (${code})` }
  }
  if (!found.isDirectory()) return { problem: "is not a directory" }
  // stat works on a directory its user may not enter (0700, another's): the start would fail in chdir,
  // as if the command could not run.
  return access(cwd, constants.X_OK).then(
    () => ({ identity: identityOf(found) }),
    () => ({ problem: "cannot be entered by this user (no search permission)" })
  )
}

/**
 * Whether `path` is still the directory `identity` names; unknown, or a mount that does not answer within
 * SAME_DIRECTORY_MS, counts as the same (looked at off the event loop: a hung mount must not freeze the server).
 */
export const isSameDirectory = (identity: DirectoryIdentity | undefined, path: string): Effect.Effect<boolean> =>
  identity === undefined ?
    Effect.succeed(true) :
    Effect.promise(() => stat(path).then((now) => identityOf(now) === identity, () => false)).pipe(
      Effect.timeoutOption(SAME_DIRECTORY_MS),
      Effect.map(Option.getOrElse(() => true))
    )

/**
 * What a task starts from: the environment of who started it (a session's front or CLI; else the
 * server's own), or with --no-inherit-env a minimal one of it.
 */
export const baseEnv = (
  config: StartPolicy,
  from: Readonly<Record<string, string | undefined>> = process.env
): Record<string, string> => config.inheritEnv ? inheritedEnv(from) : minimalEnv(config.envAllow, from)

/**
 * A task's environment: colour off (escape codes are noise to a model) and Python's output
 * unbuffered (on a pipe it would wait for 8 KB, and a ready line would never arrive), unless
 * the task's own `env` says otherwise.
 */
export const taskEnv = (base: Readonly<Record<string, string>>, own: Readonly<Record<string, string>>) => {
  const defaults: Record<string, string> = "FORCE_COLOR" in own || "NO_COLOR" in own
    ? {}
    : { FORCE_COLOR: "0", NO_COLOR: "1" }
  if (!("PYTHONUNBUFFERED" in own)) defaults.PYTHONUNBUFFERED = "1"
  return { ...base, ...defaults, ...own }
}

/** The full command line, as policy rules and people read it. */
export const commandLine = (command: string, args: ReadonlyArray<string> | null) =>
  args === null ? command : [command, ...args].map(shellQuote).join(" ")

const shellQuote = (word: string) => /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`

/** A readable, unused name from the command's program: "npm-1", "npm-2". */
export const uniqueName = (command: string, taken: ReadonlyMap<string, unknown>): string => {
  const base = nameBase(command)
  for (let i = 1;; i++) {
    const name = `${base}-${i}`
    if (!taken.has(name)) return name
  }
}

/** Whether `name` is one uniqueName gives `command` (not one a caller chose). */
export const isGeneratedName = (name: string, command: string): boolean => {
  const base = nameBase(command)
  return name.startsWith(`${base}-`) && /^[1-9]\d*$/.test(name.slice(base.length + 1))
}

const nameBase = (command: string) =>
  NodePath.basename(programWord(command.trim().split(/\s+/))).replace(/[^A-Za-z0-9._-]/g, "")
    // A task name starts with a letter or a digit (TASK_NAME): "./_dev.sh", "./.venv-run", "./日本.sh" too.
    .replace(/^[^A-Za-z0-9]+/, "").slice(0, 32) || "task"

/** Words a shell line puts before its program: `FOO=1 vite` runs vite, as do `cd web && vite` and `exec vite`. */
const PREFIXES = new Set(["exec", "env", "nohup", "time", "command"])

/** The program a shell line runs: its first word after variable settings, `cd DIR &&` and the like. */
const programWord = (words: ReadonlyArray<string>): string => {
  for (let i = 0; i < words.length;) {
    const word = words[i]!
    if (/^[A-Za-z_]\w*=/.test(word) || PREFIXES.has(word)) {
      i++
      continue
    }
    if (word === "cd") {
      const after = words.findIndex((w, j) => j > i && (w === "&&" || w === ";" || w.endsWith(";")))
      if (after > i && after + 1 < words.length) {
        i = after + 1
        continue
      }
    }
    return word
  }
  return words[0] ?? ""
}

/** What a task gets with --no-inherit-env: enough to find programs and a home, plus the allowed names. */
const minimalEnv = (
  allowed: ReadonlyArray<string>,
  from: Readonly<Record<string, string | undefined>>
): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const key of ["PATH", "HOME", "USER", "LANG", "LC_ALL", "TERM", "TMPDIR", "SHELL", ...allowed]) {
    const value = from[key]
    if (value !== undefined) env[key] = value
  }
  return env
}

/**
 * The server's environment, which tasks inherit, but its own settings (TASKMUX_*): a taskmux run inside
 * a task (a script's `taskmux ps`, another project's server) reads its own, not this one's.
 */
const inheritedEnv = (from: Readonly<Record<string, string | undefined>>): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(from)) {
    if (value !== undefined && !key.startsWith("TASKMUX_")) env[key] = value
  }
  return env
}
