/**
 * Issue 14 over real stdio, with real programs failing as they do for users: a run to its end in
 * one call, summaries that show the cause (a Vite port clash, a Python traceback, a failing tsc
 * build, a missing command), and the environment a task got.
 */
import { LoggingMessageNotificationSchema, ProgressNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { spawn } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as NodePath from "node:path"
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest"
import { asOtherUser } from "../helpers.ts"
import { accepting, connect, type Connected, freePort, serverEntry, tempDir, textOf, until } from "./client.ts"

interface Waited {
  readonly status: string
  readonly matched: boolean
  readonly timedOut: boolean
  readonly exitCode: number | null
  readonly durationMs?: number
  readonly line?: { readonly text: string }
  readonly lastLines: Array<string>
  readonly errorLines?: Array<{ readonly seq: number; readonly stream?: string; readonly text: string }>
  readonly hint?: string
  readonly nextCursor: number
}

const bin = (name: string) => NodePath.resolve(import.meta.dirname, "../../node_modules/.bin", name)

let s: Connected
/** A server whose start looks 5 s for an immediate end (100 ms by default): "at once" on a loaded machine. */
let patient: Connected
beforeAll(async () => {
  s = await connect()
  patient = await connect({ TASKMUX_EARLY_END_MS: "5000" })
})
afterAll(async () => {
  await s.client.close()
  await patient.client.close()
})

const run = async (args: Record<string, unknown>) => {
  const result = await s.call("start_task", args)
  expect(result.isError, textOf(result)).toBeFalsy()
  return { waited: result.structuredContent as unknown as Waited, text: textOf(result) }
}

describe("a run to its end in one call", () => {
  const tests = tempDir({
    "test_math.py": `import unittest
class MathTest(unittest.TestCase):
    def test_add(self):
        self.assertEqual(1 + 1, 2)
    def test_div(self):
        self.assertEqual(7 // 2, 4, "floor division")
`
  })

  it("cuts a long line of emoji in an answer between characters, never in half of one (a lone surrogate, which Python's and Rust's JSON refuse)", async () => {
    const { text, waited } = await run({
      command: "python3",
      // Cut at 299 UTF-16 units: "ERROR " and 146 emoji, then the first half of the 147th.
      args: ["-c", "raise SystemExit('ERROR ' + '🔥' * 400)"],
      name: "emoji",
      waitFor: { exit: true }
    })
    const lone = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/
    const shown = [...waited.lastLines, ...(waited.errorLines ?? []).map((line) => line.text), text]
    expect(shown.filter((line) => lone.test(line))).toEqual([])
    expect(waited.lastLines).toEqual([`ERROR ${"🔥".repeat(146)}…`])
  })

  it("waitFor: { exit: true } answers with how it ended, how long it ran, and what failed", async () => {
    const { text, waited } = await run({
      command: "python3 -m unittest -v",
      cwd: tests,
      name: "unittest",
      waitFor: { exit: true }
    })
    expect(waited).toMatchObject({ status: "crashed", exitCode: 1, matched: true, timedOut: false })
    expect(waited.durationMs).toBeGreaterThan(0)
    expect(waited.lastLines.at(-1)).toBe("FAILED (failures=1)")
    // The failing test's name above, its assertion among the last lines.
    expect(waited.errorLines?.map((l) => l.text)).toContain("FAIL: test_div (test_math.MathTest.test_div)")
    expect(waited.lastLines).toContain("AssertionError: 3 != 4 : floor division")
    expect(text).toMatch(
      /^Started task "unittest" \(pid \d+\)\. "unittest" ended \(crashed, exit code 1\) after running \d+\.\d s\./
    )
    expect(text).toMatch(
      /Looks like the cause:\n(.*\n)* {2}\[\d+\] ! FAIL: test_div .*\n(.*\n)*Last lines:\n(.*\n)*AssertionError: 3 != 4/
    )
  })

  it("a run that ended well says what errors it printed, not that they look like the cause", async () => {
    // A REPL session that showed a traceback, printed on, then exited 0.
    const { text, waited } = await run({
      command: "printf '1/0\\nfor i in range(30): print(i)\\n\\nexit(0)\\n' | python3 -i -q",
      name: "repl-traceback",
      waitFor: { exit: true }
    })
    expect(waited).toMatchObject({ status: "exited", exitCode: 0 })
    expect(waited.errorLines?.map((l) => l.text)).toContain("ZeroDivisionError: division by zero")
    expect(text).toContain("Errors it printed:")
    expect(text).not.toContain("Looks like the cause")
  })

  it("with a pattern it says whether a line matched on the way", async () => {
    const { waited } = await run({
      command: "python3 -m unittest",
      cwd: tests,
      name: "unittest-ran",
      waitFor: { exit: true, pattern: "^Ran \\d+ tests" }
    })
    expect(waited).toMatchObject({ status: "crashed", matched: true })
    expect(waited.line?.text).toMatch(/^Ran 2 tests in /)
  })

  it("wait_for_task { exit: true } sends progress while it runs; exit with a port is refused", async () => {
    await s.structured("start_task", { command: "sleep 2.5; echo built", name: "build" })
    const progress: Array<string> = []
    s.client.setNotificationHandler(ProgressNotificationSchema, (n) => void progress.push(n.params.message ?? ""))
    const result = await s.client.callTool(
      { name: "wait_for_task", arguments: { name: "build", exit: true } },
      undefined,
      {
        onprogress: () => {}
      }
    )
    expect(result.structuredContent).toMatchObject({
      status: "exited",
      exitCode: 0,
      matched: true,
      lastLines: ["built"]
    })
    expect(progress.length).toBeGreaterThan(0)
    const refused = await s.call("wait_for_task", { name: "build", exit: true, port: 3000 })
    expect(refused.isError).toBe(true)
    expect(textOf(refused)).toMatch(/exit waits for the end and port for a listening port: pass one of them/)
  })
})

describe("a start that ends at once says so", () => {
  it("a missing program: the answer gives its end, exit code and summary, without waitFor", async () => {
    const { text, waited } = await run({ command: "definitely-not-installed --port 3000", name: "typo" })
    expect(waited).toMatchObject({ status: "crashed", exitCode: 127, matched: true, timedOut: false })
    expect(waited.lastLines.join("\n")).toMatch(/definitely-not-installed: (command )?not found/)
    expect(text).toMatch(
      /^Started task "typo" \(pid \d+\)\. "typo" ended \(crashed, exit code 127: command not found\)/
    )
  })

  it("keep on a server alone (--isolated) says the task ends with the session all the same, and lists it as yours", async () => {
    const { text } = await run({ command: "sleep 30", name: "kept-alone", keep: true })
    expect(text).toMatch(/keep: this server runs alone \(--isolated\), so this task ends with this session/)
    const listed = await s.structured<{ tasks: Array<{ name: string; owner: string }> }>("list_tasks")
    expect(listed.tasks.find((t) => t.name === "kept-alone")?.owner).toBe("you")
    await s.structured("stop_task", { name: "kept-alone" })
  })

  it("a restart whose new run ends at once says so, as a start does", async () => {
    const script = NodePath.join(tempDir({ "serve.sh": "echo serving; sleep 30\n" }), "serve.sh")
    await patient.call("start_task", { command: `sh ${script}`, name: "moved", waitFor: { pattern: "serving" } })
    rmSync(script)
    const restarted = await patient.call("restart_task", { name: "moved" })
    expect(restarted.structuredContent).toMatchObject({ status: "crashed", exitCode: 2 })
    expect(textOf(restarted)).toMatch(
      /^Restarted task "moved" \(pid \d+\)\. It ended at once \(crashed, exit code 2\)\.\nLast lines:\n.*serve\.sh/
    )
  })

  it("a restart whose program was deleted (a rebuild under way) says its run before was stopped", async () => {
    const dir = tempDir({})
    const program = NodePath.join(dir, "serve")
    writeFileSync(program, "#!/bin/sh\necho serving\nexec sleep 30\n", { mode: 0o755 })
    await run({ command: program, args: [], name: "rebuilt", waitFor: { pattern: "serving" } })
    rmSync(program)
    const restarted = await s.call("restart_task", { name: "rebuilt" })
    expect(restarted.isError).toBe(true)
    expect(textOf(restarted)).toBe(
      `Command "${program}" was not found. Check the spelling, pass an absolute path, or leave out args to run it ` +
        "as a shell line. Its run before was stopped, so it is not running now: restart_task again once it can start."
    )
    // Not "never started": it ran.
    expect(textOf(await s.call("get_task", { name: "rebuilt" }))).toMatch(/^Task "rebuilt": could not start; pid null;/)
  })

  it("a ready answer gives the pid of the run that got ready, not of one its restart policy replaced", async () => {
    const dir = tempDir({})
    const waited = await s.structured<{ pid: number; matched: boolean }>("start_task", {
      command: "if [ -e ran ]; then echo ready; exec sleep 30; else touch ran; sleep 0.3; exit 1; fi",
      cwd: dir,
      name: "second-run",
      restart: { policy: "on-failure", backoffMs: 100 },
      waitFor: { pattern: "ready", timeoutMs: 15_000 }
    })
    expect(waited.matched).toBe(true)
    const now = await s.structured<{ pid: number; restarts: number }>("get_task", { name: "second-run" })
    expect(now.restarts).toBe(1)
    expect(waited.pid).toBe(now.pid)
    await s.structured("stop_task", { name: "second-run" })
  })

  it("a restart of a server says how to wait for it to listen again, on the port its last run had", async () => {
    const port = await freePort()
    await run({ command: `python3 -m http.server ${port} --bind 127.0.0.1`, name: "listens", waitFor: { port } })
    const restarted = await s.call("restart_task", { name: "listens" })
    const { hint } = restarted.structuredContent as { hint?: string }
    expect(hint).toBe(
      `Its last run listened on port ${port}: wait_for_task {"name":"listens","port":"any"} waits for this one ` +
        "to listen (a port of its own may differ: given as 0, or taken)."
    )
    // As it says.
    const waited = await s.structured<Waited>("wait_for_task", { name: "listens", port: "any" })
    expect(waited).toMatchObject({ matched: true, status: "running" })
    await s.structured("stop_task", { name: "listens" })
  })

  it("a task that keeps running answers running, and a later wait still sees its first lines", async () => {
    const { waited } = await run({ command: "echo ready; sleep 30", name: "early-lines" })
    expect(waited).toMatchObject({ status: "running" })
    expect(waited).not.toHaveProperty("lastLines")
    const ready = await s.structured<Waited>("wait_for_task", { name: "early-lines", pattern: "^ready$" })
    expect(ready.matched).toBe(true)
    await s.structured("stop_task", { name: "early-lines", force: true })
  })

  it("a task its restart policy runs again answers restarting, and how the run ended at once", async () => {
    const started = await patient.call("start_task", {
      command: "pythn3 worker.py",
      name: "again",
      restart: { policy: "on-failure", backoffMs: 5_000 }
    })
    const waited = started.structuredContent as unknown as Waited
    const text = textOf(started)
    expect(waited).toMatchObject({ status: "restarting", exitCode: 127, signal: null })
    expect(waited.lastLines).toEqual([expect.stringMatching(/pythn3: (command )?not found/)])
    expect(text).toMatch(
      /^Started task "again" \(pid \d+\)\. It ended at once \(crashed, exit code 127: command not found\); its restart policy runs it again\. The shell looked for it on the task's PATH: /
    )
    expect(text).toMatch(/\nLast lines:\n.*pythn3: (command )?not found$/)
    // Its name is taken while it waits to run again: said as it is, not as a run with a dead pid.
    const taken = await patient.call("start_task", { command: "python3 worker.py", name: "again" })
    expect(textOf(taken)).toMatch(
      /^A task named "again" is restarting \(its restart policy runs it again in \d\.\d s\)\./
    )
    await patient.structured("stop_task", { name: "again" })
  })

  it("concurrent starts look for an early end side by side, not one after another", async () => {
    const t0 = Date.now()
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => run({ command: "sleep 30", name: `side-${i}`, notifyOnExit: false }))
    )
    // One after another, 40 looks of 100 ms would take 4 s.
    expect(Date.now() - t0).toBeLessThan(3_000)
    await Promise.all(Array.from({ length: 40 }, (_, i) => s.structured("remove_task", { name: `side-${i}` })))
  })
})

