/**
 * Every failure a tool can answer with. Each message names the thing that is wrong and
 * what would be right, because the reader is a model that will try again.
 */
import { Schema, type SchemaAST, SchemaIssue } from "effect"
import { clipText } from "./clipText.ts"
import { jsonEscapingControls } from "./escapeControls.ts"

/** A value as messages quote it: at most 200 characters of it (a command may be a whole script). */
export const quote = (s: string) => jsonEscapingControls(clipText(s, 201))

/** What the leaf hook below says of a field that is not in the schema: the fields that are, after it. */
const NOT_A_FIELD = "\u0000not a field:"

/**
 * Schema's own messages, but a misspelt field lists the fields there are (its struct's), and a
 * missing one says it is required: "Expected no excess property" and "Missing key" are jargon.
 */
const leafHook: SchemaIssue.LeafHook = (issue) =>
  issue._tag === "UnexpectedKey"
    ? `${NOT_A_FIELD}${fieldsOf(issue.ast).join(",")}${NESTED}${nestedFieldsOf(issue.ast).join(",")}`
    : issue._tag === "MissingKey"
    ? "required, and missing"
    : SchemaIssue.defaultLeafHook(issue)

/** Between a struct's fields and its structs' fields in the leaf hook's message. */
const NESTED = "\u0000nested:"

const fieldsOf = (ast: SchemaAST.AST): ReadonlyArray<string> =>
  ast._tag === "Objects" ? ast.propertySignatures.map((p) => String(p.name)) : []

/** The fields of the structs a struct holds, by their paths: "waitFor.timeoutMs". */
const nestedFieldsOf = (ast: SchemaAST.AST): ReadonlyArray<string> =>
  ast._tag !== "Objects" ? [] : ast.propertySignatures.flatMap((p) => {
    const inner = p.type._tag === "Union" ? p.type.types.find((t) => t._tag === "Objects") : p.type
    return inner === undefined ? [] : fieldsOf(inner).map((field) => `${String(p.name)}.${field}`)
  })

export const standardIssues = SchemaIssue.makeFormatterStandardSchemaV1({ leafHook })

/**
 * An issue's message as a model reads it. A field that is not one: `not a field of start_task (did
 * you mean "name"?); its fields are command, args, name, …`, `owner` being what holds `key`.
 */
export const issueMessage = (message: string, key: PropertyKey, owner: string): string => {
  if (!message.startsWith(NOT_A_FIELD)) return message
  const [fields = "", nested = ""] = message.slice(NOT_A_FIELD.length).split(NESTED)
  const list = (names: string) => names.split(",").filter((f) => f !== "")
  return notAField(String(key), list(fields), owner, list(nested))
}

/** Other words for a field, as models write them (`lines` for tail, `cmd` for command): the first the tool has. */
const SYNONYMS: Readonly<Record<string, ReadonlyArray<string>>> = {
  lines: ["tail"],
  n: ["tail"],
  count: ["tail"],
  last: ["tail"],
  filter: ["grep", "pattern"],
  regex: ["grep", "pattern"],
  search: ["grep", "pattern"],
  match: ["pattern", "grep"],
  cursor: ["since"],
  after: ["since"],
  offset: ["since"],
  from: ["since"],
  cmd: ["command"],
  cmdline: ["command"],
  script: ["command"],
  workdir: ["cwd"],
  dir: ["cwd"],
  directory: ["cwd"],
  text: ["data"],
  input: ["data"],
  keys: ["data"],
  id: ["name"],
  task: ["name"],
  taskname: ["name"],
  environment: ["env"],
  tty: ["terminal"],
  pty: ["terminal"],
  ready: ["waitFor"]
}

/**
 * `key` is not one of `fields` of `owner`: what it may have meant, and what there is. What it may have
 * meant is looked for in the structs it holds too (`nested`, by path): `timeout` is `waitFor.timeoutMs`.
 */
export const notAField = (
  key: string,
  fields: ReadonlyArray<string>,
  owner: string,
  nested: ReadonlyArray<string> = []
): string => {
  const inner = closest(key, nested.map((path) => path.slice(path.indexOf(".") + 1)))
  const guess = closest(key, fields) ??
    SYNONYMS[key.toLowerCase().replace(/[-_]/g, "")]?.find((field) => fields.includes(field)) ??
    (inner === undefined ? undefined : nested.find((path) => path.endsWith(`.${inner}`)))
  return `not a field of ${owner}${guess === undefined ? "" : ` (did you mean ${quote(guess)}?)`}${
    fields.length === 0 ? ", which takes none" : `; its fields are ${fields.join(", ")}`
  }`
}

