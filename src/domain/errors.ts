/**
 * Every failure a tool can answer with. Each message names the thing that is wrong and
 * what would be right, because the reader is a model that will try again.
 */
import { Schema } from "effect"
import { closest } from "./argumentIssues.ts"
import { quote } from "./clipText.ts"

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