describe("a ready answer shows what the task printed", () => {
  it("Vite ready on its port: its Local URL is among the last lines", async () => {
    const port = await freePort()
    const { text, waited } = await run({
      command: `${bin("vite")} --port ${port} --strictPort`,
      cwd: tempDir({ "index.html": "<h1>ready</h1>" }),
      name: "vite-ready",
      waitFor: { port: "any", timeoutMs: 20_000 }
    })
    expect(waited).toMatchObject({ matched: true, port })
    expect(waited.lastLines.join("\n")).toMatch(new RegExp(`Local:\\s+http://localhost:${port}/`))
    expect(text).toContain(`http://localhost:${port}/`)
    await s.structured("stop_task", { name: "vite-ready" })
  })

  it("a pattern that ignores case, as other languages write it: (?i) or /…/i", async () => {
    for (const pattern of ["(?i)server ready", "/server ready/i"]) {
      const { waited } = await run({ command: "echo 'SERVER READY'; sleep 30", name: "shouty", waitFor: { pattern } })
      expect(waited, pattern).toMatchObject({ matched: true, line: { text: "SERVER READY" } })
      await s.structured("remove_task", { name: "shouty" })
    }
  })

  it("a matched line comes last, after the lines before it, and none after it", async () => {
    const { waited } = await run({
      command: "echo one; echo two; echo 'listening on 8080'; sleep 0.2; echo later; sleep 30",
      name: "ready-lines",
      waitFor: { pattern: "listening on" }
    })
    expect(waited.lastLines).toEqual(["one", "two", "listening on 8080"])
    await s.structured("stop_task", { name: "ready-lines", force: true })
  })
})

