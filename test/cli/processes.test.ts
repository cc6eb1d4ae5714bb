/**
 * The CLI as a real process: following output until Ctrl-C or the task's end, starting a supervisor
 * when none runs, and attach through a real pseudo-terminal.
 */
import type * as NodePty from "@lydell/node-pty"
import { spawnSync } from "node:child_process"
import { existsSync, mkdtempSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { CLI_COMMANDS } from "../../src/cli/commandNames.ts"
import { connectIfRunning } from "../../src/daemon/connect.ts"
import { runtimePaths } from "../../src/daemon/runtimePaths.ts"
import { cli, cliProcess, entry, killLeftovers, python, tempProject, until, useFreshRuntimeDir } from "./helpers.ts"
import { serverEntry, serverEnv, type StandIn, startStandIn } from "./standIn.ts"

const runtimeDir = useFreshRuntimeDir()
afterAll(killLeftovers)

/** Lines "PREFIX N" of one stream must be 0, 1, 2, ... with none missing or twice. */
const numbered = (lines: ReadonlyArray<string>, prefix: string) =>
  lines.filter((l) => l.startsWith(prefix)).map((l) => Number(l.slice(prefix.length)))

const consecutive = (numbers: ReadonlyArray<number>, from = numbers[0] ?? 0) => numbers.every((n, i) => n === from + i)

describe("with a supervisor", () => {
  let project: string
  let standIn: StandIn

  beforeAll(async () => {
    if (!existsSync(serverEntry)) throw new Error(`${serverEntry} is missing: run npm run build`)
    project = tempProject({
      // python -u writes "out N" and its newline apart: the follow meets partial lines on the way.
      counter: {
        command: python(
          "import sys, time\nfor i in range(300):\n  print('out', i)\n  print('err', i, file=sys.stderr)\n  time.sleep(0.01)",
          ["-u"]
        )
      },
      ticker: {
        command: python(
          "import sys, time\ni = 0\nwhile True:\n  print('tick', i, flush=True); i += 1; time.sleep(0.01)"
        )
      },
      repl: { command: "python3 -q", terminal: true },
      piped: { command: "sleep 60" },
      // Never ready: a start waits for it until Ctrl-C.
      slow: { command: "sleep 60", waitFor: { pattern: "never printed", timeoutMs: 60_000 } },
      // Waits for slow, so never starts.
      after: { command: "sleep 60", dependsOn: { slow: "ready" } },
      later: { command: "echo hello from later; sleep 60" },
      // Escape sequences with 8-bit (C1) introducers, which terminals obey: OSC 52 (the clipboard), a
      // title, a DCS request, a clear with a CAN inside; in its output and in its own command line.
      hostile: {
        command: python(
          "import sys\nsys.stdout.write('A \\u009d52;c;ZXZpbA==\\u009c B\\nC \\u009d0;TITLE\\u009c D\\n' +\n" +
            "  'E \\u0090$q\"p\\u009c F\\nG \\u009b2\\u0018J H\\n')\nsys.stdout.flush()"
        ) + " # \u009d0;COMMAND-TITLE\u009c"
      },
      // Deaf to SIGTERM: a stop waits out its grace.
      deaf: {
        command: python(
          "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('up', flush=True)\ntime.sleep(60)"
        ),
        waitFor: { pattern: "up" }
      }
    })
    standIn = await startStandIn(project)
  })
  afterAll(() => standIn?.close())

  it("logs -f shows every line once, in order, and exits 0 when the task ends", async () => {
    expect((await cli(["start", "counter"], { cwd: project })).code).toBe(0)
    const follow = cliProcess(["logs", "-f", "counter", "--tail", "10000"], project)
    let lastLineAt = 0
    const look = setInterval(() => {
      if (lastLineAt === 0 && follow.stdout().includes("err 299")) lastLineAt = performance.now()
    }, 10)
    expect(await follow.exited).toBe(0)
    clearInterval(look)
    // A task that ended by itself is not waited on for a restart (that follows a stop): the prompt
    // comes back at once, not 1.5 s later.
    expect(performance.now() - lastLineAt).toBeLessThan(1_200)
    const lines = follow.stdout().trimEnd().split("\n")
    const out = numbered(lines, "out ")
    const err = numbered(lines, "! err ")
    expect(out).toEqual(Array.from({ length: 300 }, (_, i) => i))
    expect(err).toEqual(Array.from({ length: 300 }, (_, i) => i))
    expect(lines).toHaveLength(600)
    expect(follow.stderr()).toContain("[counter exited 0]")
  })

  it("logs and ps --json send a task's escape sequences, 8-bit ones too, to nobody's terminal", async () => {
    expect((await cli(["start", "hostile"], { cwd: project })).code).toBe(0)
    // eslint-disable-next-line no-control-regex -- what must not reach a terminal
    const controls = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/
    await until(async () => (await cli(["logs", "hostile"], { cwd: project })).stdout.includes("G 2J H") || undefined)
    const logs = cliProcess(["logs", "hostile"], project)
    expect(await logs.exited).toBe(0)
    expect(logs.stdout()).toBe("A  B\nC  D\nE  F\nG 2J H\n")
    const ps = await cli(["ps", "--json"], { cwd: project })
    expect(ps.stdout.replaceAll("\n", "")).not.toMatch(controls)
    const hostile = (JSON.parse(ps.stdout) as Array<{ name: string; command: string }>).find((t) =>
      t.name === "hostile"
    )
    expect(hostile?.command).toContain("# \u009d0;COMMAND-TITLE\u009c")
  })

  /**
   * `taskmux start NAME` stopped by Ctrl-C while it waits for slow to get ready: exit 130, and its words
   * name slow, which keeps running; then the tasks as `ps --json` lists them.
   */
  const interruptedStart = async (name: string) => {
    const start = cliProcess(["start", name], project)
    await until(() => (start.stderr().includes("for \"slow\" to become ready") ? true : undefined))
    start.kill("SIGINT")
    expect(await start.exited).toBe(130)
    expect(start.stderr()).toContain(
      "Stopped waiting; what was started keeps running (taskmux ps shows it, taskmux stop slow stops it)."
    )
    return JSON.parse((await cli(["ps", "--json"], { cwd: project })).stdout) as Array<
      { name: string; status: string }
    >
  }

  it("stop waiting out a grace, on Ctrl-C: stops waiting, says the stop goes on and how to force it, exits 130", async () => {
    expect((await cli(["start", "deaf"], { cwd: project })).code).toBe(0)
    const stop = cliProcess(["stop", "deaf", "--grace-ms", "30000"], project)
    // Its call is in (it says it waits), so its Ctrl-C handler is: a fixed second was, at times, a CLI still loading.
    await until(() => (stop.stderr().includes("for its processes to end") ? true : undefined), 20_000)
    stop.kill("SIGINT")
    expect(await stop.exited).toBe(130)
    expect(stop.stderr()).toContain(
      "Stopped waiting; the stop goes on (taskmux ps shows when \"deaf\" has ended, taskmux stop --force deaf ends it now)."
    )
    expect((await cli(["stop", "deaf", "--force"], { cwd: project })).code).toBe(0)
  })

  it("start waiting for readiness, on Ctrl-C: stops waiting, says what keeps running, exits 130", async () => {
    const ps = await interruptedStart("slow")
    expect(ps.find((t) => t.name === "slow")?.status).toBe("running")
    expect((await cli(["stop", "slow"], { cwd: project })).code).toBe(0)
  })

  it("start on Ctrl-C while a dependency gets ready names what was started, not the task that was not", async () => {
    const ps = await interruptedStart("after")
    expect(ps.filter((t) => t.name === "slow" || t.name === "after").map((t) => `${t.name} ${t.status}`)).toEqual([
      "slow running",
      "after defined"
    ])
    expect((await cli(["stop", "slow"], { cwd: project })).code).toBe(0)
  })

  it("logs -f of a project task not run yet follows it once it starts, to its end", async () => {
    // Ctrl-C while it waits ends the wait, cleanly.
    const given = cliProcess(["logs", "-f", "later"], project)
    await until(() => given.stderr().includes("has not run yet") || undefined)
    given.kill("SIGINT")
    expect(await given.exited).toBe(130)
    const follow = cliProcess(["logs", "-f", "later"], project)
    await until(() => follow.stderr().includes("[later has not run yet: following it once it starts]") || undefined)
    expect((await cli(["start", "later"], { cwd: project })).code).toBe(0)
    await until(() => follow.stdout().includes("hello from later\n") || undefined)
    expect((await cli(["stop", "later"], { cwd: project })).code).toBe(0)
    expect(await follow.exited).toBe(0)
  })

  it("logs -f ends cleanly on Ctrl-C, by SIGINT as tail -f does (a shell's loop stops too): no line missed or repeated", async () => {
    expect((await cli(["start", "ticker"], { cwd: project })).code).toBe(0)
    const follow = cliProcess(["logs", "-f", "ticker", "--tail", "5"], project)
    await until(() => (numbered(follow.stdout().split("\n"), "tick ").length >= 60 ? true : undefined))
    follow.kill("SIGINT")
    expect(await follow.exited).toBe(130)
    const ticks = numbered(follow.stdout().trimEnd().split("\n"), "tick ")
    expect(ticks.length).toBeGreaterThanOrEqual(60)
    expect(consecutive(ticks)).toBe(true)
    expect(follow.stderr()).toBe("")
    // Ctrl-C ended the CLI, not the task.
    const ps = JSON.parse((await cli(["ps", "--json"], { cwd: project })).stdout) as Array<
      { name: string; status: string }
    >
    expect(ps.find((t) => t.name === "ticker")?.status).toBe("running")
  })

  it("logs -f follows across a restart and stops at the stop", { timeout: 90_000 }, async () => {
    const follow = cliProcess(["logs", "-f", "ticker", "--tail", "0"], project)
    await until(() => (numbered(follow.stdout().split("\n"), "tick ").length >= 5 ? true : undefined))
    expect((await cli(["restart", "ticker"], { cwd: project })).code).toBe(0)
    // Generous: on a busy machine (the whole suite at once) a restart and its first lines take a while.
    await until(() => (follow.stdout().includes("── run 2 ──") ? true : undefined), 30_000)
    await until(() => (/── run 2 ──\ntick 0\ntick 1\n/.test(follow.stdout()) ? true : undefined), 30_000)
    expect((await cli(["stop", "ticker"], { cwd: project })).code).toBe(0)
    expect(await follow.exited).toBe(0)
    const [before, after] = follow.stdout().split("── run 2 ──\n")
    expect(consecutive(numbered(before!.split("\n"), "tick "))).toBe(true)
    expect(consecutive(numbered(after!.split("\n"), "tick "), 0)).toBe(true)
    expect(follow.stderr()).toContain("[ticker stopped]")
  })

  describe("attach, through a real pseudo-terminal", () => {
    let pty: typeof NodePty

    beforeAll(async () => {
      const module = await import("@lydell/node-pty")
      pty = ((module as { default?: typeof NodePty }).default ?? module) as typeof NodePty
    })

    const attach = (name: string) => {
      const term = pty.spawn(process.execPath, [entry, "attach", name], {
        cols: 90,
        rows: 25,
        cwd: project,
        env: { ...serverEnv("/tmp"), XDG_RUNTIME_DIR: runtimeDir, TERM: "xterm-256color" } as Record<string, string>
      })
      let output = ""
      term.onData((data) => (output += data))
      const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)))
      return { term, output: () => output, exited }
    }

    /**
     * Until attach draws the REPL's prompt. Seen once in many runs: none in 15 s; the failure then shows
     * what attach drew, and whether it had ended.
     */
    const prompted = async (session: ReturnType<typeof attach>) => {
      let ended: number | undefined
      void session.exited.then((code) => (ended = code))
      await until(() => (session.output().includes(">>> ") ? true : undefined), 15_000).catch((error: unknown) => {
        throw new Error(
          `${String(error)}; attach ${ended === undefined ? "runs" : `exited ${ended}`} and drew ${
            JSON.stringify(session.output().slice(-2000))
          }`
        )
      })
    }

    it("types into a REPL, shows its answers, takes this terminal's size, and detaches on Ctrl-] leaving it running", async () => {
      expect((await cli(["start", "repl"], { cwd: project })).code).toBe(0)
      const session = attach("repl")
      await prompted(session)
      // The task's terminal took ours.
      expect(standIn.calls).toContainEqual({ tool: "send_input", args: { name: "repl", data: "", cols: 90, rows: 25 } })
      session.term.write("print(6*7)\r")
      await until(() => (/\r?\n42\r?\n/.test(session.output()) ? true : undefined))
      session.term.resize(100, 30)
      await until(() =>
        standIn.calls.some((c) => c.tool === "send_input" && c.args.cols === 100 && c.args.rows === 30)
          ? true
          : undefined
      )
      session.term.write("\x1d")
      expect(await session.exited).toBe(0)
      expect(session.output()).toContain("detached from repl; it keeps running")
      // Only one prompt after the answer: the prompt the screen showed was not drawn twice.
      expect(session.output()).not.toContain(">>> >>> ")
      const ps = JSON.parse((await cli(["ps", "--json"], { cwd: project })).stdout) as Array<
        { name: string; status: string }
      >
      expect(ps.find((t) => t.name === "repl")?.status).toBe("running")
      // Attached again: the screen shows what happened before.
      const again = attach("repl")
      await until(() => (again.output().includes("42") ? true : undefined), 15_000)
      again.term.write("\x1d")
      expect(await again.exited).toBe(0)
    })

    it("ends when the task does, saying how", async () => {
      const session = attach("repl")
      await prompted(session)
      session.term.write("exit(3)\r")
      // It crashed while attached: the exit code says so.
      expect(await session.exited).toBe(1)
      expect(session.output()).toMatch(/repl ended \(crashed 3\)/)
    })

    it("refuses a task on pipes (exit 1), saying what to use instead", async () => {
      expect((await cli(["start", "piped"], { cwd: project })).code).toBe(0)
      const session = attach("piped")
      expect(await session.exited).toBe(1)
      expect(session.output()).toContain("runs on pipes, not on a terminal")
      expect(session.output()).toContain("taskmux logs -f piped")
      await cli(["stop", "piped"], { cwd: project })
    })
  })
})