/** A Schema failure as one line a model can act on: `command: Expected string; name: required, and missing`. */
export const formatSchemaError = (error: Schema.SchemaError, input?: unknown, where = "the input"): string =>
  oneIssuePerBound(standardIssues(error.issue).issues).map((issue) => {
    const keys = (issue.path ?? []).map((p) => typeof p === "object" ? p.key : p)
    if (keys.length === 0) return issue.message
    // An empty key ({"": 1}) is said as one, not as nothing.
    const path = keys.map((key) => key === "" ? "\"\"" : String(key)).join(".")
    const message = issueMessage(issue.message, keys.at(-1)!, keys.length > 1 ? String(keys.at(-2)) : where)
    if (message !== issue.message) return `${path}: ${message}`
    const given = valueAt(input, keys)
    return `${path}: ${message}${gotAt(input, keys)}${meantLiteral(message, given)}${
      meantShape(message, keys.at(-1)!, given)
    }`
  }).join("; ")

/** A struct or a list given as a plain value, as models write them: the shape it was meant to have. */
const SHAPES: Readonly<Record<string, (given: string | number | boolean) => unknown>> = {
  restart: (given) => ["no", "on-failure", "always"].includes(String(given)) ? { policy: given } : undefined,
  waitFor: (given) =>
    typeof given === "number" || given === "any"
      ? { port: given }
      : given === true || given === "exit"
      ? { exit: true }
      : typeof given === "string"
      ? { pattern: given }
      : undefined,
  env: (given) => {
    const pairs = String(given).split(/\s+/).filter((pair) => pair.indexOf("=") > 0)
    return pairs.length === 0
      ? undefined
      : Object.fromEntries(pairs.map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)]))
  },
  args: (given) => typeof given === "string" ? given.split(/\s+/).filter((arg) => arg !== "") : undefined
}

/** `restart: "on-failure"` is `{"policy": "on-failure"}`, `args: "server.js"` is `["server.js"]`: said. */
const meantShape = (message: string, key: PropertyKey, given: unknown): string => {
  if (!/^Expected (?:object|array)$/.test(message)) return ""
  if (typeof given !== "string" && typeof given !== "number" && typeof given !== "boolean") return ""
  const meant = SHAPES[String(key)]?.(given)
  return meant === undefined ? "" : ` (did you mean ${JSON.stringify(meant)}?)`
}

type StandardIssue = ReturnType<typeof standardIssues>["issues"][number]

/**
 * A bounded integer given 1.5 fails twice, as no integer and as out of bounds: said once, as both
 * ("Expected an integer between 20 and 1000").
 */
const oneIssuePerBound = (issues: ReadonlyArray<StandardIssue>): ReadonlyArray<StandardIssue> => {
  const pathOf = (issue: StandardIssue) => JSON.stringify(issue.path ?? [])
  const bounds = new Map(
    issues.filter((i) => i.message.startsWith("Expected a value between ")).map((i) => [pathOf(i), i.message])
  )
  const integers = new Set(issues.filter((i) => i.message === "Expected an integer").map(pathOf))
  return issues.flatMap((issue) => {
    const bound = bounds.get(pathOf(issue))
    if (bound === undefined || !integers.has(pathOf(issue))) return [issue]
    if (issue.message === "Expected an integer") {
      return [{ ...issue, message: bound.replace("Expected a value between ", "Expected an integer between ") }]
    }
    return issue.message === bound ? [] : [issue]
  })
}

/**
 * For "Expected "SIGTERM" | "SIGKILL" | …" given "sigterm" or "TERM": the one meant, as signal names are
 * written elsewhere (any case, without SIG), or a slip of a letter or two.
 */
const meantLiteral = (message: string, given: unknown): string => {
  const listed = /^Expected ("[^"]*"(?: \| "[^"]*")+)$/.exec(message)
  if (listed === null || typeof given !== "string") return ""
  const literals = [...listed[1]!.matchAll(/"([^"]*)"/g)].map((m) => m[1]!)
  const upper = given.toUpperCase()
  const guess = literals.find((l) => l === upper || l === `SIG${upper}`) ?? closest(given, literals)
  return guess === undefined ? "" : ` (did you mean ${quote(guess)}?)`
}

