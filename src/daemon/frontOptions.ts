/**
 * What a front's options mean on a supervisor that is already running: a front's flags and its own
 * `TASKMUX_*` variables (the `args` and `env` blocks of the client's config) are read as the server
 * alone would read them. Wrong: refused, in the line the server alone would print. Else the fence of what
 * its session may start (--allow, --deny, --cwd-root, --no-inherit-env) holds for that session, whoever
 * started the supervisor; the other settings are the supervisor's, shared by every session, and where
 * the front's differ it is told so, once, on stderr and in its instructions.
 */
import { Effect } from "effect"
import * as NodePath from "node:path"
import { parseCommandLine, readOptions, type TaskmuxOptions } from "../Config.ts"
import type { StartPolicy } from "../supervisor/Viewer.ts"
import { withoutProject } from "./frontArgs.ts"

export interface FrontOptions {
  /** What is wrong with them, in one line. */
  readonly refused?: string
  /** What its session may start. */
  readonly policy?: StartPolicy
  /** The supervisor's settings that differ from the front's, said. */
  readonly notice?: string
}

/** The supervisor's settings every session shares, as a person gives each. */
const SHARED: ReadonlyArray<readonly [keyof TaskmuxOptions, string]> = [
  ["maxTasks", "--max-tasks"],
  ["bufferLines", "--buffer-lines"],
  ["bufferBytes", "--buffer-bytes"],
  ["maxLineBytes", "--max-line-bytes"],
  ["killGraceMs", "--kill-grace-ms"],
  ["shutdownGraceMs", "--shutdown-grace-ms"],
  ["readMaxBytes", "--read-max-bytes"],
  ["maxInputBytes", "--max-input-bytes"],
  ["logDir", "--log-dir"],
  ["logMaxBytes", "--log-max-bytes"],
  ["logKeepDays", "--log-keep-days"],
  ["trace", "--trace"]
]

const shown = (value: unknown) => typeof value === "boolean" ? (value ? "on" : "off") : String(value)

/** The shared settings `own` runs with that `theirs` would not, said; undefined when none. */
export const sharedDifferences = (own: TaskmuxOptions, theirs: TaskmuxOptions, pid: number): string | undefined => {
  const differ = SHARED.filter(([key]) => own[key] !== theirs[key]).map(([key, flag]) =>
    `${flag} ${shown(own[key])} (yours: ${shown(theirs[key])})`
  )
  if (differ.length === 0) return undefined
  return `The project's supervisor (pid ${pid}) was started with other settings, which every session shares: ` +
    `${
      differ.join(", ")
    }. What this session may start (--allow, --deny, --cwd-root, --no-inherit-env, --env-allow) is ` +
    "yours. To run with all of yours: end that supervisor once nothing needs it (taskmux ps shows what " +
    "runs), or serve this client alone with --isolated."
}

/** The `TASKMUX_*` variables of an environment: the only ones that are options. */
const settingsOf = (env: Readonly<Record<string, string | undefined>>): Record<string, string> =>
  Object.fromEntries(
    Object.entries(env).filter((entry): entry is [string, string] =>
      entry[0].startsWith("TASKMUX_") && entry[1] !== undefined
    )
  )

/** The options that name a path: a relative one is relative to the front. */
const PATH_VARIABLES = ["TASKMUX_CWD_ROOT", "TASKMUX_LOG_DIR"]

const isRelativePath = (name: string, value: string) => PATH_VARIABLES.includes(name) && !NodePath.isAbsolute(value)

/** `settings` with its relative paths made absolute from `cwd`, where the front runs. */
const absolute = (settings: Readonly<Record<string, string>>, cwd: string | undefined) =>
  cwd === undefined ? settings : Object.fromEntries(
    Object.entries(settings).map(([name, value]) => [
      name,
      isRelativePath(name, value) ? NodePath.resolve(cwd, value) : value
    ])
  )

/** What fences a session, of a whole set of options. */
const policyOf = ({ allow, cwdRoot, deny, envAllow, inheritEnv }: TaskmuxOptions): StartPolicy => ({
  allow,
  deny,
  cwdRoot,
  inheritEnv,
  envAllow
})

/** A front's options read: `flags` (its command line's settings) over `env` (its `TASKMUX_*` variables). */
const readFront = (
  own: TaskmuxOptions,
  pid: number,
  flags: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string>>,
  cwd: string | undefined
): FrontOptions =>
  Effect.runSync(
    readOptions(absolute(flags, cwd), absolute(env, cwd)).pipe(
      Effect.match({
        onFailure: (error): FrontOptions => ({ refused: error.message }),
        onSuccess: (theirs): FrontOptions => {
          const notice = sharedDifferences(own, theirs, pid)
          return { policy: policyOf(theirs), ...(notice !== undefined && { notice }) }
        }
      })
    )
  )

/**
 * Reads each front's options, once per set: every front of a project brings the same, mostly, and the
 * ms it takes is on every session's way to its first answer. The supervisor's own set (`ownArgs` over
 * `ownEnv`, what the front that started it brought) is known already.
 */
export const frontOptionsReader = (
  own: TaskmuxOptions,
  ownArgs: ReadonlyArray<string>,
  ownEnv: Readonly<Record<string, string | undefined>>,
  pid: number = process.pid
) => {
  const keyOf = (args: ReadonlyArray<string>, settings: Readonly<Record<string, string>>) =>
    JSON.stringify([withoutProject(args), settings])
  const known = new Map<string, FrontOptions>([[keyOf(ownArgs, settingsOf(ownEnv)), { policy: policyOf(own) }]])
  return (
    args: ReadonlyArray<string>,
    env: Readonly<Record<string, string>> = {},
    cwd?: string
  ): FrontOptions => {
    const given = settingsOf(env)
    const command = parseCommandLine(args)
    // Parsed before the cache is asked: a set that is wrong (a dangling --project) is never taken for the
    // good one it looks like once its project is left out of the key.
    if (command._tag === "Invalid") return { refused: command.error.message }
    if (command._tag === "Print") return {}
    // A relative path is the front's (`--cwd-root .`): where it runs is part of what its options mean.
    const relative = Object.entries({ ...given, ...command.env }).some(([name, value]) => isRelativePath(name, value))
    const key = keyOf(args, given) + (relative ? `\0${cwd}` : "")
    const cached = known.get(key)
    if (cached !== undefined) return cached
    const read = readFront(own, pid, command.env, given, cwd)
    // A refusal is not remembered: the directory it names may be made before the client tries again.
    if (read.refused === undefined) known.set(key, read)
    return read
  }
}
