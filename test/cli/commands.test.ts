/**
 * The commands in-process against a stand-in supervisor (one real isolated taskmux server behind the
 * project's socket): what they print, their JSON, their exit codes.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { terminalColumns, wantsColour } from "../../src/cli/CliIo.ts"
import { cliArgv } from "../../src/cli/commandNames.ts"
import { runtimePaths } from "../../src/daemon/runtimePaths.ts"
import { cli, python, tempProject, until, useFreshRuntimeDir } from "./helpers.ts"
import { serverEntry, type StandIn, startStandIn } from "./standIn.ts"

useFreshRuntimeDir()

describe("with no supervisor running", () => {
  it("ps says so and exits 0, without starting one", async () => {
    const project = tempProject()
    const ran = await cli(["ps"], { cwd: project })
    expect(ran).toMatchObject({ code: 0, stderr: "" })
    expect(ran.stdout).toBe(`No taskmux supervisor runs for ${runtimePaths(project).project}.\n`)
    expect(existsSync(runtimePaths(project).socket)).toBe(false)
  })

  it("ps shows what the project file defines, and says now what is wrong with it", async () => {
    const project = tempProject()
    writeFileSync(
      NodePath.join(project, "taskmux.yaml"),
      "tasks:\n  api:\n    command: npm run dev\n  web:\n    command: vite\n"
    )
    const ran = await cli(["ps"], { cwd: project })
    expect(ran).toMatchObject({ code: 0, stderr: "" })
    expect(ran.stdout).toBe(
      `No taskmux supervisor runs for ${runtimePaths(project).project}.\n` +
        "Its project file defines: api, web (taskmux start NAME starts one, after what it needs).\n"
    )
    const json = await cli(["ps", "--json"], { cwd: project })
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ name: "api", status: "defined", command: "npm run dev" }),
      expect.objectContaining({ name: "web", status: "defined", command: "vite" })
    ])
    // Many: the first ones and how many more, not one line of all of them (--json has them all).
    const many = Array.from({ length: 200 }, (_, i) => `  t${i}:\n    command: sleep 60\n`).join("")
    writeFileSync(NodePath.join(project, "taskmux.yaml"), `tasks:\n${many}`)
    expect((await cli(["ps"], { cwd: project })).stdout).toMatch(
      /^Its project file defines: t0, t1, .*, t19 and 180 more \(taskmux start NAME/m
    )
    expect(JSON.parse((await cli(["ps", "--json"], { cwd: project })).stdout)).toHaveLength(200)
    writeFileSync(NodePath.join(project, "taskmux.yaml"), "tasks:\n  x:\n    command: echo x\n    restart: always\n")
    const broken = await cli(["ps"], { cwd: project })
    expect(broken.code).toBe(0)
    expect(broken.stderr).toMatch(/^No project tasks: .*taskmux\.yaml:4 task "x", restart: expected a map/)
  })

  it("ps takes the project from TASKMUX_PROJECT, as the server does, and --project before the command", async () => {
    const project = tempProject()
    const ran = await cli(["ps"], { cwd: "/", env: { TASKMUX_PROJECT: project } })
    expect(ran.stdout).toBe(`No taskmux supervisor runs for ${runtimePaths(project).project}.\n`)
    expect(cliArgv(["--project", project, "ps", "--json"])).toEqual(["ps", "--project", project, "--json"])
    expect(cliArgv([`--project=${project}`, "logs", "web"])).toEqual(["logs", `--project=${project}`, "web"])
    expect(cliArgv(["--project", project])).toBeUndefined()
  })

  it("ps --json prints an empty array, the note on stderr", async () => {
    const project = tempProject()
    const ran = await cli(["ps", "--json", "--project", project], { cwd: "/" })
    expect(ran.code).toBe(0)
    expect(JSON.parse(ran.stdout)).toEqual([])
    expect(ran.stderr).toContain("No taskmux supervisor runs for")
  })

  it.each([["stop", "web"], ["restart", "web"], ["remove", "web"], ["logs", "web"], ["logs", "web", "-f"], [
    "attach",
    "web"
  ]])(
    "%s fails (exit 1) saying none runs",
    async (...argv) => {
      const project = tempProject()
      const ran = await cli(argv, { cwd: project })
      expect(ran.code).toBe(1)
      expect(ran.stderr).toContain(`No taskmux supervisor runs for ${runtimePaths(project).project}: `)
      expect(ran.stdout).toBe("")
    }
  )
})

describe("start with no supervisor running", () => {
  it("of a name the project does not define fails without starting a supervisor, naming the ones it does", async () => {
    const project = tempProject({ web: { command: "sleep 60" } })
    const ran = await cli(["start", "nope"], { cwd: project })
    expect(ran).toMatchObject({ code: 1, stdout: "" })
    expect(ran.stderr).toBe("`taskmux start` starts a project task: \"nope\" is not one. Project tasks: web.\n")
    const none = tempProject()
    expect((await cli(["start", "web"], { cwd: none })).stderr).toBe(
      `\`taskmux start\` starts a project task: "web" is not one, and ${
        runtimePaths(none).project
      } defines none (a taskmux.yaml or a Procfile there would).\n`
    )
    expect(existsSync(runtimePaths(project).socket) || existsSync(runtimePaths(none).socket)).toBe(false)
  })
})

describe("stop with no supervisor running", () => {
  it("of a task the project knows: nothing runs, so it is done (exit 0); of an unknown name: exit 1, naming the known ones", async () => {
    const project = tempProject({ web: { command: "sleep 60" } })
    const known = await cli(["stop", "web"], { cwd: project })
    expect(known).toMatchObject({ code: 0, stdout: "" })
    expect(known.stderr).toBe(
      `No taskmux supervisor runs for ${runtimePaths(project).project}: "web" is not running; nothing to stop.\n`
    )
    const unknown = await cli(["stop", "nope", "--json"], { cwd: project })
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/: it knows no task named "nope" \(its tasks: web\)\.\n$/)
    // --json: the failure as JSON on stdout too, for a script's `| jq`.
    expect(JSON.parse(unknown.stdout)).toEqual({ error: unknown.stderr.trim(), exitCode: 1 })
    expect(existsSync(runtimePaths(project).socket)).toBe(false)
  })
})

describe("usage errors exit 2", () => {
  it.each([
    [["bogus"], "Unknown subcommand"],
    [["logs"], "Missing required argument: name"],
    [["ps", "--bogus"], "--bogus"],
    [["logs", "web", "--tail", "x"], "--tail: \"x\". Expected: a number of lines, 0 or more"],
    [["logs", "web", "--tail", "1.5"], "--tail: \"1.5\". Expected: a number of lines, 0 or more"],
    [["logs", "web", "--tail", "-3"], "--tail -3: give a number of lines, 0 or more"],
    [["ps", "--project", "/no/such/dir"], "/no/such/dir"]
  ])("%j", async (argv, message) => {
    const ran = await cli(argv, { cwd: tempProject() })
    expect(ran.code).toBe(2)
    expect(ran.stderr).toContain(message)
    expect(ran.stdout).toBe("")
    // With --json, the error as one JSON document on stdout too, for a script's `| jq`.
    const json = await cli([...argv, "--json"], { cwd: tempProject() })
    expect(json.code).toBe(2)
    expect(JSON.parse(json.stdout)).toEqual({ error: expect.stringContaining(message), exitCode: 2 })
  })

  it("a TASKMUX_PROJECT that is no directory is said as the variable, not as a --project nobody typed", async () => {
    const ran = await cli(["ps"], { cwd: tempProject(), env: { TASKMUX_PROJECT: "/no/such/dir" } })
    expect(ran).toMatchObject({ code: 2, stdout: "", stderr: "TASKMUX_PROJECT=/no/such/dir: no such directory\n" })
  })

  it("a --project that is the task file, not its directory, says which to give, as the server does", async () => {
    const project = tempProject()
    const file = NodePath.join(project, "taskmux.yaml")
    writeFileSync(file, "tasks:\n  api:\n    command: npm run dev\n")
    const ran = await cli(["ps", "--project", file], { cwd: project })
    expect(ran).toMatchObject({
      code: 2,
      stdout: "",
      stderr: `--project ${file}: not a directory (give the directory that holds the task file)\n`
    })
  })

  it("a runtime directory that cannot be used is no usage error: exit 1, saying what to do", async () => {
    const runtime = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-rt-"))
    mkdirSync(NodePath.join(runtime, "taskmux"))
    chmodSync(NodePath.join(runtime, "taskmux"), 0o755)
    const before = process.env.XDG_RUNTIME_DIR
    process.env.XDG_RUNTIME_DIR = runtime
    try {
      const ran = await cli(["ps"], { cwd: tempProject() })
      expect(ran).toMatchObject({ code: 1, stdout: "" })
      expect(ran.stderr).toMatch(/taskmux is open to other users \(mode 755\): chmod 700 it/)
    } finally {
      if (before === undefined) delete process.env.XDG_RUNTIME_DIR
      else process.env.XDG_RUNTIME_DIR = before
    }
  })

  it("ui --listen with a port out of range: exit 2, said as that, before any supervisor is asked", async () => {
    const project = tempProject()
    const ran = await cli(["ui", "--listen", "0.0.0.0:99999", "--print"], { cwd: project })
    expect(ran).toMatchObject({ code: 2, stdout: "" })
    expect(ran.stderr).toBe("--listen \"0.0.0.0:99999\": a port is 1 to 65535 (or 0, the system's choice).\n")
    expect(existsSync(runtimePaths(project).socket)).toBe(false)
  })

  it("taskmux help is the commands' help (taskmux --help is the server's); taskmux help ps, ps's", async () => {
    expect(cliArgv(["help"])).toEqual(["--help"])
    expect(cliArgv(["help", "ps"])).toEqual(["ps", "--help"])
    const ran = await cli(cliArgv(["help"])!, { cwd: "/" })
    expect(ran.code).toBe(0)
    expect(ran.stdout).toContain("Exit codes")
  })

  it("--help prints the commands and the exit codes on stdout, exit 0", async () => {
    const ran = await cli(["--help"], { cwd: "/" })
    expect(ran.code).toBe(0)
    for (
      const word of ["ps", "logs", "stop", "restart", "start", "remove", "wait", "attach", "Exit codes", "2    usage"]
    ) {
      expect(ran.stdout).toContain(word)
    }
    const logs = await cli(["logs", "--help"], { cwd: "/" })
    expect(logs.stdout).toMatch(/--follow, -f/)
    expect(logs.stdout).toMatch(/--tail/)
    // Where the global flags are: taskmux --help gives the server's options.
    expect(logs.stdout).toContain("Run 'taskmux help' for global flags")
    expect(ran.stdout).toMatch(/130 +Ctrl-C \(the CLI ends by SIGINT, so a script running it stops too\)/)
  })
})

describe("with a supervisor", () => {
  let project: string
  let standIn: StandIn
  const run = (...argv: Array<string>) => cli(argv, { cwd: project })

  beforeAll(async () => {
    if (!existsSync(serverEntry)) throw new Error(`${serverEntry} is missing: run npm run build`)
    project = tempProject({
      // stdout and stderr are two pipes: a pause between them fixes their order.
      hello: {
        command: python(
          "import sys, time\nfor i in range(5): print('line', i)\ntime.sleep(0.1)\nprint('oops', file=sys.stderr)"
        )
      },
      sleeper: { command: "sleep 60" },
      // Never ready: its wait times out, and it runs on.
      neverready: { command: "sleep 60", waitFor: { pattern: "never", timeoutMs: 800 } },
      // Never run by the tests before the one that restarts it.
      idle: { command: "sleep 60" },
      ready: { command: "sleep 0.3; echo listening on 8080; sleep 60", waitFor: { pattern: "listening on" } },
      // Ends (exit 0) before it prints what its file calls ready.
      quitter: { command: "echo starting; exit 0", waitFor: { pattern: "listening on" } },
      needy: { command: "sleep 60", dependsOn: { hello: "succeeded" } },
      badmig: { command: "echo migrating; exit 3" },
      // Crashes as it boots, a few hundred ms in: after the tool's 100 ms look, within the CLI's.
      // A shell line: a Python's start-up under load took the crash past the CLI's 700 ms look.
      booting: { command: "sleep 0.3; echo 'Error: config missing' >&2; exit 1" },
      // More lines than the ring holds (10,000).
      many: { command: "seq 1 12000" },
      // Ignores SIGTERM, and so does what it runs: a stop waits out its grace.
      stubborn: { command: "trap '' TERM; echo up; sleep 60" }
    })
    standIn = await startStandIn(project)
  })
  afterAll(() => standIn?.close())

  /** The project file's tasks, sorted. */
  const projectTasks = [
    "badmig",
    "booting",
    "hello",
    "idle",
    "many",
    "needy",
    "neverready",
    "quitter",
    "ready",
    "sleeper",
    "stubborn"
  ]

  it("ps lists the project's tasks; --json prints list_tasks' tasks", async () => {
    const ran = await run("ps")
    expect(ran.code).toBe(0)
    expect(ran.stdout.split("\n")[0]).toMatch(/^NAME\s+STATUS\s+PID\s+/)
    expect(ran.stdout).toMatch(/^hello\s+defined\s+-/m)
    const json = await run("ps", "--json")
    const tasks = JSON.parse(json.stdout) as Array<{ name: string; status: string; command: string }>
    expect(tasks.map((t) => t.name).sort()).toEqual(projectTasks)
    expect(tasks[0]).toHaveProperty("status")
    expect(tasks[0]).toHaveProperty("command")
  })

  it("ps in a subdirectory of the project is about the project (as git finds its repository)", async () => {
    const deep = NodePath.join(project, "src", "components")
    mkdirSync(deep, { recursive: true })
    const ran = await cli(["ps", "--json"], { cwd: deep })
    expect(ran.code).toBe(0)
    expect((JSON.parse(ran.stdout) as Array<{ name: string }>).map((t) => t.name).sort()).toEqual(projectTasks)
  })

  it("start starts a project task after its dependencies, kept, and says so, and what it waits for as it waits (stderr)", async () => {
    const ran = await run("start", "needy")
    expect(ran.stderr).toMatch(/^waiting for "hello" to succeed\n/)
    expect(ran.code).toBe(0)
    expect(ran.stdout).toContain("needy")
    // The CLI's starts are kept: they must outlive the CLI's session.
    expect(standIn.calls.filter((c) => c.tool === "start_task").at(-1)?.args).toEqual({ name: "needy", keep: true })
    const ps = JSON.parse((await run("ps", "--json")).stdout) as Array<{ name: string; status: string }>
    expect(ps.find((t) => t.name === "needy")?.status).toBe("running")
    expect(ps.find((t) => t.name === "hello")?.status).toBe("exited")
  })

  it("start of a task that runs as its file says is done already: exit 0, the same run (a script's `start web && ...` runs twice)", async () => {
    await run("start", "sleeper")
    const first = JSON.parse((await run("ps", "--json")).stdout) as Array<{ name: string; pid: number }>
    const ran = await run("start", "sleeper")
    expect([ran.code, ran.stderr]).toEqual([0, ""])
    expect(ran.stdout).toMatch(
      /^Task "sleeper" \(pid \d+\) was already running as the project file says: nothing was started\.\n/
    )
    const again = JSON.parse((await run("ps", "--json")).stdout) as Array<{ name: string; pid: number }>
    expect(again.find((t) => t.name === "sleeper")?.pid).toBe(first.find((t) => t.name === "sleeper")?.pid)
    await run("stop", "sleeper")
  })

  it("start of a task that crashes at once prints how, and exits 1 (a script's `start migrate && ...` stops)", async () => {
    const ran = await run("start", "badmig")
    expect(ran.code).toBe(1)
    expect(ran.stdout).toContain("crashed, exit code 3")
    expect(ran.stderr).toBe("\"badmig\" crashed\n")
  })

  it("start and restart of a task that crashes as it boots (300 ms in) print how, and exit 1", async () => {
    for (const command of ["start", "restart"]) {
      const ran = await run(command, "booting")
      expect(ran.code, command).toBe(1)
      expect(ran.stdout).toMatch(/"booting" ended \(crashed, exit code 1\)[\s\S]*Error: config missing/)
      expect(ran.stderr).toBe("\"booting\" crashed\n")
    }
    // With --json, one document whose chain says the same of it as its status.
    const json = await run("start", "booting", "--json")
    expect(json.code).toBe(1)
    const answer = JSON.parse(json.stdout) as { status: string; tasks: Array<{ name: string; status: string }> }
    expect(answer.status).toBe("crashed")
    expect(answer.tasks).toEqual([expect.objectContaining({ name: "booting", status: "crashed" })])
  })

  it("logs --tail past what the ring holds says so, and where all of it is", async () => {
    expect((await run("start", "many")).code).toBe(0)
    await until(async () => (await run("logs", "many", "--tail", "1")).stdout === "12000\n" || undefined)
    const ran = await run("logs", "many", "--tail", "11000")
    expect(ran.code).toBe(0)
    expect(ran.stdout.trimEnd().split("\n")).toHaveLength(10_000)
    expect(ran.stderr).toMatch(/^\[only its last 10000 lines are held; all of its output is in \/\S+many\S*\.log\]\n$/)
    // Within what it holds, nothing more is said.
    expect((await run("logs", "many", "--tail", "5")).stderr).toBe("")
  })

  it("start of a task not ready in time says so and exits 1 (a script's `start db && ./migrate` stops); it runs on", async () => {
    const ran = await run("start", "neverready")
    expect(ran.code).toBe(1)
    expect(ran.stdout).toMatch(/Timed out after (0\.[89]|[1-9]\.\d) s/)
    expect(ran.stderr).toBe(
      "waiting for \"neverready\" to become ready\n" +
        "\"neverready\" was not ready in time; it keeps running (taskmux stop neverready stops it)\n"
    )
    const tasks = JSON.parse((await run("ps", "--json")).stdout) as Array<{ name: string; status: string }>
    expect(tasks.find((t) => t.name === "neverready")?.status).toBe("running")
    // Started again while it runs: said once that nothing was started, then its wait's timeout.
    const again = await run("start", "neverready")
    expect(again.stdout.match(/nothing was started/g)).toHaveLength(1)
    expect(again.stdout).toMatch(/Timed out after (0\.[89]|[1-9]\.\d) s/)
    // A restart waits for what the file calls ready too.
    const restarted = await run("restart", "neverready")
    expect(restarted.code).toBe(1)
    expect(restarted.stdout).toMatch(
      /^Restarted task "neverready" \(pid \d+\)\.\n.*Timed out after (0\.[89]|[1-9]\.\d) s/s
    )
    expect(restarted.stderr).toContain("\"neverready\" was not ready in time; it keeps running")
    expect((await run("stop", "neverready")).code).toBe(0)
  })

  it("start of a task that ends before it is ready fails (exit 1); with --json, one JSON document, the answer", async () => {
    const ran = await run("start", "quitter", "--json")
    expect(ran.code).toBe(1)
    expect(JSON.parse(ran.stdout)).toMatchObject({ name: "quitter", status: "exited", matched: false })
    expect(ran.stderr).toMatch(/\n"quitter" ended before it was ready\n$/)
  })

  it("restart of a project task waits for what its file calls ready, and says so", async () => {
    expect((await run("start", "ready")).code).toBe(0)
    const ran = await run("restart", "ready")
    expect([ran.code, ran.stderr]).toEqual([0, ""])
    expect(ran.stdout).toMatch(/^Restarted task "ready" \(pid \d+\)\.\n.*listening on 8080/s)
    expect(ran.stdout).not.toContain("Its file says")
    expect((await run("stop", "ready")).code).toBe(0)
  })

  it("two restarts at once (two scripts') both wait for the run that follows to be ready", async () => {
    expect((await run("start", "ready")).code).toBe(0)
    const both = await Promise.all([run("restart", "ready"), run("restart", "ready")])
    for (const ran of both) {
      expect(ran.code, ran.stderr).toBe(0)
      expect(ran.stdout).toContain("listening on 8080")
    }
  })

  it("stop of a project task that has not run: nothing to stop, exit 0; restart of one runs it, kept", async () => {
    const stopped = await run("stop", "idle")
    expect(stopped).toMatchObject({ code: 0, stdout: "" })
    expect(stopped.stderr).toBe("\"idle\" is not running (it has not run yet); nothing to stop.\n")
    const restarted = await run("restart", "idle")
    expect(restarted.code, restarted.stderr).toBe(0)
    expect(restarted.stdout).toMatch(/^Started task "idle"/)
    expect(standIn.calls.filter((c) => c.tool === "start_task").at(-1)?.args).toEqual({ name: "idle", keep: true })
    expect((await run("stop", "idle")).code).toBe(0)
  })

  it("logs prints the last lines, stderr marked; --tail and --json", async () => {
    const ran = await run("logs", "hello")
    expect(ran.code).toBe(0)
    expect(ran.stdout).toContain("line 0\n")
    expect(ran.stdout).toContain("line 4\n! oops\n")
    expect(ran.stdout.trimEnd().split("\n")).toHaveLength(6)
    const tail = await run("logs", "hello", "--tail", "3")
    expect(tail.stdout.trimEnd().split("\n")).toHaveLength(3)
    const json = await run("logs", "hello", "--json", "-n", "4")
    const lines = json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l))
    expect(lines).toHaveLength(4)
    expect(lines.map((l) => l.seq)).toEqual([3, 4, 5, 6])
    for (const line of lines) expect(Object.keys(line).sort()).toEqual(["seq", "stream", "text"])
    expect(new Set(lines.map((l) => l.stream))).toEqual(new Set(["stdout", "stderr"]))
  })

  it("logs -f of a task that has ended prints its lines and exits 0", async () => {
    const ran = await run("logs", "-f", "hello", "--tail", "2")
    expect(ran.code).toBe(0)
    expect(ran.stdout).toBe("line 4\n! oops\n")
    expect(ran.stderr).toContain("[hello exited 0]")
    // --json: how it ended is the last line.
    const json = await run("logs", "-f", "hello", "--tail", "1", "--json")
    expect(json.stdout.trimEnd().split("\n").map((l) => JSON.parse(l))).toEqual([
      { seq: 6, stream: "stderr", text: "oops" },
      { ended: "exited", exitCode: 0, signal: null }
    ])
  })

  it("an unknown name fails with exit 1 and the tool's message, which names the known tasks", async () => {
    const argvs = [["stop", "nope"], ["restart", "nope"], ["logs", "nope"], ["logs", "nope", "-f"], ["wait", "nope"]]
    for (const argv of argvs) {
      const ran = await run(...argv)
      expect(ran.code).toBe(1)
      expect(ran.stderr).toMatch(/No task named "nope"\. Known tasks: .*hello/)
      expect(ran.stdout).toBe("")
      // With --json, also as JSON on stdout.
      const json = await run(...argv, "--json")
      expect(JSON.parse(json.stdout)).toEqual({ error: json.stderr.trim(), exitCode: 1 })
    }
  })

  it("stop ends a task and prints how; --json prints stop_task's answer", async () => {
    await run("start", "sleeper")
    const ran = await run("stop", "sleeper", "--json")
    expect(ran.code).toBe(0)
    expect(JSON.parse(ran.stdout)).toMatchObject({ name: "sleeper", status: "stopped", signal: "SIGTERM" })
    const again = await run("stop", "needy")
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/needy.*stopped/)
  })

  it("stop of a task that ignores SIGTERM says as it waits out the grace that it waits (stderr)", async () => {
    await run("start", "stubborn")
    const ran = await run("stop", "stubborn", "--grace-ms", "3000")
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.stderr).toMatch(/^waiting 2 s for its processes to end/m)
    expect(ran.stdout).toMatch(/stubborn.*stopped.*SIGKILL/)
  })

  it("stop takes stop_task's options: --signal (with or without SIG), --grace-ms, --force, --dependents", async () => {
    await run("start", "sleeper")
    const int = await run("stop", "sleeper", "--signal", "int", "--grace-ms", "2000", "--json")
    expect(int.code, int.stderr).toBe(0)
    expect(JSON.parse(int.stdout)).toMatchObject({ name: "sleeper", status: "stopped", signal: "SIGINT" })
    expect(standIn.calls.filter((c) => c.tool === "stop_task").at(-1)?.args).toEqual({
      name: "sleeper",
      signal: "SIGINT",
      graceMs: 2000
    })
    // A number, as kill takes it.
    await run("start", "sleeper")
    const nine = await run("stop", "sleeper", "--signal", "9", "--json")
    expect(JSON.parse(nine.stdout)).toMatchObject({ status: "stopped", signal: "SIGKILL" })
    // A value refused is named as typed: --grace-ms, not the tool's graceMs.
    const negative = await run("stop", "sleeper", "--grace-ms", "-1")
    expect(negative.stderr).toMatch(/^--grace-ms: /)
    await run("start", "sleeper")
    const forced = await run("stop", "sleeper", "--force", "--json")
    expect(JSON.parse(forced.stdout)).toMatchObject({ status: "stopped", signal: "SIGKILL" })
    await run("stop", "hello", "--dependents")
    expect(standIn.calls.filter((c) => c.tool === "stop_task").at(-1)?.args).toEqual({
      name: "hello",
      dependents: true
    })
    // A value the tool refuses is a usage error, as a bad flag is.
    const bad = await run("stop", "sleeper", "--signal", "SIGNOPE")
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining("SIGNOPE")])
  })

  it("remove stops a running task, takes it out of the list (a project task is defined again), and --delete-log asks for its log to go", async () => {
    await run("start", "sleeper")
    const ran = await run("remove", "sleeper")
    expect(ran).toMatchObject({ code: 0, stdout: "Removed task \"sleeper\".\n" })
    const tasks = JSON.parse((await run("ps", "--json")).stdout) as Array<{ name: string; status: string }>
    expect(tasks.find((t) => t.name === "sleeper")?.status).toBe("defined")
    await run("start", "sleeper")
    expect(JSON.parse((await run("remove", "sleeper", "--delete-log", "--json")).stdout)).toEqual({
      name: "sleeper",
      removed: true
    })
    expect(standIn.calls.filter((c) => c.tool === "remove_task").at(-1)?.args).toEqual({
      name: "sleeper",
      deleteLog: true
    })
    const unknown = await run("remove", "nope")
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/No task named "nope"\. Known tasks: /)
    // As the tests after this one expect it: run and stopped.
    await run("start", "sleeper")
    await run("stop", "sleeper")
  })

  it("restart runs a stopped task again", async () => {
    const ran = await run("restart", "sleeper")
    expect(ran.code).toBe(0)
    expect(ran.stdout).toMatch(/sleeper/)
    const ps = await until(async () => {
      const tasks = JSON.parse((await run("ps", "--json")).stdout) as Array<{ name: string; status: string }>
      return tasks.find((t) => t.name === "sleeper" && t.status === "running")
    })
    expect(ps.status).toBe("running")
    await run("stop", "sleeper")
  })

  it("colours a terminal's table, not a pipe's", async () => {
    await run("start", "sleeper")
    const coloured = await cli(["ps"], { cwd: project, colour: true, columns: 100 })
    expect(coloured.stdout).toContain("\x1b[32mrunning\x1b[39m")
    const piped = await run("ps")
    expect(piped.stdout).not.toContain("\x1b[")
    // The footer is a person's: in a pipe every line of stdout is a row (`ps | awk 'NR>1 {print $1}'`).
    expect(piped.stdout).not.toContain("supervisor pid")
    expect(piped.stderr).toMatch(/: supervisor pid \d+, /)
    expect(coloured.stdout).toMatch(/: supervisor pid \d+, /)
    expect(wantsColour(true, {})).toBe(true)
    expect(wantsColour(false, {})).toBe(false)
    expect(wantsColour(true, { NO_COLOR: "1" })).toBe(false)
    expect(wantsColour(true, { NO_COLOR: "" })).toBe(true)
    expect(wantsColour(true, { TERM: "dumb" })).toBe(false)
    // FORCE_COLOR decides over both, as for Node: a CI log that shows colours, or a terminal that wants none.
    expect(wantsColour(false, { FORCE_COLOR: "1" })).toBe(true)
    expect(wantsColour(false, { FORCE_COLOR: "" })).toBe(true)
    expect(wantsColour(true, { FORCE_COLOR: "0" })).toBe(false)
    expect(wantsColour(true, { FORCE_COLOR: "false", NO_COLOR: "" })).toBe(false)
    expect(wantsColour(true, { FORCE_COLOR: "3", NO_COLOR: "1" })).toBe(true)
    // A terminal of no size (script(1), a CI runner's pty): COLUMNS, else whole lines, not 10-column commands.
    expect(terminalColumns(true, 0, {})).toBeUndefined()
    expect(terminalColumns(true, 0, { COLUMNS: "200" })).toBe(200)
    expect(terminalColumns(true, 80, { COLUMNS: "200" })).toBe(80)
    expect(terminalColumns(false, 80, {})).toBeUndefined()
    // stderr by its own terminal: `taskmux logs -f hello 2>err.txt` on a terminal writes no escapes into the file.
    const redirected = await cli(["logs", "-f", "hello"], { cwd: project, colour: true, colourErr: false })
    expect(redirected.stderr).toBe("[hello exited 0]\n")
    const both = await cli(["logs", "-f", "hello"], { cwd: project, colour: true })
    expect(both.stderr).toBe("\x1b[2m[hello exited 0]\x1b[22m\n")
  })

  it("attach refuses when stdin is not a terminal (exit 2)", async () => {
    const ran = await run("attach", "sleeper")
    expect(ran.code).toBe(2)
    expect(ran.stderr).toContain("attach needs a terminal")
  })

  it("ps --json says a broken project file on stderr, and still prints the list", async () => {
    const broken = tempProject({
      a: { command: "true", dependsOn: { b: "started" } },
      b: { command: "true", dependsOn: { a: "started" } }
    })
    const own = await startStandIn(broken)
    try {
      const ran = await cli(["ps", "--json"], { cwd: broken })
      expect(ran.code).toBe(0)
      expect(JSON.parse(ran.stdout)).toEqual([])
      expect(ran.stderr).toMatch(/^No project tasks: .*taskmux\.json.*cycle/)
    } finally {
      await own.close()
    }
  })

  it("start of something that is no project task fails with the tool's message", async () => {
    const ran = await run("start", "nothing-like-it")
    expect(ran.code).toBe(1)
    // It takes no command: the message says what it does take.
    expect(ran.stderr).toMatch(/`taskmux start` starts a project task: "nothing-like-it" is not one\./)
  })
})
