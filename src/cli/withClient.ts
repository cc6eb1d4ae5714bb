/**
 * What every command shares: the --project and --json flags and the task name, a session with the
 * project's supervisor (or what to say where none runs), and a tool's answer printed.
 */
import { Effect, Option, type Scope } from "effect"
import { Argument, Flag } from "effect/cli"
import * as fs from "node:fs"
import * as NodePath from "node:path"
import { type LostTask, readLost } from "../daemon/lostRecord.ts"
import { runtimePaths } from "../daemon/runtimePaths.ts"
import { jsonEscapingControls } from "../domain/escapeControls.ts"
import { nearestProject } from "../project/nearestProject.ts"
import { readProject } from "../project/Project.ts"
import { commandLine } from "../supervisor/startPolicy.ts"
import { CliFailure } from "./CliFailure.ts"
import { CliIo } from "./CliIo.ts"
import { inTerminalWords } from "./inTerminalWords.ts"
import { leftLine } from "./psTable.ts"
import { connectClient, projectPaths, type TaskmuxClient } from "./TaskmuxClient.ts"

// Checked in projectDir, in the words the server uses for its own --project.
export const project = Flag.String("project").pipe(
  Flag.withDescription(
    "The project whose supervisor to ask (default: TASKMUX_PROJECT, else the nearest directory up from here " +
      "with a task file or a supervisor, else this one)"
  ),
  Flag.optional
)
export const json = Flag.Boolean("json").pipe(
  Flag.withDescription("Print JSON instead of text"),
  Flag.withDefault(false)
)
export const taskName = Argument.String("name").pipe(Argument.withDescription("The task's name (see taskmux ps)"))

/** `body` with the client, after what its supervisor says of itself (a build since replaced on disk), on stderr. */
const withNotice = <A>(
  client: TaskmuxClient,
  body: (client: TaskmuxClient) => Effect.Effect<A, CliFailure, CliIo | Scope.Scope>
) =>
  Effect.gen(function*() {
    const io = yield* CliIo
    if (client.supervisor.notice !== undefined) io.stderr(`taskmux: ${client.supervisor.notice}\n`)
    return yield* body(client)
  })

const projectDir = (flag: Option.Option<string>) =>
  Effect.gen(function*() {
    const io = yield* CliIo
    // The server's own variable too: a shell that sets it for the server means the same project here.
    const variable = io.env.TASKMUX_PROJECT
    // Said as what was given: a person who typed no --project would look for one.
    const [given, said] = Option.isSome(flag)
      ? [flag.value, `--project ${flag.value}`]
      : [variable, `TASKMUX_PROJECT=${variable}`]
    if (!given) return nearestProject(io.cwd, io.env)
    const stat = fs.statSync(NodePath.resolve(io.cwd, given), { throwIfNoEntry: false })
    // Deleted since its supervisor started (a worktree removed under a kept dev server): reached by its path.
    if (stat === undefined && goneButServed(NodePath.resolve(io.cwd, given), io.env)) return given
    if (stat === undefined) return yield* CliFailure.usage(`${said}: no such directory`)
    if (!stat.isDirectory()) {
      return yield* CliFailure.usage(`${said}: not a directory (give the directory that holds the task file)`)
    }
    return given
  })

/** Whether a supervisor still listens for a project directory that is gone. */
const goneButServed = (project: string, env: NodeJS.ProcessEnv) => {
  try {
    return fs.existsSync(runtimePaths(project, env, { gone: true }).socket)
  } catch {
    return false
  }
}

/**
 * Runs `body` with a session with the project's supervisor. Where none runs: `start` starts one (so
 * does `startsLost` for a `task` the last supervisor lost, which the record on disk names); else `idle`
 * answers (ps), or the command fails saying so, and what became of the task.
 */
