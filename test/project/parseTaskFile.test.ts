/** A task file's mistakes, as a person writing one makes them: each says what the file needs instead. */
import * as os from "node:os"
import * as NodePath from "node:path"
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
        "(a Procfile's \"web: npm run dev\" is web: { command: npm run dev } here), got \"node server.js\""
    )
  })

  it("dependsOn as compose's list shows the map of conditions it needs", () => {
    expect(problem("tasks:\n  db:\n    command: postgres\n  web:\n    command: x\n    dependsOn: [db]\n")).toBe(
      "/p/taskmux.yaml:6 task \"web\", dependsOn: expected a map of task names to what each must reach first: " +
        "{ db: started | ready | succeeded }, got [\"db\"]"
    )
  })

  it("a task name the tools would refuse is said as a bad name, at its line", () => {
    expect(problem("tasks:\n  ok:\n    command: x\n  my task:\n    command: y\n")).toBe(
      "/p/taskmux.yaml:4 task \"my task\": not a task name: 1-64 letters, digits, '.', '_' or '-', starting with a " +
        "letter or digit"
    )
  })

  it("a task without a command says it is required", () => {
    expect(problem("tasks:\n  web:\n    cwd: app\n")).toMatch(/task "web", command: required, and missing$/)
  })

  it("a bad condition names the ones there are, and the one given", () => {
    expect(problem("tasks:\n  db:\n    command: postgres\n  web:\n    command: x\n    dependsOn: { db: up }\n"))
      .toMatch(/dependsOn\.db: Expected "started" \| "ready" \| "succeeded", got "up"$/)
  })

  it("compose's habits show the form taskmux takes: restart, waitFor and env as maps, a command as one string", () => {
    const task = (field: string) => problem(`tasks:\n  x:\n    command: echo x\n    ${field}\n`)
    expect(task("restart: always")).toBe(
      "/p/taskmux.yaml:4 task \"x\", restart: expected a map, such as { policy: on-failure, maxRestarts: 5 }, got \"always\""
    )
    expect(task("waitFor: 18095")).toBe(
      "/p/taskmux.yaml:4 task \"x\", waitFor: expected a map: { port: 5173 }, { pattern: \"listening on\" } or { exit: true }, got 18095"
    )
    expect(task("env: [A=1]")).toBe(
      "/p/taskmux.yaml:4 task \"x\", env: expected a map of names to values, such as { PORT: 8080 }, got [\"A=1\"]"
    )
    expect(problem("tasks:\n  x:\n    command: [python3, -m, http.server]\n")).toBe(
      "/p/taskmux.yaml:3 task \"x\", command: expected a command line as one string (a program and its " +
        "arguments as a list: command: python3, args: [-m, http.server]), got [\"python3\",\"-m\",\"http.server\"]"
    )
    // A mistake inside the map still names its own field.
    expect(task("restart: { policy: sometimes }")).toMatch(/restart\.policy: Expected "no" \| "on-failure" \| "always"/)
  })

  it("an env value that is an alias of a number is its text; the number it aliases stays one", () => {
    const parsed = parseTaskFile(
      "/p/taskmux.yaml",
      "tasks:\n  web:\n    command: vite\n    waitFor: { port: &port 8080 }\n    env: { PORT: *port, DEBUG: *port }\n"
    )
    if (parsed instanceof ProjectFileError) throw new Error(parsed.message)
    const web = parsed.tasks.get("web")!
    expect(web.env).toEqual({ PORT: "8080", DEBUG: "8080" })
    expect(web.waitFor?.port).toBe(8080)
  })

  it("a command line with \": \" in it, which YAML reads as a map, says to quote it", () => {
    expect(problem("tasks:\n  web:\n    command: sh -c echo \"ERROR: x\"\n")).toBe(
      "/p/taskmux.yaml:3: Nested mappings are not allowed in compact mappings (a value with \": \" in it must be " +
        "quoted: command: 'sh -c \"echo ERROR: x\"')"
    )
  })

  it("a waitFor the tool would refuse is refused in the file too, in the tool's words", () => {
    const task = (field: string) => problem(`tasks:\n  x:\n    command: echo x\n    ${field}\n`)
    // {} would otherwise wait for the end unasked, and exit with a port drop the port.
    expect(task("waitFor: { timeoutMs: 2000 }")).toBe(
      "/p/taskmux.yaml:4 task \"x\", waitFor: needs a pattern (a regex for the ready line), a port (a number, " +
        "or \"any\") or exit: true (the end)"
    )
    expect(task("waitFor: { exit: true, port: any }")).toBe(
      "/p/taskmux.yaml:4 task \"x\", waitFor: exit waits for the end and port for a listening port: pass one of them"
    )
  })

  it("takes numbers and true/false as an env value's text, as compose does", () => {
    const parsed = parseTaskFile(
      "/p/taskmux.yaml",
      "tasks:\n  e:\n    command: echo\n    env: { PORT: 8080, DEBUG: true, NAME: x }\n"
    )
    if (parsed instanceof ProjectFileError) throw new Error(parsed.message)
    expect(parsed.tasks.get("e")?.env).toEqual({ PORT: "8080", DEBUG: "true", NAME: "x" })
  })

  it("keeps task names and env values as written, not as the numbers YAML reads in them, in the file's order", () => {
    const parsed = parseTaskFile(
      "/p/taskmux.yaml",
      "tasks:\n  web:\n    command: echo\n  007:\n    command: echo\n    env:\n      PYTHON_VERSION: 3.10\n" +
        "      UMASK: 0022\n      ACCOUNT_ID: 12345678901234567890\n      HEX: 0x1F\n      BIG: 1e3\n" +
        "      DEBUG: True\n      0x10: sixteen\n  3.10:\n    command: echo\n    dependsOn: { 007: started }\n" +
        "  2:\n    command: echo\n"
    )
    if (parsed instanceof ProjectFileError) throw new Error(parsed.message)
    expect([...parsed.tasks.keys()]).toEqual(["web", "007", "3.10", "2"])
    expect(parsed.tasks.get("007")?.env).toEqual({
      PYTHON_VERSION: "3.10",
      UMASK: "0022",
      ACCOUNT_ID: "12345678901234567890",
      HEX: "0x1F",
      BIG: "1e3",
      DEBUG: "True",
      "0x10": "sixteen"
    })
    expect(parsed.tasks.get("3.10")?.dependsOn).toEqual({ "007": "started" })
  })

  it("reads a cwd of ~ or ~/… as the home directory, as start_task's cwd is; anything else against the file's directory", () => {
    const parsed = parseTaskFile(
      "/p/taskmux.yaml",
      "tasks:\n  a:\n    command: pwd\n    cwd: \"~\"\n  b:\n    command: pwd\n    cwd: ~/src\n" +
        "  c:\n    command: pwd\n    cwd: ~other\n  d:\n    command: pwd\n"
    )
    if (parsed instanceof ProjectFileError) throw new Error(parsed.message)
    expect([...parsed.tasks.values()].map((t) => t.cwd)).toEqual([
      os.homedir(),
      NodePath.join(os.homedir(), "src"),
      "/p/~other",
      "/p"
    ])
  })

  it("compose's env_file is refused with what to do instead: taskmux reads no env file", () => {
    expect(problem("tasks:\n  web:\n    command: x\n    env_file: .env\n")).toMatch(
      /^\/p\/taskmux\.yaml:4 task "web", env_file: not a field of a task; its fields are command, .* \(taskmux reads no env file: put the variables under env\)$/
    )
  })

  it("tasks: left empty, or written as a list, shows the map of names it needs", () => {
    const needs = "expected a map of task names to their fields, such as tasks: { web: { command: npm run dev } }"
    expect(problem("tasks:\n")).toBe(`/p/taskmux.yaml:1 tasks: ${needs}, got null`)
    expect(problem("tasks:\n  - name: web\n    command: vite\n")).toBe(
      `/p/taskmux.yaml:1 tasks: ${needs} (a list's "- name: web" is "web:" here), got [{"name":"web","command":"vite"}]`
    )
  })

  it("a waitFor.port written as text says to write the number unquoted", () => {
    expect(problem("tasks:\n  web:\n    command: vite\n    waitFor: { port: \"5173\" }\n")).toBe(
      "/p/taskmux.yaml:4 task \"web\", waitFor.port: expected a port number, unquoted (port: 5173), or \"any\", got \"5173\""
    )
  })
})
