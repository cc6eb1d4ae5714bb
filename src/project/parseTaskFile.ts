/**
 * `taskmux.yaml` or `taskmux.json` text (JSON is YAML too, which gives it line numbers) to tasks,
 * or an error at the line of the field at fault. A module of its own: the YAML parser loads only
 * for a project that has such a file, not at every start-up.
 */
import { Schema } from "effect"
import { type Document, isMap, isScalar, LineCounter, parseDocument } from "yaml"
import { gotAt, issueMessage, standardIssues } from "../domain/argumentIssues.ts"
import { TASK_NAME, TASK_NAME_RULE } from "../domain/Task.ts"
import { isObject } from "../mcp/json.ts"
import { FileShape, givenTwice, type ProjectFile, ProjectFileError, withTasks } from "./ProjectFile.ts"

// A misspelt field (`dependOn`) is an error, not silently ignored.
const decode = (data: unknown) => Schema.decodeUnknownExit(FileShape)(data, { onExcessProperty: "error" })

export const parseTaskFile = (path: string, text: string): ProjectFile | ProjectFileError => {
  const lines = new LineCounter()
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true })
  const syntax = doc.errors[0]
  const twice = syntax?.code === "DUPLICATE_KEY" ? taskGivenTwice(doc, syntax.pos[0]) : undefined
  if (twice !== undefined) {
    return givenTwice(path, lines.linePos(syntax!.pos[0]).line, twice.name, lines.linePos(twice.first).line)
  }
  if (syntax !== undefined) {
    return new ProjectFileError({
      path,
      line: lines.linePos(syntax.pos[0]).line,
      problem: syntax.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "") +
        // The parser's words for a command line with ": " in it (sh -c 'echo "ERROR: x"'), which YAML reads as a map.
        (/Nested mappings are not allowed|Implicit map keys need to be followed/.test(syntax.message)
          ? ` (a value with ": " in it must be quoted: command: 'sh -c "echo ERROR: x"')`
          : "")
    })
  }
  const order = keepWrittenText(doc)
  const data = aliasedEnvAsText(doc.toJS())
  const lineOf = (at: ReadonlyArray<PropertyKey>): number | undefined => {
    // The deepest node the path reaches: a missing field is reported where its task starts.
    for (let n = at.length; n >= 0; n--) {
      const node = doc.getIn(at.slice(0, n) as Array<unknown>, true) as { range?: [number, number, number] } | undefined
      const pair = n > 0 ? findKey(doc.getIn(at.slice(0, n - 1) as Array<unknown>, true), at[n - 1]!) : undefined
      const range = pair ?? node?.range
      if (range !== undefined) return lines.linePos(range[0]).line
    }
    return undefined
  }
  // A name the tools would refuse, said as that (the schema would call it a field that is not one).
  const tasks = (data as { readonly tasks?: unknown } | null)?.tasks
  const badName = typeof tasks === "object" && tasks !== null && !Array.isArray(tasks)
    ? Object.keys(tasks).find((name) => !TASK_NAME.test(name))
    : undefined
  if (badName !== undefined) {
    return new ProjectFileError({
      path,
      ...(lineOf(["tasks", badName]) !== undefined && { line: lineOf(["tasks", badName])! }),
      task: badName,
      problem: `not a task name: ${TASK_NAME_RULE}`
    })
  }
  const decoded = decode(data)
  if (decoded._tag === "Failure") {
    const squashed = decoded.cause.reasons.find((r) => r._tag === "Fail")
    const issue = squashed?._tag === "Fail" ? standardIssues(squashed.error.issue).issues[0] : undefined
    const path_ = (issue?.path ?? []).map((p) => typeof p === "object" ? p.key : p)
    const [first, task, ...field] = path_
    return new ProjectFileError({
      path,
      ...(lineOf(path_) !== undefined && { line: lineOf(path_)! }),
      ...(first === "tasks" && task !== undefined && { task: String(task) }),
      ...(field.length > 0 && { field: field.map(String).join(".") }),
      ...(first === "tasks" && task === undefined && { field: "tasks" }),
      problem: data === null || typeof data !== "object" || !("tasks" in data)
        ? "expected a \"tasks:\" map of task names to { command, ... }"
        : issue === undefined
        ? "not a task file"
        : problemOf(
          first === "tasks" && task === undefined && Array.isArray(tasks)
            ? `${issue.message} (a list's "- name: ${listedName(tasks)}" is "${listedName(tasks)}:" here)`
            : issue.message,
          path_,
          data,
          field.length === 1 ? "a task" : path_.length > 1 ? String(path_.at(-2)) : "the file"
        )
    })
  }
  // In the file's order: an object lists integer-like keys ("7") first.
  const entries = Object.entries(decoded.value.tasks).sort(([a], [b]) => order(a) - order(b))
  return withTasks(path, entries, (task, field) => lineOf(["tasks", task, ...field]))
}