describe("summaries that show the cause", () => {
  it("a Vite port clash: the error, though another task listens on the port", async () => {
    const port = await freePort()
    const vite = `${bin("vite")} --port ${port} --strictPort`
    await run({ command: vite, cwd: tempDir({ "index.html": "<h1>a</h1>" }), name: "web-a", waitFor: { port } })
    const { text, waited } = await run({
      command: vite,
      cwd: tempDir({ "index.html": "<h1>b</h1>" }),
      name: "web-b",
      waitFor: { port, timeoutMs: 20_000 }
    })
    expect(waited).toMatchObject({ status: "crashed", matched: false, timedOut: false })
    // Vite 8 prints five frames under it, so the error is among the last lines; with more it is
    // picked out above them (test/output/explain.test.ts).
    const shown = [...(waited.errorLines ?? []).map((l) => l.text), ...waited.lastLines]
    expect(shown).toContain(`Error: Port ${port} is already in use`)
    expect(text).toMatch(
      new RegExp(`without listening on port ${port}\\.\\n(.*\\n)*Error: Port ${port} is already in use`)
    )
    await s.structured("stop_task", { name: "web-a" })
  })

  it("Vite moving to the next port, its own taken by another task: the wait answers within seconds, not at its timeout", async () => {
    const port = await freePort()
    await run({
      command: `${bin("vite")} --port ${port} --strictPort`,
      cwd: tempDir({ "index.html": "<h1>a</h1>" }),
      name: "vite-first",
      waitFor: { port }
    })
    const t0 = Date.now()
    const { text, waited } = await run({
      command: `${bin("vite")} --port ${port}`,
      cwd: tempDir({ "index.html": "<h1>b</h1>" }),
      name: "vite-second",
      waitFor: { port, timeoutMs: 60_000 }
    })
    expect(Date.now() - t0).toBeLessThan(20_000)
    expect(waited).toMatchObject({ status: "running", matched: false, timedOut: false })
    expect(text).toMatch(
      new RegExp(
        `Stopped waiting after .*: "vite-second" is running, not listening on port ${port}\\. ` +
          `Port ${port} is held by task "vite-first" \\((?:pid|its process) \\d+\\)\\. It listens on port \\d+ instead\\.`
      )
    )
    expect(waited.lastLines.join("\n")).toMatch(/Port \d+ is in use, trying another one/)
    await s.structured("stop_task", { name: "vite-second" })
    await s.structured("stop_task", { name: "vite-first" })
  })

  it("a Python traceback", async () => {
    const { text, waited } = await run({
      command: "python3",
      args: ["-c", "import json\nconfig = json.loads('{port: 3000}')"],
      name: "py",
      waitFor: { exit: true }
    })
    expect(waited.status).toBe("crashed")
    expect(waited.lastLines.at(-1)).toMatch(/^json\.decoder\.JSONDecodeError: Expecting property name/)
    expect(text).toContain("json.decoder.JSONDecodeError: Expecting property name")
    // Its first line says a traceback came, not why: not offered as the cause.
    expect((waited.errorLines ?? []).map((l) => l.text)).not.toContain("Traceback (most recent call last):")
  })

  it("a chained Python traceback: the first exception's message, not the sentence that joins the two", async () => {
    const { waited } = await run({
      command: "python3",
      args: [
        "-c",
        "def load():\n  try:\n    open('/nonexistent/config.yaml')\n  except OSError as e:\n" +
        "    raise RuntimeError('could not load config') from e\n" +
        "def a(): load()\ndef b(): a()\ndef c(): b()\nc()"
      ],
      name: "py-chained",
      waitFor: { exit: true }
    })
    expect(waited.lastLines.at(-1)).toBe("RuntimeError: could not load config")
    expect((waited.errorLines ?? []).map((l) => l.text)).toEqual([
      "FileNotFoundError: [Errno 2] No such file or directory: '/nonexistent/config.yaml'"
    ])
  })

  it("a failing tsc build: the first errors, then its count", async () => {
    const dir = tempDir({
      "a.ts": "export const port: number = \"3000\"\n",
      "b.ts": "import { missing } from \"./nowhere\"\nexport const x = missing\n"
    })
    const { waited } = await run({
      command: `${bin("tsc")} --noEmit --pretty false --strict a.ts b.ts`,
      cwd: dir,
      name: "tsc",
      waitFor: { exit: true, timeoutMs: 60_000 }
    })
    expect(waited).toMatchObject({ status: "crashed", exitCode: 2 })
    const shown = [...(waited.errorLines ?? []).map((l) => l.text), ...waited.lastLines].join("\n")
    expect(shown).toMatch(/a\.ts\(1,14\): error TS2322/)
    expect(shown).toMatch(/b\.ts\(1,25\): error TS2307/)
  })

  it("a missing command", async () => {
    const { text, waited } = await run({
      command: "definitely-not-installed --port 3000",
      name: "missing",
      waitFor: { exit: true }
    })
    expect(waited).toMatchObject({ status: "crashed", exitCode: 127 })
    expect(text).toMatch(/ended \(crashed, exit code 127: command not found\)/)
    expect(waited.lastLines.join("\n")).toMatch(/definitely-not-installed: (command )?not found/)
    // Where it looked: the task's PATH, which is the server's, not a person's terminal's.
    expect(waited.hint).toMatch(/^The shell looked for it on the task's PATH: \/.*give the program's full path/)
    expect(text).toContain("The shell looked for it on the task's PATH: ")
    // A full path that is missing was not looked for on PATH: the shell's own line says what is wrong.
    const given = await run({ command: "/nonexistent/prog --port 3000", name: "given", waitFor: { exit: true } })
    expect(given.waited).toMatchObject({ status: "crashed", exitCode: 127 })
    expect(given.waited.lastLines.join("\n")).toMatch(/\/nonexistent\/prog: No such file or directory/)
    expect(given.waited.hint).toBeUndefined()
  })

  it("a program that needs a terminal, run on pipes, is told to run with terminal: true", async () => {
    // A keypress prompt's raw mode, on a pipe: Python's termios says "Inappropriate ioctl for device".
    const { text, waited } = await run({
      command: "python3",
      args: ["-c", "import sys, tty; tty.setraw(sys.stdin.fileno())"],
      name: "raw",
      waitFor: { exit: true }
    })
    expect(waited).toMatchObject({ status: "crashed", exitCode: 1 })
    expect(waited.hint).toMatch(/^It needs a terminal: start it with terminal: true/)
    expect(text).toContain("It needs a terminal")
  })

  it("a wait that timed out on a task that printed nothing at all says so", async () => {
    const { text, waited } = await run({
      command: "sleep 30",
      name: "silent",
      waitFor: { pattern: "ready", timeoutMs: 300 }
    })
    expect(waited).toMatchObject({ timedOut: true, lastLines: [] })
    expect(text).toMatch(/It has printed nothing at all\./)
    await s.structured("stop_task", { name: "silent" })
  })

  it("a wait whose task someone stopped says who", async () => {
    await run({ command: "sleep 30", name: "stopped-by" })
    const waiting = s.structured<Waited>("wait_for_task", { name: "stopped-by", exit: true })
    await new Promise((resolve) => setTimeout(resolve, 200))
    await s.structured("stop_task", { name: "stopped-by" })
    const waited = await waiting
    expect(waited.status).toBe("stopped")
    expect(waited.hint).toMatch(/^Stopped by stop_task from \S+\.$/)
  })

  it("the same start again (a client that gave up waiting) is told how to wait for the run it started", async () => {
    await run({ command: "sleep 30", name: "long-tests" })
    const again = await s.call("start_task", { command: "sleep 30", name: "long-tests", waitFor: { exit: true } })
    expect(again.isError).toBe(true)
    expect(textOf(again)).toMatch(
      /It runs this same command: wait_for_task \{ name: "long-tests", exit: true \} waits for its end/
    )
    const other = await s.call("start_task", { command: "sleep 31", name: "long-tests" })
    expect(textOf(other)).toMatch(/Stop it with stop_task, restart it with restart_task, or choose another name\.$/)
    await s.structured("stop_task", { name: "long-tests" })
  })

  it("the same server command again, without a wait for its end, is pointed at the run it has and restart_task", async () => {
    await run({ command: "sleep 30", name: "same-server" })
    const again = await s.call("start_task", { command: "sleep 30", name: "same-server" })
    expect(again.isError).toBe(true)
    expect(textOf(again)).toMatch(
      /It runs this same command already: use it as it is, or restart_task \{ name: "same-server" \}/
    )
    expect(textOf(again)).not.toMatch(/exit: true/)
    await s.structured("stop_task", { name: "same-server" })
  })

  it("a wait's last lines leave out what an answer gave the caller already, not what it typed past", async () => {
    await run({
      command: "echo one; echo two; echo ready; read x; echo got $x; echo ready again; sleep 30",
      name: "lines-once",
      waitFor: { pattern: "^ready$" }
    })
    const typed = await s.call("send_input", { name: "lines-once", data: "it\n" })
    expect(typed.isError).toBeFalsy()
    const answer = await s.call("wait_for_task", { name: "lines-once", pattern: "ready again" })
    const second = answer.structuredContent as unknown as Waited
    // "one", "two", "ready" were in the start's answer; "got it" was not, though the send passed it.
    expect(second.lastLines).toEqual(["got it", "ready again"])
    // Where to read on from, in the text too (a client may give its model only the text).
    expect(textOf(answer)).toMatch(new RegExp(`\\n\\[nextCursor ${second.nextCursor}\\]$`))
    // An explicit cursor still gets every line after it.
    const all = await s.structured<Waited>("wait_for_task", { name: "lines-once", pattern: "ready again", since: 0 })
    expect(all.lastLines).toEqual(["one", "two", "ready", "got it", "ready again"])
    await s.structured("stop_task", { name: "lines-once" })
  })

  it("a ready line guessed wrong on a server that listens: the timeout names its port and the wait that answers at once", async () => {
    await s.structured("start_task", {
      command: "python3 -m http.server 0 --bind 127.0.0.1",
      name: "guessed",
      waitFor: { port: "any" }
    })
    const waited = await s.call("wait_for_task", { name: "guessed", pattern: "Listening on", timeoutMs: 1_000 })
    expect((waited.structuredContent as unknown as Waited).timedOut).toBe(true)
    expect(textOf(waited)).toMatch(
      /It listens on port (\d+): if that means ready, wait_for_task \{"name":"guessed","port":\1\} answers at once\./
    )
    await s.structured("stop_task", { name: "guessed" })
  })

  it("a run that a SIGKILL no tool sent ended (the OOM killer's way) says who most often sends one; a forced stop does not", async () => {
    const { text, waited } = await run({
      command: "python3 -c 'import os, signal; os.kill(os.getpid(), signal.SIGKILL)'",
      name: "oomed",
      waitFor: { exit: true }
    })
    expect(waited.status).toBe("crashed")
    expect(waited.hint).toMatch(/^No tool sent the SIGKILL that ended it: most often the kernel's OOM killer/)
    expect(text).toMatch(/most often the kernel's OOM killer/)
    await run({ command: "sleep 30", name: "forced" })
    await s.structured("stop_task", { name: "forced", force: true })
    const ended = await s.structured<Waited>("wait_for_task", { name: "forced", exit: true })
    expect(ended.status).toBe("stopped")
    expect(ended.hint ?? "").not.toMatch(/OOM/)
  })

  it("get_task's text names its log file and its restarts", async () => {
    await run({ command: "exit 3", name: "logged", restart: { policy: "on-failure", maxRestarts: 1, backoffMs: 100 } })
    await s.structured("wait_for_task", { name: "logged", exit: true })
    const text = textOf(await s.call("get_task", { name: "logged" }))
    expect(text).toMatch(/ Restart: on-failure, 1 restart\. Log: \/\S+logged-\S+\.log\./)
  })

  it("a program that reads its stdin to the end: the wait says stdin is open, and send_input eof ends it", async () => {
    const { waited } = await run({ command: "wc -l", name: "counts", waitFor: { exit: true, timeoutMs: 500 } })
    expect(waited.timedOut).toBe(true)
    expect(waited.hint).toMatch(
      /Its stdin is open: a program that reads its input to the end .* send_input \{ eof: true \}/
    )
    await s.structured("send_input", { name: "counts", data: "a\nb\n", eof: true })
    const ended = await s.structured<Waited>("wait_for_task", { name: "counts", exit: true })
    expect([ended.status, ended.lastLines]).toEqual(["exited", ["2"]])
  })

  it("a server that logs on stderr while its ready line waits in stdout's buffer: the wait says stdout may be buffered", async () => {
    // perl buffers stdout on a pipe (no $|) and writes stderr at once: as C's printf and fprintf do.
    const { waited } = await run({
      command: "perl",
      args: [
        "-e",
        "print STDERR \"[info] loading config\n\"; print \"Server ready at http://localhost:9999\n\"; sleep 30"
      ],
      name: "mixed",
      waitFor: { pattern: "ready", timeoutMs: 800 }
    })
    expect(waited.timedOut).toBe(true)
    expect(waited.lastLines).toEqual(["[info] loading config"])
    expect(waited.hint).toMatch(/^It printed on stderr only, nothing on stdout: .* buffering it.*terminal: true/)
    await s.structured("stop_task", { name: "mixed" })
  })

  it("the same server waited for after its stderr line came: the wait says stdout may be buffered, not only that it heard nothing", async () => {
    await run({
      command: "perl",
      args: ["-e", "print STDERR \"[info] loading config\n\"; print \"Server ready\n\"; sleep 30"],
      name: "mixedLater"
    })
    await until(async () =>
      (await s.structured<{ totalLines: number }>("get_task", { name: "mixedLater" })).totalLines > 0 || undefined
    )
    const waited = await s.structured<Waited>("wait_for_task", { name: "mixedLater", pattern: "ready", timeoutMs: 800 })
    expect(waited.timedOut).toBe(true)
    expect(waited.hint).toMatch(
      /^It printed nothing while this call waited\. It printed on stderr only, nothing on stdout: .* buffering it.*terminal: true/
    )
    await s.structured("stop_task", { name: "mixedLater" })
  })

  it("a wait on a task whose last line, longer than the line limit, has no newline yet does not call it a prompt", async () => {
    await run({
      command: "python3",
      args: ["-c", "import sys, time; sys.stdout.write('x' * 20000); sys.stdout.flush(); time.sleep(30)"],
      name: "blob"
    })
    await until(async () =>
      (await s.structured<{ totalLines: number }>("get_task", { name: "blob" })).totalLines >= 2 || undefined
    )
    const waited = await s.structured<Waited>("wait_for_task", { name: "blob", pattern: "ready", timeoutMs: 500 })
    expect(waited.timedOut).toBe(true)
    expect(waited.hint ?? "").not.toMatch(/prompt|send_input/)
    await s.structured("stop_task", { name: "blob" })
  })

  it("a wait on a task paused by SIGSTOP says it is paused, not that it may buffer", async () => {
    await s.structured("start_task", {
      command: "python3",
      args: ["-c", "import time; time.sleep(0.5); print('ready')"],
      name: "frozen"
    })
    await s.structured("signal_task", { name: "frozen", signal: "SIGSTOP" })
    const waited = await s.structured<{ timedOut: boolean; hint: string }>("wait_for_task", {
      name: "frozen",
      pattern: "ready",
      timeoutMs: 1_500
    })
    expect(waited.timedOut).toBe(true)
    expect(waited.hint).toMatch(/^It is paused \(stopped by SIGSTOP or SIGTSTP/)
    expect(waited.hint).not.toMatch(/buffering/)
    await s.structured("signal_task", { name: "frozen", signal: "SIGCONT" })
    await s.structured("stop_task", { name: "frozen" })
  })
})

/** Live processes whose command line holds `text`. */
const processesRunning = (text: string) =>
  readdirSync("/proc").filter((entry) => /^\d+$/.test(entry)).filter((entry) => {
    try {
      return readFileSync(`/proc/${entry}/cmdline`, "latin1").replaceAll("\0", " ").includes(text) &&
        !/ Z /.test(readFileSync(`/proc/${entry}/stat`, "latin1").slice(-200).replace(/^.*\) /, " "))
    } catch {
      return false
    }
  })

describe("hints: what taskmux can tell beyond the end or the timeout", () => {
  it("a wait for a state a progress bar passes through says the line is redrawn, not that it waits at a prompt", async () => {
    const bar =
      "import sys, time\nfor i in range(200):\n  sys.stdout.write(f'\\rprogress {i}%'); sys.stdout.flush(); time.sleep(0.04)"
    await run({ command: "python3", args: ["-c", bar], name: "bar" })
    const waited = await s.structured<Waited>("wait_for_task", {
      name: "bar",
      pattern: "progress 50%",
      timeoutMs: 1500
    })
    expect(waited.timedOut).toBe(true)
    expect(waited.hint).toMatch(
      /^Its last line is redrawn in place \("progress \d+%"\): a pattern matches a line as it ends up/
    )
    await s.structured("stop_task", { name: "bar" })
  })

  it("a watcher that hid its cursor (a partial line of escapes alone) is not said to wait at a prompt", async () => {
    await run({ command: "printf 'Waiting for file changes\\n\\033[?25l'; sleep 30", name: "watching" })
    const waited = await s.structured<Waited>("wait_for_task", { name: "watching", pattern: "rebuilt", timeoutMs: 800 })
    expect(waited.timedOut).toBe(true)
    expect(waited.hint ?? "").not.toContain("prompt")
    await s.structured("stop_task", { name: "watching" })
  })

  it("a server its main process left running (`&`) ended with it, and the answer and the exit notice say so", async () => {
    const port = await freePort()
    const mark = `left-behind-${port}`
    const notices: Array<{ level: string; data: Record<string, unknown> }> = []
    s.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      const data = n.params.data as Record<string, unknown>
      if (data.name === "amp") notices.push({ level: n.params.level, data })
    })
    const { text, waited } = await run({
      command: `python3 -m http.server ${port} --bind 127.0.0.1 >/dev/null 2>&1 & echo ${mark}; sleep 0.5`,
      name: "amp",
      waitFor: { exit: true }
    })
    expect(waited).toMatchObject({ status: "exited" })
    expect(waited.hint).toMatch(
      new RegExp(`^It left 1 process running, which ended with it: \\S*python3\\S* -m http.server ${port} `)
    )
    expect(text).toMatch(
      /ended \(exited, exit code 0\) after running [\d.]+ s\. It left 1 process/
    )
    expect(text).toContain("run a server in the foreground")
    expect(processesRunning(`http.server ${port}`)).toEqual([])
    const notice = await until(async () => notices.at(0))
    expect(notice.level).toBe("warning")
    expect(notice.data.leftRunning).toEqual([expect.stringMatching(new RegExp(`http.server ${port}`))])
  })

  it("a wait whose line was shown before it says so, and how to look at it (since: 0)", async () => {
    await run({ command: "echo 'Listening on http://localhost:8080'; sleep 30", name: "shown" })
    await until(async () =>
      (await s.structured<{ lines: Array<unknown> }>("read_output", { name: "shown" })).lines.at(0)
    )
    const wait = await s.call("wait_for_task", { name: "shown", pattern: "Listening", timeoutMs: 300 })
    const waited = wait.structuredContent as unknown as Waited
    expect(waited.timedOut).toBe(true)
    expect(waited.hint).toBe(
      "A line that matches came before this wait's first line (it looks after the last line an answer " +
        "showed, [1]): [1] Listening on http://localhost:8080. since: 0 looks at them all."
    )
    await s.structured("stop_task", { name: "shown" })
  })

  it("a read that left a line out (grep, a stream) or no model saw (a resource) does not count it as shown", async () => {
    const reads: Array<() => Promise<unknown>> = [
      () => s.structured("read_output", { name: "again", grep: "error" }),
      () => s.client.readResource({ uri: "task://again/output" })
    ]
    for (const [i, read] of reads.entries()) {
      await run({
        command: "echo compiling; echo 'webpack compiled successfully'; echo 'warn: slow' >&2; sleep 30",
        name: "again"
      })
      // get_task shows no lines: it moves no cursor.
      await until(async () =>
        (await s.structured<{ totalLines: number }>("get_task", { name: "again" })).totalLines >= 3
      )
      await read()
      const waited = await s.structured<Waited>("wait_for_task", {
        name: "again",
        pattern: "compiled successfully",
        timeoutMs: 2000
      })
      expect(waited.matched, `read ${i}`).toBe(true)
      expect(waited.line?.text).toBe("webpack compiled successfully")
      await s.structured("remove_task", { name: "again" })
    }
  })

  it("a line written in pieces matches once whole, not at its first piece; a prompt that stays still matches", async () => {
    // A URL written in two writes a moment apart: the first piece alone would give port 80.
    const { waited } = await run({
      command: "node",
      args: [
        "-e",
        `process.stdout.write("listening on http://localhost:80"); ` +
        `setTimeout(() => process.stdout.write("80/\\n"), 20); setInterval(() => {}, 1000)`
      ],
      name: "pieces",
      waitFor: { pattern: "localhost:\\d+/?$" }
    })
    expect(waited.matched).toBe(true)
    expect(waited.line?.text).toBe("listening on http://localhost:8080/")
    await s.structured("stop_task", { name: "pieces" })
    const prompt = await run({
      command: "printf 'Overwrite? [y/N] '; sleep 30",
      name: "asks",
      waitFor: { pattern: "\\[y/N\\] $" }
    })
    expect(prompt.waited.matched).toBe(true)
    expect(prompt.waited.line).toMatchObject({ text: "Overwrite? [y/N] ", partial: true })
    await s.structured("stop_task", { name: "asks" })
    // A line that never rests (a spinner's dots) matches too, once it has matched a moment.
    const t0 = Date.now()
    const spinner = await run({
      command: "printf 'Waiting for connections '; while true; do printf .; sleep 0.02; done",
      name: "spinner",
      waitFor: { pattern: "Waiting for connections", timeoutMs: 20_000 }
    })
    expect(spinner.waited).toMatchObject({ matched: true, timedOut: false })
    expect(Date.now() - t0).toBeLessThan(10_000)
    await s.structured("stop_task", { name: "spinner" })
  })

  it("a line of the run before a restart is not offered as shown before", async () => {
    const broken = NodePath.join(tempDir({}), "broken")
    await run({
      command: `if [ -e ${broken} ]; then echo 'SyntaxError: Unexpected end of input'; ` +
        "else echo 'Listening on http://localhost:8080'; fi; sleep 30",
      name: "rerun",
      waitFor: { pattern: "Listening" }
    })
    writeFileSync(broken, "")
    await s.structured("restart_task", { name: "rerun" })
    await until(async () =>
      (await s.structured<{ lines: Array<{ text: string }> }>("read_output", { name: "rerun" })).lines
        .find((l) => l.text.startsWith("SyntaxError"))
    )
    const waited = await s.structured<Waited>("wait_for_task", { name: "rerun", pattern: "Listening", timeoutMs: 300 })
    expect(waited.timedOut).toBe(true)
    expect(waited.hint ?? "").not.toContain("shown before")
    await s.structured("stop_task", { name: "rerun" })
  })

  it("a ready answer's nextCursor covers the lines it showed: a later wait does not match them again", async () => {
    const port = await freePort()
    // Lines keep coming after the port opens: the answer shows some of them.
    const { waited } = await run({
      command: "node",
      args: [
        "-e",
        `require("http").createServer().listen(${port}, "127.0.0.1", () => { let n = 0; ` +
        `setInterval(() => console.log("tick " + ++n), 5) })`
      ],
      name: "ticks",
      waitFor: { port }
    })
    const shown = Number(/^tick (\d+)$/.exec(waited.lastLines.at(-1) ?? "")?.[1])
    expect(shown).toBeGreaterThan(0)
    expect((waited as Waited & { nextCursor: number }).nextCursor).toBeGreaterThanOrEqual(shown)
    const again = await s.structured<Waited>("wait_for_task", {
      name: "ticks",
      pattern: `^tick ${shown}$`,
      timeoutMs: 300
    })
    expect(again.timedOut).toBe(true)
    await s.structured("stop_task", { name: "ticks" })
  })

  it("a pattern that backtracks exponentially stalls nothing: grep and a wait answer, and so does the next call", async () => {
    await run({ command: "python3", args: ["-c", "print('a' * 5000 + '!'); import time; time.sleep(30)"], name: "aaa" })
    await until(async () =>
      (await s.structured<{ lines: Array<unknown> }>("read_output", { name: "aaa", since: 0 })).lines.at(0)
    )
    const t0 = Date.now()
    const grep = await s.structured<{ lines: Array<unknown> }>("read_output", { name: "aaa", grep: "(a+)+$", since: 0 })
    expect(grep.lines).toEqual([])
    const waited = await s.structured<Waited>("wait_for_task", {
      name: "aaa",
      pattern: "^(\\w+\\s?)+$",
      since: 0,
      timeoutMs: 300
    })
    expect(waited.timedOut).toBe(true)
    expect(Date.now() - t0).toBeLessThan(10_000)
    const refused = await s.call("read_output", { name: "aaa", grep: "(a+)+\\1$" })
    expect(refused.isError).toBe(true)
    expect(textOf(refused)).toMatch(
      /grep "\(a\+\)\+\\\\1\$" is refused: it repeats a group that holds a repeat or a choice/
    )
    // A choice repeated is as exponential (Fibonacci steps on a line of a's), and a lookahead keeps
    // the linear engine off: refused for a wait and a start too, before anything runs.
    for (
      const [tool, args] of [
        ["read_output", { name: "aaa", grep: "^(a|aa)*\\1c" }],
        ["wait_for_task", { name: "aaa", pattern: "(a|aa)*(?=c)" }],
        ["start_task", { command: "sleep 30", name: "never", waitFor: { pattern: "(a|aa)*(?=c)" } }]
      ] as const
    ) {
      const choice = await s.call(tool, args)
      expect(choice.isError, tool).toBe(true)
      expect(textOf(choice)).toMatch(/is refused: it repeats a group that holds a repeat or a choice/)
    }
    // One as long as V8 fails only at its first match is refused by its length, before a start.
    const tooLong = await s.call("start_task", {
      command: "sleep 30",
      name: "never",
      waitFor: { pattern: "x".repeat(60_000) }
    })
    expect(tooLong.isError).toBe(true)
    const long = await s.call("read_output", { name: "aaa", grep: "x".repeat(60_000) })
    expect(textOf(long)).toMatch(/is refused: it is 60000 characters long, more than the 2000 a pattern may be\.$/)
    expect(textOf(long).length).toBeLessThan(600)
    expect((await s.structured<{ tasks: Array<{ name: string }> }>("list_tasks")).tasks.map((t) => t.name)).not
      .toContain("never")
    await s.structured("stop_task", { name: "aaa" })
  })

  it("a program at a prompt on pipes: its last line has no newline, and send_input answers it", async () => {
    const { waited } = await run({
      command: "python3",
      args: ["-c", "x = input('Overwrite existing files? [y/N] ')\nprint('you said', x)"],
      name: "asks",
      waitFor: { exit: true, timeoutMs: 1_000 }
    })
    expect(waited).toMatchObject({ timedOut: true, status: "running" })
    expect(waited.hint).toBe(
      "Its last line has no newline: it may be waiting for input at a prompt " +
        "(\"Overwrite existing files? [y/N] \"); send_input answers it."
    )
    await s.structured("send_input", { name: "asks", data: "y\n" })
    const done = await s.structured<Waited>("wait_for_task", { name: "asks", exit: true })
    expect(done.lastLines.at(-1)).toBe("Overwrite existing files? [y/N] you said y")
  })

  it("Ctrl-C typed into a task on pipes says it is only a byte there, and what interrupts it", async () => {
    await s.structured("start_task", {
      command: "python3 -c 'import sys\nfor line in sys.stdin: print(line)'",
      name: "reads"
    })
    const typed = await s.call("send_input", { name: "reads", data: "\u0003" })
    expect(textOf(typed)).toBe(
      "Wrote 1 byte to \"reads\". It runs on pipes, where \"\\u0003\" is only a byte, not Ctrl-C: signal_task " +
        "SIGINT interrupts it."
    )
    await s.structured("signal_task", { name: "reads", signal: "SIGINT" })
    // Python dies of it (stopped), or, caught as it starts, of its KeyboardInterrupt (crashed): it ends.
    const ended = await s.structured<{ status: string }>("wait_for_task", { name: "reads", exit: true })
    expect(["stopped", "crashed"]).toContain(ended.status)
  })

  it("a wait for a port the task does not listen on names the port it listens on", async () => {
    const [port, wanted] = [await freePort(), await freePort()]
    const { text } = await run({
      command: `python3 -m http.server ${port} --bind 127.0.0.1`,
      name: "elsewhere",
      waitFor: { port: wanted, timeoutMs: 2_500 }
    })
    expect(text).toMatch(new RegExp(`not listening on port ${wanted}\\. It listens on port ${port} instead\\.`))
    await s.structured("stop_task", { name: "elsewhere" })
  })

  it("a port held by another taskmux's task (another worktree's dev server) is named as such, with where it runs", async () => {
    const taken = await freePort()
    const worktree = tempDir({}, "taskmux-worktree-")
    const holder = spawn("python3", ["-m", "http.server", String(taken), "--bind", "127.0.0.1"], {
      cwd: worktree,
      env: { ...process.env, TASKMUX_RUN_ID: "s9-1" },
      stdio: "ignore"
    })
    try {
      await until(() => accepting(taken))
      const waits = await run({ command: "sleep 30", name: "waits2", waitFor: { port: taken, timeoutMs: 1_500 } })
      expect(waits.text).toContain(
        `Port ${taken} is held by a task of another taskmux (another project's or worktree's) (pid ${holder.pid}: `
      )
      expect(waits.text).toContain(`, in ${worktree}). Stop it, or give the task another port.`)
      await s.structured("stop_task", { name: "waits2" })
    } finally {
      holder.kill()
    }
  })

  it("a wait for a port another program holds says whose it is (a dev server left running), not to close stdin", async () => {
    const [taken, next] = [await freePort(), await freePort()]
    const holder = spawn("python3", ["-m", "http.server", String(taken), "--bind", "127.0.0.1"], { stdio: "ignore" })
    try {
      await until(() => accepting(taken))
      // As Vite does: the port it wanted is taken, so it listens on the next one.
      const moved = await run({
        command: `python3 -m http.server ${next} --bind 127.0.0.1`,
        name: "moved",
        waitFor: { port: taken, timeoutMs: 2_500 }
      })
      expect(moved.text).toMatch(
        new RegExp(
          `Port ${taken} is held by another program \\(pid ${holder.pid}: [^)]*http\\.server ${taken} [^)]*\\)\\. It listens on port ${next} instead\\.`
        )
      )
      await s.structured("stop_task", { name: "moved" })
      // One that waits for it: what to do.
      const waits = await run({ command: "sleep 30", name: "waits", waitFor: { port: taken, timeoutMs: 1_500 } })
      expect(waits.text).toMatch(
        new RegExp(
          `Port ${taken} is held by another program \\(pid ${holder.pid}: .*\\)\\. Stop it, or give the task another port\\.`
        )
      )
      expect(waits.text).not.toMatch(/stdin/)
      await s.structured("stop_task", { name: "waits" })
    } finally {
      holder.kill()
    }
    // Another task's: named as the task.
    const port = await freePort()
    await s.structured("start_task", {
      command: "python3",
      args: ["-m", "http.server", String(port), "--bind", "127.0.0.1"],
      name: "first",
      waitFor: { port }
    })
    const second = await run({ command: "sleep 30", name: "second", waitFor: { port, timeoutMs: 1_000 } })
    const { pid } = await s.structured<{ pid: number }>("get_task", { name: "first" })
    expect(second.text).toContain(`Port ${port} is held by task "first" (pid ${pid}). Stop it, or give`)
    await s.structured("stop_task", { name: "second" })
    await s.structured("stop_task", { name: "first" })
    // A launcher's child listens (npm's node): its process, not the task's pid.
    const other = await freePort()
    await s.structured("start_task", {
      command: `python3 -m http.server ${other} --bind 127.0.0.1; echo ended`,
      name: "launched",
      waitFor: { port: other }
    })
    const third = await run({ command: "sleep 30", name: "third", waitFor: { port: other, timeoutMs: 1_000 } })
    const launched = await s.structured<{ pid: number; processes: Array<{ pid: number }> }>("get_task", {
      name: "launched"
    })
    const listener = launched.processes.find((p) => p.pid !== launched.pid)!.pid
    expect(third.text).toContain(`Port ${other} is held by task "launched" (its process ${listener}). Stop it, or give`)
    await s.structured("stop_task", { name: "third" })
    await s.structured("stop_task", { name: "launched" })
  })

  it("a wait whose line the buffer dropped before it looked says so, with the log file that has it; one that printed before gets no buffering advice", async () => {
    // An early error, then 20,000 lines (the buffer keeps 10,000), then quiet.
    const { text } = await run({
      command:
        "perl -e '$| = 1; print \"ERROR: MAGIC failure at step 5\\n\"; print \"line $_\\n\" for 1..20000; sleep 60'",
      name: "chatty",
      waitFor: { pattern: "^line 20000$" }
    })
    expect(text).toMatch(/matched/)
    const missed = await s.call("wait_for_task", { name: "chatty", pattern: "MAGIC", since: 0, timeoutMs: 2_500 })
    const hint = (missed.structuredContent as unknown as Waited).hint
    expect(hint).toMatch(
      /^10001 lines after where this wait began were dropped before it could look at them \(the buffer keeps the last 10000 lines\); the log file has every line: \/.+\.log\./
    )
    // It printed plenty before: not a program that buffers its output.
    expect(hint).not.toMatch(/buffering/)
    const logFile = /the log file has every line: (\S+)\./.exec(hint!)![1]!
    expect(readFileSync(logFile, "utf8")).toContain("ERROR: MAGIC failure at step 5")
    // A regex literal with g, the flag most often written, is a regex; without flags, text (and said so).
    expect((await s.structured<Waited>("wait_for_task", { name: "chatty", pattern: "/LINE 12000$/gi", since: 0 })).line)
      .toEqual(expect.objectContaining({ text: "line 12000" }))
    const literal = await s.structured<Waited>("wait_for_task", {
      name: "chatty",
      pattern: "/line 19000/",
      since: 15_000,
      timeoutMs: 500
    })
    expect(literal.hint).toMatch(/The pattern \/line 19000\/ was read as text, slashes included/)
    await s.structured("stop_task", { name: "chatty" })
  })

  it("a ready answer after a restart shows this run's lines, not the last run's", async () => {
    const port = await freePort()
    await run({
      command: `echo "booting"; exec python3 -m http.server ${port} --bind 127.0.0.1`,
      name: "rerun",
      waitFor: { port }
    })
    await s.structured("restart_task", { name: "rerun" })
    const ready = await s.structured<Waited>("wait_for_task", { name: "rerun", port, since: 0 })
    expect(ready.lastLines.filter((line) => line === "booting")).toHaveLength(1)
    await s.structured("stop_task", { name: "rerun" })
  })
})

