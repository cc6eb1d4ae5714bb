/**
 * The command line against a real supervisor, shared with an assistant's session (the SDK's Client
 * through a real front): what the session started, the person sees, follows, stops and types into.
 */
import type * as NodePty from "@lydell/node-pty"
import type * as XtermHeadless from "@xterm/headless"
import { spawn } from "node:child_process"
import { mkdtempSync, realpathSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { connectIfRunning } from "../../src/daemon/connect.ts"
import { runtimePaths } from "../../src/daemon/runtimePaths.ts"
import { builtCli } from "../builtCli.ts"
import { connect, type Connected, freePort, serverEntry } from "../e2e/client.ts"
import { isAlive, rssOf } from "../helpers.ts"
import { python, until } from "./helpers.ts"

const runtime = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-live-rt-"))
const project = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-live-"))
writeFileSync(
  NodePath.join(project, "taskmux.json"),
  JSON.stringify({
    tasks: {
      db: { command: "sleep 300" },
      web: { command: "sleep 300", dependsOn: { db: "started" } },
      // Colour, a window title and a redraw, as programs print them: the CLI shows the text a terminal would.
      api: {
        command:
          "echo api one; printf 'api \\033[32mtwo\\033[0m\\033]0;title\\007\\n'; printf 'api 10%%\\rapi three\\n'; sleep 300"
      }
    }
  })
)
const { PYTHONUNBUFFERED: _, ...baseEnv } = process.env
const env = { ...baseEnv, XDG_RUNTIME_DIR: runtime, TASKMUX_ISOLATED: "false", TASKMUX_LINGER_MS: "300" }

/** The built CLI, as a person runs it: `taskmux ARGS` in the project. */
const taskmux = builtCli(project, env)

const supervisorPid = async () => {
  const c = await connectIfRunning(runtimePaths(project, { XDG_RUNTIME_DIR: runtime }), "cli")
  c?.socket.destroy()
  return c?.welcome.pid
}

/**
 * `taskmux attach NAME` on a real pseudo-terminal of `cols` × `rows`: what it shows, and its exit code
 * (in this file's project, or in `at`'s).
 */
const attachOnPty = async (name: string, cols: number, rows: number, at = { project, env }) => {
  const module = await import("@lydell/node-pty")
  const pty = ((module as { default?: typeof NodePty }).default ?? module) as typeof NodePty
  const term = pty.spawn(process.execPath, [serverEntry, "attach", name], {
    cols,
    rows,
    cwd: at.project,
    env: { ...at.env, TERM: "xterm-256color" } as Record<string, string>
  })
  let output = ""
  term.onData((data) => (output += data))
  const exited = new Promise<number>((resolve) => term.onExit(({ exitCode }) => resolve(exitCode)))
  return { term, output: () => output, exited }
}

/** A python3 REPL the session starts on a terminal, with `taskmux attach` to it showing its prompt. */
const replAttached = async (s: Connected, name: string, cols: number, rows: number) => {
  await s.structured("start_task", { command: "python3 -q", name, terminal: true, waitFor: { pattern: ">>>" } })
  const attached = await attachOnPty(name, cols, rows)
  await until(() => attached.output().includes(">>>") ? true : undefined, 15_000)
  return attached
}

describe("taskmux ps, logs, stop, start and attach on a live supervisor", () => {
  const session = connect({ XDG_RUNTIME_DIR: runtime, TASKMUX_PROJECT: project, TASKMUX_ISOLATED: "false" })
  afterAll(async () => {
    await (await session).client.close()
    const pid = await supervisorPid()
    if (pid !== undefined) process.kill(pid, "SIGTERM")
  })

  it("shows an assistant's tasks, follows one to its end, and stops another", async () => {
    const s = await session
    await s.structured("start_task", {
      command: python("import time\nfor i in range(30):\n  print('line', i, flush=True)\n  time.sleep(0.05)"),
      name: "counter"
    })
    const sleeper = await s.structured<{ pid: number }>("start_task", { command: "sleep 300", name: "sleeper" })
    const ps = await taskmux(["ps", "--json"])
    expect(ps.code).toBe(0)
    const rows = JSON.parse(ps.stdout) as Array<{ name: string; status: string; owner?: string }>
    expect(rows.find((r) => r.name === "sleeper")).toMatchObject({ status: "running", owner: "other" })
    // The table ends with which project it is (a subdirectory's command may mean a project above it),
    // and whom to kill to end it all.
    expect((await taskmux(["ps"])).stderr).toContain(
      `${realpathSync(project)}: supervisor pid ${await supervisorPid()}, 1 other session\n`
    )
    const follow = await taskmux(["logs", "-f", "counter", "--tail", "1000"])
    expect(follow.code).toBe(0)
    expect(follow.stdout.trimEnd().split("\n")).toEqual(Array.from({ length: 30 }, (_, i) => `line ${i}`))
    expect((await taskmux(["stop", "sleeper"])).code).toBe(0)
    expect(isAlive(sleeper.pid)).toBe(false)
    const unknown = await taskmux(["stop", "nope"])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/No task named "nope"\. Known tasks: .*counter/)
  })

  it("follows a task's output across a restart another session asks for, to its stop", async () => {
    const s = await session
    await s.structured("start_task", {
      command: python("import time\ni = 0\nwhile True:\n  print('tick', i, flush=True); i += 1; time.sleep(0.02)"),
      name: "ticker",
      waitFor: { pattern: "tick 3" }
    })
    const follow = spawn(process.execPath, [serverEntry, "logs", "-f", "ticker", "--tail", "0"], { cwd: project, env })
    let out = ""
    follow.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => follow.once("close", resolve))
    await until(() => (out.match(/tick/g)?.length ?? 0) >= 5 ? true : undefined, 15_000)
    await s.structured("restart_task", { name: "ticker" })
    await until(() => /── run 2 ──\ntick 0\ntick 1\n/.test(out) ? true : undefined, 30_000)
    await s.structured("stop_task", { name: "ticker" })
    expect(await exited).toBe(0)
  })

  it("logs -f of a project task that is removed ends as a removal: the task is defined again, not an error", async () => {
    const s = await session
    await s.structured("start_task", { name: "api", waitFor: { pattern: "api three" } })
    const follow = spawn(process.execPath, [serverEntry, "logs", "-f", "api", "--json"], { cwd: project, env })
    let out = ""
    follow.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => follow.once("close", resolve))
    await until(() => out.includes("api three") ? true : undefined, 15_000)
    await s.structured("remove_task", { name: "api" })
    expect(await exited).toBe(0)
    expect(JSON.parse(out.trimEnd().split("\n").at(-1)!)).toEqual({ ended: "removed" })
  })

  it("logs -f of a task removed by another session says who removed it and when", async () => {
    const s = await session
    await s.structured("start_task", {
      command: python("print('up', flush=True)\nimport time\ntime.sleep(300)"),
      name: "gone",
      waitFor: { pattern: "up" }
    })
    const follow = spawn(process.execPath, [serverEntry, "logs", "-f", "gone"], { cwd: project, env })
    let out = ""
    let err = ""
    follow.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    follow.stderr.on("data", (chunk: Buffer) => (err += chunk.toString()))
    const exited = new Promise<number | null>((resolve) => follow.once("close", resolve))
    await until(() => out.includes("up") ? true : undefined, 15_000)
    await s.structured("remove_task", { name: "gone" })
    expect(await exited).toBe(0)
    expect(err).toMatch(/gone was removed by remove_task from \S+ at \S+Z/)
  })

  it("restart of an assistant's server waits for it to listen again on its port, as a person expects", async () => {
    const s = await session
    const port = await freePort()
    // Listens a second after it starts, as a dev server that builds first.
    await s.structured("start_task", {
      command: `sleep 1; exec python3 -m http.server ${port} --bind 127.0.0.1`,
      name: "slowweb",
      waitFor: { port }
    })
    const restarted = await taskmux(["restart", "slowweb"])
    expect(restarted.code).toBe(0)
    expect(restarted.stdout).toMatch(new RegExp(`"slowweb" is listening on port ${port} after`))
    // The advice to wait was taken, not printed.
    expect(restarted.stdout).not.toContain("wait_for_task")
    const ports = await s.structured<{ ports: Array<number> }>("get_task", { name: "slowweb" })
    expect(ports.ports).toEqual([port])
    await s.structured("stop_task", { name: "slowweb" })
    // One given port 0 listens elsewhere each run: its new port is what it waits for.
    await s.structured("start_task", {
      command: "python3 -m http.server 0 --bind 127.0.0.1",
      name: "anyport",
      waitFor: { port: "any" }
    })
    const again = await taskmux(["restart", "anyport"])
    expect(again.code, again.stderr).toBe(0)
    expect(again.stdout).toMatch(/"anyport" is listening on port \d+ after/)
    await s.structured("stop_task", { name: "anyport" })
  })

  it("stop and logs of a project task that went with its session say so, and logs shows its last lines", async () => {
    await session
    const other = await connect({ XDG_RUNTIME_DIR: runtime, TASKMUX_PROJECT: project, TASKMUX_ISOLATED: "false" })
    await other.structured("start_task", { name: "api", waitFor: { pattern: "api three" } })
    await other.client.close()
    const s = await session
    await until(async () => {
      const { tasks } = await s.structured<{ tasks: Array<{ name: string; status: string }> }>("list_tasks")
      return tasks.find((t) => t.name === "api")?.status === "defined" ? true : undefined
    })
    const stop = await taskmux(["stop", "api"])
    expect(stop.code).toBe(0)
    expect(stop.stderr).toBe("\"api\" is not running (it went with its session); nothing to stop.\n")
    const logs = await taskmux(["logs", "api", "--tail", "2"])
    expect(logs).toMatchObject({ code: 0, stdout: "api two\napi three\n" })
    expect(logs.stderr).toContain("\"api\" went with its session; shown from its log file")
    // Followed, with --json: its last lines, then how the follow ended, as for a task removed while followed.
    const followed = await taskmux(["logs", "api", "-f", "--json", "--tail", "1"])
    expect(followed).toMatchObject({ code: 0, stdout: "{\"text\":\"api three\"}\n{\"ended\":\"removed\"}\n" })
  })

  it("logs -f into a pipe nobody empties holds there: its memory does not grow with the task's output", async () => {
    const s = await session
    await s.structured("start_task", { command: `yes ${"y".repeat(200)}`, name: "flood" })
    const follow = spawn(process.execPath, [serverEntry, "logs", "-f", "flood", "--tail", "0"], {
      cwd: project,
      env,
      stdio: ["ignore", "pipe", "ignore"]
    })
    const rss = () => rssOf(follow.pid!)
    try {
      await new Promise((resolve) => setTimeout(resolve, 2000))
      const early = rss()
      await new Promise((resolve) => setTimeout(resolve, 6000))
      // It read a page and waits for the pipe (1.5 GB a minute before it waited).
      expect((rss() - early) / 1e6).toBeLessThan(50)
    } finally {
      follow.kill("SIGKILL")
      await s.structured("stop_task", { name: "flood" })
    }
  }, 30_000)

  it("starts a project task after its dependencies, kept: it outlives the command", async () => {
    const s = await session
    expect((await taskmux(["start", "web"])).code).toBe(0)
    const listed = (await s.structured<{ tasks: Array<{ name: string; status: string; owner?: string }> }>(
      "list_tasks"
    )).tasks
    expect(listed.filter((t) => t.name === "db" || t.name === "web")).toEqual([
      expect.objectContaining({ name: "db", status: "running", owner: "kept" }),
      expect.objectContaining({ name: "web", status: "running", owner: "kept" })
    ])
  })

  it("attaches a person's terminal to a REPL the assistant started, and leaves it running on Ctrl-]", async () => {
    const s = await session
    const { exited, output: shown, term } = await replAttached(s, "repl", 90, 25)
    term.write("print(6*7)\r")
    await until(() => /\r?\n42\r?\n/.test(shown()) ? true : undefined)
    term.write("\x1d")
    expect(await exited).toBe(0)
    expect(shown()).toContain("detached from repl; it keeps running")
    // How to leave was said first (a person's Ctrl-C would stop the REPL), and in the title, given back after.
    const notice = shown().indexOf("Ctrl-] detaches, leaving it running; Ctrl-C goes to the task")
    expect(notice).toBeGreaterThan(-1)
    expect(notice).toBeLessThan(shown().indexOf(">>>"))
    expect(shown()).toContain("\x1b[22;0t\x1b]2;repl: taskmux attach, Ctrl-] detaches\x07")
    expect(shown()).toContain("\x1b[23;0t")
    const read = await s.structured<{ lines: Array<{ text: string }> }>("read_output", { name: "repl" })
    expect(read.lines.map((l) => l.text)).toContain("42")
  })

  it("attach says in its exit code that the task crashed while attached (python3's exit(5)): 1; a clean end 0", async () => {
    const s = await session
    for (const [code, exit] of [[5, 1], [0, 0]] as const) {
      const { exited, output: shown, term } = await replAttached(s, `py${code}`, 80, 20)
      term.write(`exit(${code})\r`)
      expect(await exited).toBe(exit)
      expect(shown()).toContain(code === 0 ? `py${code} ended (exited 0)` : `py${code} ended (crashed 5)`)
    }
  })

  it("attach to a task whose session ends says it was stopped with that session, and exits 0", async () => {
    const other = await connect({ XDG_RUNTIME_DIR: runtime, TASKMUX_PROJECT: project, TASKMUX_ISOLATED: "false" })
    const { exited, output: shown } = await replAttached(other, "theirs", 80, 20)
    await other.client.close()
    expect(await exited).toBe(0)
    expect(shown()).toContain("theirs ended (stopped): Stopped when its session (taskmux-e2e) ended.")
  })

  it("attach ended by SIGTERM gives the terminal back as a detach does (modes reset), exit 143; the task runs on", async () => {
    const s = await session
    const { exited, output: shown, term } = await replAttached(s, "termed", 80, 20)
    // The program asked for bracketed paste: the person's terminal must not keep it.
    term.write("print('\\x1b[?2004h' + 'pasting on')\r")
    await until(() => shown().includes("pasting on") ? true : undefined)
    process.kill(term.pid, "SIGTERM")
    expect(await exited).toBe(143)
    const after = shown().slice(shown().lastIndexOf("pasting on"))
    expect(after).toMatch(new RegExp(String.raw`\x1b\[\?2004l[^]*detached from termed; it keeps running \(SIGTERM\)`))
    expect(await s.structured("get_task", { name: "termed" })).toMatchObject({ status: "running" })
    await s.structured("stop_task", { name: "termed" })
  })

  it("attach to a terminal task that has ended shows the screen it left, then why it cannot attach", async () => {
    const s = await session
    await s.structured("start_task", {
      command: "printf 'Build finished: 3 warnings\\n'",
      name: "ended",
      terminal: true,
      waitFor: { exit: true }
    })
    const { exited, output: shown } = await attachOnPty("ended", 80, 10)
    const code = await exited
    expect(code).toBe(1)
    expect(shown()).toMatch(/Build finished: 3 warnings[^]*"ended" is not running \(exited 0\)/)
    // One that could not start says why, not to run it again (which would fail the same way).
    const failed = await s.call("start_task", { command: "/no/such/program", args: [], name: "never", terminal: true })
    expect(failed.isError).toBe(true)
    const never = await attachOnPty("never", 80, 10)
    expect(await never.exited).toBe(1)
    expect(never.output()).toContain("\"never\" is not running: Command \"/no/such/program\" was not found.")
    expect(never.output()).not.toContain("taskmux restart")
  })

  it("attach draws the screen as it is, relays long shown() whole, and gives back the screen and size on detach", async () => {
    const s = await session
    await s.structured("start_task", {
      command: "bash",
      args: ["--norc", "--noprofile", "-i"],
      env: { PS1: "$ " },
      name: "shell",
      terminal: true,
      cols: 60,
      rows: 10,
      waitFor: { pattern: "^\\$ $" }
    })
    // The assistant typed a command and moved the cursor back before "world".
    await s.structured("send_input", { name: "shell", data: `echo hello world${"\u001b[D".repeat(5)}` })
    const { exited, output: shown, term } = await attachOnPty("shell", 70, 12)
    await until(() => shown().includes("echo hello world") ? true : undefined, 15_000)
    // What the person types lands where the program's cursor is, and shows there.
    term.write("XY\r")
    await until(() => shown().includes("hello XYworld") ? true : undefined)
    const xterm = await import("@xterm/headless")
    const { Terminal } = ((xterm as { default?: unknown }).default ?? xterm) as typeof XtermHeadless
    const screen = new Terminal({ cols: 70, rows: 12, allowProposedApi: true })
    await new Promise<void>((resolve) => screen.write(shown(), resolve))
    const rows = Array.from({ length: 12 }, (_, i) => screen.buffer.active.getLine(i)!.translateToString(true))
    // The command it ran says where the keys landed (bash's own redraw of the line it edits varies with
    // when the resize to this window reached it: "XYrld" was seen once).
    expect(rows).toContain("hello XYworld")
    // The person's window resized while attached: the task takes the new size, and gives it back on detach.
    term.resize(80, 14)
    await until(async () => {
      const { terminal } = await s.structured<{ terminal: { cols: number } }>("get_task", { name: "shell" })
      return terminal.cols === 80 ? true : undefined
    })
    // A full-screen program's 20,000 characters without a newline come as written: no line break at the
    // buffer's line limit (8 KiB) inside them.
    const long = "x".repeat(20_000)
    term.write(
      `python3 -c "import sys,time; sys.stdout.write('\\x1b[?1049h' + 'x' * 20000 + 'END'); sys.stdout.flush(); time.sleep(60)"\r`
    )
    await until(() => shown().includes(`${long}END`) ? true : undefined, 15_000)
    term.write("\x1d")
    expect(await exited).toBe(0)
    // Detached, the person's terminal leaves the program's alternate screen before saying so.
    expect(shown().slice(shown().lastIndexOf("END"))).toMatch(
      new RegExp(String.raw`\x1b\[\?1049l[^]*detached from shell`)
    )
    // And the task has its own size back.
    expect((await s.structured<{ terminal: unknown }>("get_task", { name: "shell" })).terminal).toEqual({
      cols: 60,
      rows: 10
    })
    await s.structured("stop_task", { name: "shell" })
  })
})

