/**
 * Every option of the server, from command-line flags and `TASKMUX_*` environment
 * variables (a flag wins), read once with Effect `Config` and validated: a bad value
 * stops the server with one line on stderr before any protocol traffic.
 *
 * One table (`options`) drives the flag parser and `--help`; the README's option list is checked
 * against it (test/Config.test.ts). Four variables are read where they act, not here: the supervisor's
 * TASKMUX_LINGER_MS (daemon/Idle.ts: a bad value is a warning in its log, not a supervisor that will
 * not start), and three test hooks, TASKMUX_EARLY_END_MS (mcp/tools/taskTools.ts), TASKMUX_HTTP_IDLE_MS
 * and TASKMUX_HTTP_KEEPALIVE_MS (web/mcpHttp/settings.ts).
 */
import { Config, ConfigProvider, Context, Effect, Layer, Option, Schema } from "effect"
import * as fs from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import packageJson from "../package.json" with { type: "json" }
import { CLI_COMMANDS } from "./cli/commandNames.ts"
import { closest, formatSchemaError } from "./domain/argumentIssues.ts"
import { InvalidConfig } from "./domain/errors.ts"
import { taskFileProject } from "./project/nearestProject.ts"

export interface TaskmuxOptions {
  /** Most lines each task's output buffer holds. */
  readonly bufferLines: number
  /** Most bytes each task's output buffer holds. */
  readonly bufferBytes: number
  /** Longer lines are cut into pieces of this many bytes. */
  readonly maxLineBytes: number
  /** `stop_task`'s default wait between SIGTERM and SIGKILL. */
  readonly killGraceMs: number
  /** Wait between SIGTERM and SIGKILL when the server shuts down (clients kill it 2 s after closing stdin). */
  readonly shutdownGraceMs: number
  /** Default cap on the text of one `read_output` answer. */
  readonly readMaxBytes: number
  /** Where each run's complete output is written. */
  readonly logDir: string
  /** Most bytes written to one run's log file. */
  readonly logMaxBytes: number
  /** Run logs older than this many days are deleted when a server or supervisor starts. */
  readonly logKeepDays: number
  /** Most tasks running at once. */
  readonly maxTasks: number
  /** Largest `send_input` data, in bytes. */
  readonly maxInputBytes: number
  /** A command line must match one of these (when any are given). */
  readonly allow: ReadonlyArray<RegExp>
  /** A command line matching any of these is refused. */
  readonly deny: ReadonlyArray<RegExp>
  /** When set, a task's cwd must be inside this directory (symlinks resolved). */
  readonly cwdRoot: string | undefined
  /** Tasks inherit the server's environment (else only a minimal one plus `envAllow`). */
  readonly inheritEnv: boolean
  /** Variables passed on to tasks when `inheritEnv` is off. */
  readonly envAllow: ReadonlyArray<string>
  /** Print spans of tool calls and task lifecycle steps to stderr. */
  readonly trace: boolean
  /** Where the project's task file (taskmux.yaml, taskmux.json or Procfile) is looked for. */
  readonly project: string
  /** Serve this one connection in this process, not through the project's shared supervisor. */
  readonly isolated: boolean
}

/** `$XDG_STATE_HOME/taskmux/logs`, else `~/.local/state/taskmux/logs`, else `taskmux-logs-UID` under the OS temp dir. */
export const defaultLogDir = (env: NodeJS.ProcessEnv = process.env): string => {
  // An empty or relative value is unset (as the XDG spec says): a relative one would put logs in the project.
  // Another user's is not taken either: `sudo -E` keeps theirs, where root would make root's directories.
  const usable = (path: string | undefined) =>
    path !== undefined && NodePath.isAbsolute(path) && !othersOwn(path) ? path : undefined
  // A home that is not there (`nobody`'s /nonexistent) is none: logs under it could never be written.
  const existing = (path: string | undefined) => path !== undefined && fs.existsSync(path) ? usable(path) : undefined
  const home = existing(env.HOME) ?? existing(passwdHome())
  const state = usable(env.XDG_STATE_HOME) ?? (home ? NodePath.join(home, ".local", "state") : undefined)
  // Under the temp dir, one directory per user: a shared one would be whoever made it first's.
  return state ?
    NodePath.join(state, "taskmux", "logs") :
    NodePath.join(os.tmpdir(), `taskmux-logs-${process.getuid?.() ?? "user"}`)
}