/** The value given at `keys` in `input`, when there was one: ", got 70000" after "Expected a value between 1 and 65535". */
export const gotAt = (input: unknown, keys: ReadonlyArray<PropertyKey>): string => {
  const given = valueAt(input, keys)
  return given === undefined ? "" : `, got ${shortJson(given)}`
}

const valueAt = (input: unknown, keys: ReadonlyArray<PropertyKey>): unknown =>
  keys.reduce<unknown>(
    (value, key) =>
      typeof value === "object" && value !== null ? (value as Record<PropertyKey, unknown>)[key] : undefined,
    input
  )

/**
 * The one of `names` that `given` looks like a slip for: the same but for case, the start of it
 * (`timeout` for `timeoutMs`), or a letter or two off (one per three letters after the first three:
 * `cmd` is as near `cwd` as `command`'s start, so short words get no guess).
 */
export const closest = (given: string, names: ReadonlyArray<string>): string | undefined => {
  const lower = given.toLowerCase()
  const allowed = Math.floor((given.length - 1) / 3)
  let best: { name: string; distance: number } | undefined
  for (const name of names) {
    const candidate = name.toLowerCase()
    const distance = candidate === lower
      ? 0
      : lower.length >= 3 && candidate.startsWith(lower)
      ? 0.5
      : editDistance(lower, candidate)
    if ((distance < 1 || distance <= allowed) && (best === undefined || distance < best.distance)) {
      best = { name, distance }
    }
  }
  return best?.name
}

/** Levenshtein distance, a swap of two neighbours counting one (Damerau's optimal string alignment). */
const editDistance = (a: string, b: string): number => {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)])
  for (let j = 1; j <= b.length; j++) d[0]![j] = j
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1)
      }
    }
  }
  return d[a.length]![b.length]!
}

/** A value as an error quotes it: JSON, cut short. */
export const shortJson = (value: unknown) => clipText(JSON.stringify(value) ?? String(value), 60)

export class TaskNotFound extends Schema.TaggedError<TaskNotFound>()("TaskNotFound", {
  name: Schema.String,
  known: Schema.Array(Schema.String),
  /** Why the project file cannot be read: the name may be one of its tasks, which are unknown. */
  projectError: Schema.optionalKey(Schema.String)
}) {
  override get message() {
    const unread = this.projectError === undefined
      ? ""
      : ` The project file cannot be read, so its tasks are unknown: ${this.projectError}`
    const guess = closest(this.name, this.known)
    const meant = guess === undefined ? "" : ` (did you mean ${quote(guess)}?)`
    return this.known.length === 0
      ? `No task named ${quote(this.name)}: there are no tasks.${unread || " Start one with start_task."}`
      : `No task named ${quote(this.name)}${meant}. Known tasks: ${this.known.join(", ")}.${unread}`
  }
}

/**
 * A name with no task now that taskmux knows of all the same, said whole (`text`) where it is made:
 * lost or ended under the last supervisor, gone with the session that owned it, or a project task not run.
 * The tag goes with the answer (`_meta`), so that a client (the CLI) need not read the words.
 */
const knownName = { name: Schema.String, text: Schema.String, logFile: Schema.optionalKey(Schema.String) }

/** Its supervisor was killed while it ran (lost), or it was kept and ended before that supervisor did. */
export class TaskLeftBySupervisor
  extends Schema.TaggedError<TaskLeftBySupervisor>()("TaskLeftBySupervisor", knownName)
{
  override get message() {
    return this.text
  }
}

/** It was a session's own, and went with that session. */
export class TaskWentWithSession extends Schema.TaggedError<TaskWentWithSession>()("TaskWentWithSession", knownName) {
  override get message() {
    return this.text
  }
}

/** remove_task took it (another session's, the page's, or this one's earlier). */
export class TaskWasRemoved extends Schema.TaggedError<TaskWasRemoved>()("TaskWasRemoved", knownName) {
  override get message() {
    return this.text
  }
}

/** A project task that has not run yet (or not since it was removed). */
export class ProjectTaskNotRun extends Schema.TaggedError<ProjectTaskNotRun>()("ProjectTaskNotRun", knownName) {
  override get message() {
    return this.text
  }
}

export class TaskRemoved extends Schema.TaggedError<TaskRemoved>()("TaskRemoved", {
  name: Schema.String
}) {
  override get message() {
    return `Task ${quote(this.name)} was removed (remove_task) before this call reached it. ` +
      `list_tasks shows the tasks there are.`
  }
}

