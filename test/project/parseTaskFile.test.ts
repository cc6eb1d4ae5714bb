/** A task file's mistakes, as a person writing one makes them: each says what the file needs instead. */
import { describe, expect, it } from "vitest"
import { parseTaskFile } from "../../src/project/parseTaskFile.ts"
import { ProjectFileError } from "../../src/project/ProjectFile.ts"

const problem = (text: string) => {
  const parsed = parseTaskFile("/p/taskmux.yaml", text)
  if (!(parsed instanceof ProjectFileError)) throw new Error("parsed")
  return parsed.message
}

describe("parseTaskFile", () => {
  it("a task written as a Procfile line shows the map it needs", () => {
    expect(problem("tasks:\n  web: node server.js\n")).toBe(
      "/p/taskmux.yaml:2 task \"web\": expected a task's map, such as { command: npm run dev } " +
        "(a Procfile's \"web: npm run dev\" is web: { command: npm run dev } here)"
    )
  })

  it("dependsOn as compose's list shows the map of conditions it needs", () => {
    expect(problem("tasks:\n  db:\n    command: postgres\n  web:\n    command: x\n    dependsOn: [db]\n")).toBe(
      "/p/taskmux.yaml:6 task \"web\", dependsOn: expected a map of task names to what each must reach first: " +
        "{ db: started | ready | succeeded }"
    )
  })

  it("a task without a command says it is required", () => {
    expect(problem("tasks:\n  web:\n    cwd: app\n")).toMatch(/task "web", command: required, and missing$/)
  })

  it("a bad condition names the ones there are", () => {
    expect(problem("tasks:\n  db:\n    command: postgres\n  web:\n    command: x\n    dependsOn: { db: up }\n"))
      .toMatch(/dependsOn\.db: Expected "started" \| "ready" \| "succeeded"$/)
  })
})
