/**
 * Issue 4 over real stdio: restart policies with real crashing processes, no orphans when
 * the server is SIGKILLed, limits, policy rules, and the command line.
 */
import { type CallToolResult, LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import fc from "fast-check"
import { execFileSync, spawn, spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { fixture, isAlive, pidsIn, processesWithEnv } from "../helpers.ts"
import { connect, type Connected, serverEntry, textOf, until } from "./client.ts"

interface Line {
  readonly seq: number
  readonly text: string
  readonly run?: number
}

const withServer = async (env: Record<string, string>, body: (s: Connected) => Promise<void>) => {
  const s = await connect(env)
  try {
    await body(s)
  } finally {
    await s.client.close()
  }
}

const hasPrlimit = process.platform === "linux" && spawnSync("prlimit", ["--version"]).error === undefined

const structured = <A>(s: Connected, name: string, args: Record<string, unknown> = {}) => s.structured<A>(name, args)

/** The pids a fixture task printed ("pid N" lines), once it has printed `count` of them. */
const printedPids = (s: Connected, name: string, count: number) =>
  until(async () => {
    const { lines } = await structured<{ lines: Array<Line> }>(s, "read_output", { name, since: 0 })
    return pidsIn(lines).length === count ? pidsIn(lines) : undefined
  })

/** SIGKILLs the server: every one of `pids` must be gone within 2 s (the watchdog's doing). */
const killedLeaveNone = async (s: Connected, pids: ReadonlyArray<number>) => {
  const t0 = Date.now()
  process.kill(s.pid, "SIGKILL")
  await until(() => (pids.some(isAlive) ? undefined : true), 5_000)
  expect(Date.now() - t0).toBeLessThan(2_000)
  await s.client.close().catch(() => {})
}

const expectError = async (s: Connected, name: string, args: Record<string, unknown>, pattern: RegExp) => {
  const result = await s.call(name, args)
  expect(result.isError).toBe(true)
  expect(textOf(result)).toMatch(pattern)
}

interface Task {
  readonly status: string
  readonly restarts: number
  readonly error: string | null
  readonly exitCode: number | null
  readonly nextRestartAt: string | null
  readonly lastExit: { status: string; exitCode: number | null } | null
}

describe("restart policies", () => {
  it("on-failure restarts a crashing task with backoff, then gives up with a clear reason", () =>
    withServer({}, async (s) => {
      const notes: Array<{ level: string; data: { event: string; reason?: string } }> = []
      s.client.setNotificationHandler(
        LoggingMessageNotificationSchema,
        (n) => void notes.push({ level: n.params.level, data: n.params.data as { event: string } })
      )
      await structured(s, "start_task", {
        command: "echo run; exit 1",
        name: "flaky",
        restart: { policy: "on-failure", maxRestarts: 3, backoffMs: 50, maxBackoffMs: 200 }
      })
      const task = await until(async () => {
        const t = await structured<Task>(s, "get_task", { name: "flaky" })
        return t.status === "crashed" && t.error !== null ? t : undefined
      })
      expect(task).toMatchObject({
        status: "crashed",
        restarts: 3,
        exitCode: 1,
        lastExit: { status: "crashed", exitCode: 1 }
      })
      expect(task.error).toBe("gave up after 3 restarts in a row (restart.maxRestarts is 3)")
      // list_tasks (and so `taskmux ps`) says why too.
      const listed = await structured<{ tasks: Array<{ name: string; reason?: string }> }>(s, "list_tasks", {})
      expect(listed.tasks.find((t) => t.name === "flaky")?.reason).toBe(task.error)
      const { lines } = await structured<{ lines: Array<Line> }>(s, "read_output", { name: "flaky", since: 0 })
      expect(lines.map((l) => [l.text, l.run])).toEqual([["run", undefined], ["run", 2], ["run", 3], ["run", 4]])
      // One exit notification per crash, a warning each; then one error: it gave up.
      await until(() => notes.length >= 5 || undefined)
      expect(notes.map((n) => [n.level, n.data.event])).toEqual([
        ...Array.from({ length: 4 }, () => ["warning", "task_exit"]),
        ["error", "task_gave_up"]
      ])
      expect(notes[4]!.data.reason).toBe("gave up after 3 restarts in a row (restart.maxRestarts is 3)")
    }))

  it("a restart that cannot start (its directory removed since) is said: task_gave_up, with why", () =>
    withServer({}, async (s) => {
      const notes: Array<{ event: string; reason?: string }> = []
      s.client.setNotificationHandler(
        LoggingMessageNotificationSchema,
        (n) => void notes.push(n.params.data as { event: string })
      )
      const dir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-gone-cwd-"))
      await structured(s, "start_task", {
        command: "exit 1",
        name: "homeless",
        cwd: dir,
        restart: { policy: "on-failure", backoffMs: 1_000 }
      })
      rmSync(dir, { recursive: true })
      const gaveUp = await until(() => notes.find((n) => n.event === "task_gave_up"))
      expect(gaveUp.reason).toMatch(/^its restart could not start: Working directory ".*" no longer exists\./)
      expect((await structured<Task>(s, "get_task", { name: "homeless" })).status).toBe("failed")
    }))

  it("a wait for the end waits through restarts until the policy gives up, each crash a progress note", () =>
    withServer({}, async (s) => {
      const progress: Array<string> = []
      const result = await s.client.callTool(
        {
          name: "start_task",
          arguments: {
            command: "echo boom; exit 3",
            name: "boom",
            restart: { policy: "on-failure", maxRestarts: 2, backoffMs: 200 },
            waitFor: { exit: true }
          }
        },
        undefined,
        { onprogress: (p) => void progress.push(p.message ?? ""), timeout: 20_000 }
      ) as CallToolResult
      expect(result.structuredContent).toMatchObject({
        status: "crashed",
        exitCode: 3,
        matched: true,
        reason: "gave up after 2 restarts in a row (restart.maxRestarts is 2)"
      })
      expect(textOf(result)).toMatch(/ended \(crashed, exit code 3\).*Why: gave up after 2 restarts/)
      expect(await structured<Task>(s, "get_task", { name: "boom" })).toMatchObject({ status: "crashed", restarts: 2 })
      expect(progress.filter((m) => /run \d crashed, exit code 3; restart/.test(m))).toHaveLength(2)
      // Asked again, it has ended for good: at once, and the same.
      const again = await structured<{ status: string; reason?: string }>(s, "wait_for_task", {
        name: "boom",
        exit: true
      })
      expect(again).toMatchObject({ status: "crashed", reason: expect.stringMatching(/^gave up/) })
    }))

  it("a run that its policy will restart is never seen as the end", () =>
    withServer({}, async (s) => {
      await structured(s, "start_task", {
        command: "sleep 0.3; exit 1",
        name: "later",
        restart: { policy: "on-failure", maxRestarts: 1, backoffMs: 1_000 }
      })
      const t0 = Date.now()
      const waited = await structured<{ status: string; elapsedMs: number }>(s, "wait_for_task", {
        name: "later",
        exit: true
      })
      // Two runs of 0.3 s and a 1 s backoff (±20%): not the first crash.
      expect(Date.now() - t0).toBeGreaterThan(1_000)
      expect(waited.status).toBe("crashed")
      expect(await structured<Task>(s, "get_task", { name: "later" })).toMatchObject({ restarts: 1 })
    }))

  it("shows restarting between runs; stop_task ends it at once with no further run", () =>
    withServer({}, async (s) => {
      await structured(s, "start_task", {
        command: "echo up; exit 0",
        name: "always",
        restart: { policy: "always", backoffMs: 3_000 }
      })
      const restarting = await until(async () => {
        const t = await structured<Task>(s, "get_task", { name: "always" })
        return t.status === "restarting" ? t : undefined
      })
      expect(Date.parse(restarting.nextRestartAt!)).toBeGreaterThan(Date.now())
      const t0 = Date.now()
      expect(await structured(s, "stop_task", { name: "always" })).toMatchObject({ status: "stopped" })
      expect(Date.now() - t0).toBeLessThan(1_000)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await structured<Task>(s, "get_task", { name: "always" })).toMatchObject({
        status: "stopped",
        restarts: 0
      })
    }))

  it("on-failure leaves a clean exit alone", () =>
    withServer({}, async (s) => {
      await structured(s, "start_task", {
        command: "true",
        name: "ok",
        restart: { policy: "on-failure", backoffMs: 10 }
      })
      await structured(s, "wait_for_task", { name: "ok", since: 0 })
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(await structured<Task>(s, "get_task", { name: "ok" })).toMatchObject({ status: "exited", restarts: 0 })
    }))
})

describe("no orphans when the server is killed", () => {
  it("SIGKILL of the server ends 20 running trees (one ignoring SIGTERM) within 2 s", async () => {
    const s = await connect()
    const pids: Array<number> = []
    for (let i = 0; i < 20; i++) {
      const [script, count] = i === 0 ? ["ignore-term.sh", 3] : ["tree.sh", 4]
      await structured(s, "start_task", { command: fixture(script as string), args: [], name: `tree-${i}` })
      pids.push(...await printedPids(s, `tree-${i}`, count as number))
    }
    expect(pids).toHaveLength(79)
    expect(pids.filter(isAlive)).toHaveLength(79)
    await killedLeaveNone(s, pids)
  }, 60_000)
})

describe("no orphans when the server is killed on a busy desktop", () => {
  // A browser and an editor hold tens of thousands of descriptors: the watchdog's look for who holds a
  // task's output goes through them all, and must not hold back the signals.
  it(
    "SIGKILL of the server ends 20 running trees within 2 s while other processes hold 57,000 descriptors",
    async ({ skip }) => {
      // Three, each under the usual limit of 20,000 a process.
      const holders = Array.from({ length: 3 }, () =>
        spawn("python3", [
          "-c",
          "import os, time\n" +
          "fd = os.open('/dev/null', os.O_RDONLY)\n" +
          "held = [os.dup(fd) for _ in range(19000)]\n" +
          "print('holding', flush=True)\n" +
          "time.sleep(120)"
        ], { stdio: ["ignore", "pipe", "ignore"] }))
      try {
        const held = await Promise.all(holders.map((holder) =>
          new Promise<boolean>((resolve) => {
            holder.stdout.once("data", () => resolve(true))
            holder.once("exit", () => resolve(false))
          })
        ))
        // Where a process may not hold that many (a lower limit), there is no such desktop to be on.
        if (!held.every(Boolean)) return skip("a process may not hold 19,000 descriptors here")
        const s = await connect()
        const pids: Array<number> = []
        for (let i = 0; i < 20; i++) {
          await structured(s, "start_task", { command: fixture("tree.sh"), args: [], name: `busy-${i}` })
          pids.push(...await printedPids(s, `busy-${i}`, 4))
        }
        expect(pids.filter(isAlive)).toHaveLength(80)
        await killedLeaveNone(s, pids)
      } finally {
        for (const holder of holders) holder.kill("SIGKILL")
      }
    },
    60_000
  )
})

describe("no orphans when the server is killed as its first task starts", () => {
  // The watchdog comes with the first task: it must be there before the task's processes are, and
  // sweep the runs it was not yet told of. Killed at random moments of the start, 12 times.
  it("SIGKILL of the server within 40 ms of its first start_task leaves no process of it", async () => {
    for (let i = 0; i < 12; i++) {
      const s = await connect()
      const token = `first-${process.pid}-${i}`
      const started = s.call("start_task", {
        command: "sleep 300 & setsid sleep 300 & sleep 300",
        name: "first",
        env: { TM_FIRST: token }
      }).catch(() => undefined)
      await new Promise((resolve) => setTimeout(resolve, 5 + (i * 37) % 36))
      process.kill(s.pid, "SIGKILL")
      await started
      const t0 = Date.now()
      await until(() => (processesWithEnv("TM_FIRST", token).length > 0 ? undefined : true), 5_000)
      expect(Date.now() - t0).toBeLessThan(2_000)
      await s.client.close().catch(() => {})
    }
  }, 120_000)

  /** The server's watchdogs (its `sh` children told of task groups), by pid. */
  const watchdogsOf = (server: number) =>
    execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(server)], { encoding: "utf8" }).split("\n")
      .filter((line) => line.includes("groups=")).map((line) => Number(line.trim().split(" ")[0]))

  /** `watched`'s tree is alive, then gone within 2 s of a SIGKILL of the server: its watchdog ended it. */
  const killedServerEndsWatched = async (s: Connected) => {
    const { lines } = await structured<{ lines: Array<Line> }>(s, "read_output", { name: "watched", since: 0 })
    const pids = pidsIn(lines)
    expect(pids.filter(isAlive)).toHaveLength(1)
    process.kill(s.pid, "SIGKILL")
    await until(() => (pids.some(isAlive) ? undefined : true), 5_000)
    await s.client.close().catch(() => {})
  }

  it("a watchdog that was killed is replaced, and still ends every tree when the server is SIGKILLed", async () => {
    const s = await connect()
    await structured(s, "start_task", { command: "echo pid $$; sleep 300", name: "watched" })
    const [first] = watchdogsOf(s.pid)
    expect(first).toBeGreaterThan(0)
    process.kill(first!, "SIGKILL")
    await until(() => (watchdogsOf(s.pid).some((pid) => pid !== first) ? true : undefined), 5_000)
    // Said on stderr, the server's log: stdout is the protocol's (it went there, a line the client could not parse).
    await until(() => s.stderr().includes("the watchdog ended; starting another") || undefined, 5_000)
    await killedServerEndsWatched(s)
  }, 30_000)

  // A limit reached (files here; processes likewise) passes: nothing of a failed spawn may outlast it.
  const atFileLimit = (pid: number) => {
    const [soft, hard] = execFileSync("prlimit", [
      "--pid",
      String(pid),
      "--nofile",
      "--output",
      "SOFT,HARD",
      "--noheadings"
    ], {
      encoding: "utf8"
    }).trim().split(/\s+/)
    const open = readdirSync(`/proc/${pid}/fd`).length
    execFileSync("prlimit", ["--pid", String(pid), `--nofile=${open + 1}:${hard}`])
    return () => execFileSync("prlimit", ["--pid", String(pid), `--nofile=${soft}:${hard}`])
  }

  it.runIf(hasPrlimit)(
    "a first start at the file limit fails saying so, and the next, once there is room, runs",
    async () => {
      const s = await connect()
      try {
        const restore = atFileLimit(s.pid)
        await expectError(s, "start_task", { command: "sleep 300", name: "tight" }, /taskmux has too many files open/)
        restore()
        const started = await structured<{ status: string }>(s, "start_task", { command: "sleep 300", name: "roomy" })
        expect(started.status).toBe("running")
        await structured(s, "stop_task", { name: "roomy" })
      } finally {
        await s.client.close()
      }
    }
  )

  it.runIf(hasPrlimit)(
    "a watchdog killed while no other can start is replaced once one can, and ends every tree",
    async () => {
      const s = await connect()
      await structured(s, "start_task", { command: "echo pid $$; sleep 300", name: "watched" })
      const [first] = watchdogsOf(s.pid)
      const restore = atFileLimit(s.pid)
      process.kill(first!, "SIGKILL")
      await until(() => s.stderr().includes("another watchdog could not start") || undefined, 5_000)
      restore()
      await until(() => (watchdogsOf(s.pid).some((pid) => pid !== first) ? true : undefined), 5_000)
      await killedServerEndsWatched(s)
    },
    30_000
  )
})

