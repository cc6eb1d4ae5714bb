/**
 * A project's task file: `taskmux.yaml` (or `taskmux.json`, the same shape), else a `Procfile`.
 * Pure: text in, tasks or one error out (the YAML parser, loaded only for a task file, is in
 * `parseTaskFile.ts`). The error names the file, the line where the parser can
 * tell, the task and the field, as a person fixing the file needs.
 */
import { Schema } from "effect"
import * as NodePath from "node:path"
import { quote } from "../domain/clipText.ts"
import { compilePattern, patternProblem, RefusedPattern } from "../domain/pattern.ts"
import { RestartSpec, waitForIssue, WaitForSpec } from "../domain/StartSpec.ts"
import { TASK_NAME } from "../domain/Task.ts"
import { homeDir, withHome } from "../domain/withHome.ts"

/** What a dependency must have reached before its dependent starts, as compose's `depends_on` says it. */
export const Condition = Schema.Literals(["started", "ready", "succeeded"])
export type Condition = typeof Condition.Type

/** Compose's habits, where taskmux wants a map or a string: the message shows the form it takes. */
const expected = <S extends Schema.Top>(schema: S, form: string) => schema.annotate({ message: `expected ${form}` })

export const ProjectTaskDef = Schema.Struct({
  command: expected(
    Schema.String,
    "a command line as one string (a program and its arguments as a list: command: python3, args: [-m, http.server])"
  ).check(Schema.isNonEmpty({ message: "expected a command line, not an empty string" })),
  args: Schema.optionalKey(Schema.Array(Schema.String)),
  cwd: Schema.optionalKey(Schema.String),
  env: Schema.optionalKey(
    expected(
      Schema.Record(Schema.String, expected(Schema.String, "a value: text, a number or true/false")),
      "a map of names to values, such as { PORT: 8080 }"
    )
  ),
  waitFor: Schema.optionalKey(
    expected(WaitForSpec, "a map: { port: 5173 }, { pattern: \"listening on\" } or { exit: true }")
  ),
  dependsOn: Schema.optionalKey(
    // A list (compose's `depends_on: [db]`) says no condition: the message shows the map it needs.
    Schema.Record(Schema.String, Condition).annotate({
      message: "expected a map of task names to what each must reach first: { db: started | ready | succeeded }"
    })
  ),
  restart: Schema.optionalKey(expected(RestartSpec, "a map, such as { policy: on-failure, maxRestarts: 5 }")),
  terminal: Schema.optionalKey(Schema.Boolean),
  notifyOnExit: Schema.optionalKey(Schema.Boolean),
  /** Outlives the session that starts it (a database, a dev server kept across conversations). */
  keep: Schema.optionalKey(Schema.Boolean)
}).annotate({
  // A Procfile's habit (`web: npm run dev`) gives a string where a task's map belongs.
  message: "expected a task's map, such as { command: npm run dev } (a Procfile's \"web: npm run dev\" is " +
    "web: { command: npm run dev } here)"
})
export type ProjectTaskDef = typeof ProjectTaskDef.Type

const TaskNameKey = Schema.String.check(Schema.isPattern(TASK_NAME))

export const FileShape = Schema.Struct({
  tasks: expected(
    Schema.Record(TaskNameKey, ProjectTaskDef),
    "a map of task names to their fields, such as tasks: { web: { command: npm run dev } }"
  )
})

/** A task of the project, as start_task runs it: its cwd resolved against the file's directory (and `~`). */
export interface ProjectTask extends ProjectTaskDef {
  readonly name: string
  readonly cwd: string
}

export interface ProjectFile {
  readonly path: string
  /** In the file's order. */
  readonly tasks: ReadonlyMap<string, ProjectTask>
}

export class ProjectFileError extends Schema.TaggedError<ProjectFileError>()("ProjectFileError", {
  path: Schema.String,
  line: Schema.optionalKey(Schema.Int),
  task: Schema.optionalKey(Schema.String),
  field: Schema.optionalKey(Schema.String),
  problem: Schema.String
}) {
  override get message() {
    const where = [
      `${this.path}${this.line === undefined ? "" : `:${this.line}`}`,
      this.task === undefined ? "" : ` task "${this.task}"`,
      this.field === undefined ? "" : `${this.task === undefined ? "" : ","} ${this.field}`
    ].join("")
    return `${where}: ${this.problem}`
  }
}

/** A task's name given again at `line`, first at `firstLine`: in a Procfile and a task file alike. */
export const givenTwice = (path: string, line: number, task: string, firstLine: number) =>
  new ProjectFileError({
    path,
    line,
    task,
    problem: `given twice (line ${firstLine} too); each task needs a name of its own`
  })

