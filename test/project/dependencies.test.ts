// Boundaries a mutation-testing review (h23b) found unguarded: each test fails with its guard changed.
import { describe, expect, it } from "vitest"
import { parseTaskFile } from "../../src/project/parseTaskFile.ts"
import { dependentsOf, parseProcfile, ProjectFileError, startOrder } from "../../src/project/ProjectFile.ts"

const parse = (text: string) => parseTaskFile("/p/taskmux.yaml", text)
const problem = (text: string) => {
  const parsed = parse(text)
  if (!(parsed instanceof ProjectFileError)) throw new Error("parsed")
  return parsed.message
}
const tasksOf = (text: string) => {
  const parsed = parse(text)
  if (parsed instanceof ProjectFileError) throw new Error(parsed.message)
  return parsed.tasks
}

describe("project file dependencies", () => {
  it("a dependency on a task the file does not have is named, with the tasks it has", () => {
    // pf02
    expect(problem("tasks:\n  web:\n    command: x\n    dependsOn: { db: started }\n")).toBe(
      "/p/taskmux.yaml:4 task \"web\", dependsOn.db: no task named \"db\" in this file (tasks: web)"
    )
  })

  it("a cycle is refused, along its path", () => {
    // pf03, pf04
    expect(problem(
      "tasks:\n  a:\n    command: x\n    dependsOn: { b: started }\n  b:\n    command: y\n    dependsOn: { a: ready }\n"
    )).toMatch(/task "a", dependsOn\.b: a cycle: a → b → a; remove one of these dependencies$/)
  })

  it("starts dependencies first, each once, the task last (a diamond)", () => {
    // pf05, pf07
    const tasks = tasksOf(
      "tasks:\n  db:\n    command: d\n  cache:\n    command: c\n    dependsOn: { db: started }\n" +
        "  api:\n    command: a\n    dependsOn: { db: ready, cache: started }\n" +
        "  web:\n    command: w\n    dependsOn: { api: ready, db: started }\n"
    )
    expect(startOrder(tasks, "web")).toEqual(["db", "cache", "api", "web"])
    // Stopping db with dependents: those furthest from it first, each once.
    expect(dependentsOf(tasks, "db")).toEqual(["web", "api", "cache"])
  })

  it("a waitFor pattern that is no regular expression is refused in the file", () => {
    // pf10
    expect(problem("tasks:\n  web:\n    command: x\n    waitFor: { pattern: \"(\" }\n")).toMatch(
      /^\/p\/taskmux\.yaml:4 task "web", waitFor\.pattern: "\(" is not a valid regular expression/
    )
  })

  it("a Procfile's comments and blank lines are no tasks", () => {
    // pf01
    const parsed = parseProcfile("/p/Procfile", "# the app\nweb: npm start\n\n  # worker: off\nworker: node w.js\n")
    if (parsed instanceof ProjectFileError) throw new Error(parsed.message)
    expect([...parsed.tasks.keys()]).toEqual(["web", "worker"])
  })

  it("a name a Procfile gives twice is refused at its second line, as a task file's is, not the last one taken", () => {
    const parsed = parseProcfile("/p/Procfile", "web: npm start\nworker: node w.js\nweb: vite\n")
    expect(parsed instanceof ProjectFileError ? parsed.message : "parsed").toBe(
      "/p/Procfile:3 task \"web\": given twice (line 1 too); each task needs a name of its own"
    )
  })

  it("a name a task file gives twice is said so, naming the task and its first line, in YAML and in JSON", () => {
    const yaml = parse("tasks:\n  web:\n    command: npm start\n  web:\n    command: vite\n")
    expect(yaml instanceof ProjectFileError ? yaml.message : "parsed").toBe(
      "/p/taskmux.yaml:4 task \"web\": given twice (line 2 too); each task needs a name of its own"
    )
    const json = parseTaskFile(
      "/p/taskmux.json",
      "{\n  \"tasks\": {\n    \"web\": { \"command\": \"npm start\" },\n    \"web\": { \"command\": \"vite\" }\n  }\n}\n"
    )
    expect(json instanceof ProjectFileError ? json.message : "parsed").toBe(
      "/p/taskmux.json:4 task \"web\": given twice (line 3 too); each task needs a name of its own"
    )
    // A field given twice is the parser's word, at its line.
    const field = parse("tasks:\n  web:\n    command: npm start\n    command: vite\n")
    expect(field instanceof ProjectFileError ? field.message : "parsed").toBe(
      "/p/taskmux.yaml:4: Map keys must be unique"
    )
  })
})
