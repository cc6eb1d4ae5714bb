import { describe, expect, it } from "vitest"
import { inTerminalWords } from "../../src/cli/inTerminalWords.ts"
import { TaskAlreadyRunning } from "../../src/domain/errors.ts"

describe("a tool's error in a terminal's words", () => {
  it("names the commands a person types, with the task's name", () => {
    expect(
      inTerminalWords(
        "Task \"api\" is already running (pid 12). Stop it with stop_task, restart it with restart_task, or choose another name.",
        "api"
      )
    ).toBe(
      "Task \"api\" is already running (pid 12). Stop it with `taskmux stop api`, restart it with `taskmux restart api`."
    )
    expect(
      inTerminalWords(
        new TaskAlreadyRunning({ name: "web", pid: 7, owner: "kept", same: true }).message,
        "web"
      )
    ).toBe(
      "A task named \"web\" is already running (pid 7, kept). It runs this same command: `taskmux logs web -f` follows it. " +
        "Else `taskmux stop web`, `taskmux restart web`."
    )
    expect(inTerminalWords("start_task { name } runs it again; remove_task forgets it. list_tasks shows them.", "db"))
      .toBe("`taskmux start db` runs it again; `taskmux remove db` forgets it. `taskmux ps` shows them.")
    expect(inTerminalWords("restart_task { name: \"x\" } to run it again.", "x")).toBe(
      "`taskmux restart x` to run it again."
    )
    // A model's cursor is no person's business.
    expect(inTerminalWords("Started task \"web\" (pid 7). \"web\" matched: ready\n[nextCursor 3]", "web"))
      .toBe("Started task \"web\" (pid 7). \"web\" matched: ready")
    // A flag refused by the name typed.
    expect(
      inTerminalWords("Invalid arguments for stop_task: graceMs: Expected a value between 0 and 600000, got -1", "x")
    )
      .toBe("--grace-ms: Expected a value between 0 and 600000, got -1")
    // A project task not run yet, as the tools name it with its name.
    expect(inTerminalWords("start_task { name: \"repl\" } runs it after its dependencies.", "repl"))
      .toBe("`taskmux start repl` runs it after its dependencies.")
  })

  it("says what taskmux start takes: a project task's name, never a command", () => {
    expect(
      inTerminalWords(
        "start_task needs a command, or the name of a project task: \"nosuch\" is not one. Project tasks: web.",
        "nosuch"
      )
    )
      .toBe("`taskmux start` starts a project task: \"nosuch\" is not one. Project tasks: web.")
    expect(
      inTerminalWords(
        "The project file is not usable, so \"k\" cannot be started by name: bad. Fix the file, or pass a command.",
        "k"
      )
    )
      .toBe("The project file is not usable, so \"k\" cannot be started by name: bad. Fix the file.")
  })

  it("quotes a name a shell would split, and says NAME where the call named none", () => {
    expect(inTerminalWords("Use restart_task to run it again.", "my task")).toBe(
      "Use `taskmux restart \"my task\"` to run it again."
    )
    expect(inTerminalWords("Start one with start_task.", "")).toBe("Start one with `taskmux start NAME`.")
  })

  it("says in a person's words what a successful answer advises", () => {
    expect(inTerminalWords(
      "Restarted task \"web\" (pid 9). Its file says when it is ready: wait_for_task {\"name\":\"web\",\"port\":8000} " +
        "waits for this run to be.",
      "web"
    )).toBe("Restarted task \"web\" (pid 9). Its file says when it is ready: `taskmux logs web -f` follows it.")
    expect(inTerminalWords(
      "Still running, and they need it: api, web (dependents: true stops them first).",
      "db"
    )).toBe("Still running, and they need it: api, web (--dependents stops them first).")
    expect(inTerminalWords(
      "Its stdin is open: a program that reads its input to the end (wc, jq, sort, cat, a script reading stdin) " +
        "waits for more: send_input { eof: true } closes it.",
      "x"
    )).toBe(
      "Its stdin is open: a program that reads its input to the end (wc, jq, sort, cat, a script reading stdin) " +
        "waits for more."
    )
    expect(inTerminalWords("give the program's full path, or a PATH in start_task's env (or the project file's).", "x"))
      .toBe("give the program's full path, or a PATH in the project file's env.")
    // A task that went with its session runs again from a terminal too, as its session ran it.
    expect(inTerminalWords("restart_task or start_task { name: \"t\" } runs it again with its command: npm test", "t"))
      .toBe("`taskmux restart t` or `taskmux start t` runs it again with its command: npm test")
    // `taskmux start NAME` of a task that runs, not the file's: what a person reads its output with.
    expect(inTerminalWords(
      "\"job\" is not a task of the project file now (its tasks: other): the task \"job\" is running (pid 9). " +
        "restart_task runs it again; read_output shows what it printed.",
      "job"
    )).toBe(
      "\"job\" is not a task of the project file now (its tasks: other): the task \"job\" is running (pid 9). " +
        "`taskmux restart job` runs it again; `taskmux logs job` shows what it printed."
    )
  })

  it("says a bad name as the name's fault, not as the arguments of a tool the person did not call", () => {
    expect(inTerminalWords("Invalid arguments for read_output: name: a task name is 1-64 letters", "")).toBe(
      "The name: a task name is 1-64 letters"
    )
  })

  it("leaves words that only contain a tool's name alone", () => {
    expect(inTerminalWords("my_stop_task.sh failed", "x")).toBe("my_stop_task.sh failed")
  })
})