/** The passwd entry's home, whatever HOME says; none for a uid without one (a container's `--user 12345`). */
const passwdHome = () => {
  try {
    return os.userInfo().homedir
  } catch {
    return undefined
  }
}

/** Whether `path` is there and another user's (a path not made yet is nobody's). */
const othersOwn = (path: string) => {
  const uid = process.getuid?.()
  try {
    return uid !== undefined && fs.statSync(path).uid !== uid
  } catch {
    return false
  }
}

export const defaults: TaskmuxOptions = {
  bufferLines: 10_000,
  bufferBytes: 4 * 1024 * 1024,
  maxLineBytes: 8 * 1024,
  killGraceMs: 5_000,
  shutdownGraceMs: 1_000,
  readMaxBytes: 32 * 1024,
  logDir: defaultLogDir(),
  logMaxBytes: 64 * 1024 * 1024,
  logKeepDays: 14,
  maxTasks: 64,
  maxInputBytes: 1024 * 1024,
  allow: [],
  deny: [],
  cwdRoot: undefined,
  inheritEnv: true,
  envAllow: [],
  trace: false,
  project: process.cwd(),
  isolated: false
}

type Kind = "int" | "string" | "flag" | "list"

interface OptionSpec {
  readonly flag: string
  readonly env: string
  readonly kind: Kind
  readonly value?: string
  readonly help: string
  /** The option whose default `--help` shows. */
  readonly default?: keyof TaskmuxOptions
}

/** Every option, in the order `--help` shows them. Lists repeat the flag; in the environment they are one per line. */
export const options: ReadonlyArray<OptionSpec> = [
  {
    flag: "max-tasks",
    env: "TASKMUX_MAX_TASKS",
    kind: "int",
    value: "N",
    help: "most tasks running (or restarting) at once",
    default: "maxTasks"
  },
  {
    flag: "buffer-lines",
    env: "TASKMUX_BUFFER_LINES",
    kind: "int",
    value: "N",
    help: "lines kept per task",
    default: "bufferLines"
  },
  {
    flag: "buffer-bytes",
    env: "TASKMUX_BUFFER_BYTES",
    kind: "int",
    value: "N",
    help: "bytes kept per task",
    default: "bufferBytes"
  },
  {
    flag: "max-line-bytes",
    env: "TASKMUX_MAX_LINE_BYTES",
    kind: "int",
    value: "N",
    help: "longer lines are cut",
    default: "maxLineBytes"
  },
  {
    flag: "kill-grace-ms",
    env: "TASKMUX_KILL_GRACE_MS",
    kind: "int",
    value: "MS",
    help: "stop_task's wait before SIGKILL",
    default: "killGraceMs"
  },
  {
    flag: "shutdown-grace-ms",
    env: "TASKMUX_SHUTDOWN_GRACE_MS",
    kind: "int",
    value: "MS",
    help: "wait before SIGKILL at shutdown",
    default: "shutdownGraceMs"
  },
  {
    flag: "read-max-bytes",
    env: "TASKMUX_READ_MAX_BYTES",
    kind: "int",
    value: "N",
    help: "text in one read_output answer that gives no maxBytes (at most 1 MiB)",
    default: "readMaxBytes"
  },
  {
    flag: "max-input-bytes",
    env: "TASKMUX_MAX_INPUT_BYTES",
    kind: "int",
    value: "N",
    help: "largest send_input data",
    default: "maxInputBytes"
  },
  {
    flag: "log-dir",
    env: "TASKMUX_LOG_DIR",
    kind: "string",
    value: "DIR",
    help: "where each run's complete output goes (default $XDG_STATE_HOME/taskmux/logs)"
  },
  {
    flag: "log-max-bytes",
    env: "TASKMUX_LOG_MAX_BYTES",
    kind: "int",
    value: "N",
    help: "size cap of one run's log",
    default: "logMaxBytes"
  },
  {
    flag: "log-keep-days",
    env: "TASKMUX_LOG_KEEP_DAYS",
    kind: "int",
    value: "N",
    help: "run logs last written more than N days ago are deleted (soon after start, then daily)",
    default: "logKeepDays"
  },
  {
    flag: "allow",
    env: "TASKMUX_ALLOW",
    kind: "list",
    value: "REGEX",
    help: "only command lines matching one of these run"
  },
  {
    flag: "deny",
    env: "TASKMUX_DENY",
    kind: "list",
    value: "REGEX",
    help: "command lines matching any of these are refused"
  },
  {
    flag: "cwd-root",
    env: "TASKMUX_CWD_ROOT",
    kind: "string",
    value: "DIR",
    help: "tasks must run inside this directory"
  },
  { flag: "no-inherit-env", env: "TASKMUX_NO_INHERIT_ENV", kind: "flag", help: "tasks get a minimal environment" },
  {
    flag: "env-allow",
    env: "TASKMUX_ENV_ALLOW",
    kind: "list",
    value: "NAME",
    help: "with --no-inherit-env: pass this variable on"
  },
  { flag: "trace", env: "TASKMUX_TRACE", kind: "flag", help: "print spans of tool calls and task steps to stderr" },
  {
    flag: "project",
    env: "TASKMUX_PROJECT",
    kind: "string",
    value: "DIR",
    help:
      "the project: its supervisor, and where taskmux.yaml (.yml), taskmux.json or a Procfile is read (default: the nearest directory up with one, else the working directory)"
  },
  {
    flag: "isolated",
    env: "TASKMUX_ISOLATED",
    kind: "flag",
    help: "serve this client alone, in this process, not through the project's supervisor (CI, containers)"
  }
]