describe("attach when its supervisor dies", () => {
  it("says so on a line of its own, not after the task's prompt, and exits 1", async () => {
    const at = {
      project: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-live-killed-")),
      env: { ...env, XDG_RUNTIME_DIR: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-live-killed-rt-")) }
    }
    const s = await connect({
      XDG_RUNTIME_DIR: at.env.XDG_RUNTIME_DIR,
      TASKMUX_PROJECT: at.project,
      TASKMUX_ISOLATED: "false"
    })
    try {
      await s.structured("start_task", {
        command: "python3 -q",
        name: "repl",
        terminal: true,
        waitFor: { pattern: ">>>" }
      })
      const { exited, output: shown } = await attachOnPty("repl", 80, 20, at)
      await until(() => shown().includes(">>> ") ? true : undefined, 15_000)
      const c = await connectIfRunning(runtimePaths(at.project, { XDG_RUNTIME_DIR: at.env.XDG_RUNTIME_DIR }), "cli")
      c?.socket.destroy()
      process.kill(c!.welcome.pid, "SIGKILL")
      expect(await exited).toBe(1)
      const said = shown().indexOf("The taskmux supervisor for")
      expect(said).toBeGreaterThan(-1)
      // The words start a line: the prompt the screen ended with is not run into them.
      expect(shown().slice(0, said)).toMatch(/\n$/)
    } finally {
      await s.client.close().catch(() => {})
    }
  })
})

describe("restart of another command run under a project task's name", () => {
  it("does not wait for the file's ready line, which that command never prints; the tool does not advise it", async () => {
    const at = {
      project: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-live-other-")),
      runtime: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-live-other-rt-"))
    }
    writeFileSync(
      NodePath.join(at.project, "taskmux.json"),
      JSON.stringify({
        tasks: {
          web: { command: "echo listening on 8080; sleep 300", waitFor: { pattern: "listening on", timeoutMs: 5000 } }
        }
      })
    )
    const s = await connect({ XDG_RUNTIME_DIR: at.runtime, TASKMUX_PROJECT: at.project, TASKMUX_ISOLATED: "false" })
    try {
      await s.structured("start_task", { name: "web", command: "echo serving; sleep 300", cwd: at.project })
      const restarted = await s.call("restart_task", { name: "web" })
      const said = restarted.content.map((c) => c.type === "text" ? c.text : "").join("")
      expect(said).toContain("The project file gives \"web\" another command than this run was started with")
      expect(said).not.toContain("Its file says when it is ready")
      const ran = await builtCli(at.project, { ...env, XDG_RUNTIME_DIR: at.runtime })(["restart", "web"])
      expect([ran.code, ran.stderr]).toEqual([0, ""])
      expect(ran.stdout).toMatch(/^Restarted task "web" \(pid \d+\)\. The project file gives "web" another command/)
      expect(ran.stdout).not.toContain("not ready in time")
    } finally {
      await s.client.close().catch(() => {})
    }
  })
})