describe("a line longer than the line limit", () => {
  it("its pieces say in the text that it goes on (a minified bundle)", async () => {
    await run({
      command: "node",
      args: ["-e", "console.log('a'.repeat(10000) + 'END'); console.log('after')"],
      name: "longline",
      waitFor: { exit: true }
    })
    const read = await s.call("read_output", { name: "longline" })
    const lines = (read.structuredContent as { lines: Array<{ text: string; cut?: boolean }> }).lines
    expect(lines.map((l) => l.cut === true)).toEqual([true, false, false])
    expect(textOf(read).split("\n").slice(0, 3).map((l) => l.slice(-30))).toEqual([
      "aaaaa [the line goes on below]",
      `${"a".repeat(27)}END`,
      "after"
    ])
  })
})

describe("a start's cwd", () => {
  it("takes ~ and ~/… as a shell does, and says that variables are not expanded", async () => {
    const home = tempDir({})
    const sub = NodePath.join(home, "proj")
    mkdirSync(sub)
    const own = await connect({ HOME: home })
    try {
      for (const [cwd, where] of [["~", home], ["~/proj", sub]] as const) {
        const ran = await own.structured<{ lastLines: Array<string> }>("start_task", {
          command: "pwd",
          cwd,
          waitFor: { exit: true }
        })
        expect(ran.lastLines).toEqual([where])
      }
      const refused = await own.call("start_task", { command: "pwd", cwd: "$HOME/proj" })
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toContain("Variables ($NAME) in cwd are not expanded: give the path itself.")
    } finally {
      await own.client.close()
    }
  })
})