export const helpText = (): string =>
  [
    `taskmux ${packageJson.version}: an MCP server (stdio) that runs and supervises background tasks.`,
    "",
    "Usage: taskmux [options]     (a client launches it; it speaks MCP on stdin/stdout, served by the",
    "                             project's supervisor, which it starts when none runs)",
    "       taskmux ps | logs NAME [-f] | stop NAME | restart NAME | start NAME | remove NAME | wait NAME | attach NAME | ui",
    "                             (the same tasks, from a terminal: taskmux help lists the commands",
    "                             and their exit codes; taskmux ps --help says more of one)",
    "",
    "Options (each also an environment variable; a flag wins):",
    ...options.map((o) => {
      const left = `  --${o.flag}${o.value ? ` ${o.value}` : ""}`
      const help = o.default === undefined ? o.help : `${o.help} (${defaults[o.default]})`
      return `${left.padEnd(30)}${help}  [${o.env}]`
    }),
    `  ${"--help, --version".padEnd(28)}print this, or the version, and exit`,
    ""
  ].join("\n")

export type CommandLine =
  | { readonly _tag: "Serve"; readonly env: Record<string, string> }
  | { readonly _tag: "Print"; readonly text: string }
  | { readonly _tag: "Invalid"; readonly error: InvalidConfig }

/** " (did you mean --isolated?)" for a misspelt option, else "". */
const didYouMean = (arg: string) => {
  const guess = closest(splitOnce(arg.replace(/^-+/, ""), "=")[0], options.map((o) => o.flag))
  return guess === undefined ? "" : ` (did you mean --${guess}?)`
}