export class TaskAlreadyRunning extends Schema.TaggedError<TaskAlreadyRunning>()("TaskAlreadyRunning", {
  name: Schema.String,
  pid: Schema.NullOr(Schema.Int),
  /** Whose it is, in words. */
  owner: Schema.String,
  /** Between runs: its restart policy runs it again in this many ms. */
  restartInMs: Schema.optionalKey(Schema.Int),
  /** The start asked for the command it runs (in the same directory). */
  same: Schema.optionalKey(Schema.Boolean),
  /** The same command and path, but the directory at that path was removed or replaced since the run started. */
  replaced: Schema.optionalKey(Schema.Boolean),
  /** Whether that start waits for the end (a client whose call timed out on it tries again); absent: unknown. */
  exitWait: Schema.optionalKey(Schema.Boolean)
}) {
  override get message() {
    const how = this.restartInMs === undefined
      ? `is already running (pid ${this.pid}`
      : `is restarting (its restart policy runs it again in ${(this.restartInMs / 1000).toFixed(1)} s`
    const same = this.replaced === true
      ? `It runs this command, but in the directory that was at that path when it started, since removed or ` +
        `replaced (a new checkout there is not what it runs): restart_task runs it in the one there now.`
      : this.same !== true
      ? `Stop it with stop_task, restart it with restart_task, or choose another name.`
      // A server started again: it runs already, as asked; a wait for its end would wait for ever.
      : this.exitWait === false
      ? `It runs this same command already: use it as it is, or restart_task { name: ${quote(this.name)} } to ` +
        `run it again.`
      // A client that gave up on a long start (its request timeout) tries again: the run it wants goes on.
      : `It runs this same command: wait_for_task { name: ${quote(this.name)}, exit: true } waits for its end ` +
        `(or for a line: pattern). Else stop_task, restart_task, or another name.`
    return `A task named ${quote(this.name)} ${how}${this.owner && `, ${this.owner}`}). ${same}`
  }
}

export class TaskNotRunning extends Schema.TaggedError<TaskNotRunning>()("TaskNotRunning", {
  name: Schema.String,
  status: Schema.String,
  detail: Schema.String
}) {
  override get message() {
    return `Task ${quote(this.name)} is not running (${this.detail}). Use restart_task to run it again.`
  }
}

/** A project task's chain: the task asked for, the one whose cwd it is, and the file that gives that cwd. */
const CwdOfChain = Schema.Struct({ asked: Schema.String, task: Schema.String, file: Schema.String })

/** A chain's task's working directory, said with where it comes from (a start by name cannot pass a cwd). */
const chainCwd = (chain: typeof CwdOfChain.Type, cwd: string) =>
  `Project task ${quote(chain.asked)} was not started: ${
    chain.asked === chain.task ? "its" : `it needs ${quote(chain.task)}, whose`
  } working directory ${quote(cwd)} (the cwd of task ${quote(chain.task)} in ${chain.file})`

export class InvalidCwd extends Schema.TaggedError<InvalidCwd>()("InvalidCwd", {
  cwd: Schema.String,
  reason: Schema.String,
  /** A restart refused: the task it was for, and whether its run goes on. */
  restart: Schema.optional(Schema.Struct({ name: Schema.String, runsOn: Schema.Boolean })),
  chain: Schema.optional(CwdOfChain)
}) {
  override get message() {
    if (this.chain !== undefined) {
      return `${chainCwd(this.chain, this.cwd)} ${this.reason}. Change that cwd in the file, or create the directory.`
    }
    return this.restart === undefined
      ? `Working directory ${quote(this.cwd)} ${this.reason}.` +
        `${/\$\w|\$\{/.test(this.cwd) ? " Variables ($NAME) in cwd are not expanded: give the path itself." : ""}` +
        (this.reason.startsWith("cannot be entered")
          ? " Pass a directory this user can enter as cwd."
          : " Pass an existing directory as cwd.")
      : `Cannot restart task ${quote(this.restart.name)}: its working directory ${quote(this.cwd)} ${this.reason}` +
        `${this.restart.runsOn ? "; it runs on as it was" : ""}. Recreate the directory, or start the task anew ` +
        `with start_task and another cwd.`
  }
}