describe("no orphans when the server is killed during its shutdown", () => {
  // A client that closes stdin and then SIGKILLs the server before the grace is over: the watchdog
  // must still hold the tree that ignored the SIGTERM (it was told to forget it too early).
  it("SIGKILL in the grace after stdin closed ends a tree ignoring SIGTERM within 2 s", async () => {
    const s = await connect({ TASKMUX_SHUTDOWN_GRACE_MS: "3000" })
    await structured(s, "start_task", { command: fixture("ignore-term.sh"), args: [], name: "stubborn" })
    const pids = await printedPids(s, "stubborn", 3)
    const server = (s.transport as unknown as { _process: { stdin: { end(): void } } })._process
    server.stdin.end()
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect(pids.filter(isAlive)).toHaveLength(3)
    await killedLeaveNone(s, pids)
  }, 30_000)
})

describe("no orphans after stops", () => {
  // The watchdog forgets each stopped group (its pid may be reused): it must forget that one only.
  it("SIGKILL of the server ends the trees still running after others were stopped", async () => {
    const s = await connect()
    const pids = new Map<string, Array<number>>()
    for (let i = 0; i < 5; i++) {
      await structured(s, "start_task", { command: fixture("tree.sh"), args: [], name: `t${i}` })
      pids.set(`t${i}`, await printedPids(s, `t${i}`, 4))
    }
    await Promise.all(["t0", "t2", "t4"].map((name) => structured(s, "stop_task", { name })))
    const running = [...pids.get("t1")!, ...pids.get("t3")!]
    expect(running.filter(isAlive)).toHaveLength(8)
    process.kill(s.pid, "SIGKILL")
    await until(() => (running.some(isAlive) ? undefined : true), 5_000)
    expect(running.filter(isAlive)).toHaveLength(0)
    await s.client.close().catch(() => {})
  }, 60_000)
})