describe("a start that failed", () => {
  it("under a made-up name is not kept: the answer says why, and the name is free again", async () => {
    const failed = await s.call("start_task", { command: "hostname -s", cwd: "/no/such/dir" })
    expect(failed.isError).toBe(true)
    const listed = await s.structured<{ tasks: Array<{ name: string }> }>("list_tasks")
    expect(listed.tasks.filter((t) => t.name.startsWith("hostname"))).toEqual([])
    const ran = await s.structured<{ name: string }>("start_task", { command: "hostname -s", waitFor: { exit: true } })
    expect(ran.name).toBe("hostname-1")
  })

  it("get_task says why in one sentence", async () => {
    const failed = await s.call("start_task", { command: "true", cwd: "/no/such/dir", name: "nocwd" })
    expect(failed.isError).toBe(true)
    const text = textOf(await s.call("get_task", { name: "nocwd" }))
    expect(text).toContain("Pass an existing directory as cwd.")
    expect(text).not.toContain("..")
    // list_tasks (and so `taskmux ps`) says why too.
    const listed = await s.structured<{ tasks: Array<{ name: string; status: string; reason?: string }> }>("list_tasks")
    expect(listed.tasks.find((t) => t.name === "nocwd")).toMatchObject({
      status: "failed",
      reason: expect.stringContaining("/no/such/dir")
    })
  })
})

