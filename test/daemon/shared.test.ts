/**
 * One supervisor per user and project, shared by every session: real fronts started as a client
 * starts them (the SDK's Client over stdio), real tasks, and pid checks that what must end ends.
 */
import { EmptyResultSchema, LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { execFileSync, spawn, spawnSync } from "node:child_process"
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync
} from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterEach, describe, expect, it } from "vitest"
import { connectIfRunning } from "../../src/daemon/connect.ts"
import { WIRE_PROTOCOL } from "../../src/daemon/hello.ts"
import { isSupervisorOf } from "../../src/daemon/holdLock.ts"
import { runtimePaths } from "../../src/daemon/runtimePaths.ts"
import { builtCli } from "../builtCli.ts"
import { connect, type Connected, freePort, serverEntry, textOf, until } from "../e2e/client.ts"
import { asOtherUser, canMount, inMountNamespace, isAlive, rssOf } from "../helpers.ts"

interface Listed {
  readonly tasks: ReadonlyArray<{ name: string; status: string; pid: number | null; owner?: string }>
}

/** A project and a runtime directory of its own, so no test meets another's supervisor. */
const makeProject = () => {
  const runtime = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-rt-"))
  const project = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-proj-"))
  const env = {
    XDG_RUNTIME_DIR: runtime,
    TASKMUX_PROJECT: project,
    TASKMUX_ISOLATED: "false",
    TASKMUX_LINGER_MS: process.env.TEST_LINGER_MS ?? "300"
  }
  const paths = () => runtimePaths(project, { XDG_RUNTIME_DIR: runtime })
  const supervisor = async () => {
    const connection = await connectIfRunning(paths(), "cli")
    connection?.socket.destroy()
    return connection?.welcome
  }
  return { env, project, runtime, paths, supervisor }
}

const open: Array<Connected> = []
const session = async (env: Record<string, string>, args: ReadonlyArray<string> = [], entry = serverEntry) => {
  const s = await connect(env, args, entry)
  open.push(s)
  return s
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.client.close().catch(() => {})))
})

/** Starts `stubborn`, a Python that ignores SIGTERM; its pid. */
const startStubborn = async (s: Connected) => {
  const started = await s.structured<{ line: { text: string } }>("start_task", {
    command:
      "python3 -c \"import os, signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', os.getpid(), flush=True); time.sleep(300)\"",
    name: "stubborn",
    waitFor: { pattern: "ready" }
  })
  return Number(started.line.text.split(" ")[1])
}

const listed = async (s: Connected) => (await s.structured<Listed>("list_tasks")).tasks
/** Until `count` waits follow the task (get_task's watchers): a call of another session is in. */
const waitersOf = (s: Connected, name: string, count: number) =>
  until(async () => (await s.structured<{ watchers: number }>("get_task", { name })).watchers >= count || undefined)
const taskOf = async (s: Connected, name: string) => (await listed(s)).find((t) => t.name === name)