describe("no orphans, for any mix of tasks (model-based)", () => {
  // The lifecycle model (test/supervisor/lifecycle.property.test.ts) ends with a clean shutdown; this
  // one ends with the server SIGKILLed: whatever ran, restarting or not, is gone within 2 s.
  const kinds = {
    tree: { start: { command: fixture("tree.sh"), args: [] }, pids: 4 },
    stubborn: { start: { command: fixture("ignore-term.sh"), args: [] }, pids: 3 },
    escapes: { start: { command: fixture("escapes.sh"), args: [] }, pids: 6 },
    cat: { start: { command: "echo pid $$; exec cat" }, pids: 1 },
    flaky: {
      start: { command: "echo pid $$; sleep 0.2; exit 1", restart: { policy: "always", backoffMs: 50 } },
      pids: 1
    }
  } as const

  it("SIGKILL of the server ends every task tree within 2 s", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...Object.keys(kinds) as Array<keyof typeof kinds>), { minLength: 1, maxLength: 5 }),
        async (mix) => {
          const s = await connect()
          const pids: Array<number> = []
          for (const [i, kind] of mix.entries()) {
            await structured(s, "start_task", { ...kinds[kind].start, name: `k${i}` })
            pids.push(
              ...await until(async () => {
                const { lines } = await structured<{ lines: Array<Line> }>(s, "read_output", {
                  name: `k${i}`,
                  since: 0
                })
                return pidsIn(lines).length >= kinds[kind].pids ? pidsIn(lines) : undefined
              })
            )
          }
          await killedLeaveNone(s, pids)
        }
      ),
      { numRuns: 4 }
    )
  }, 120_000)
})