describe("input a schema cannot say is wrong", () => {
  it("a NUL in cwd is said as in every other field, and an empty key is named as one", async () => {
    const nul = await s.call("start_task", { command: "true", cwd: "a\u0000b", name: "nulcwd" })
    expect(textOf(nul)).toMatch(
      /Working directory ".*a\\u0000b" contains a NUL byte \(\\u0000\), which no path can hold\./
    )
    const empty = await s.call("get_task", { name: "x", "": 1 })
    expect(empty.isError).toBe(true)
    expect(textOf(empty)).toBe(
      "Invalid arguments for get_task: \"\": not a field of get_task; its fields are name, envValues"
    )
  })

  it("a working directory this user cannot enter is said to be one, not blamed on the command", ({ skip }) => {
    // Only root makes another user; root itself enters every directory.
    // Under /tmp itself: the other user must reach it (the tests' own temporary directory is private).
    const closed = mkdtempSync("/tmp/taskmux-shut-")
    onTestFinished(() => rmSync(closed, { recursive: true, force: true }))
    mkdirSync(NodePath.join(closed, "shut"), { mode: 0o700 })
    const script = `
      const { spawn } = require("node:child_process")
      const server = spawn(process.execPath, [${JSON.stringify(serverEntry)}, "--isolated"], {
        env: { PATH: process.env.PATH, HOME: "/tmp" }, stdio: ["pipe", "pipe", "ignore"]
      })
      let out = ""
      server.stdout.on("data", (chunk) => {
        out += chunk
        const answer = out.split("\\n").map((l) => { try { return JSON.parse(l) } catch { return {} } }).find((m) => m.id === 2)
        if (answer === undefined) return
        console.log(answer.result.content[0].text)
        server.kill()
        process.exit(0)
      })
      const send = (m) => server.stdin.write(JSON.stringify({ jsonrpc: "2.0", ...m }) + "\\n")
      send({ id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {}, clientInfo: { name: "t", version: "1" } } })
      send({ method: "notifications/initialized" })
      send({ id: 2, method: "tools/call", params: { name: "start_task", arguments: { command: "pwd", cwd: ${
      JSON.stringify(NodePath.join(closed, "shut"))
    } } } })
    `
    const said = asOtherUser(script, closed)
    if (said === undefined) return skip("only root can run it as another user")
    expect(said).toBe(
      `Working directory "${NodePath.join(closed, "shut")}" cannot be entered by this user (no search permission). ` +
        "Pass a directory this user can enter as cwd."
    )
  })
})