describe("one supervisor per project, shared by every session", () => {
  it("a client started in a subdirectory of a project joins that project's supervisor, and its tasks run where it runs", async () => {
    const p = makeProject()
    writeFileSync(NodePath.join(p.project, "taskmux.yaml"), "tasks:\n  where:\n    command: pwd\n")
    const api = NodePath.join(p.project, "services", "api")
    mkdirSync(api, { recursive: true })
    const { TASKMUX_PROJECT: _, ...env } = p.env
    const top = await connect(env, [], serverEntry, p.project)
    open.push(top)
    const sub = await connect(env, [], serverEntry, api)
    open.push(sub)
    expect((await p.supervisor())?.sessions).toBe(2)
    expect((await listed(sub)).map((t) => `${t.name} ${t.status}`)).toEqual(["where defined"])
    // An ad-hoc command runs in its client's directory, as under a server of its own; a project task where its file says.
    const lines = async (s: Connected, name: string) =>
      (await s.structured<{ lines: Array<{ text: string }> }>("read_output", { name })).lines.map((l) => l.text)
    await sub.structured("start_task", { name: "here", command: "pwd", waitFor: { exit: true } })
    await top.structured("start_task", { name: "there", command: "pwd", waitFor: { exit: true } })
    await sub.structured("start_task", { name: "where", waitFor: { exit: true } })
    expect(await lines(top, "here")).toEqual([api])
    expect(await lines(top, "there")).toEqual([p.project])
    expect(await lines(top, "where")).toEqual([p.project])
  })

  it("gives each session's tasks that session's environment (its client's config), whoever started the supervisor", async () => {
    const p = makeProject()
    const a = await session({ ...p.env, API_KEY: "from-a" })
    const b = await session({ ...p.env, API_KEY: "from-b", EXTRA_ONLY_B: "1" })
    const echo = "echo key=$API_KEY extra=${EXTRA_ONLY_B:-none}"
    for (const [s, name] of [[a, "env-a"], [b, "env-b"]] as const) {
      await s.structured("start_task", { command: echo, name, waitFor: { exit: true } })
    }
    const lineOf = async (name: string) =>
      (await a.structured<{ lines: Array<{ text: string }> }>("read_output", { name })).lines.map((l) => l.text)
    expect(await lineOf("env-a")).toEqual(["key=from-a extra=none"])
    expect(await lineOf("env-b")).toEqual(["key=from-b extra=1"])
    // A cwd of ~ is the home of the session's client, not the supervisor's.
    const home = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-home-"))
    const c = await session({ ...p.env, HOME: home })
    const ran = await c.structured<{ lastLines: Array<string> }>("start_task", {
      command: "pwd",
      cwd: "~",
      waitFor: { exit: true }
    })
    expect(ran.lastLines).toEqual([home])
    // The CLI too: a person's shell, whatever the supervisor's.
    const cli = await builtCli(p.project, { ...process.env, ...p.env, API_KEY: "from-shell" })
    writeFileSync(NodePath.join(p.project, "taskmux.json"), JSON.stringify({ tasks: { shell: { command: echo } } }))
    expect((await cli(["start", "shell"])).code).toBe(0)
    expect((await lineOf("shell"))[0]).toBe("key=from-shell extra=none")
    // A restart keeps what it was started with, whoever restarts it.
    await b.structured("restart_task", { name: "env-a" })
    await b.structured("wait_for_task", { name: "env-a", exit: true })
    expect((await lineOf("env-a")).at(-1)).toBe("key=from-a extra=none")
  })

  it("taskmux wait: a script waits for a session's task to be ready, or for an end; its exit code says which", async () => {
    const p = makeProject()
    writeFileSync(
      NodePath.join(p.project, "taskmux.yaml"),
      "tasks:\n  db:\n    command: sleep 0.5; echo ready to accept connections; sleep 60\n" +
        "    waitFor: { pattern: ready to accept }\n  mig:\n    command: echo migrating; exit 3\n"
    )
    const a = await session(p.env)
    const cli = builtCli(p.project, { ...process.env, ...p.env })
    // A quiet task whose ready line came before the wait: at once (logs -f | grep -m1 would wait for another line).
    await a.structured("start_task", {
      command: "echo 'Local: http://localhost:5173/'; sleep 60",
      name: "web",
      waitFor: { pattern: "Local" }
    })
    const ready = await cli(["wait", "web", "--pattern", "Local:"])
    expect([ready.code, ready.stderr]).toEqual([0, ""])
    expect(ready.stdout).toContain("Local: http://localhost:5173/")
    // A project task not run yet, by its file's waitFor: waited for through its start.
    const db = cli(["wait", "db"])
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect((await cli(["start", "db"])).code).toBe(0)
    expect((await db).code).toBe(0)
    const late = await cli(["wait", "web", "--pattern", "never printed", "--timeout-ms", "300"])
    expect(late.code).toBe(1)
    expect(late.stderr).toContain("\"web\" was not ready in time; it keeps running")
    expect((await cli(["start", "mig"])).code).toBe(1)
    const mig = await cli(["wait", "mig", "--exit", "--json"])
    expect(mig.code).toBe(1)
    expect(JSON.parse(mig.stdout)).toMatchObject({ name: "mig", status: "crashed", exitCode: 3 })
    expect(mig.stderr).toContain("\"mig\" ended: crashed, exit code 3")
    expect((await cli(["wait", "web", "--port", "http"])).code).toBe(2)
    const none = await cli(["wait", "web"])
    expect(none.code).toBe(2)
    expect(none.stderr).toContain("\"web\" has no waitFor in the project file: give --pattern, --port or --exit")
    // Output that cannot be written (a full disk) is a failure, said, not a 0 with nothing written.
    const full = spawnSync(process.execPath, [serverEntry, "logs", "web"], {
      cwd: p.project,
      env: { ...process.env, ...p.env },
      stdio: ["ignore", openSync("/dev/full", "w"), "pipe"],
      encoding: "utf8"
    })
    expect(full.status).toBe(1)
    expect(full.stderr).toContain("taskmux: cannot write its output: ENOSPC")
    expect((await cli(["stop", "db"])).code).toBe(0)
  })

  it("shows every session's tasks to every session, with whose they are", async () => {
    const p = makeProject()
    const a = await session(p.env)
    const b = await session(p.env)
    await a.structured("start_task", { command: "sleep 60", name: "from-a" })
    await b.structured("start_task", {
      command: "echo hello from b; sleep 60",
      name: "from-b",
      waitFor: { pattern: "hello" }
    })
    expect(await taskOf(a, "from-a")).toMatchObject({ status: "running", owner: "you" })
    expect(await taskOf(a, "from-a")).not.toHaveProperty("client")
    // Another session's task says whose: its client's name (a person choosing what to stop sees it too).
    expect(await taskOf(b, "from-a")).toMatchObject({ status: "running", owner: "other", client: "taskmux-e2e" })
    expect(await taskOf(a, "from-b")).toMatchObject({ owner: "other" })
    expect(textOf(await a.call("list_tasks"))).toMatch(
      /from-b\trunning\tpid \d+\t.*\t\[another session's: taskmux-e2e\]/
    )
    const ps = await builtCli(p.project, { ...process.env, ...p.env })(["ps"])
    expect(ps.stdout).toMatch(/^from-a\s+running\s+\d+\s+other \(taskmux-e2e\)/m)
    // Any session reads another's output, and may stop it.
    const read = await a.structured<{ lines: Array<{ text: string }> }>("read_output", { name: "from-b" })
    expect(read.lines.map((l) => l.text)).toContain("hello from b")
    // A name a running task holds says whose it is.
    const taken = await b.call("start_task", { command: "sleep 1", name: "from-a" })
    expect(taken.isError).toBe(true)
    expect(textOf(taken)).toMatch(/already running \(pid \d+, started by another session \(taskmux-e2e\) at /)
    // A kept one says who started it too.
    await a.structured("start_task", { command: "sleep 300", name: "kept-a", keep: true })
    expect(textOf(await b.call("start_task", { command: "sleep 1", name: "kept-a" }))).toMatch(
      /already running \(pid \d+, kept since \S+, started by taskmux-e2e\)/
    )
    await b.structured("stop_task", { name: "kept-a" })
    expect(await b.structured("stop_task", { name: "from-a" })).toMatchObject({ status: "stopped" })
    // One supervisor serves both.
    expect((await p.supervisor())?.sessions).toBe(2)
  })

  it("tells every session of an end, and keeps each session's own place in the output", async () => {
    const p = makeProject()
    const a = await session(p.env)
    const b = await session(p.env)
    const heard: Array<unknown> = []
    b.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      heard.push(n.params.data)
    })
    await a.structured("start_task", {
      command: "echo ready; read x; echo done; exit 4",
      name: "job",
      waitFor: { pattern: "ready" }
    })
    // A has seen "ready"; B has not: B's wait without since still finds it, A's does not.
    const forB = await b.structured<{ matched: boolean }>("wait_for_task", {
      name: "job",
      pattern: "ready",
      timeoutMs: 2_000
    })
    expect(forB.matched).toBe(true)
    const forA = await a.structured<{ matched: boolean }>("wait_for_task", {
      name: "job",
      pattern: "ready",
      timeoutMs: 300
    })
    expect(forA.matched).toBe(false)
    await a.structured("send_input", { name: "job", data: "go\n" })
    await until(() => heard.find((d) => (d as { name?: string }).name === "job"), 5_000)
    expect(heard).toContainEqual(
      expect.objectContaining({ event: "task_exit", name: "job", status: "crashed", exitCode: 4 })
    )
  })

  it("stops a session's own tasks when it goes, whole trees; another's and kept ones run on", async () => {
    const p = makeProject()
    const a = await session(p.env)
    const b = await session(p.env)
    // A tree: the shell, and a child of its own.
    const own = await a.structured<{ pid: number }>("start_task", {
      command: "sleep 300 & echo child $!; wait",
      name: "own",
      waitFor: { pattern: "child" }
    })
    const childPid = Number(
      (await a.structured<{ lines: Array<{ text: string }> }>("read_output", { name: "own" })).lines[0]!.text.split(
        " "
      )[1]
    )
    const kept = await a.structured<{ pid: number }>("start_task", { command: "sleep 300", name: "kept", keep: true })
    const other = await b.structured<{ pid: number }>("start_task", { command: "sleep 300", name: "other" })
    expect(isAlive(childPid)).toBe(true)
    const heard: Array<Record<string, unknown>> = []
    b.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      heard.push(n.params.data as Record<string, unknown>)
    })
    await a.client.close()
    await until(() => !isAlive(own.pid) && !isAlive(childPid) ? true : undefined, 5_000)
    // Forgotten: only the live and the kept remain.
    await until(async () => (await taskOf(b, "own")) === undefined ? true : undefined, 5_000)
    expect(await taskOf(b, "kept")).toMatchObject({ status: "running", owner: "kept" })
    expect(await taskOf(b, "other")).toMatchObject({ status: "running", owner: "you" })
    expect(isAlive(kept.pid) && isAlive(other.pid)).toBe(true)
    // The other session hears the end, and why: whose session ended.
    expect(heard).toContainEqual(expect.objectContaining({
      event: "task_exit",
      name: "own",
      status: "stopped",
      stoppedBy: expect.stringMatching(/^its session \(.+\) ended$/)
    }))
    await b.structured("stop_task", { name: "kept" })
    await until(() => heard.find((d) => d.name === "kept"), 5_000)
    expect(heard).toContainEqual(
      expect.objectContaining({ name: "kept", stoppedBy: expect.stringMatching(/^stop_task from /) })
    )
    // A restart's stop, and a signal that ends it, say who too.
    await b.structured("restart_task", { name: "other" })
    await b.structured("signal_task", { name: "other", signal: "SIGINT" })
    await until(() => heard.filter((d) => d.name === "other").length >= 2 ? true : undefined, 5_000)
    expect(heard.filter((d) => d.name === "other").map((d) => d.stoppedBy)).toEqual([
      expect.stringMatching(/^restart_task from /),
      expect.stringMatching(/^signal_task from /)
    ])
  })

  it("remembers a task gone with its session under the next supervisor too (the last one ended, idle), and runs it again; remove_task forgets it there", async () => {
    const p = makeProject()
    const a = await session(p.env)
    await a.structured("start_task", {
      command: "echo serving; sleep 300",
      name: "dev",
      waitFor: { pattern: "serving" }
    })
    await a.structured("start_task", { command: "sleep 300", name: "tidied" })
    const first = (await p.supervisor())!.pid
    await a.client.close()
    // Nothing kept it: it ended, its record on disk.
    await until(() => !isAlive(first) ? true : undefined, 10_000)
    const b = await session(p.env)
    expect((await p.supervisor())!.pid).not.toBe(first)
    expect(textOf(await b.call("get_task", { name: "dev" }))).toMatch(
      /^Task "dev" ran under a session that has ended: it was stopped when its session \(taskmux-e2e\) ended, at \S+\. Its output: \S+\. restart_task or start_task \{ name: "dev" \} runs it again with its command: echo serving; sleep 300\nIts last lines, from its log file:\nserving$/
    )
    expect(await b.structured("remove_task", { name: "tidied" })).toEqual({ name: "tidied", removed: true })
    expect(await b.structured("restart_task", { name: "dev" })).toMatchObject({ name: "dev", status: "running" })
    await b.structured("stop_task", { name: "dev" })
    const second = (await p.supervisor())!.pid
    await b.client.close()
    await until(() => !isAlive(second) ? true : undefined, 10_000)
    // Under a third, the one removed is not remembered, and the one run again went with b's session.
    const c = await session(p.env)
    expect(textOf(await c.call("get_task", { name: "tidied" }))).toMatch(/^No task named "tidied"/)
    expect(textOf(await c.call("get_task", { name: "dev" }))).toMatch(/^Task "dev" ran under a session that has ended/)
  })

  it("tells a later session what became of a task forgotten with its session, and shows its last lines from its log file", async () => {
    const p = makeProject()
    writeFileSync(NodePath.join(p.project, "taskmux.yaml"), "tasks:\n  srv:\n    command: sleep 300\n")
    const a = await session(p.env)
    const b = await session(p.env)
    await a.structured("start_task", {
      command:
        "python3 -c \"print('collected 2 items'); print('FAILED test_api.py::test_login'); raise SystemExit(1)\"",
      name: "test",
      waitFor: { exit: true }
    })
    await a.structured("start_task", { name: "srv" })
    await a.structured("start_task", { command: "echo tick; sleep 300", name: "ticker" })
    await a.client.close()
    // Forgotten once each has been stopped (srv's stop and ticker's go side by side): not listed (a project
    // task is defined again)...
    const names = async () => (await listed(b)).map((t) => `${t.name} ${t.status}`)
    await until(async () => (await names()).join() === "srv defined" ? true : undefined, 10_000)
    // ...but asked for by name, what became of it, and its output.
    const test = await b.call("read_output", { name: "test" })
    expect(test.isError).toBe(true)
    expect(textOf(test)).toMatch(
      /^Task "test" ran under a session that has ended: it crashed, exit code 1 at \S+, and then its session \(taskmux-e2e\) ended\. Its output: \S+test\S*\.log\. restart_task or start_task \{ name: "test" \} runs it again with its command: python3 -c .*\nIts last lines, from its log file:\ncollected 2 items\nFAILED test_api\.py::test_login$/s
    )
    expect(textOf(await b.call("get_task", { name: "srv" }))).toMatch(
      /^Task "srv" ran under a session that has ended: it was stopped when its session \(taskmux-e2e\) ended, at \S+\. Its output: .*\. restart_task or start_task \{ name: "srv" \} runs it again, as the project file says\.$/
    )
    // The next conversation's restart of it runs it again, as its session had it, now this session's.
    expect(await b.structured("restart_task", { name: "ticker" })).toMatchObject({ name: "ticker", status: "running" })
    expect(await taskOf(b, "ticker")).toMatchObject({ status: "running", owner: "you" })
    await until(async () =>
      (await b.structured<{ lines: Array<{ text: string }> }>("read_output", { name: "ticker" })).lines
          .some((l) => l.text === "tick")
        ? true
        : undefined
    )
    await b.structured("stop_task", { name: "ticker" })
    // The person's stop of it: nothing runs, nothing to stop.
    const stop = await builtCli(p.project, { ...process.env, ...p.env })(["stop", "test"])
    expect([stop.code, stop.stderr]).toEqual([
      0,
      "\"test\" is not running (it went with its session); nothing to stop.\n"
    ])
    // A model tidying up removes it: forgotten, not an error.
    expect(await b.structured("remove_task", { name: "test" })).toEqual({ name: "test", removed: true })
    expect(textOf(await b.call("read_output", { name: "test" }))).toMatch(/^No task named "test"/)
    // A new run of the name is what the name is now.
    await b.structured("start_task", { name: "srv" })
    expect(await taskOf(b, "srv")).toMatchObject({ status: "running" })
    await b.structured("stop_task", { name: "srv" })
    expect(textOf(await b.call("get_task", { name: "srv" }))).toMatch(/^Task "srv": stopped/)
  })

  it("ends a session's task that ignores SIGTERM with SIGKILL after the stop's grace (--kill-grace-ms)", async () => {
    const p = makeProject()
    const a = await session({ ...p.env, TASKMUX_KILL_GRACE_MS: "1500" })
    const pid = await startStubborn(a)
    await a.client.close()
    // It ignores the SIGTERM for the grace, then the SIGKILL ends it (not a supervisor's shutdown: none).
    await new Promise((resolve) => setTimeout(resolve, 700))
    expect(isAlive(pid)).toBe(true)
    await until(() => !isAlive(pid) ? true : undefined, 10_000)
  })

  it("a session's end does not wait out the longer grace of a stop under way: its own grace, then SIGKILL", async () => {
    const p = makeProject()
    const a = await session({ ...p.env, TASKMUX_KILL_GRACE_MS: "500" })
    const pid = await startStubborn(a)
    void a.call("stop_task", { name: "stubborn", graceMs: 60_000 }).catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(isAlive(pid)).toBe(true)
    await a.client.close()
    await until(() => !isAlive(pid) ? true : undefined, 5_000)
  })

  it("ends at once on SIGTERM while a session that just went still stops its task (its grace not waited out)", async () => {
    const p = makeProject()
    const a = await session({ ...p.env, TASKMUX_KILL_GRACE_MS: "8000" })
    const pid = await startStubborn(a)
    const supervisor = (await p.supervisor())!.pid
    await a.client.close()
    // The session's end is under way: its stop waits out the task's grace, deaf to SIGTERM.
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(isAlive(pid)).toBe(true)
    const sent = performance.now()
    process.kill(supervisor, "SIGTERM")
    await until(() => !isAlive(supervisor) ? true : undefined, 15_000)
    // The supervisor's own end: the shutdown's short grace (1 s), then SIGKILL; not the session's 8 s.
    expect(performance.now() - sent).toBeLessThan(5_000)
    await until(() => !isAlive(pid) ? true : undefined, 5_000)
  })

  it("hands a dependency to the session whose task needs it when the session that started it goes", async () => {
    const p = makeProject()
    writeFileSync(
      NodePath.join(p.project, "taskmux.yaml"),
      "tasks:\n  db:\n    command: sleep 300\n  web:\n    command: sleep 300\n    dependsOn: { db: started }\n"
    )
    const bob = await session(p.env)
    const db = await bob.structured<{ pid: number }>("start_task", { name: "db" })
    const alice = await session(p.env)
    const web = await alice.structured<{ pid: number }>("start_task", { name: "web" })
    await bob.client.close()
    // Bob's session is gone; the database Alice's server needs runs on, Alice's now.
    await until(async () => (await taskOf(alice, "db"))?.owner === "you" ? true : undefined, 5_000)
    expect(isAlive(db.pid)).toBe(true)
    expect(await taskOf(alice, "web")).toMatchObject({ status: "running", owner: "you" })
    // And when Alice goes, both go with her.
    await alice.client.close()
    await until(() => !isAlive(db.pid) && !isAlive(web.pid) ? true : undefined, 5_000)
  })

  it("hands nothing to a session that is ending: a dependency nobody live needs stops with its own, and the supervisor ends", async () => {
    const p = makeProject()
    writeFileSync(
      NodePath.join(p.project, "taskmux.yaml"),
      "tasks:\n  db:\n    command: sleep 300\n  web:\n" +
        "    command: \"trap 'sleep 2; exit 0' TERM; echo up; while true; do sleep 0.2; done\"\n" +
        "    waitFor: { pattern: up }\n    dependsOn: { db: started }\n"
    )
    const bob = await session(p.env)
    const db = await bob.structured<{ pid: number }>("start_task", { name: "db" })
    const alice = await session(p.env)
    const web = await alice.structured<{ pid: number }>("start_task", { name: "web" })
    const supervisor = (await p.supervisor())!.pid
    // Alice's web takes 2 s to stop; Bob leaves while it does, its claim on db one of a session gone.
    await alice.client.close()
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(isAlive(web.pid)).toBe(true)
    await bob.client.close()
    await until(() => !isAlive(db.pid) && !isAlive(web.pid) ? true : undefined, 8_000)
    await until(() => !isAlive(supervisor) ? true : undefined, 5_000)
  })

  it("hands a dependency to a session whose chain still waits for it to get ready", async () => {
    const p = makeProject()
    const port = await freePort()
    writeFileSync(
      NodePath.join(p.project, "taskmux.yaml"),
      `tasks:\n  db:\n    command: sleep 2; exec python3 -m http.server ${port} --bind 127.0.0.1\n` +
        `    waitFor: { port: ${port} }\n  web:\n    command: sleep 300\n    dependsOn: { db: ready }\n`
    )
    const bob = await session(p.env)
    // Bob's start waits for the database to listen; he leaves before it does, Alice's chain waiting on it.
    void bob.call("start_task", { name: "db" }).catch(() => undefined)
    const alice = await session(p.env)
    const db = await until(async () => (await taskOf(alice, "db"))?.pid ?? undefined)
    const web = alice.call("start_task", { name: "web" })
    // Alice's chain waits on the database beside Bob's start (a fixed half second was a guess at it).
    await waitersOf(alice, "db", 2)
    await bob.client.close()
    // Alice's chain waited on; the database got ready, and is hers.
    const started = await web
    expect(started.isError, textOf(started)).toBeFalsy()
    expect(isAlive(db)).toBe(true)
    expect(await taskOf(alice, "db")).toMatchObject({ status: "running", owner: "you" })
  })

  it("hands a task to a session whose start joined its run and still waits for it to get ready", async () => {
    const p = makeProject()
    writeFileSync(
      NodePath.join(p.project, "taskmux.yaml"),
      "tasks:\n  web:\n    command: sleep 2; echo ready; sleep 300\n    waitFor: { pattern: ready }\n"
    )
    const bob = await session(p.env)
    void bob.call("start_task", { name: "web" }).catch(() => undefined)
    const alice = await session(p.env)
    const web = await until(async () => (await taskOf(alice, "web"))?.pid ?? undefined)
    // Alice's start finds Bob's run and waits for it; Bob leaves before it is ready.
    const joined = alice.call("start_task", { name: "web" })
    await waitersOf(alice, "web", 2)
    await bob.client.close()
    const answer = await joined
    expect(answer.isError, textOf(answer)).toBeFalsy()
    expect(answer.structuredContent).toMatchObject({ matched: true, status: "running", pid: web })
    expect(await taskOf(alice, "web")).toMatchObject({ status: "running", owner: "you" })
  })

  it("hands a run, and what it needs, to a session told it ran already when the session that started it goes", async () => {
    const p = makeProject()
    writeFileSync(
      NodePath.join(p.project, "taskmux.yaml"),
      "tasks:\n  db:\n    command: sleep 300\n  web:\n    command: sleep 300\n    dependsOn: { db: started }\n"
    )
    const bob = await session(p.env)
    await bob.structured("start_task", { name: "web" })
    const alice = await session(p.env)
    // Alice asks for web: Bob's run is the answer, and she relies on it from then on.
    const answer = await alice.structured<{ already?: boolean; pid: number }>("start_task", { name: "web" })
    expect(answer.already).toBe(true)
    const db = (await taskOf(alice, "db"))!.pid as number
    await bob.client.close()
    await until(async () => (await taskOf(alice, "web"))?.owner === "you" ? true : undefined, 5_000)
    expect(await taskOf(alice, "db")).toMatchObject({ status: "running", owner: "you" })
    expect(isAlive(answer.pid) && isAlive(db)).toBe(true)
    // Hers now: they go when she does.
    await alice.client.close()
    await until(() => !isAlive(db) && !isAlive(answer.pid) ? true : undefined, 5_000)
  })

  it("reaches a kept task from a terminal after its project directory was deleted (a worktree removed)", async () => {
    const p = makeProject()
    const s = await session(p.env)
    const kept = await s.structured<{ pid: number }>("start_task", {
      command: "sleep 300",
      name: "devserver",
      keep: true
    })
    const supervisor = (await p.supervisor())!.pid
    await s.client.close()
    rmSync(p.project, { recursive: true, force: true })
    // From elsewhere, by the path it had, and by one through a symlink (macOS's /tmp is one).
    const cli = builtCli(os.tmpdir(), { ...process.env, ...p.env, TASKMUX_PROJECT: "" })
    const via = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-via-")), "link")
    symlinkSync(NodePath.dirname(p.project), via)
    const ps = await cli(["ps", "--json", "--project", NodePath.join(via, NodePath.basename(p.project))])
    expect(ps.code, ps.stderr).toBe(0)
    expect(JSON.parse(ps.stdout)).toContainEqual(expect.objectContaining({ name: "devserver", status: "running" }))
    const stop = await cli(["stop", "devserver", "--project", p.project])
    expect(stop.code, stop.stderr).toBe(0)
    expect(isAlive(kept.pid)).toBe(false)
    // None runs there now: a path that is no directory is said as such.
    await until(() => !isAlive(supervisor) || undefined, 5_000)
    const after = await cli(["ps", "--project", p.project])
    expect([after.code, after.stderr]).toEqual([2, `--project ${p.project}: no such directory\n`])
  })

  it("keeps a kept task after every session ended, for a new session to see, read and stop; then ends", async () => {
    const p = makeProject()
    const a = await session(p.env)
    const kept = await a.structured<{ pid: number }>("start_task", {
      command: "python3 -c \"import time\nfor i in range(300): print('tick', i, flush=True); time.sleep(0.1)\"",
      name: "ticker",
      keep: true,
      waitFor: { pattern: "tick 2" }
    })
    const first = await p.supervisor()
    await a.client.close()
    // Past the linger: the supervisor stays for its kept task.
    await new Promise((resolve) => setTimeout(resolve, 800))
    expect(isAlive(kept.pid)).toBe(true)
    const c = await session(p.env)
    expect((await p.supervisor())?.pid).toBe(first?.pid)
    expect(await taskOf(c, "ticker")).toMatchObject({ status: "running", owner: "kept" })
    const read = await c.structured<{ lines: Array<{ text: string }> }>("read_output", { name: "ticker", tail: 1 })
    expect(read.lines[0]!.text).toMatch(/^tick \d+$/)
    await c.structured("stop_task", { name: "ticker" })
    expect(isAlive(kept.pid)).toBe(false)
    await c.client.close()
    // Nothing connected, nothing running: it ends after its linger.
    await until(() => !isAlive(first!.pid) ? true : undefined, 5_000)
    expect(await p.supervisor()).toBeUndefined()
  })

  it("starts one supervisor for fronts started at the same instant", async () => {
    const p = makeProject()
    const sessions = await Promise.all([1, 2, 3, 4].map(() => session(p.env)))
    await sessions[0]!.structured("start_task", { command: "sleep 60", name: "seen" })
    for (const s of sessions) expect(await taskOf(s, "seen")).toBeDefined()
    const supervisors = execFileSync("ps", ["-eo", "pid,args"], { encoding: "utf8" }).split("\n")
      .filter((line) => line.includes(" supervise ") && line.includes(p.project))
    expect(supervisors).toHaveLength(1)
    expect((await p.supervisor())?.sessions).toBe(4)
  })

  // The system's Node (20 here) has no node:sqlite, the one the tests run on has: each locks its own way.
  const olderNode = ["/usr/bin/node", "/usr/local/bin/node"].find((node) =>
    spawnSync(node, ["-e", "import('node:sqlite').then(() => process.exit(1), () => process.exit(0))"]).status === 0
  )
  it.skipIf(olderNode === undefined)(
    "never runs a supervisor on a Node without SQLite beside one with it",
    async () => {
      const p = makeProject()
      // A terminal's older Node started it (and it lingers), as an editor's newer Node starts one at the same moment.
      const env = { ...process.env, ...p.env }
      const first = spawn(olderNode!, [serverEntry, "supervise", "--project", p.project], {
        env: { ...env, TASKMUX_LINGER_MS: "60000" },
        detached: true,
        stdio: "ignore"
      })
      try {
        const running = await until(() => p.supervisor())
        expect(running.pid).toBe(first.pid)
        const second = spawnSync(process.execPath, [serverEntry, "supervise", "--project", p.project], {
          env,
          encoding: "utf8",
          timeout: 20_000
        })
        // It stands down as one that lost the race does (exit 3), and the first serves on.
        expect(second.status).toBe(3)
        expect((await p.supervisor())?.pid).toBe(first.pid)
      } finally {
        process.kill(first.pid!, "SIGTERM")
      }
    }
  )

  it.skipIf(olderNode === undefined)(
    "says on stderr that a server alone (--isolated) runs on an older Node, and which to give the client",
    () => {
      const alone = spawnSync(olderNode!, [serverEntry, "--isolated"], { input: "", encoding: "utf8", timeout: 20_000 })
      expect(alone.stdout).toBe("")
      expect(alone.stderr).toMatch(
        /^taskmux: serving alone on Node 2\d\.\S+, older than the 22\.19 taskmux supports: give your client \S+node_modules\/node\/bin\/node as its command$/m
      )
    }
  )

  it.skipIf(olderNode === undefined)(
    "a person's CLI on an older Node (npm link on a system Node 20) starts the supervisor on the checkout's own Node",
    async () => {
      const p = makeProject()
      writeFileSync(NodePath.join(p.project, "taskmux.json"), JSON.stringify({ tasks: { t: { command: "sleep 60" } } }))
      // As npm link lays it out: a bin on PATH, linked into a global node_modules that links to the checkout.
      const prefix = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-link-"))
      mkdirSync(NodePath.join(prefix, "bin"))
      mkdirSync(NodePath.join(prefix, "lib", "node_modules"), { recursive: true })
      symlinkSync(NodePath.resolve(serverEntry, "../.."), NodePath.join(prefix, "lib", "node_modules", "taskmux"))
      symlinkSync("../lib/node_modules/taskmux/dist/main.js", NodePath.join(prefix, "bin", "taskmux"))
      // The checkout's own Node (the `node` devDependency), whichever Node runs these tests.
      const own = realpathSync(NodePath.resolve(serverEntry, "../../node_modules/node/bin/node"))
      for (const entry of [serverEntry, NodePath.join(prefix, "bin", "taskmux")]) {
        const started = spawnSync(olderNode!, [entry, "start", "t"], {
          cwd: p.project,
          env: { ...process.env, ...p.env },
          encoding: "utf8",
          timeout: 30_000
        })
        expect(started.status, started.stderr).toBe(0)
        const supervisor = (await p.supervisor())!.pid
        try {
          expect(readlinkSync(`/proc/${supervisor}/exe`), entry).toBe(own)
        } finally {
          process.kill(supervisor, "SIGTERM")
          await until(() => isAlive(supervisor) ? undefined : true)
        }
      }
      // The bin itself, run as a shell runs it: still executable after the build npm test just made.
      const version = spawnSync(NodePath.join(prefix, "bin", "taskmux"), ["--version"], {
        env: { ...process.env, PATH: `${NodePath.dirname(olderNode!)}:${process.env.PATH ?? ""}` },
        encoding: "utf8"
      })
      expect(version.status, version.stderr).toBe(0)
    }
  )

  it("takes over a pid file left by a dead supervisor whose pid another process got", async () => {
    const p = makeProject()
    // Even one that looks like a supervisor (another project's): "supervise" is among its arguments.
    const other = spawn("/bin/sh", ["-c", "sleep 60", "supervise"], { stdio: "ignore", detached: true })
    try {
      mkdirSync(NodePath.dirname(p.paths().lock), { recursive: true, mode: 0o700 })
      writeFileSync(`${p.paths().lock}.pid`, String(other.pid), { mode: 0o600 })
      const s = await session(p.env)
      expect((await s.structured<Listed>("list_tasks")).tasks).toEqual([])
      // Served by a supervisor of the project's, not alone after ten seconds of trying.
      expect(s.stderr()).not.toMatch(/cannot serve this session/)
      expect((await p.supervisor())?.pid).toBeGreaterThan(0)
      expect((await p.supervisor())?.pid).not.toBe(other.pid)
    } finally {
      process.kill(-other.pid!, "SIGKILL")
    }
  })

  it("takes over a lock file that is no database (a torn write, one put there by hand), rather than serving alone for good", async () => {
    const p = makeProject()
    writeFileSync(p.paths().lock, "not a database, ".repeat(20), { mode: 0o600 })
    const s = await session(p.env)
    expect((await s.structured<Listed>("list_tasks")).tasks).toEqual([])
    expect(s.stderr()).not.toMatch(/cannot serve this session/)
    expect((await p.supervisor())?.pid).toBeGreaterThan(0)
  })

  it(
    "a session that sends calls but never reads the answers stalls only itself: the supervisor's memory stays bounded, others are answered",
    async () => {
      const p = makeProject()
      const s = await session(p.env)
      // 40,000 lines of 100 bytes held: every read_output answers 32 KiB.
      await s.structured("start_task", {
        command: "head -c 4000000 /dev/zero | tr '\\0' x | fold -w 100; echo; sleep 300",
        name: "flood",
        waitFor: { pattern: "^x{100}$" }
      })
      await until(async () => {
        const read = await s.structured<{ nextCursor: number }>("read_output", { name: "flood", tail: 0 })
        return read.nextCursor >= 40_000 ? true : undefined
      }, 30_000)
      const supervisor = (await p.supervisor())!.pid
      const rss = () => rssOf(supervisor)
      const before = rss()
      // A client that writes and never reads: its front's stdout is a pipe nobody empties.
      const stalled = spawn(process.execPath, [serverEntry], {
        env: { ...process.env, ...p.env },
        stdio: ["pipe", "pipe", "ignore"]
      })
      // Killed at the end with writes still queued.
      stalled.stdin.on("error", () => {})
      try {
        const request = (id: number, method: string, params: object) =>
          `${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`
        stalled.stdin.write(request(0, "initialize", {
          protocolVersion: "2025-06-18",
          capabilities: {},
          clientInfo: { name: "never-reads", version: "1" }
        }))
        stalled.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method: "notifications/initialized" })}\n`)
        // 6,000 answers of 32 KiB: 200 MB if they were all kept (800 MB of RSS before this was mended; 57 MB now).
        for (let id = 1; id <= 6000; id++) {
          stalled.stdin.write(
            request(id, "tools/call", { name: "read_output", arguments: { name: "flood", tail: 1000 } })
          )
        }
        let peak = before
        for (let i = 0; i < 20; i++) {
          await new Promise((resolve) => setTimeout(resolve, 200))
          peak = Math.max(peak, rss())
        }
        // Others are answered meanwhile.
        const t0 = Date.now()
        await s.structured("list_tasks")
        expect(Date.now() - t0).toBeLessThan(3000)
        // 57 MB here most runs, 155 once under load (a starved collector): far from the 800 MB it guards against.
        expect((peak - before) / 1e6).toBeLessThan(300)
      } finally {
        stalled.kill("SIGKILL")
      }
    },
    90_000
  )

  it("tells a supervisor from a process that got a dead one's pid without /proc too (macOS), by ps", () => {
    const project = "/some/project"
    const like = spawn("/bin/sh", ["-c", "sleep 60", "supervise", project], { stdio: "ignore", detached: true })
    // Another project's, whose path begins with this one's.
    const other = spawn("/bin/sh", ["-c", "sleep 60", "supervise", `${project}-web`], {
      stdio: "ignore",
      detached: true
    })
    // Any process that names the project (an editor, a shell in it) is not its supervisor either.
    const named = spawn("/bin/sh", ["-c", "sleep 60", "vim", project], { stdio: "ignore", detached: true })
    const gone = spawnSync("true").pid!
    try {
      for (const proc of ["/proc", "/nonexistent-proc"]) {
        expect([like.pid!, other.pid!, named.pid!, gone].map((pid) => isSupervisorOf(pid, project, proc))).toEqual([
          true,
          false,
          false,
          false
        ])
      }
    } finally {
      process.kill(-like.pid!, "SIGKILL")
      process.kill(-other.pid!, "SIGKILL")
      process.kill(-named.pid!, "SIGKILL")
    }
  })

  it("ends every task, kept ones too, when the supervisor is killed, and answers the call in flight", async () => {
    const p = makeProject()
    const a = await session(p.env)
    const own = await a.structured<{ pid: number }>("start_task", { command: "sleep 300", name: "own" })
    const kept = await a.structured<{ pid: number }>("start_task", { command: "sleep 300", name: "kept", keep: true })
    // A kept build that had failed before: how it ended is not lost with the supervisor.
    await a.structured("start_task", {
      command: "echo 'error: 3 tests failed'; exit 2",
      name: "build",
      keep: true,
      waitFor: { exit: true }
    })
    const supervisor = (await p.supervisor())!
    const waiting = a.call("wait_for_task", { name: "own", exit: true, timeoutMs: 60_000 })
    // A call the client cancelled gets no answer then (the client would not know its id).
    const errors: Array<string> = []
    a.client.onerror = (error) => void errors.push(error.message)
    const abandoned = new AbortController()
    const cancelled = a.client.callTool(
      { name: "wait_for_task", arguments: { name: "kept", exit: true, timeoutMs: 60_000 } },
      undefined,
      { signal: abandoned.signal }
    ).catch(() => "cancelled")
    await new Promise((resolve) => setTimeout(resolve, 200))
    abandoned.abort()
    expect(await cancelled).toBe("cancelled")
    await new Promise((resolve) => setTimeout(resolve, 100))
    process.kill(supervisor.pid, "SIGKILL")
    await expect(waiting).rejects.toThrow(/supervisor .* ended while this call ran/)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(errors.filter((message) => message.includes("unknown message ID"))).toEqual([])
    await until(() => !isAlive(own.pid) && !isAlive(kept.pid) ? true : undefined, 2_000)

    // The next supervisor shows what was running as lost, restarts none of it, and starts it when asked.
    const b = await session(p.env)
    const lost = (await b.structured<{ tasks: Array<Record<string, unknown>> }>("list_tasks")).tasks
    expect(lost.map((t) => [t.name, t.status])).toEqual([["build", "crashed"], ["own", "lost"], ["kept", "lost"]])
    lost.shift()
    expect(lost[1]!.reason).toMatch(
      new RegExp(`supervisor \\(pid ${supervisor.pid}\\) ended while it ran as pid ${kept.pid}`)
    )
    expect(lost[1]!.logFile).toMatch(/kept.*\.log$/)
    expect(textOf(await b.call("list_tasks"))).toMatch(/kept\tlost: .*start_task \{ name \} runs it again/)
    const again = await b.structured<{ pid: number; status: string }>("start_task", { name: "kept" })
    expect(again.status).toBe("running")
    expect(await taskOf(b, "kept")).toMatchObject({ status: "running", owner: "kept", pid: again.pid })
    expect(await b.structured("restart_task", { name: "own" })).toMatchObject({ status: "running" })
    expect(await taskOf(b, "own")).toMatchObject({ owner: "you" })
    await b.structured("stop_task", { name: "kept" })
  })

  for (const removed of ["its socket file", "its whole runtime directory"]) {
    it(`listens again when ${removed} is removed, so that no second supervisor starts beside it`, async () => {
      const p = makeProject()
      const a = await session(p.env)
      await a.structured("start_task", { command: "sleep 300", name: "db", keep: true })
      // Its paths, taken once: making them again (runtimePaths) would make the directory again too.
      const paths = p.paths()
      const supervisor = (await p.supervisor())!
      rmSync(removed === "its socket file" ? paths.socket : paths.dir, { recursive: true, force: true })
      const answered = async () => {
        const connection = await connectIfRunning(paths, "cli")
        connection?.socket.destroy()
        return connection?.welcome.pid
      }
      await until(async () => (await answered()) === supervisor.pid || undefined, 6_000)
      // Made again by the supervisor, as private as before.
      expect(statSync(paths.dir).mode & 0o777).toBe(0o700)
      expect(statSync(paths.socket).mode & 0o777).toBe(0o600)
      const b = await session(p.env)
      expect((await listed(b)).map((t) => [t.name, t.status, t.owner])).toEqual([["db", "running", "kept"]])
      const ps = await builtCli(p.project, { ...process.env, ...p.env })(["ps"])
      expect(ps.stdout).toMatch(/db\s+running/)
      await b.structured("stop_task", { name: "db" })
    }, 30_000)
  }

  it("listens again once a supervisor started beside it (while its directory was gone) has ended", async () => {
    const p = makeProject()
    const a = await session(p.env)
    await a.structured("start_task", { command: "sleep 300", name: "db", keep: true })
    const paths = p.paths()
    const first = (await p.supervisor())!
    rmSync(paths.dir, { recursive: true, force: true })
    // A client at once, before the first looks again: it starts a second supervisor, which takes the lock.
    const b = await session(p.env)
    const second = (await p.supervisor())!
    expect(second.pid).not.toBe(first.pid)
    expect(await listed(b)).toEqual([])
    await new Promise((resolve) => setTimeout(resolve, 2_500))
    await b.client.close()
    // The second ends (nothing of its own: not asked anything meanwhile, each ask being a session of its
    // own); the first takes the project back, with its kept task.
    await until(() => !isAlive(second.pid) || undefined, 10_000)
    await until(async () => (await p.supervisor())?.pid === first.pid || undefined, 5_000)
    const c = await session(p.env)
    expect((await listed(c)).map((t) => [t.name, t.status])).toEqual([["db", "running"]])
    await c.structured("stop_task", { name: "db" })
  }, 30_000)

  it(
    "a supervisor that loses the race to a live one leaves that one's record alone, and says nothing of it in the log",
    async () => {
      const p = makeProject()
      const a = await session(p.env)
      await a.structured("start_task", { command: "sleep 305", name: "web", keep: true })
      const paths = p.paths()
      const live = (await p.supervisor())!.pid
      const recordOf = () =>
        JSON.parse(readFileSync(paths.record, "utf8")) as { supervisorPid: number; tasks: Array<{ name: string }> }
      expect(recordOf()).toMatchObject({ supervisorPid: live, tasks: [{ name: "web" }] })
      // Its socket removed (a cleaner of /tmp): a client at once starts a second supervisor, which finds the
      // lock held, and reaches the first once it listens again.
      rmSync(paths.socket)
      const b = await session(p.env)
      expect((await p.supervisor())!.pid).toBe(live)
      expect((await listed(b)).map((t) => t.name)).toEqual(["web"])
      expect(recordOf()).toMatchObject({ supervisorPid: live, tasks: [{ name: "web" }] })
      expect(readFileSync(paths.log, "utf8")).not.toMatch(new RegExp(`the last supervisor \\(pid ${live}\\) ended`))
      await b.structured("stop_task", { name: "web" })
    },
    30_000
  )

  it(
    "says in a few seconds that a stopped supervisor does not answer, to a client and to the CLI, not hanging",
    async () => {
      const p = makeProject()
      await session(p.env)
      const supervisor = (await p.supervisor())!
      process.kill(supervisor.pid, "SIGSTOP")
      try {
        const env = { ...process.env, ...p.env }
        const [front, ps] = await Promise.all([builtCli(p.project, env)([], true), builtCli(p.project, env)(["ps"])])
        for (const run of [front, ps]) {
          expect(run.stderr).toContain(`(pid ${supervisor.pid}) took the connection but did not answer within 10 s`)
          expect(run.stderr).toContain(`kill -CONT ${supervisor.pid}`)
        }
        // The CLI fails; a client's front serves it alone, saying why (its client closed at once: exit 0).
        expect(ps.code).toBe(1)
        expect(front.stderr).toContain("This session runs on its own: it sees no task a supervisor runs")
        expect(front.code).toBe(0)
      } finally {
        process.kill(supervisor.pid, "SIGCONT")
      }
    },
    30_000
  )

  // Where it may mount (root, as CI runs): a small filesystem of its own under the runtime directory, to fill.
  it.skipIf(!canMount())(
    "runs on, its tasks too, when the disk under its runtime directory is full",
    async () => {
      const p = makeProject()
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=1m,mode=0700", "tmpfs", p.runtime])
      try {
        const s = await session(p.env)
        const before = await s.structured<{ pid: number }>("start_task", { command: "sleep 300", name: "before" })
        const supervisor = (await p.supervisor())!
        spawnSync("/bin/sh", ["-c", `dd if=/dev/zero of=${p.runtime}/fill bs=64k`], { stdio: "ignore" })
        // Its record cannot be written now, and it says so on its stderr, a file on that disk.
        const after = await s.structured<{ status: string }>("start_task", { command: "sleep 300", name: "after" })
        expect(after.status).toBe("running")
        expect((await listed(s)).map((t) => [t.name, t.status])).toEqual([["before", "running"], ["after", "running"]])
        expect(isAlive(supervisor.pid) && isAlive(before.pid)).toBe(true)
        await s.client.close()
      } finally {
        await new Promise((resolve) => setTimeout(resolve, 1_000))
        execFileSync("umount", ["-l", p.runtime])
      }
    }
  )

  it("the CLI, with none running, says what the last supervisor lost; restart starts one and runs it again", async () => {
    const p = makeProject()
    const a = await session(p.env)
    const kept = await a.structured<{ pid: number }>("start_task", { command: "sleep 300", name: "db", keep: true })
    // One that was the session's, not kept: run again from the CLI, it is kept (the CLI's session ends with it).
    await a.structured("start_task", { command: "sleep 300", name: "mine" })
    process.kill((await p.supervisor())!.pid, "SIGKILL")
    await until(() => a.call("list_tasks").then(() => undefined, () => true), 5_000)
    await until(() => !isAlive(kept.pid) ? true : undefined, 2_000)
    await a.client.close()
    const taskmux = builtCli(p.project, { ...process.env, ...p.env })
    const ps = await taskmux(["ps"])
    expect(ps.code).toBe(0)
    expect(ps.stdout).toMatch(
      /^No taskmux supervisor runs for .*\.\nLost: a supervisor ended while these ran:\ndb is lost: the supervisor \(pid \d+\) ended while it ran as pid \d+; nothing restarted it\. Its output: .*db.*\.log \(`taskmux start db` runs it again\)\nmine is lost: .*\n$/
    )
    expect(JSON.parse((await taskmux(["ps", "--json"])).stdout)).toMatchObject([
      { name: "db", status: "lost" },
      { name: "mine", status: "lost" }
    ])
    // Nothing runs, so nothing to stop: done, saying what became of it.
    const stop = await taskmux(["stop", "db"])
    expect([stop.code, stop.stderr]).toEqual([0, expect.stringContaining("\ndb is lost: ")])
    const restarted = await taskmux(["restart", "db"])
    expect(restarted.code, restarted.stderr).toBe(0)
    expect(restarted.stdout).toContain("db")
    const listed = JSON.parse((await taskmux(["ps", "--json"])).stdout) as Array<{ name: string; status: string }>
    expect(listed.find((t) => t.name === "db")?.status).toBe("running")
    expect((await taskmux(["restart", "mine"])).code).toBe(0)
    const after = JSON.parse((await taskmux(["ps", "--json"])).stdout) as Array<{ name: string; status: string }>
    expect(after.find((t) => t.name === "mine")).toMatchObject({ status: "running", owner: "kept" })
    await taskmux(["stop", "db"])
    await taskmux(["stop", "mine"])
    // The log a front points at after such an end says it, each line with its time and its supervisor's pid.
    const log = readFileSync(p.paths().log, "utf8")
    expect(log).toMatch(/^\d{4}-\d\d-\d\dT\S+Z \[\d+\] taskmux: supervisor \S+ \(build .*\) listening at /m)
    expect(log).toMatch(
      /\[\d+\] taskmux: the last supervisor \(pid \d+\) ended with tasks running .*: db, mine lost; list_tasks and taskmux ps show them/
    )
  })

  it("ends what a dead supervisor's tasks left running when its watchdog died with it, and lists them lost", async () => {
    const p = makeProject()
    // Another project's supervisor, live, with a task of its own: its runs carry a marker too.
    const q = makeProject()
    const neighbour = await session(q.env)
    const theirs = await neighbour.structured<{ pid: number }>("start_task", { command: "sleep 308", name: "theirs" })
    const a = await session(p.env)
    const stubborn = await startStubborn(a)
    const plain = await a.structured<{ pid: number }>("start_task", { command: "sleep 307", name: "plain" })
    const supervisor = (await p.supervisor())!.pid
    const watchdogs = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(supervisor)], { encoding: "utf8" })
      .split("\n").filter((line) => line.includes("groups=")).map((line) => Number(line.trim().split(" ")[0]))
    expect(watchdogs.length).toBeGreaterThan(0)
    // Both at once (a kill -9 of every taskmux process): nobody is left to end the tasks.
    for (const pid of [...watchdogs, supervisor]) process.kill(pid, "SIGKILL")
    await until(() => !isAlive(supervisor) || undefined, 5_000)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect([stubborn, plain.pid].filter(isAlive)).toEqual([stubborn, plain.pid])

    // The next supervisor ends them, as that watchdog would have (SIGTERM, then SIGKILL), and says so.
    const b = await session(p.env)
    await until(() => ![stubborn, plain.pid].some(isAlive) || undefined, 5_000)
    expect((await listed(b)).map((t) => [t.name, t.status])).toEqual([["stubborn", "lost"], ["plain", "lost"]])
    expect(readFileSync(p.paths().log, "utf8")).toMatch(
      /\d processes of the last supervisor's tasks outlived it and its watchdog \(pids [\d, ]+\): ending them/
    )
    // Only that supervisor's: the other project's task runs on.
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    expect(isAlive(theirs.pid)).toBe(true)
    expect((await neighbour.structured<Listed>("list_tasks")).tasks.map((t) => [t.name, t.status])).toEqual([[
      "theirs",
      "running"
    ]])
  })

  it("starts a lost task again only once its last run is gone, which the dead supervisor's watchdog ends", async () => {
    const p = makeProject()
    const a = await session(p.env)
    // Deaf to SIGTERM: the watchdog's SIGKILL, half a second after, ends it.
    const deaf = await a.structured<{ pid: number }>("start_task", {
      command: "python3",
      args: [
        "-c",
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nprint('up', flush=True)\ntime.sleep(300)"
      ],
      name: "deaf",
      keep: true,
      waitFor: { pattern: "up" }
    })
    process.kill((await p.supervisor())!.pid, "SIGKILL")
    await until(() => a.call("list_tasks").then(() => undefined, () => true), 5_000)
    await a.client.close()
    // A client at once: a new supervisor, which knows the task as lost while its run still ends.
    const b = await session(p.env)
    const again = await b.structured<{ pid: number }>("start_task", { name: "deaf" })
    expect(isAlive(deaf.pid)).toBe(false)
    expect(again.pid).not.toBe(deaf.pid)
    await b.structured("stop_task", { name: "deaf", force: true })
  })

  it("says in its log that the record of what ran before cannot be read, and keeps a copy of it to look at", async () => {
    const p = makeProject()
    const paths = p.paths()
    mkdirSync(NodePath.dirname(paths.record), { recursive: true, mode: 0o700 })
    // A record torn by a full disk (or a hand edit): its tasks cannot be shown as lost, and that is said.
    writeFileSync(paths.record, "{\"supervisorPid\":1,\"tasks\":[{\"name\":\"db\",\"comm", { mode: 0o600 })
    const a = await session(p.env)
    expect((await listed(a)).map((t) => t.name)).toEqual([])
    await until(() => existsSync(paths.log) && readFileSync(paths.log, "utf8").includes(".tasks.json") || undefined)
    expect(readFileSync(paths.log, "utf8")).toMatch(
      /taskmux: \S+\.tasks\.json cannot be read \(.*JSON.*\): what ran before is not shown as lost; a copy is kept as \S+\.tasks\.json\.unreadable\n/
    )
    expect(readFileSync(`${paths.record}.unreadable`, "utf8")).toContain("\"name\":\"db\"")
  })

  it("runs a lost project task again with restart_task, kept as it was, and a new run forgets its loss for good", async () => {
    const p = makeProject()
    writeFileSync(NodePath.join(p.project, "taskmux.yaml"), "tasks:\n  db:\n    command: sleep 302\n")
    const a = await session(p.env)
    const first = await a.structured<{ pid: number }>("start_task", { name: "db", keep: true })
    process.kill((await p.supervisor())!.pid, "SIGKILL")
    await until(() => a.call("list_tasks").then(() => undefined, () => true), 5_000)
    await until(() => !isAlive(first.pid) ? true : undefined, 2_000)

    const b = await session(p.env)
    expect(await taskOf(b, "db")).toMatchObject({ status: "lost" })
    const again = await b.call("restart_task", { name: "db" })
    expect(again.isError, textOf(again)).toBeFalsy()
    expect(await taskOf(b, "db")).toMatchObject({ status: "running", owner: "kept" })
    // Stopped, and the supervisor gone in order: the next one has nothing lost to show.
    await b.structured("stop_task", { name: "db" })
    const gone = (await p.supervisor())!.pid
    await b.client.close()
    await a.client.close()
    await until(() => !isAlive(gone) ? true : undefined, 10_000)
    const c = await session(p.env)
    expect(await listed(c)).toEqual([expect.objectContaining({ name: "db", status: "defined" })])
  })

  it("has a start and a removal just answered on disk before a kill can come, however big the record", async () => {
    const p = makeProject()
    const a = await session(p.env)
    // A big record (a session's environment, many tasks): the record of a policy's restarts is written
    // at most every 2 ms per KB of it, but a start or a removal someone was told of is written at once.
    const pad = { PAD: "x".repeat(80_000) }
    for (const name of ["big1", "big2", "big3"]) {
      await a.structured("start_task", { command: "sleep 304", name, env: pad, keep: true })
    }
    await a.structured("start_task", { command: "sleep 304", name: "old", keep: true })
    await new Promise((resolve) => setTimeout(resolve, 1_500))
    await a.structured("start_task", { command: "sleep 304", name: "fresh", keep: true })
    await a.structured("remove_task", { name: "old" })
    await new Promise((resolve) => setTimeout(resolve, 100))
    const supervisor = (await p.supervisor())!.pid
    process.kill(supervisor, "SIGKILL")
    await until(() => !isAlive(supervisor) || undefined, 5_000)
    await until(() => a.call("list_tasks").then(() => undefined, () => true), 5_000)

    const b = await session(p.env)
    const tasks = await listed(b)
    expect(tasks.map((t) => [t.name, t.status])).toEqual([
      ["big1", "lost"],
      ["big2", "lost"],
      ["big3", "lost"],
      ["fresh", "lost"]
    ])
  })

  it("a supervisor ended in order with a kept task running (a kill after an upgrade) leaves it lost, to run again", async () => {
    const p = makeProject()
    const a = await session(p.env)
    const kept = await a.structured<{ pid: number }>("start_task", { command: "sleep 303", name: "web", keep: true })
    await a.client.close()
    const pid = (await p.supervisor())!.pid
    process.kill(pid, "SIGTERM")
    await until(() => !isAlive(pid) && !isAlive(kept.pid) ? true : undefined, 10_000)
    const b = await session(p.env)
    expect(await taskOf(b, "web")).toMatchObject({ status: "lost" })
    expect((await b.structured<{ tasks: Array<{ name: string; reason?: string }> }>("list_tasks")).tasks[0]!.reason)
      .toMatch(
        new RegExp(`^the supervisor \\(pid ${pid}\\) ended while it ran as pid ${kept.pid}; nothing restarted it`)
      )
    const again = await b.call("restart_task", { name: "web" })
    expect(again.isError, textOf(again)).toBeFalsy()
    expect(await taskOf(b, "web")).toMatchObject({ status: "running", owner: "kept" })
    await b.structured("stop_task", { name: "web" })
  })

  it("a CLI following a task whose supervisor is killed says the supervisor ended, and its tasks with it", async () => {
    const p = makeProject()
    const a = await session(p.env)
    await a.structured("start_task", {
      command: "while true; do echo tick; sleep 0.1; done",
      name: "ticker",
      keep: true
    })
    const taskmux = builtCli(p.project, { ...process.env, ...p.env })
    const following = taskmux(["logs", "-f", "ticker"])
    const followingJson = taskmux(["logs", "-f", "ticker", "--json"])
    // Both have printed their first lines and follow: each watches with a subscription and a wait, made
    // after its first lines are out (two of one follower alone would be two).
    await waitersOf(a, "ticker", 4)
    process.kill((await p.supervisor())!.pid, "SIGKILL")
    const ran = await following
    expect(ran.code).toBe(1)
    expect(ran.stderr).toMatch(/^The taskmux supervisor for .* ended while this ran, and its tasks with it/)
    expect(ran.stdout).toContain("tick")
    // A script's stream of JSON lines ends with the failure, as its last line.
    const json = await followingJson
    expect(json.code).toBe(1)
    const lines = json.stdout.trim().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(lines[0]).toMatchObject({ text: "tick" })
    expect(lines.at(-1)).toMatchObject({ error: expect.stringMatching(/supervisor .* ended/), exitCode: 1 })
  })

  it("remembers how a kept task ended after its supervisor exits: ps says so, logs reads its log file, the next supervisor lists it and runs it again", async () => {
    const p = makeProject()
    const taskmux = builtCli(p.project, { ...process.env, ...p.env })
    writeFileSync(
      NodePath.join(p.project, "taskmux.yaml"),
      "tasks:\n  api:\n    command: \"echo 'api listening'; sleep 1.5; echo 'Error: lost connection to db' >&2; exit 1\"\n"
    )
    const started = await taskmux(["start", "api"])
    expect(started.code, started.stderr + started.stdout).toBe(0)
    // It crashes after the CLI's session has gone, and the supervisor, with nothing left to run, exits.
    const supervisor = (await p.supervisor())!.pid
    await until(() => !isAlive(supervisor) ? true : undefined, 10_000)
    const ps = await taskmux(["ps"])
    expect(ps.stdout).toMatch(
      /Kept tasks that ended before their supervisor did:\napi: it crashed, exit code 1 at .*, before its supervisor ended\. Its output: .*api.*\.log \(`taskmux start api` runs it again\)\n$/
    )
    expect(JSON.parse((await taskmux(["ps", "--json"])).stdout)).toMatchObject([
      { name: "api", status: "crashed", exitCode: 1, logFile: expect.stringMatching(/\.log$/) }
    ])
    const logs = await taskmux(["logs", "api"])
    expect(logs).toMatchObject({ code: 0, stdout: "api listening\nError: lost connection to db\n" })
    expect(logs.stderr).toContain("shown from its log file, as no supervisor runs")
    expect((await taskmux(["logs", "api", "--json", "--tail", "1"])).stdout).toBe(
      "{\"text\":\"Error: lost connection to db\"}\n"
    )
    // Followed, with --json: then how it ended, as the last line of any follow says it.
    const ended =
      "{\"text\":\"Error: lost connection to db\"}\n{\"ended\":\"crashed\",\"exitCode\":1,\"signal\":null}\n"
    expect(await taskmux(["logs", "api", "-f", "--json", "--tail", "1"])).toMatchObject({ code: 0, stdout: ended })

    const s = await session(p.env)
    expect(await taskOf(s, "api")).toMatchObject({ status: "crashed", exitCode: 1 })
    // With a supervisor running again, the CLI reads it from its log file all the same.
    const again = await taskmux(["logs", "api", "--tail", "1"])
    expect(again).toMatchObject({ code: 0, stdout: "Error: lost connection to db\n" })
    expect(again.stderr).toMatch(/api: it crashed, exit code 1 at .*; shown from its log file/)
    expect(await taskmux(["logs", "api", "-f", "--json", "--tail", "1"])).toMatchObject({ code: 0, stdout: ended })
    // Its output too, for a client that cannot read the log file itself.
    expect(textOf(await s.call("read_output", { name: "api" }))).toMatch(
      /^Task "api" ran under the last supervisor: it crashed.*\nIts last lines, from its log file:\napi listening\nError: lost connection to db$/s
    )
    await s.structured("start_task", { name: "api" })
    expect(await s.structured("wait_for_task", { name: "api", exit: true })).toMatchObject({ status: "crashed" })
    expect(await taskOf(s, "api")).toMatchObject({ status: "crashed", owner: "kept" })
  })

  it("forgets a remembered task from the CLI with no supervisor running, its log file too with --delete-log", async () => {
    const p = makeProject()
    const taskmux = builtCli(p.project, { ...process.env, ...p.env })
    const s = await session(p.env)
    await s.structured("start_task", {
      command: "echo built; exit 0",
      name: "build",
      keep: true,
      waitFor: { exit: true }
    })
    const logFile = (await s.structured<{ logFile: string }>("get_task", { name: "build" })).logFile
    const supervisor = (await p.supervisor())!.pid
    await s.client.close()
    await until(() => !isAlive(supervisor) ? true : undefined, 10_000)
    expect((await taskmux(["ps"])).stdout).toContain("build: it exited, exit code 0")
    const removed = await taskmux(["remove", "build", "--delete-log"])
    expect(removed, removed.stderr).toMatchObject({ code: 0, stdout: "Removed task \"build\".\n" })
    expect(existsSync(logFile)).toBe(false)
    await until(async () => (await taskmux(["ps"])).stdout.includes("build") ? undefined : true, 10_000)
  })

  it("keeps a project task another session runs when a start asks to keep it (keep: true, taskmux start)", async () => {
    const p = makeProject()
    writeFileSync(NodePath.join(p.project, "taskmux.yaml"), "tasks:\n  srv:\n    command: sleep 300\n")
    const alice = await session(p.env)
    const bob = await session(p.env)
    await alice.structured("start_task", { name: "srv" })
    const kept = await bob.structured<{ already?: boolean; hint?: string }>("start_task", { name: "srv", keep: true })
    expect(kept.already).toBe(true)
    expect(kept.hint).toContain("kept from now on")
    await alice.client.close()
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const listed = await bob.structured<Listed>("list_tasks")
    expect(listed.tasks.find((t) => t.name === "srv")).toMatchObject({ status: "running", owner: "kept" })
    // Kept, it would hold its supervisor for its 300 s after the tests.
    await bob.structured("stop_task", { name: "srv" })
  })

  it("taskmux restart of an ad-hoc task gone with its session runs it kept, not as the command's own", async () => {
    const p = makeProject()
    const alice = await session(p.env)
    await alice.structured("start_task", { name: "dev", command: "echo up; sleep 300" })
    await alice.client.close()
    const bob = await session(p.env)
    const restarted = await builtCli(p.project, { ...process.env, ...p.env })(["restart", "dev"])
    expect(restarted.code, restarted.stderr).toBe(0)
    await new Promise((resolve) => setTimeout(resolve, 1_000))
    const listed = await bob.structured<Listed>("list_tasks")
    expect(listed.tasks.find((t) => t.name === "dev")).toMatchObject({ status: "running", owner: "kept" })
    await bob.structured("stop_task", { name: "dev" })
  })

  it("a CLI following a task that goes with its session says how it ended, and exits 0", async () => {
    const p = makeProject()
    const alice = await session(p.env)
    await alice.structured("start_task", { command: "while true; do echo tick; sleep 0.1; done", name: "atick" })
    const following = builtCli(p.project, { ...process.env, ...p.env })(["logs", "-f", "atick"])
    await waitersOf(alice, "atick", 1)
    await alice.client.close()
    const ran = await following
    expect(ran.code, ran.stderr).toBe(0)
    expect(ran.stderr).toContain("[atick stopped: Stopped when its session (taskmux-e2e) ended.]")
  })

  it("forgets a lost task on remove_task, and says which names it knows", async () => {
    const p = makeProject()
    const a = await session(p.env)
    await a.structured("start_task", { command: "sleep 300", name: "gone" })
    process.kill((await p.supervisor())!.pid, "SIGKILL")
    await until(() => a.call("list_tasks").then(() => undefined, () => true), 5_000)
    const b = await session(p.env)
    // Shown by list_tasks, so not unknown to the others: they say it is lost, where its output is, what runs it.
    for (const tool of ["get_task", "read_output", "stop_task", "wait_for_task"]) {
      expect(textOf(await b.call(tool, { name: "gone" }))).toMatch(
        /^Task "gone" is lost: the supervisor \(pid \d+\) ended while it ran as pid \d+; nothing restarted it\. Its output: .*gone.*\.log\. restart_task or start_task \{ name \} runs it again/
      )
    }
    expect(await b.structured("remove_task", { name: "gone" })).toEqual({ name: "gone", removed: true })
    expect(await listed(b)).toEqual([])
    const missing = await b.call("remove_task", { name: "gone" })
    expect(textOf(missing)).toMatch(/No task named "gone"/)
  })

  it("tells a session whose task the person removed who removed it, when, and where its output is", async () => {
    const p = makeProject()
    const a = await session(p.env)
    await a.structured("start_task", {
      command: "python3 -u -c \"import time; print('serving', flush=True); time.sleep(300)\"",
      name: "dev",
      waitFor: { pattern: "serving" }
    })
    const cli = builtCli(p.project, { ...process.env, ...p.env })
    expect((await cli(["remove", "dev"])).code).toBe(0)
    // Not "No task named": the assistant would start it again, against what the person just did.
    for (const tool of ["get_task", "read_output", "stop_task", "wait_for_task"]) {
      const answer = await a.call(tool, { name: "dev" })
      expect(answer.isError).toBe(true)
      expect(answer._meta).toMatchObject({ "taskmux/error": "TaskWasRemoved" })
      expect(textOf(answer)).toMatch(
        /^Task "dev" was removed by remove_task from taskmux-cli at \S+Z\. Its output: \S+dev\S*\.log\. It ran: "python3 -u -c .*"; start_task with a command runs a new task under that name\.\nIts last lines, from its log file:\nserving$/
      )
    }
    // The person's CLI reads it the same way, and says so.
    const stopped = await cli(["stop", "dev"])
    expect(stopped.code).not.toBe(0)
    expect(stopped.stderr).toMatch(
      /^Task "dev" was removed by `taskmux remove dev` from taskmux-cli at \S+Z\. Its output: \S+\.log\. It ran: ".*"\.\n/
    )
    // A new start under the name is a new task, and the removal is forgotten with it.
    await a.structured("start_task", { command: "sleep 300", name: "dev" })
    expect(await taskOf(a, "dev")).toMatchObject({ status: "running", owner: "you" })
    await a.structured("remove_task", { name: "dev", deleteLog: true })
    expect(textOf(await a.call("get_task", { name: "dev" }))).toMatch(
      /^Task "dev" was removed by remove_task from taskmux-e2e at \S+Z\. It ran: "sleep 300"/
    )
  })

  it("keeps its socket in a directory only the user can enter, and refuses another uid", async () => {
    const p = makeProject()
    await session(p.env)
    const paths = p.paths()
    expect(statSync(paths.dir).mode & 0o777).toBe(0o700)
    expect(statSync(paths.socket).mode & 0o777).toBe(0o600)
    // Everything beside it is the user's only too.
    for (const file of readdirSync(paths.dir)) {
      expect(statSync(NodePath.join(paths.dir, file)).mode & 0o077, file).toBe(0)
    }
    expect(readdirSync(paths.dir).filter((f) => f.endsWith(".sock"))).toHaveLength(1)
    // The runtime directory is the user's: the other user may walk as far as the socket's own directory.
    const attempt = asOtherUser(
      `require("net").createConnection(${
        JSON.stringify(paths.socket)
      }).on("connect", () => { console.log("connected"); process.exit(0) }).on("error", (e) => { console.log(e.code); process.exit(0) })`,
      p.runtime
    )
    // Shown where the tests run as root, the only way to make another uid.
    if (attempt !== undefined) expect(attempt).toBe("EACCES")
  })

  it("sends a client that has not said initialize yet no news of other sessions' tasks", async () => {
    const p = makeProject()
    const a = await session(p.env)
    // A front whose client has not spoken: what it would hear is on its stdout.
    const quiet = spawn(process.execPath, [serverEntry], { env: { ...process.env, ...p.env }, stdio: "pipe" })
    let heard = ""
    quiet.stdout.on("data", (chunk: Buffer) => (heard += chunk.toString()))
    try {
      // Served: a's session and the quiet one (the CLI's look counts itself too).
      await until(async () => ((await p.supervisor())?.sessions ?? 0) >= 2 ? true : undefined)
      await a.structured("start_task", { command: "exit 3", name: "crash", waitFor: { exit: true } })
      await a.structured("remove_task", { name: "crash" })
      await new Promise((resolve) => setTimeout(resolve, 700))
      expect(heard).toBe("")
    } finally {
      quiet.kill("SIGKILL")
    }
  })

  it("opens the page for the person's CLI only: an assistant's session cannot move it or take its token", async () => {
    const p = makeProject()
    const s = await session(p.env)
    await expect(
      s.client.request({ method: "taskmux/ui", params: { listen: "0.0.0.0:0" } }, EmptyResultSchema)
    ).rejects.toThrow(/Method not found/)
    // Nothing listens for a page, and the session goes on.
    const listed = await s.call("list_tasks")
    expect(listed.isError).toBeFalsy()
    const { url } = await builtCli(p.project, { ...process.env, ...p.env })(["ui", "--print"]).then((ran) => ({
      url: new URL(ran.stdout.trim())
    }))
    expect(url.hostname).toBe("127.0.0.1")
  })

  /** A supervisor of another build, on the project's socket: it answers every hello with `welcome`. */
  const otherBuild = async (paths: ReturnType<ReturnType<typeof makeProject>["paths"]>, welcome: object) => {
    const server = net.createServer((socket) => {
      socket.once("data", () => {
        socket.end(
          `${
            JSON.stringify({ taskmux: "9.9.9", protocol: 999, pid: process.pid, project: paths.project, ...welcome })
          }\n`
        )
        if ((welcome as { replacing?: boolean }).replacing === true) server.close()
      })
    })
    await new Promise<void>((resolve) => server.listen(paths.socket, resolve))
    return server
  }

  it("serves a session alone, saying why, when a busy supervisor of another protocol holds the project", async () => {
    const p = makeProject()
    const server = await otherBuild(p.paths(), { sessions: 2, running: 3 })
    try {
      const a = await session(p.env)
      expect(a.stderr()).toMatch(
        /taskmux 9\.9\.9 supervisor \(pid \d+, wire protocol 999\) .* 2 session\(s\) and 3 running task\(s\).*kill \d+/
      )
      expect(a.client.getInstructions()).toMatch(/^A taskmux 9\.9\.9 supervisor/)
      const t = await a.structured<{ pid: number }>("start_task", { command: "sleep 60", name: "alone" })
      await a.client.close()
      await until(() => !isAlive(t.pid) ? true : undefined, 5_000)
    } finally {
      server.close()
    }
  })

  it("an open page keeps its supervisor from a front of another protocol, as a session does", async () => {
    const p = makeProject()
    const printed = await builtCli(p.project, { ...process.env, ...p.env })(["ui", "--print"])
    const url = new URL(printed.stdout.trim())
    const before = (await p.supervisor())!
    // The page's task list, as a page keeps it open.
    const stream = await new Promise<http.IncomingMessage>((resolve, reject) =>
      http.get({
        host: url.hostname,
        port: url.port,
        path: "/api/events",
        headers: { "x-taskmux-token": url.searchParams.get("token")! }
      }, resolve).on("error", reject)
    )
    try {
      expect(stream.statusCode).toBe(200)
      await until(async () => (await p.supervisor())?.viewers === 1 || undefined)
      // A front of a taskmux that speaks another protocol (an upgrade): told the supervisor is busy.
      const welcome = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const socket = net.connect(
          p.paths().socket,
          () => socket.write(`${JSON.stringify({ taskmux: "9.9.9", protocol: 999, role: "front" })}\n`)
        )
        let text = ""
        socket.on("data", (chunk) => (text += chunk.toString()))
        socket.on("close", () => resolve(JSON.parse(text.split("\n")[0]!) as Record<string, unknown>))
        socket.on("error", reject)
      })
      expect(welcome).toMatchObject({ pid: before.pid, viewers: 1 })
      expect(welcome.replacing).not.toBe(true)
      await new Promise((resolve) => setTimeout(resolve, 500))
      expect(isAlive(before.pid)).toBe(true)
    } finally {
      stream.destroy()
      // Else it stays the minute a page that was asked for has to come.
      process.kill(before.pid, "SIGTERM")
    }
  })

  it("answers initialize first to a client that sends everything at once (printf … | taskmux)", async () => {
    const p = makeProject()
    const child = spawn(process.execPath, [serverEntry], { env: { ...process.env, ...p.env } })
    let out = ""
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
    child.stdin.end(
      [
        { jsonrpc: "2.0", id: 1, method: "initialize", params: { protocolVersion: "2025-06-18", capabilities: {} } },
        { jsonrpc: "2.0", method: "notifications/initialized" },
        { jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "start_task", arguments: { command: "true" } } }
      ].map((m) => `${JSON.stringify(m)}\n`).join("")
    )
    await until(() => out.includes("\"id\":2") || undefined)
    // Not the list_changed its start sets off: that came first, before the session was even agreed on.
    expect(JSON.parse(out.split("\n")[0]!)).toMatchObject({ id: 1, result: { protocolVersion: "2025-06-18" } })
    child.kill()
  })

  it("a supervisor that dies mid-answer leaves every open call its sentence, the cut one's included, each a line", async () => {
    const p = makeProject()
    const paths = p.paths()
    // A supervisor of this protocol that dies while it writes an answer (a kill -9 mid-write).
    const server = net.createServer((socket) => {
      let greeted = false
      socket.on("data", (chunk) => {
        if (!greeted) {
          greeted = true
          const welcome = { taskmux: "0.0.0", protocol: WIRE_PROTOCOL, pid: process.pid, project: paths.project }
          return socket.write(`${JSON.stringify({ ...welcome, sessions: 0, running: 0 })}\n`)
        }
        if (chunk.toString().includes("\"id\":8")) {
          socket.end(`{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"${"x".repeat(100_000)}`)
        }
      })
    })
    await new Promise<void>((resolve) => server.listen(paths.socket, resolve))
    try {
      const child = spawn(process.execPath, [serverEntry], { env: { ...process.env, ...p.env } })
      let out = ""
      child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()))
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 7, method: "tools/call", params: { name: "x" } })}\n`)
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id: 8, method: "tools/call", params: { name: "y" } })}\n`)
      await until(() => child.exitCode !== null || undefined, 10_000)
      const lines = out.split("\n").filter((line) => line !== "")
      // The cut line, then a sentence for each open call, each a line of its own.
      expect(lines).toHaveLength(3)
      const errors = lines.slice(1).map((line) => JSON.parse(line) as { id: number; error: { message: string } })
      expect(errors.map((e) => e.id).sort()).toEqual([7, 8])
      expect(errors[0]!.error.message).toMatch(/ended while this call ran/)
    } finally {
      server.close()
    }
  })

  it("lets go of connections that close before their greeting (a front killed as it starts)", async () => {
    const p = makeProject()
    const a = await session(p.env)
    await a.call("list_tasks")
    const pid = (await p.supervisor())!.pid
    const descriptors = () => readdirSync(`/proc/${pid}/fd`).length
    const before = descriptors()
    for (let i = 0; i < 40; i++) {
      await new Promise<void>((resolve) => {
        const socket = net.createConnection(p.paths().socket, () => {
          // Half of them half a greeting, no newline.
          if (i % 2 === 1) socket.write("{\"taskmux\":\"0.1.0\",")
          socket.end(() => resolve())
        })
      })
    }
    await until(() => descriptors() <= before + 2 || undefined)
    expect(descriptors()).toBeLessThanOrEqual(before + 2)
  })

  it("drops a greeting of its protocol whose fields are of another shape, and serves on: its tasks live", async () => {
    const p = makeProject()
    const a = await session(p.env)
    const started = await a.call("start_task", { command: "sleep 300", name: "stays", keep: true })
    const taskPid = (started.structuredContent as { pid: number }).pid
    const pid = (await p.supervisor())!.pid
    // What a stray script of the user's, or a prober, might send: each threw in the socket's callback and
    // ended the supervisor (and the task, by its watchdog).
    const odd = [{ args: 5 }, { env: null }, { env: { PATH: 1 } }, { cwd: 7 }, { role: "front", args: [1] }, {
      role: "nobody"
    }]
    for (const fields of odd) {
      const closed = await new Promise<string>((resolve) => {
        let said = ""
        const socket = net.createConnection(p.paths().socket, () => {
          socket.write(`${JSON.stringify({ taskmux: "0.1.0", protocol: WIRE_PROTOCOL, role: "cli", ...fields })}\n`)
        })
        socket.on("data", (chunk: Buffer) => (said += chunk.toString()))
        socket.on("close", () => resolve(said))
        socket.on("error", () => {})
      })
      expect(closed, JSON.stringify(fields)).toBe("")
    }
    expect(isAlive(pid)).toBe(true)
    expect(isAlive(taskPid)).toBe(true)
    expect((await a.call("list_tasks")).isError).toBeFalsy()
    await a.call("stop_task", { name: "stays" })
  })

  it("makes its directory and socket private again when a chmod opens them to other users", async () => {
    const p = makeProject()
    const a = await session(p.env)
    await a.call("list_tasks")
    const paths = p.paths()
    chmodSync(paths.dir, 0o777)
    chmodSync(paths.socket, 0o666)
    await until(() =>
      (statSync(paths.dir).mode & 0o777) === 0o700 && (statSync(paths.socket).mode & 0o777) === 0o600 || undefined
    )
    await until(() => readFileSync(paths.log, "utf8").includes("let other users in") || undefined)
    expect(readFileSync(paths.log, "utf8")).toMatch(
      /\S+ \(mode 777\) and \S+\.sock \(mode 666\) let other users in: made private again/
    )
    // Open to the user's group only is open to other users too.
    chmodSync(paths.dir, 0o770)
    chmodSync(paths.socket, 0o660)
    await until(() =>
      (statSync(paths.dir).mode & 0o777) === 0o700 && (statSync(paths.socket).mode & 0o777) === 0o600 || undefined
    )
    // And it serves on.
    expect((await a.call("list_tasks")).isError).toBeFalsy()
  })

  it("the CLI says who a busy supervisor of another protocol is and how to end it, not that it died", async () => {
    const p = makeProject()
    const server = await otherBuild(p.paths(), { sessions: 0, running: 2 })
    try {
      const taskmux = builtCli(p.project, { ...process.env, ...p.env })
      for (const command of [["ps"], ["logs", "web"], ["stop", "web"], ["ps", "--json"]]) {
        const ran = await taskmux(command)
        const said = `${ran.stdout}${ran.stderr}`
        expect([ran.code, said], command.join(" ")).toEqual([
          1,
          expect.stringMatching(
            /A taskmux 9\.9\.9 supervisor \(pid \d+, wire protocol 999\) serves .* 0 session\(s\) and 2 running task\(s\); this taskmux \S+ speaks protocol \d+, and cannot see or stop its tasks: that version's taskmux can\. End that supervisor once its tasks may stop \(kill \d+\)/
          )
        ])
        expect(said).not.toMatch(/ended while this ran/)
      }
    } finally {
      server.close()
    }
  })

  it.runIf(process.getuid?.() === 0)(
    "serves a session alone, saying why, where another user holds its runtime directory: the client still has its tools",
    async () => {
      const p = makeProject()
      // /tmp/taskmux-UID made first by another user (54321): this one cannot remove it from a sticky /tmp.
      const squatted = NodePath.join(p.runtime, "taskmux")
      mkdirSync(squatted, { mode: 0o700 })
      chownSync(squatted, 54321, 54321)
      const a = await session(p.env)
      expect(a.stderr()).toMatch(
        /The project's supervisor cannot serve this session \(.*\): .*taskmux belongs to uid 54321, not to you \(uid 0\): remove it, or set XDG_RUNTIME_DIR to a directory of yours \(or use --isolated\)\. This session runs on its own/
      )
      expect(a.client.getInstructions()).toMatch(
        /^The project's supervisor cannot serve this session .*This session runs on its own: it sees no task a supervisor runs, and its own tasks end with it\./
      )
      const t = await a.structured<{ pid: number }>("start_task", { command: "sleep 60", name: "alone" })
      await a.client.close()
      await until(() => !isAlive(t.pid) ? true : undefined, 5_000)
    }
  )

  // Where it may mount (root, as CI runs): a full disk under the runtime directory before any supervisor.
  it.skipIf(!canMount())(
    "a supervisor that cannot take its lock on a full disk says so, not that another holds it; the session is served alone",
    async () => {
      const p = makeProject()
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", p.runtime])
      try {
        mkdirSync(NodePath.join(p.runtime, "taskmux"), { mode: 0o700 })
        spawnSync("/bin/sh", ["-c", `dd if=/dev/zero of=${p.runtime}/fill bs=4k`], { stdio: "ignore" })
        const direct = spawnSync(process.execPath, [serverEntry, "supervise", "--project", p.project], {
          env: { ...process.env, ...p.env },
          encoding: "utf8",
          timeout: 20_000
        })
        expect(direct.stderr).not.toMatch(/another supervisor/)
        expect(direct.stderr).toMatch(/cannot take .*\.lock: .*(ENOSPC|full|disk)/i)
        expect(direct.status).toBe(1)
        const a = await session(p.env)
        expect(a.client.getInstructions()).toMatch(
          /^The project's supervisor cannot serve this session .*This session runs on its own/
        )
        expect(await a.structured("list_tasks")).toEqual({ tasks: [] })
        await a.client.close()
      } finally {
        execFileSync("umount", ["-l", p.runtime])
      }
    }
  )

  it("a supervisor told to linger 0 ms (or a word) still waits for the front that started it", async () => {
    for (const linger of ["0", "soon"]) {
      const p = makeProject()
      const a = await session({ ...p.env, TASKMUX_LINGER_MS: linger })
      expect(await a.structured("list_tasks")).toEqual({ tasks: [] })
      const { pid } = (await p.supervisor())!
      await a.client.close()
      // Then it ends as soon as it is told, having served.
      await until(() => !isAlive(pid) ? true : undefined, 10_000)
      if (linger === "soon") {
        expect(readFileSync(p.paths().log, "utf8")).toContain(
          "TASKMUX_LINGER_MS=soon: expected a whole number of ms, 0 or more; waiting 3000 ms"
        )
      }
    }
  })

  it("replaces an idle supervisor of another protocol with its own", async () => {
    const p = makeProject()
    await otherBuild(p.paths(), { sessions: 0, running: 0, replacing: true })
    const a = await session(p.env)
    await a.structured("start_task", { command: "sleep 60", name: "shared" })
    const welcome = await p.supervisor()
    expect(welcome).toMatchObject({ protocol: WIRE_PROTOCOL, sessions: 1 })
    expect(welcome!.pid).not.toBe(process.pid)
    expect(a.client.getInstructions()).not.toMatch(/supervisor/)
  })

  it("a build since replaced on disk: replaced when idle, else it serves, saying what may fail and how to end it", async () => {
    const p = makeProject()
    const env = { ...p.env, TASKMUX_LINGER_MS: "20000" }
    /** A copy of the built files, under another build's id where `from` is given. */
    const install = (dir: string, from?: string, to?: string) => {
      cpSync(NodePath.dirname(serverEntry), dir, { recursive: true })
      if (from !== undefined) {
        for (const file of readdirSync(dir, { recursive: true, encoding: "utf8" })) {
          const path = NodePath.join(dir, file)
          if (file.endsWith(".js") && statSync(path).isFile()) {
            writeFileSync(path, readFileSync(path, "utf8").replaceAll(from, to!))
          }
        }
      }
      return NodePath.join(dir, "main.js")
    }
    const checkout = install(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-checkout-")))
    const a = await session(env, [], checkout)
    await a.structured("start_task", { command: "sleep 300", name: "busy" })
    const old = (await p.supervisor())!
    expect(old.build).toMatch(/^\w+-[0-9a-f]{8}$/)
    // Another install beside it (npx and a checkout): its files are as they were, so it is shared, unsaid.
    const beside = install(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-beside-")), old.build, "yyyy-00000000")
    const other = await session(env, [], beside)
    expect((await other.call("list_tasks")).isError).toBeFalsy()
    expect(other.stderr()).not.toContain("replaced on disk")
    // Of another version, its person's ps says which taskmux serves (the first client to start it chose).
    const version = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
      version: string
    }).version
    for (const file of readdirSync(NodePath.dirname(beside), { recursive: true, encoding: "utf8" })) {
      const path = NodePath.join(NodePath.dirname(beside), file)
      if (file.endsWith(".js") && statSync(path).isFile()) {
        writeFileSync(path, readFileSync(path, "utf8").replaceAll(`version:"${version}"`, `version:"0.0.9"`))
      }
    }
    const besidePs = spawnSync(process.execPath, [beside, "ps"], { env: { ...process.env, ...env }, encoding: "utf8" })
    expect(besidePs.stderr).toContain(`: supervisor pid ${old.pid} (taskmux ${version}), `)
    expect(spawnSync(process.execPath, [checkout, "ps"], { env: { ...process.env, ...env }, encoding: "utf8" }).stderr)
      .toContain(`: supervisor pid ${old.pid}, `)
    // The checkout rebuilt in place: its files are another build's now.
    install(NodePath.dirname(checkout), old.build, "zzzz-00000000")
    // Busy: it serves the new build's session, and says so.
    const b = await session(env, [], checkout)
    expect((await b.structured<{ tasks: Array<{ name: string }> }>("list_tasks")).tasks.map((t) => t.name)).toEqual([
      "busy"
    ])
    expect(b.stderr()).toContain("runs a build of taskmux that has since been replaced on disk")
    expect((await p.supervisor())!.pid).toBe(old.pid)
    // The person's CLI of the new build hears it too (its page is among what may fail).
    const ps = spawnSync(process.execPath, [checkout, "ps"], { env: { ...process.env, ...env }, encoding: "utf8" })
    expect(ps.stderr).toContain("runs a build of taskmux that has since been replaced on disk")
    // What it loads when first needed is gone (an upgrade names its files anew): said, with how to end it.
    const chunks = NodePath.join(NodePath.dirname(checkout), "chunks")
    const aside = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-aside-"))
    const moveAside = (prefix: string, back = false) => {
      for (const file of readdirSync(back ? aside : chunks).filter((f) => f.startsWith(prefix))) {
        renameSync(NodePath.join(back ? aside : chunks, file), NodePath.join(back ? chunks : aside, file))
      }
    }
    moveAside("openWeb-")
    moveAside("McpHttp-")
    const cli = (...args: Array<string>) =>
      spawnSync(process.execPath, [checkout, ...args], { env: { ...process.env, ...env }, encoding: "utf8" })
    const gone = (what: string) =>
      `This taskmux (pid ${old.pid}) cannot load ${what}: its files were replaced on disk since it started (an ` +
      `upgrade or a rebuild). End it when its tasks may stop (kill ${old.pid}): the next taskmux starts a current one.`
    const ui = cli("ui", "--print")
    expect([ui.status, ui.stderr]).toEqual([1, expect.stringContaining(gone("its page"))])
    expect(ui.stderr).not.toMatch(/Cannot listen|Cannot find module/)
    moveAside("openWeb-", true)
    const url = new URL(cli("ui", "--print").stdout.trim())
    const mcp = await fetch(new URL("/mcp", url), {
      method: "POST",
      headers: {
        authorization: `Bearer ${url.searchParams.get("token")}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream"
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" })
    })
    expect(mcp.status).toBe(503)
    expect(await mcp.json()).toEqual({
      jsonrpc: "2.0",
      id: null,
      error: { code: -32603, message: gone("MCP over HTTP") }
    })
    moveAside("McpHttp-", true)
    // A YAML project file, whose parser it loads when first it meets one.
    moveAside("parseTaskFile-")
    writeFileSync(NodePath.join(p.project, "taskmux.yaml"), "tasks:\n  db:\n    command: sleep 300\n")
    const projectError = (await b.structured<{ projectError?: string }>("list_tasks")).projectError
    expect(projectError).toContain(gone("its parser"))
    rmSync(NodePath.join(p.project, "taskmux.yaml"))
    moveAside("parseTaskFile-", true)
    // Said in its log too, once.
    expect(readFileSync(p.paths().log, "utf8").split(gone("MCP over HTTP")).length).toBe(2)
    // Idle: it makes way, and the new build's supervisor serves.
    await a.structured("stop_task", { name: "busy" })
    for (const s of [a, other, b]) await s.client.close()
    const c = await session(env, [], checkout)
    expect((await c.call("list_tasks")).isError).toBeFalsy()
    const now = (await p.supervisor())!
    expect(now.pid).not.toBe(old.pid)
    expect(now.build).toBe("zzzz-00000000")
    expect(isAlive(old.pid)).toBe(false)
  })

  it("as the supervisor, never serves a front of another protocol, and makes way for it only when idle", async () => {
    const p = makeProject()
    const hello = () =>
      new Promise<Record<string, unknown>>((resolve, reject) => {
        const socket = net.createConnection(p.paths().socket)
        socket.on("error", reject)
        socket.once("connect", () =>
          socket.write(`${JSON.stringify({ taskmux: "9.9.9", protocol: 999, role: "front" })}\n`))
        let text = ""
        socket.on("data", (chunk) => (text += chunk.toString()))
        socket.once("close", () =>
          resolve(JSON.parse(text.split("\n")[0]!) as Record<string, unknown>))
      })
    const a = await session(p.env)
    const supervisor = (await p.supervisor())!
    // Busy (a session): it says what it is and closes; the session goes on.
    expect(await hello()).toMatchObject({ protocol: WIRE_PROTOCOL, sessions: 1, replacing: false })
    expect(await listed(a)).toEqual([])
    await a.client.close()
    await until(async () => (await p.supervisor())?.sessions === 0 ? true : undefined, 5_000)
    // Idle: it makes way.
    expect(await hello()).toMatchObject({ protocol: WIRE_PROTOCOL, sessions: 0, running: 0, replacing: true })
    await until(() => !isAlive(supervisor.pid) ? true : undefined, 5_000)
  })

  it.runIf(canMount())(
    "a supervisor that cannot start on a full disk is said as such, not by an earlier one's last log line",
    async () => {
      const p = makeProject()
      const { log } = p.paths()
      // A disk of its own for the runtime directory, in a mount namespace of the front's (the supervisor's
      // too): an earlier supervisor's line in the log, then the disk filled.
      const s = await connect(
        p.env,
        [],
        serverEntry,
        undefined,
        inMountNamespace(
          `mount -t tmpfs -o size=256k,mode=700 none ${p.runtime} && mkdir -m 700 ${NodePath.dirname(log)} && ` +
            // A whole page (4096 bytes), the earlier line last: the disk has no room for a byte more of it.
            `{ printf '%4028s\\n' ''; echo 'taskmux: invalid setting --max-tasks "lots": an earlier supervisor'; } > ${log} && ` +
            `{ head -c 1M /dev/zero > ${p.runtime}/fill 2>/dev/null || true; }`
        )
      )
      open.push(s)
      await until(() => s.stderr().includes("cannot serve this session") || undefined, 15_000)
      expect(s.stderr()).toMatch(/without a word in its log \(.*\), as on a full disk/)
      expect(s.stderr()).not.toMatch(/an earlier supervisor/)
      // It serves the session alone.
      expect((await s.structured<Listed>("list_tasks")).tasks).toEqual([])
    }
  )

  it("a supervisor killed as it starts is said as killed, with the signal, not as a full disk", async () => {
    const p = makeProject()
    const preload = NodePath.resolve(import.meta.dirname, "../fixtures/dieAsSupervisor.mjs")
    const s = await session({ ...p.env, NODE_OPTIONS: `--import ${preload}` })
    await until(() => s.stderr().includes("cannot serve this session") || undefined, 15_000)
    expect(s.stderr()).toMatch(/the supervisor was killed by SIGKILL as it started, twice/)
    expect((await s.structured<Listed>("list_tasks")).tasks).toEqual([])
  })

  it("a supervisor killed as it starts once is started again: the session is shared, not served alone", async () => {
    const p = makeProject()
    const preload = NodePath.resolve(import.meta.dirname, "../fixtures/dieAsSupervisor.mjs")
    const once = NodePath.join(p.runtime, "died")
    const s = await session({ ...p.env, NODE_OPTIONS: `--import ${preload}`, TASKMUX_TEST_DIE_ONCE: once })
    await s.structured("start_task", { command: "sleep 306", name: "web" })
    expect(existsSync(once)).toBe(true)
    expect(s.stderr()).not.toContain("cannot serve this session")
    // Another client sees it: one supervisor serves both.
    const other = await session(p.env)
    expect((await listed(other)).map((t) => [t.name, t.owner])).toEqual([["web", "other"]])
  })

  it("refuses a bad option in one line, whether its supervisor runs or not", async () => {
    const p = makeProject()
    const run = () =>
      spawnSync(process.execPath, [serverEntry, "--max-tasks", "lots"], {
        env: { ...process.env, ...p.env },
        input: "",
        encoding: "utf8",
        timeout: 20_000
      })
    const alone = run()
    expect([alone.status, alone.stdout]).toEqual([2, ""])
    expect(alone.stderr).toBe(
      "taskmux: invalid setting --max-tasks \"lots\": expected a positive integer, such as 64 (the default)\n"
    )
    await session(p.env)
    const shared = run()
    expect([shared.status, shared.stdout, shared.stderr]).toEqual([2, "", alone.stderr])
    // Each set of options is checked once: the second front with them gets the same answer.
    const again = run()
    expect([again.status, again.stdout, again.stderr]).toEqual([2, "", alone.stderr])
    expect((await p.supervisor())?.sessions).toBe(1)
  })

  it("refuses a bad TASKMUX_* value in a front's own environment, with a supervisor running too", async () => {
    const p = makeProject()
    await session(p.env)
    const ran = spawnSync(process.execPath, [serverEntry], {
      env: { ...process.env, ...p.env, TASKMUX_MAX_TASKS: "lots" },
      input: "",
      encoding: "utf8",
      timeout: 20_000
    })
    expect([ran.status, ran.stdout, ran.stderr]).toEqual([
      2,
      "",
      "taskmux: invalid setting TASKMUX_MAX_TASKS=\"lots\": expected a positive integer, such as 64 (the default)\n"
    ])
  })

  it("holds a client's fence (--deny, --cwd-root) on a supervisor another client started; says which shared settings are the supervisor's", async () => {
    const p = makeProject()
    const inside = NodePath.join(p.project, "services")
    mkdirSync(inside)
    // One log directory for both (each test client gets its own else): only --max-tasks differs.
    const env = { ...p.env, TASKMUX_LOG_DIR: NodePath.join(p.runtime, "logs") }
    const open = await session(env)
    const fenced = await session(env, ["--deny", String.raw`\bsleep\b`, "--cwd-root", inside, "--max-tasks", "16"])
    expect((await p.supervisor())?.sessions).toBe(2)
    const said = "The project's supervisor (pid " + (await p.supervisor())!.pid + ") was started with other " +
      "settings, which every session shares: --max-tasks 64 (yours: 16)."
    expect(fenced.stderr()).toContain(`taskmux: ${said}`)
    expect(fenced.client.getInstructions()).toMatch(new RegExp(`^${said.replace(/[.()*+?[\]\\]/g, "\\$&")}`))
    expect(open.stderr()).toBe("")
    expect(textOf(await fenced.call("start_task", { command: "sleep 30", name: "nap" }))).toMatch(
      /^Command "sleep 30" is refused .*--deny/
    )
    expect(textOf(await fenced.call("start_task", { command: "pwd", cwd: "/tmp" }))).toMatch(
      /^Working directory "\/tmp" is outside .*services/
    )
    await fenced.structured("start_task", { command: "pwd", cwd: inside, name: "in", waitFor: { exit: true } })
    // The other client's own settings are its own: the fence is the fenced session's.
    const nap = await open.structured<{ pid: number }>("start_task", { command: "sleep 30", name: "nap" })
    expect(isAlive(nap.pid)).toBe(true)
    // Nor does it run another's command again.
    expect(textOf(await fenced.call("restart_task", { name: "nap" }))).toMatch(
      /^Command "sleep 30" is refused .*--deny/
    )
    expect(await taskOf(open, "nap")).toMatchObject({ pid: nap.pid, status: "running" })
    // Nor types into it (a shell's stdin runs what it is given), nor reads its environment's values.
    expect(textOf(await fenced.call("send_input", { name: "nap", data: "rm -rf ~\n" }))).toMatch(
      /^Command "sleep 30" is refused .*--deny/
    )
    expect(textOf(await fenced.call("get_task", { name: "nap", envValues: true }))).toMatch(
      /^Environment values of "nap" are not given to this session: its fence .* get_task without envValues/
    )
    expect((await fenced.call("get_task", { name: "nap" })).isError).toBeFalsy()
    expect((await fenced.call("get_task", { name: "in", envValues: true })).isError).toBeFalsy()
    expect((await open.call("get_task", { name: "nap", envValues: true })).isError).toBeFalsy()
    // The person's commands have their own (none), not the fence of whoever started the supervisor.
    writeFileSync(NodePath.join(p.project, "taskmux.yaml"), "tasks:\n  doze:\n    command: sleep 30\n")
    const cli = builtCli(p.project, { ...process.env, ...env })
    expect((await cli(["start", "doze"])).code).toBe(0)
    await open.structured("stop_task", { name: "doze" })
  })

  it("reads a front's relative --cwd-root where the front runs, as a server alone would", async () => {
    const p = makeProject()
    const sub = NodePath.join(p.project, "app")
    mkdirSync(sub)
    await session(p.env)
    const { TASKMUX_PROJECT: _, ...env } = p.env
    const fenced = await connect({ ...env, TASKMUX_PROJECT: p.project }, ["--cwd-root", "."], serverEntry, sub)
    open.push(fenced)
    expect(textOf(await fenced.call("start_task", { command: "pwd", cwd: p.project }))).toMatch(
      /^Working directory ".*" is outside ".*\/app", the only place tasks may run/
    )
    await fenced.structured("start_task", { command: "pwd", name: "here", waitFor: { exit: true } })
  })

  it("refuses a --project that is not a directory, or none, as a usage error (exit 2) in one line", () => {
    const p = makeProject()
    const file = NodePath.join(p.project, "taskmux.yaml")
    writeFileSync(file, "tasks: {}\n")
    for (const [project, why] of [[file, "not a directory"], ["/no/such/dir", "no such directory"]]) {
      const ran = spawnSync(process.execPath, [serverEntry], {
        env: { ...process.env, ...p.env, TASKMUX_PROJECT: project },
        input: "",
        encoding: "utf8",
        timeout: 20_000
      })
      expect([ran.status, ran.stdout, ran.stderr]).toEqual([
        2,
        "",
        expect.stringMatching(new RegExp(`^taskmux: --project ${project}: ${why}`))
      ])
    }
  })

  it("keeps --isolated as it was: a server of its own, whose tasks end with it", async () => {
    const p = makeProject()
    const a = await session({ ...p.env, TASKMUX_ISOLATED: "true" })
    const t = await a.structured<{ pid: number }>("start_task", { command: "sleep 60", name: "alone" })
    expect(await p.supervisor()).toBeUndefined()
    await a.client.close()
    await until(() => !isAlive(t.pid) ? true : undefined, 5_000)
    expect(serverEntry).toMatch(/main\.js$/)
  })
})