/**
 * Task names (dependsOn's too) and env values as written (`007`, `3.10`, `0x1F`), not as the YAML
 * numbers and booleans they parse to: `PORT: 8080` and `DEBUG: true` are what everyone writes
 * (compose takes them), and the value meant is their text. Gives each task's place in the file.
 */
const keepWrittenText = (doc: Document): (name: string) => number => {
  const tasks = doc.get("tasks", true)
  const places = new Map<string, number>()
  if (isMap(tasks)) {
    for (const [i, pair] of tasks.items.entries()) {
      asWritten(pair.key)
      if (isScalar(pair.key)) places.set(String(pair.key.value), i)
      if (!isMap(pair.value)) continue
      const env = pair.value.get("env", true)
      const dependsOn = pair.value.get("dependsOn", true)
      for (const variable of isMap(env) ? env.items : []) {
        asWritten(variable.key)
        asWritten(variable.value)
      }
      for (const dependency of isMap(dependsOn) ? dependsOn.items : []) asWritten(dependency.key)
    }
  }
  return (name) => places.get(name) ?? places.size
}

/**
 * An env value that is an alias (`PORT: *port`, anchored on `waitFor.port`, which must stay a number):
 * its value's text, as for the values written out (the anchor itself is not rewritten).
 */
const aliasedEnvAsText = (data: unknown): unknown => {
  const tasks = isObject(data) ? data.tasks : undefined
  if (!isObject(tasks)) return data
  for (const task of Object.values(tasks)) {
    const env = isObject(task) ? task.env : undefined
    if (!isObject(env)) continue
    for (const [name, value] of Object.entries(env)) {
      if (typeof value === "number" || typeof value === "boolean") env[name] = String(value)
    }
  }
  return data
}

/** A number or boolean scalar becomes its source text. */
const asWritten = (node: unknown): void => {
  if (!isScalar(node) || node.source === undefined) return
  if (typeof node.value === "number" || typeof node.value === "bigint" || typeof node.value === "boolean") {
    node.value = node.source
  }
}

/** The task whose name is given again at `at` (a key of `tasks`), and where it was first given. */
const taskGivenTwice = (doc: Document, at: number): { readonly name: string; readonly first: number } | undefined => {
  const tasks = doc.get("tasks", true)
  if (!isMap(tasks)) return undefined
  const again = tasks.items.find(({ key }) =>
    isScalar(key) && key.range != null && key.range[0] <= at && at < key.range[1]
  )
  const name = isScalar(again?.key) ? again.key.value : undefined
  const first = typeof name === "string" ? findKey(tasks, name) : undefined
  return first === undefined ? undefined : { name: name as string, first: first[0] }
}

/** What is wrong at `at`: a field that is none (with what it may have meant), or the schema's word and the value given. */
const problemOf = (message: string, at: ReadonlyArray<PropertyKey>, data: unknown, owner: string): string => {
  // `port: "5173"` (quoted as compose's ports are): the schema's `number | "any"` does not say to unquote it.
  const quoted = at.length === 4 && at[2] === "waitFor" && at[3] === "port"
    ? /^, got "(\d+)"$/.exec(gotAt(data, at))
    : null
  if (quoted !== null) return `expected a port number, unquoted (port: ${quoted[1]}), or "any"${quoted[0]}`
  const problem = issueMessage(message, at.at(-1) ?? "", owner)
  if (problem === message) return `${message}${gotAt(data, at)}`
  // Compose's `env_file` (and foreman's .env) is what such a person reaches for: what to do instead.
  return at.length === 3 && ENV_FILE_FIELDS.has(String(at[2]))
    ? `${problem} (taskmux reads no env file: put the variables under env)`
    : problem
}

/** The name a list of tasks gives its first (`- name: web`), for the map's key it would be. */
const listedName = (tasks: ReadonlyArray<unknown>): string => {
  const name = isObject(tasks[0]) ? tasks[0].name : undefined
  return typeof name === "string" && TASK_NAME.test(name) ? name : "web"
}

const ENV_FILE_FIELDS = new Set(["env_file", "envFile", "env-file", "envfile", "dotenv"])

/** The range of the key `key` in a YAML map node, for a line number. */
const findKey = (map: unknown, key: PropertyKey): [number, number, number] | undefined => {
  if (!isMap(map)) return undefined
  const pair = map.items.find((p) => (p.key as { value?: unknown } | null)?.value === key)
  return (pair?.key as { range?: [number, number, number] } | undefined)?.range
}