describe("the environment a task got", () => {
  it("get_task shows its names; the values only when asked", async () => {
    await run({ command: "sleep 30", name: "env", env: { DATABASE_URL: "postgres://localhost/dev" } })
    const info = await s.structured<{ env: Array<string>; envValues?: Record<string, string> }>("get_task", {
      name: "env"
    })
    expect(info.env).toEqual(
      expect.arrayContaining(["DATABASE_URL", "PATH", "HOME", "PYTHONUNBUFFERED", "TASKMUX_RUN_ID"])
    )
    expect(info.envValues).toBeUndefined()
    // The server's own settings are not the task's (a taskmux inside a task reads its own).
    expect(info.env.filter((name) => name.startsWith("TASKMUX_"))).toEqual(["TASKMUX_RUN_ID"])
    expect(textOf(await s.call("get_task", { name: "env" }))).toMatch(/Environment: .*DATABASE_URL/)
    expect(textOf(await s.call("get_task", { name: "env" }))).not.toContain("postgres://")
    const full = await s.structured<{ envValues: Record<string, string> }>("get_task", { name: "env", envValues: true })
    expect(full.envValues.DATABASE_URL).toBe("postgres://localhost/dev")
    // As the process itself has it.
    await s.structured("stop_task", { name: "env" })
  })

  it("a number or a boolean in env is taken as written, as a task file's is (a model writes {\"PORT\": 3000})", async () => {
    const { waited } = await run({
      command: "node",
      args: ["-e", "console.log(`${process.env.PORT}:${process.env.DEBUG}:${process.env.RATIO}`)"],
      name: "envnumbers",
      env: { PORT: 3000, DEBUG: true, RATIO: 0.5 },
      waitFor: { exit: true }
    })
    expect(waited).toMatchObject({ status: "exited", lastLines: ["3000:true:0.5"] })
    // Anything else is still refused, by name.
    const refused = await s.call("start_task", { command: "true", env: { PORT: { port: 3000 } } })
    expect(refused.isError).toBe(true)
    expect(textOf(refused)).toMatch(/env\.PORT: Expected string \| number \| boolean/)
  })
})