/** Turns argv into `TASKMUX_*` settings (which then win over the environment's). */
export const parseCommandLine = (argv: ReadonlyArray<string>): CommandLine => {
  const env: Record<string, string> = {}
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === "--help" || arg === "-h") return { _tag: "Print", text: helpText() }
    if (arg === "--version" || arg === "-v") return { _tag: "Print", text: `${packageJson.version}\n` }
    const [flag, inline] = arg.startsWith("--") ? splitOnce(arg.slice(2), "=") : [undefined, undefined]
    const spec = options.find((o) => o.flag === flag)
    if (spec === undefined) {
      if (arg.startsWith("-")) {
        const issue = `${arg}: unknown option${didYouMean(arg)} (taskmux --help lists them)`
        return { _tag: "Invalid", error: new InvalidConfig({ issue }) }
      }
      const commands = `${CLI_COMMANDS.slice(0, -1).join(", ")} or ${CLI_COMMANDS.at(-1)}`
      const guess = closest(arg, CLI_COMMANDS)
      const issue = `${arg} is not a command${guess === undefined ? "" : ` (did you mean ${guess}?)`}: taskmux ` +
        `${commands} for a person; with options only (taskmux --help lists them), the MCP server`
      return { _tag: "Invalid", error: new InvalidConfig({ issue, notASetting: true }) }
    }
    if (spec.kind === "flag") {
      env[spec.env] = "true"
      continue
    }
    const value = inline ?? argv[++i]
    if (value === undefined) {
      return { _tag: "Invalid", error: new InvalidConfig({ issue: `--${spec.flag}: needs a value (${spec.value})` }) }
    }
    env[spec.env] = spec.kind === "list" && env[spec.env] !== undefined ? `${env[spec.env]}\n${value}` : value
  }
  return { _tag: "Serve", env }
}

const splitOnce = (s: string, sep: string): [string, string | undefined] => {
  const i = s.indexOf(sep)
  return i === -1 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)]
}

/**
 * Where a setting came from, as the user wrote it: `--max-tasks lots` for a flag (flags arrive as
 * `settings`), `TASKMUX_MAX_TASKS="lots"` for the environment.
 */
const describeSetting = (settings: Readonly<Record<string, string>>, name: string, value: string) => {
  const spec = options.find((o) => o.env === name)
  if (settings[name] === undefined || spec === undefined) return `${name}=${JSON.stringify(value)}`
  return spec.kind === "flag" ? `--${spec.flag}` : `--${spec.flag} ${JSON.stringify(value)}`
}

const read = (settings: Readonly<Record<string, string>>, env: Readonly<Record<string, string | undefined>>) => {
  /** Fails naming the setting as the user gave it, the value, and what would be accepted. */
  const invalid = (name: string, value: string, expected: string) =>
    new InvalidConfig({ issue: `${describeSetting(settings, name, value)}: expected ${expected}` })

  const positiveInt = (name: string, fallback: number, max?: number) =>
    Config.schema(
      Schema.FiniteFromString.check(
        Schema.isInt(),
        Schema.isGreaterThan(0),
        Schema.isLessThanOrEqualTo(max ?? Number.MAX_SAFE_INTEGER)
      ),
      name
    ).pipe(
      Config.withDefault(fallback),
      Effect.mapError(() =>
        invalid(
          name,
          env[name] ?? "",
          `a positive integer${max === undefined ? "" : ` up to ${max}`}, such as ${fallback} (the default)`
        )
      )
    )

  const flag = (name: string) =>
    Config.Boolean(name).pipe(
      Config.withDefault(false),
      Effect.mapError(() => invalid(name, env[name] ?? "", "true or false (a flag takes no value)"))
    )

  const list = (name: string) =>
    Config.String(name).pipe(
      Config.map((s) => s.split("\n").filter((line) => line.length > 0)),
      Config.withDefault<ReadonlyArray<string>>([])
    )

  /** Compiles each rule, or fails naming the option and the rule. */
  const regexes = (name: string) =>
    Effect.flatMap(list(name), (sources) =>
      Effect.forEach(sources, (source) =>
        Effect.try({
          try: () => new RegExp(source),
          catch: (error) => invalid(name, source, `a JavaScript regular expression (${(error as Error).message})`)
        })))

  return Effect.gen(function*() {
    const cwdRoot = yield* Config.option(Config.String("TASKMUX_CWD_ROOT"))
    // A root that is no directory would refuse every start, naming the caller's cwd, not the setting.
    if (cwdRoot._tag === "Some" && !isDirectory(NodePath.resolve(cwdRoot.value))) {
      return yield* invalid("TASKMUX_CWD_ROOT", cwdRoot.value, "an existing directory")
    }
    const logDir = NodePath.resolve(yield* Config.String("TASKMUX_LOG_DIR").pipe(Config.withDefault(defaults.logDir)))
    // One that does not exist yet is made at the first task's start; one that is a file never could be.
    if (fs.existsSync(logDir) && !isDirectory(logDir)) {
      return yield* invalid("TASKMUX_LOG_DIR", env.TASKMUX_LOG_DIR ?? logDir, "a directory (this is a file)")
    }
    return {
      bufferLines: yield* positiveInt("TASKMUX_BUFFER_LINES", defaults.bufferLines),
      bufferBytes: yield* positiveInt("TASKMUX_BUFFER_BYTES", defaults.bufferBytes),
      maxLineBytes: yield* positiveInt("TASKMUX_MAX_LINE_BYTES", defaults.maxLineBytes),
      killGraceMs: yield* positiveInt("TASKMUX_KILL_GRACE_MS", defaults.killGraceMs),
      shutdownGraceMs: yield* positiveInt("TASKMUX_SHUTDOWN_GRACE_MS", defaults.shutdownGraceMs),
      // What one read_output may ask for (its maxBytes' bound), and so what it gives when it asks nothing.
      readMaxBytes: yield* positiveInt("TASKMUX_READ_MAX_BYTES", defaults.readMaxBytes, 1024 * 1024),
      logDir,
      logMaxBytes: yield* positiveInt("TASKMUX_LOG_MAX_BYTES", defaults.logMaxBytes),
      logKeepDays: yield* positiveInt("TASKMUX_LOG_KEEP_DAYS", defaults.logKeepDays),
      maxTasks: yield* positiveInt("TASKMUX_MAX_TASKS", defaults.maxTasks),
      maxInputBytes: yield* positiveInt("TASKMUX_MAX_INPUT_BYTES", defaults.maxInputBytes),
      allow: yield* regexes("TASKMUX_ALLOW"),
      deny: yield* regexes("TASKMUX_DENY"),
      cwdRoot: cwdRoot._tag === "Some" ? NodePath.resolve(cwdRoot.value) : undefined,
      inheritEnv: !(yield* flag("TASKMUX_NO_INHERIT_ENV")),
      envAllow: yield* list("TASKMUX_ENV_ALLOW"),
      trace: yield* flag("TASKMUX_TRACE"),
      // Not given: the nearest directory up with a task file, looked for only then (a supervisor is given its).
      project: NodePath.resolve(
        Option.getOrElse(
          yield* Config.option(Config.String("TASKMUX_PROJECT")),
          () => taskFileProject(defaults.project)
        )
      ),
      isolated: yield* flag("TASKMUX_ISOLATED")
    } satisfies TaskmuxOptions
  })
}