describe("start with no supervisor running", () => {
  it("starts one, which keeps the task running after the CLI exits", async () => {
    const project = tempProject({ sleeper: { command: "sleep 60" } })
    const paths = runtimePaths(project)
    expect((await cli(["ps"], { cwd: project })).stdout).toContain("No taskmux supervisor runs")
    const start = cliProcess(["start", "sleeper"], project)
    expect(await start.exited).toBe(0)
    expect(start.stdout()).toContain("sleeper")
    const connection = await connectIfRunning(paths, "cli")
    expect(connection).toBeDefined()
    connection!.socket.destroy()
    try {
      const ps = await cli(["ps", "--json"], { cwd: project })
      const tasks = JSON.parse(ps.stdout) as Array<{ name: string; status: string }>
      expect(tasks.find((t) => t.name === "sleeper")?.status).toBe("running")
    } finally {
      // The stand-in started as the supervisor: end it (it ends its server and the task).
      process.kill(connection!.welcome.pid, "SIGTERM")
      await until(() => (existsSync(paths.socket) ? undefined : true))
    }
  })
})

describe("logs -f with no supervisor running", () => {
  it("of a project task not run yet waits for it, as where one runs: `taskmux start` in another terminal", async () => {
    const project = tempProject({ later: { command: "echo hello from later; sleep 60" } })
    const paths = runtimePaths(project)
    expect((await cli(["ps"], { cwd: project })).stdout).toContain("No taskmux supervisor runs")
    const follow = cliProcess(["logs", "-f", "later"], project)
    const connection = await until(() => connectIfRunning(paths, "cli"))
    connection.socket.destroy()
    try {
      await until(() => follow.stderr().includes("[later has not run yet: following it once it starts]") || undefined)
      expect((await cli(["start", "later"], { cwd: project })).code).toBe(0)
      await until(() => follow.stdout().includes("hello from later\n") || undefined)
      expect((await cli(["stop", "later"], { cwd: project })).code).toBe(0)
      expect(await follow.exited).toBe(0)
    } finally {
      process.kill(connection.welcome.pid, "SIGTERM")
      await until(() => (existsSync(paths.socket) ? undefined : true))
    }
  })
})