describe("limits", () => {
  it("refuses a start beyond --max-tasks, naming the limit", () =>
    withServer({ TASKMUX_MAX_TASKS: "2" }, async (s) => {
      await structured(s, "start_task", { command: "sleep 300", name: "one" })
      await structured(s, "start_task", { command: "sleep 300", name: "two" })
      await expectError(
        s,
        "start_task",
        { command: "sleep 300", name: "three" },
        /2 tasks are running, the limit \(--max-tasks\)/
      )
      await structured(s, "stop_task", { name: "two" })
      await structured(s, "start_task", { command: "sleep 300", name: "three" })
    }))

  it("refuses send_input data over the limit; a big write to a task that never reads blocks nothing", () =>
    withServer({ TASKMUX_MAX_INPUT_BYTES: "1000000" }, async (s) => {
      await structured(s, "start_task", { command: "sleep 300", name: "deaf" })
      await expectError(
        s,
        "send_input",
        { name: "deaf", data: "x".repeat(1_000_001) },
        /1000001 bytes, more than the limit of 1000000/
      )
      const write = s.call("send_input", { name: "deaf", data: "x".repeat(1_000_000) })
      const t0 = Date.now()
      await structured(s, "list_tasks")
      expect(Date.now() - t0).toBeLessThan(500)
      expect((await write).structuredContent).toMatchObject({ bytes: 1_000_000 })
    }))
})