export class SpawnFailed extends Schema.TaggedError<SpawnFailed>()("SpawnFailed", {
  command: Schema.String,
  code: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    switch (this.code) {
      case "ENOENT":
        return `Command ${quote(this.command)} was not found. Check the spelling, pass an absolute path, ` +
          `or leave out args to run it as a shell line.`
      case "ENOCWD":
        return `Working directory ${
          quote(this.reason)
        } no longer exists. Recreate it, or start the task with another cwd.`
      case "EACCES":
        return `Command ${quote(this.command)} is not executable (permission denied).`
      case "E2BIG":
        return `Could not start ${quote(this.command)}: its command line is too long for the system ` +
          "(one argument or env variable may be at most 128 KiB, all of them about 2 MiB). Put a long script " +
          "in a file and run the file."
      case "EMFILE":
      case "ENFILE":
        return `Could not start ${quote(this.command)}: taskmux has too many files open (${this.reason}). ` +
          "Stop or remove tasks it no longer needs, or raise its limit (ulimit -n) where it is started."
      case "EAGAIN":
        return `Could not start ${quote(this.command)}: this user's limit of processes is reached (${this.reason}). ` +
          "Stop tasks that are no longer needed, or raise the limit (ulimit -u)."
      default:
        return `Could not start ${quote(this.command)}: ${this.reason.replace(/\.$/, "")}.`
    }
  }

  /** A limit of the system's (files, processes): it passes, and the same start may work a moment later. */
  static atLimit(code: string): boolean {
    return code === "EMFILE" || code === "ENFILE" || code === "EAGAIN"
  }
}

export class TerminalUnavailable extends Schema.TaggedError<TerminalUnavailable>()("TerminalUnavailable", {
  reason: Schema.String
}) {
  override get message() {
    return `Terminal mode is unavailable on this server: ${this.reason}. ` +
      `Start the task without terminal (on pipes), which works here.`
  }
}

export class ScreenUnavailable extends Schema.TaggedError<ScreenUnavailable>()("ScreenUnavailable", {
  name: Schema.String,
  reason: Schema.String
}) {
  override get message() {
    return `The screen of task "${this.name}" cannot be read now: the terminal emulator could not be loaded ` +
      `(${this.reason}). Its lines can: read_output without screen. ${
        /EMFILE|ENFILE|too many open files/i.test(this.reason)
          ? "taskmux has too many files open: stop tasks it no longer needs, and read the screen again."
          : "Installing taskmux again on this machine brings the emulator back."
      }`
  }
}

export class NotATerminal extends Schema.TaggedError<NotATerminal>()("NotATerminal", {
  name: Schema.String,
  what: Schema.String
}) {
  override get message() {
    return `Task ${quote(this.name)} runs on pipes, not on a terminal, so ${this.what} does not apply. ` +
      `Start it with terminal: true for a screen and a size.`
  }
}

/** stdout or stderr asked of a terminal task, whose terminal merges the two into one stream. */
export class OneStream extends Schema.TaggedError<OneStream>()("OneStream", {
  name: Schema.String,
  stream: Schema.String
}) {
  override get message() {
    return `Task ${quote(this.name)} runs on a terminal, which merges stdout and stderr into one stream: ` +
      `stream "${this.stream}" cannot be told apart there. Leave stream out (or "all").`
  }
}

export class StdinClosed extends Schema.TaggedError<StdinClosed>()("StdinClosed", {
  name: Schema.String,
  reason: Schema.String,
  /** A stop (or a restart, or a removal) ended it while the input waited: restarting is not the advice. */
  stopped: Schema.optional(Schema.Boolean)
}) {
  override get message() {
    return this.stopped === true
      ? `Cannot write to task ${quote(this.name)}: it was stopped (by stop_task, restart_task or remove_task) ` +
        `before it read this input. list_tasks shows what it is now.`
      : `Cannot write to task ${quote(this.name)}: ${this.reason}. Use restart_task to get a fresh stdin.`
  }
}

export class InvalidArguments extends Schema.TaggedError<InvalidArguments>()("InvalidArguments", {
  tool: Schema.String,
  issue: Schema.String
}) {
  override get message() {
    return `Invalid arguments for ${this.tool}: ${this.issue}`
  }
}

export class TooManyTasks extends Schema.TaggedError<TooManyTasks>()("TooManyTasks", {
  limit: Schema.Int,
  /** A project task's chain: the task asked for, the tasks it would start (its own last), and how many run. */
  chain: Schema.optional(
    Schema.Struct({ asked: Schema.String, starts: Schema.Array(Schema.String), running: Schema.Int })
  )
}) {
  override get message() {
    if (this.chain === undefined) {
      return `${this.limit} tasks are running, the limit (--max-tasks). Stop or remove one first, or start taskmux with a higher --max-tasks.`
    }
    const { asked, running, starts } = this.chain
    const names = starts.length > 3 ? `${starts[0]} … ${starts.at(-1)}` : starts.join(", ")
    const over = running + starts.length - this.limit
    return `Project task ${quote(asked)} was not started: it needs ${starts.length} task${
      starts.length === 1 ? "" : "s"
    } started (${names}); ${running} ${running === 1 ? "runs" : "run"} already and the limit is ${this.limit} ` +
      `(--max-tasks). Stop or remove ${over} first, or start taskmux with a higher --max-tasks.`
  }
}