const isDirectory = (path: string) => {
  try {
    return fs.statSync(path).isDirectory()
  } catch {
    return false
  }
}

/**
 * The options a command line's settings give over an environment's `TASKMUX_*` variables: a front's, as
 * the supervisor it connects to reads them (its own process's environment is another's).
 */
export const readOptions = (
  settings: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>>
): Effect.Effect<TaskmuxOptions, InvalidConfig> => {
  const all = { ...env, ...settings }
  return read(settings, all).pipe(
    Effect.provide(ConfigProvider.layer(ConfigProvider.fromEnvRecord(all))),
    Effect.mapError((error) =>
      error._tag === "InvalidConfig"
        ? error
        : new InvalidConfig({
          issue: Schema.isSchemaError(error.cause) ? formatSchemaError(error.cause) : error.message
        })
    )
  )
}

export class TaskmuxConfig extends Context.Service<TaskmuxConfig, TaskmuxOptions>()("taskmux/Config") {
  /** Reads the flags (already turned into `TASKMUX_*` settings) over the environment. */
  static readonly layerFrom = (settings: Record<string, string>): Layer.Layer<TaskmuxConfig, InvalidConfig> =>
    Layer.effect(
      TaskmuxConfig,
      Effect.map(Effect.suspend(() => readOptions(settings, process.env)), TaskmuxConfig.of)
    )

  /** Fixed options for tests. */
  static readonly layerTest = (options: Partial<TaskmuxOptions> = {}): Layer.Layer<TaskmuxConfig> =>
    Layer.succeed(
      TaskmuxConfig,
      TaskmuxConfig.of({
        ...defaults,
        logDir: NodePath.join(os.tmpdir(), `taskmux-test-logs-${process.pid}`),
        ...options
      })
    )
}