describe("policy", () => {
  it("--deny and --allow rules refuse a command line, naming the rule", () =>
    withServer({ TASKMUX_DENY: "rm\\s+-rf", TASKMUX_ALLOW: "^(echo|sleep|rm) " }, async (s) => {
      await expectError(
        s,
        "start_task",
        { command: "rm -rf /tmp/nothing-here" },
        /refused by this server's policy: it matches --deny rm\\s\+-rf/
      )
      await expectError(
        s,
        "start_task",
        { command: "curl", args: ["example.com"] },
        /it matches no --allow rule \(\^\(echo\|sleep\|rm\) \)/
      )
      await structured(s, "start_task", { command: "echo", args: ["allowed"] })
    }))

  it("--cwd-root keeps tasks inside a directory, symlinks resolved", () => {
    const root = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-root-"))
    mkdirSync(NodePath.join(root, "app"))
    symlinkSync("/tmp", NodePath.join(root, "escape"))
    return withServer({ TASKMUX_CWD_ROOT: root }, async (s) => {
      const inside = await structured<{ name: string }>(s, "start_task", { command: "pwd", cwd: "app", name: "inside" })
      await structured(s, "wait_for_task", { name: inside.name, since: 0 })
      const { lines } = await structured<{ lines: Array<Line> }>(s, "read_output", { name: "inside" })
      expect(lines[0]?.text).toBe(NodePath.join(root, "app"))
      await expectError(s, "start_task", { command: "pwd", cwd: "/etc" }, /"\/etc" is outside .* \(--cwd-root\)/)
      await expectError(s, "start_task", { command: "pwd", cwd: NodePath.join(root, "escape") }, /is outside/)
    })
  })

  it("--no-inherit-env starts tasks with a minimal environment, plus --env-allow names", () =>
    withServer(
      { SECRET_TOKEN: "s3cret", SHARED: "yes", TASKMUX_NO_INHERIT_ENV: "true", TASKMUX_ENV_ALLOW: "SHARED" },
      async (s) => {
        await structured(s, "start_task", {
          command: "echo \"[$SECRET_TOKEN] [$SHARED] [$OWN]\"",
          name: "env",
          env: { OWN: "mine" }
        })
        await structured(s, "wait_for_task", { name: "env", since: 0 })
        const { lines } = await structured<{ lines: Array<Line> }>(s, "read_output", { name: "env" })
        expect(lines[0]?.text).toBe("[] [yes] [mine]")
      }
    ))
})