export class InputNotRead extends Schema.TaggedError<InputNotRead>()("InputNotRead", {
  name: Schema.String,
  unread: Schema.Int
}) {
  override get message() {
    return `Task ${quote(this.name)} has not read the ${this.unread} bytes sent to it before: it is busy, or does ` +
      "not read its input. Send more once it has read them (wait_for_task for its prompt), or stop it."
  }
}

export class InputTooLarge extends Schema.TaggedError<InputTooLarge>()("InputTooLarge", {
  bytes: Schema.Int,
  limit: Schema.Int
}) {
  override get message() {
    return `data is ${this.bytes} bytes, more than the limit of ${this.limit} (--max-input-bytes). Send it in smaller pieces.`
  }
}

export class CommandRefused extends Schema.TaggedError<CommandRefused>()("CommandRefused", {
  command: Schema.String,
  rule: Schema.String,
  /** A project task's chain: the task asked for, and the one of its chain whose command this is. */
  chain: Schema.optional(Schema.Struct({ asked: Schema.String, task: Schema.String }))
}) {
  override get message() {
    const refused = `${quote(this.command)} is refused by this server's policy: ${this.rule}.`
    if (this.chain === undefined) return `Command ${refused}`
    const { asked, task } = this.chain
    return asked === task
      ? `Project task ${quote(asked)} was not started: its command ${refused}`
      : `Project task ${quote(asked)} was not started: it needs ${quote(task)}, whose command ${refused}`
  }
}

/** A fenced session asked for the environment values of a task not its own. */
export class EnvValuesRefused extends Schema.TaggedError<EnvValuesRefused>()("EnvValuesRefused", {
  name: Schema.String
}) {
  override get message() {
    return `Environment values of ${quote(this.name)} are not given to this session: its fence (--allow, ` +
      `--deny, --cwd-root, --no-inherit-env, --env-allow) shows it the values of its own tasks only, and ` +
      `${quote(this.name)} is another session's or kept. get_task without envValues lists the variables' names.`
  }
}

export class CwdOutsideRoot extends Schema.TaggedError<CwdOutsideRoot>()("CwdOutsideRoot", {
  cwd: Schema.String,
  root: Schema.String,
  chain: Schema.optional(CwdOfChain)
}) {
  override get message() {
    const outside = `is outside ${quote(this.root)}, the only place tasks may run (--cwd-root).`
    return this.chain === undefined
      ? `Working directory ${quote(this.cwd)} ${outside} Pass a cwd inside it.`
      : `${chainCwd(this.chain, this.cwd)} ${outside} Change that cwd in the file to one inside it.`
  }
}

export class InvalidPattern extends Schema.TaggedError<InvalidPattern>()("InvalidPattern", {
  field: Schema.String,
  pattern: Schema.String,
  reason: Schema.String,
  /** Valid, but not run: a line could make it take minutes (see compilePattern). */
  refused: Schema.optionalKey(Schema.Boolean)
}) {
  override get message() {
    return this.refused === true
      ? `${this.field} ${quote(this.pattern)} is refused: ${this.reason}.`
      : `${this.field} ${quote(this.pattern)} is not a valid regular expression (${this.reason}). ` +
        `Use JavaScript regex syntax, e.g. "ready|listening on", or "(?i)ready" to ignore case.`
  }
}

/** Another supervisor holds the project's lock: this one is not needed (its exit code, LOST_RACE, says so). */
export class LostRace extends Schema.TaggedError<LostRace>()("LostRace", {
  /** Who holds it: "supervisor 123 holds …/app.lock". */
  holder: Schema.String
}) {
  override get message() {
    return this.holder
  }
}

export class InvalidConfig extends Schema.TaggedError<InvalidConfig>()("InvalidConfig", {
  issue: Schema.String,
  /** A word on the command line that is neither a command nor an option: not a setting. */
  notASetting: Schema.optionalKey(Schema.Literal(true))
}) {
  override get message() {
    return this.notASetting === true ? this.issue : `invalid setting ${this.issue}`
  }
}
