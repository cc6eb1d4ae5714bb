import * as NodePath from "node:path"
import { taskFileProject } from "../project/nearestProject.ts"

/**
 * Whether this run is a front, and for which project, read from the command line, the environment and
 * the directories up from this one (a task file), without loading a parser: a front starts the
 * supervisor first and its options are checked there.
 * Undefined: not a front (--help, --version, --isolated, PID 1, or the supervisor itself).
 */
export const frontProject = (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv): string | undefined => {
  if (argv[0] === "supervise") return undefined
  // PID 1 (a container's entrypoint) serves alone: the namespace, a supervisor with it, ends when it exits.
  if (process.pid === 1) return undefined
  if (argv.some((arg) => ["--help", "-h", "--version", "-v"].includes(arg))) return undefined
  // Config.Boolean's words for true (Schema.TrueLiterals): the server it starts must read it the same.
  const isolated = argv.includes("--isolated") || /^(true|yes|on|1|y)$/i.test(env.TASKMUX_ISOLATED ?? "")
  return isolated ? undefined : projectOption(argv, env) ?? taskFileProject(process.cwd())
}

/** The arguments without the project given in them (`--project DIR`, `--project=DIR`). */
export const withoutProject = (argv: ReadonlyArray<string>): Array<string> =>
  argv.filter((arg, i) => arg !== "--project" && argv[i - 1] !== "--project" && !arg.startsWith("--project="))

/** The project directory given (`--project DIR`, `--project=DIR`, else TASKMUX_PROJECT), as given. */
export const projectOption = (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv): string | undefined => {
  let project = env.TASKMUX_PROJECT || undefined
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--project") project = argv[++i]
    else if (arg.startsWith("--project=")) project = arg.slice("--project=".length)
  }
  return project
}

/** The options that name a path (and their variables): a relative one is relative to the front, not the project. */
const PATH_FLAGS = ["--log-dir", "--cwd-root"]
const PATH_VARIABLES = ["TASKMUX_LOG_DIR", "TASKMUX_CWD_ROOT"]

const fromFront = (value: string, cwd: string) => NodePath.isAbsolute(value) ? value : NodePath.resolve(cwd, value)

/**
 * The arguments and environment a supervisor is started with, their relative paths made absolute from `cwd`
 * (where the front runs): the supervisor runs in the project, and would read `--log-dir logs` there.
 */
export const withAbsolutePaths = (
  argv: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  cwd: string
): { readonly argv: Array<string>; readonly env: NodeJS.ProcessEnv } => ({
  argv: argv.map((arg, i) => {
    const joined = PATH_FLAGS.find((flag) => arg.startsWith(`${flag}=`))
    if (joined !== undefined) return `${joined}=${fromFront(arg.slice(joined.length + 1), cwd)}`
    return i > 0 && PATH_FLAGS.includes(argv[i - 1]!) ? fromFront(arg, cwd) : arg
  }),
  env: Object.fromEntries(
    Object.entries(env).map(([name, value]) => [
      name,
      value !== undefined && PATH_VARIABLES.includes(name) ? fromFront(value, cwd) : value
    ])
  )
})