/** A Procfile: `name: command` per line, `#` comments; no readiness, no dependencies. */
export const parseProcfile = (path: string, text: string): ProjectFile | ProjectFileError => {
  const entries: Array<[string, ProjectTaskDef]> = []
  const lineOf = new Map<string, number>()
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim()
    if (line === "" || line.startsWith("#")) continue
    const match = /^([A-Za-z0-9][A-Za-z0-9._-]{0,63}):\s*(.+)$/.exec(line)
    if (match === null) {
      return new ProjectFileError({ path, line: i + 1, problem: "expected \"name: command\"" })
    }
    const name = match[1]!
    // The last one would win unseen (a task file's twice-given name is refused too).
    const first = lineOf.get(name)
    if (first !== undefined) return givenTwice(path, i + 1, name, first)
    lineOf.set(name, i + 1)
    entries.push([name, { command: match[2]! }])
  }
  return withTasks(path, entries, (task) => lineOf.get(task))
}

/**
 * Checks dependencies (known names, no cycle) and resolves each cwd against the file's directory,
 * `~` as start_task's cwd takes it (the supervisor serves one user: its home is theirs).
 */
export const withTasks = (
  path: string,
  entries: ReadonlyArray<[string, ProjectTaskDef]>,
  lineOf: (task: string, field: Array<string>) => number | undefined,
  home: string | undefined = homeDir()
): ProjectFile | ProjectFileError => {
  const dir = NodePath.dirname(path)
  const tasks = new Map<string, ProjectTask>(
    entries.map(([name, def]) => [name, { ...def, name, cwd: NodePath.resolve(dir, withHome(def.cwd ?? ".", home)) }])
  )
  const fail = (task: string, field: Array<string>, problem: string) => {
    const line = lineOf(task, field)
    return new ProjectFileError({ path, ...(line !== undefined && { line }), task, field: field.join("."), problem })
  }
  for (const task of tasks.values()) {
    const waitIssue = task.waitFor === undefined ? undefined : waitForIssue(task.waitFor, "")
    if (waitIssue !== undefined) {
      return fail(task.name, ["waitFor"], waitIssue)
    }
    const pattern = task.waitFor?.pattern
    if (pattern !== undefined) {
      try {
        compilePattern(pattern)
      } catch (error) {
        return fail(
          task.name,
          ["waitFor", "pattern"],
          error instanceof RefusedPattern
            ? `${quote(pattern)} is refused: ${patternProblem(error)}`
            : `${quote(pattern)} is not a valid regular expression (${patternProblem(error)})`
        )
      }
    }
    for (const dependency of Object.keys(task.dependsOn ?? {})) {
      if (!tasks.has(dependency)) {
        return fail(
          task.name,
          ["dependsOn", dependency],
          `no task named "${dependency}" in this file (tasks: ${[...tasks.keys()].join(", ")})`
        )
      }
    }
  }
  const cycle = findCycle(tasks)
  if (cycle !== undefined) {
    return fail(cycle[0]!, ["dependsOn", cycle[1]!], `a cycle: ${cycle.join(" → ")}; remove one of these dependencies`)
  }
  return { path, tasks }
}

/** A cycle of dependsOn, as the names along it (the first repeated at the end), if there is one. */
export const findCycle = (tasks: ReadonlyMap<string, ProjectTaskDef>): Array<string> | undefined => {
  const state = new Map<string, "visiting" | "done">()
  const stack: Array<string> = []
  const visit = (name: string): Array<string> | undefined => {
    if (state.get(name) === "done") return undefined
    if (state.get(name) === "visiting") return [...stack.slice(stack.indexOf(name)), name]
    state.set(name, "visiting")
    stack.push(name)
    for (const dependency of Object.keys(tasks.get(name)?.dependsOn ?? {})) {
      const found = visit(dependency)
      if (found !== undefined) return found
    }
    stack.pop()
    state.set(name, "done")
    return undefined
  }
  for (const name of tasks.keys()) {
    const found = visit(name)
    if (found !== undefined) return found
  }
  return undefined
}

/** The tasks to start for `name`, dependencies first (each once), `name` last. */
export const startOrder = (tasks: ReadonlyMap<string, ProjectTaskDef>, name: string): Array<string> => {
  const order: Array<string> = []
  const visit = (n: string) => {
    if (order.includes(n)) return
    for (const dependency of Object.keys(tasks.get(n)?.dependsOn ?? {})) visit(dependency)
    order.push(n)
  }
  visit(name)
  return order
}

/** Tasks that depend on `name`, directly or not: the ones to stop first with `dependents: true`. */
export const dependentsOf = (tasks: ReadonlyMap<string, ProjectTaskDef>, name: string): Array<string> => {
  const out: Array<string> = []
  const visit = (n: string) => {
    for (const [other, def] of tasks) {
      if (def.dependsOn?.[n] !== undefined && !out.includes(other)) {
        out.push(other)
        visit(other)
      }
    }
  }
  visit(name)
  // Those furthest from `name` first.
  return out.reverse()
}