export const withClient = <A>(
  flag: Option.Option<string>,
  options: {
    readonly start: boolean
    readonly what: string
    readonly task?: string
    readonly startsLost?: boolean
    /** A task the project file defines starts one (restart runs what does not run; logs -f waits for it). */
    readonly startsDefined?: boolean
    readonly idle?: (project: string, lost: ReadonlyArray<LostTask>) => Effect.Effect<A, CliFailure, CliIo>
  },
  body: (client: TaskmuxClient) => Effect.Effect<A, CliFailure, CliIo | Scope.Scope>
) =>
  Effect.scoped(Effect.gen(function*() {
    const dir = yield* projectDir(flag)
    const running = yield* connectClient(dir, options.start && options.task === undefined)
    if (running !== undefined) return yield* withNotice(running, body)
    // None runs: the record on disk says what the last one lost (a running one's names what runs).
    const paths = yield* projectPaths(dir)
    const lost = readLost(paths.record)
    // The project file, read once, where a supervisor may be started for a name it defines.
    const project = options.start || options.startsDefined === true
      ? yield* Effect.promise(() => readProject(paths.project))
      : undefined
    const defined = [...project?.file?.tasks.keys() ?? []]
    if (options.start) {
      // A supervisor is started for a name it could start: one the file defines, or the last one left.
      const known = [...new Set([...defined, ...lost.map((task) => task.name)])]
      if (options.task !== undefined && project?.error === undefined && !known.includes(options.task)) {
        return yield* CliFailure.failed(
          `\`taskmux start\` starts a project task: "${options.task}" is not one` + (known.length === 0
            ? `, and ${paths.project} defines none (a taskmux.yaml or a Procfile there would).`
            : `. Project tasks: ${known.join(", ")}.`)
        )
      }
      const started = yield* connectClient(dir, true)
      if (started !== undefined) return yield* withNotice(started, body)
    }
    const lostTask = lost.find((task) => task.name === options.task)
    const isDefined = options.startsDefined === true && options.task !== undefined && defined.includes(options.task)
    const started = options.startsLost === true && lostTask !== undefined || isDefined
      ? yield* connectClient(dir, true)
      : undefined
    if (started !== undefined) return yield* withNotice(started, body)
    if (options.idle !== undefined) return yield* options.idle(paths.project, lost)
    const fate = lostTask === undefined ? "" : ` ${leftLine(lostTask)}`
    return yield* CliFailure.failed(`No taskmux supervisor runs for ${paths.project}: ${options.what}.${fate}`)
  }))

/**
 * What the project's file calls ready for task `name`, as wait_for_task takes it; none without a waitFor,
 * nor for a run of another `command` line than the file gives it (its ready line is not that command's).
 */
export const fileWaitFor = (project: string, name: string, command?: string) =>
  Effect.map(Effect.promise(() => readProject(project)), (read) => {
    const def = read.file?.tasks.get(name)
    if (command !== undefined && def !== undefined && command !== commandLine(def.command, def.args ?? null)) {
      return undefined
    }
    return def?.waitFor === undefined ? undefined : { ...def.waitFor }
  })

/** The tasks the project's file defines (none where it has no file, or a broken one). */
export const definedNames = (project: string) =>
  Effect.map(Effect.promise(() => readProject(project)), (read) => [...read.file?.tasks.keys() ?? []])

/** A tool's answer about task `name`: its text in a terminal's words, or its structured content with --json. */
export const printAnswer = (
  answer: { readonly text: string; readonly structured: unknown },
  asJson: boolean,
  name: string
) =>
  Effect.map(
    Effect.service(CliIo),
    (io) =>
      io.stdout(
        asJson ? `${jsonEscapingControls(answer.structured, 2)}\n` : `${inTerminalWords(answer.text, name)}\n`
      )
  )

/** One call of `tool` about a task, which a running supervisor answers; its answer printed. */
export const callAbout = (
  input: { readonly project: Option.Option<string>; readonly name: string; readonly json: boolean },
  verb: string,
  tool: string,
  args: Record<string, unknown>,
  /** Starts a supervisor, where none runs, for a task the last one left (lost, or ended and kept). */
  startsLost = false
) =>
  withClient(input.project, {
    start: false,
    what: `no task to ${verb} named "${input.name}"`,
    task: input.name,
    ...(startsLost && { startsLost: true })
  }, (client) =>
    Effect.flatMap(client.call(tool, { name: input.name, ...args }), (answer) =>
      printAnswer(answer, input.json, input.name)))