describe("tracing", () => {
  it("--trace prints the spans of tool calls and of a task's spawn, kill and run to stderr", async () => {
    const s = await connect({ TASKMUX_TRACE: "true" })
    try {
      await structured(s, "start_task", { command: "sleep 300", name: "traced" })
      await structured(s, "stop_task", { name: "traced" })
      await until(() => (s.stderr().includes("task.run") ? true : undefined))
      const trace = s.stderr()
      for (const span of ["tool.start_task", "task.spawn", "tool.stop_task", "task.kill"]) {
        expect(trace).toMatch(new RegExp(`taskmux trace +${span.replace(".", "\\.")} \\d+\\.\\dms ok`))
      }
      expect(trace).toMatch(/task\.run \d+\.\dms ok task=traced run=1 status=stopped/)
    } finally {
      await s.client.close()
    }
  })

  it("is silent without --trace", () =>
    withServer({}, async (s) => {
      await structured(s, "start_task", { command: "true", name: "quiet" })
      expect(s.stderr()).toBe("")
    }))
})

describe("command line", () => {
  const run = (args: Array<string>, env: Record<string, string> = {}) =>
    spawnSync(process.execPath, [serverEntry, ...args], {
      env: { ...process.env, ...env },
      input: "",
      encoding: "utf8",
      timeout: 10_000
    })

  it("--help lists every option and --version prints the version", () => {
    const help = run(["--help"])
    expect(help.status).toBe(0)
    for (
      const flag of [
        "--max-tasks",
        "--buffer-lines",
        "--allow",
        "--deny",
        "--cwd-root",
        "--no-inherit-env",
        "--trace",
        "--log-dir"
      ]
    ) {
      expect(help.stdout).toContain(flag)
    }
    expect(run(["--version"]).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/)
  })

  it("a bad flag or value stops it with one line on stderr, nothing on stdout", () => {
    for (
      const [args, message] of [
        [["--bogus"], /^taskmux: invalid setting --bogus: unknown option/],
        [["--max-tasks", "0"], /^taskmux: invalid setting --max-tasks "0": expected a positive integer, such as 64/],
        [["--max-tasks"], /^taskmux: invalid setting --max-tasks: needs a value/],
        [["--deny", "("], /^taskmux: invalid setting --deny "\(": expected a JavaScript regular expression/]
      ] as const
    ) {
      const result = run([...args])
      expect(result.status, args.join(" ")).toBe(2)
      expect(result.stdout).toBe("")
      expect(result.stderr).toMatch(message)
      expect(result.stderr.trim().split("\n")).toHaveLength(1)
    }
  })

  it("flags win over the environment", () => {
    // A bad value in the environment is overridden by a good flag (the server then serves until stdin ends)...
    const overridden = run(["--max-tasks", "5"], { TASKMUX_MAX_TASKS: "abc" })
    expect([overridden.status, overridden.stderr]).toEqual([0, ""])
    // ...and a bad flag is not rescued by a good environment.
    expect(run(["--max-tasks", "abc"], { TASKMUX_MAX_TASKS: "5" }).status).toBe(2)
  })
})