describe("started in a directory that has been deleted", () => {
  /** `taskmux ARGS` run by a shell whose working directory is removed just before the exec. */
  const fromDeleted = (args: ReadonlyArray<string>) => {
    const dir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-gone-"))
    const line = `cd "$1" && rmdir "$1" && shift && exec "$@"`
    const ran = spawnSync("/bin/sh", ["-c", line, "sh", dir, process.execPath, serverEntry, ...args], {
      cwd: os.tmpdir(),
      env: { ...process.env, TASKMUX_PROJECT: "" },
      encoding: "utf8",
      timeout: 20_000
    })
    return { code: ran.status, stdout: ran.stdout, stderr: ran.stderr }
  }

  it.each([[["ps"]], [["--isolated"]]])("%j says so in a line and exits 2, no stack trace", (args) => {
    const ran = fromDeleted(args)
    expect(ran.code).toBe(2)
    expect(ran.stderr).toBe(
      "taskmux: the working directory no longer exists (it was deleted): cd into one that does, or give --project with an absolute path\n"
    )
    expect(ran.stdout).toBe("")
  })

  it("with --project it works there", () => {
    const project = tempProject()
    const ran = fromDeleted(["ps", "--project", project])
    expect(ran).toMatchObject({ code: 0, stderr: "" })
    expect(ran.stdout).toContain("No taskmux supervisor runs for")
  })
})

describe("the built entry point", () => {
  it.each(CLI_COMMANDS.map((name) => [name]))("sends `taskmux %s` to the command line, which knows it", (name) => {
    const ran = spawnSync(process.execPath, [serverEntry, name, "--help"], { cwd: os.tmpdir(), encoding: "utf8" })
    expect(ran.status, ran.stderr).toBe(0)
    expect(ran.stdout).toContain(`taskmux ${name}`)
  })
})
