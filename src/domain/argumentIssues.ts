/**
 * How a bad argument is said: Schema's issues as one line a model can act on, a misspelt field with the
 * fields there are and the one it may have meant. Pure.
 */
import { type Schema, type SchemaAST, SchemaIssue } from "effect"
import { clipText, quote } from "./clipText.ts"

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
