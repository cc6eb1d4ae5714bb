/**
 * A task's processes beyond its process group (issue 13), against real escapes: `setsid`, a
 * double fork, a setsid'd process with its output on /dev/null, a Python daemon's
 * fork-setsid-fork, and one that cleared its environment but holds the task's output.
 * Every way a task ends ends them, and nothing that is not the task's is touched.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Layer, Scope } from "effect"
import { spawn } from "node:child_process"
import { it as plainIt } from "vitest"
import { TaskmuxConfig } from "../../src/Config.ts"
import * as ProcessTree from "../../src/process/ProcessTree.ts"
import { TasksLayer } from "../../src/Server.ts"
import { TaskRegistry } from "../../src/supervisor/TaskRegistry.ts"
import { eventually, fixture, isAlive, pidsIn } from "../helpers.ts"

const TestLayer = TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ shutdownGraceMs: 300 })))

const registry = Effect.service(TaskRegistry)

/** The escapes fixture prints six pids: five escapes and its own. */
const ESCAPES = 6

const startEscapes = (name: string, args: Array<string> = [], onTerminal = false) =>
  Effect.gen(function*() {
    const r = yield* registry
    yield* r.start({
      command: fixture("escapes.sh"),
      args,
      name,
      ...(onTerminal && { terminal: { cols: 120, rows: 40 } })
    })
    const pids = yield* eventually(
      Effect.map(r.read(name, { since: 0 }), (p) => pidsIn(p.lines)),
      (pids) => pids.length === ESCAPES
    )
    return pids
  })

const allGone = (pids: ReadonlyArray<number>) =>
  eventually(Effect.sync(() => pids.filter(isAlive)), (alive) => alive.length === 0, 5_000)

describe("processes that left the task's process group", () => {
  it.layer(TestLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("are listed by get_task and ended by stop_task, which answers well under a second", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const pids = yield* startEscapes("stop")
        assert.deepStrictEqual(pids.filter(isAlive), pids)
        const info = yield* r.get("stop")
        const listed = new Set(info.processes?.map((p) => p.pid))
        for (const pid of pids) assert.isTrue(listed.has(pid), `get_task lists ${pid}`)
        const t0 = Date.now()
        const ended = yield* r.stop("stop", { graceMs: 2_000 })
        // One of them holds the task's stdout: no fixed drain of the pipes.
        assert.isBelow(Date.now() - t0, 1_000)
        assert.strictEqual(ended.status, "stopped")
        assert.deepStrictEqual(pids.filter(isAlive), [])
      }))

    it.effect("are ended by remove_task and by restart_task", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const removed = yield* startEscapes("remove")
        yield* r.remove("remove")
        assert.deepStrictEqual(removed.filter(isAlive), [])
        const first = yield* startEscapes("restart")
        yield* r.restart("restart")
        assert.deepStrictEqual(first.filter(isAlive), [])
        yield* r.stop("restart")
      }))

    it.effect("end with the task when its main process exits by itself", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const pids = yield* startEscapes("leaves", ["exit"])
        const task = yield* eventually(r.get("leaves"), (t) => t.status !== "running")
        assert.strictEqual(task.status, "exited")
        yield* allGone(pids)
      }))

    // The terminal is closed once its leader has exited: its device is then "/dev/pts/N (deleted)" to whoever
    // still holds it (the escape that cleared its environment), and is still the task's output.
    for (const [how, args] of [["exits by itself", ["exit"]], ["is ended by a signal", []]] as const) {
      it.effect(`end with the task on a terminal when its main process ${how}`, () =>
        Effect.gen(function*() {
          const r = yield* registry
          for (let round = 0; round < 5; round++) {
            const name = `tty-${args.length}-${round}`
            const pids = yield* startEscapes(name, [...args], true)
            if (args.length === 0) yield* r.signal(name, "SIGTERM")
            yield* eventually(r.get(name), (t) => t.status !== "running")
            yield* allGone(pids)
          }
        }))
    }

    it.effect("one that cleared its environment but holds the output ends too, and the end is reported at once", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const t0 = Date.now()
        yield* r.start({
          // A launcher that starts a daemon and returns, as real ones do (not within a millisecond).
          command: `env -i "$(command -v setsid)" "$(command -v sleep)" 300 & echo "pid $!"; sleep 0.2; exit 0`,
          name: "holder"
        })
        const task = yield* eventually(r.get("holder"), (t) => t.status !== "running")
        // Not after a fixed drain of the pipe it held.
        assert.isBelow(Date.now() - t0, 1_000)
        assert.strictEqual(task.status, "exited")
        const pids = pidsIn((yield* r.read("holder", { since: 0 })).lines)
        assert.lengthOf(pids, 1)
        yield* allGone(pids)
      }))

    it.effect("on a terminal too", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: fixture("escapes.sh"), name: "tty", terminal: { cols: 120, rows: 40 } })
        const pids = yield* eventually(
          Effect.map(r.read("tty", { since: 0 }), (p) => pidsIn(p.lines)),
          (pids) => pids.length === ESCAPES
        )
        yield* r.stop("tty", { graceMs: 1_000 })
        assert.deepStrictEqual(pids.filter(isAlive), [])
      }))

    it.effect("nothing that is not the task's is touched: another task's escapes, a look-alike started elsewhere", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const mine = yield* startEscapes("mine")
        const other = yield* startEscapes("other")
        // The same command line, started outside taskmux.
        const outsider = spawn("setsid", ["sleep", "300"], { stdio: "ignore" })
        yield* Effect.sleep(100)
        yield* r.stop("mine")
        assert.deepStrictEqual(mine.filter(isAlive), [])
        assert.deepStrictEqual(other.filter(isAlive), other)
        assert.isTrue(isAlive(outsider.pid!))
        yield* r.stop("other")
        assert.deepStrictEqual(other.filter(isAlive), [])
        outsider.kill("SIGKILL")
      }))

    it.effect("a process group of its own inside the task's session is the task's too", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({
          command: `perl -e 'setpgrp(0, 0); print "pid $$\\n"; $| = 1; sleep 300' & echo "pid $$"; wait`,
          name: "group"
        })
        const pids = yield* eventually(
          Effect.map(r.read("group", { since: 0 }), (p) => pidsIn(p.lines)),
          (pids) => pids.length === 2
        )
        yield* r.stop("group")
        assert.deepStrictEqual(pids.filter(isAlive), [])
      }))
  })

  plainIt("are ended when the supervisor shuts down", async () => {
    const scope = Effect.runSync(Scope.make())
    const context = await Effect.runPromise(Layer.buildWithScope(TestLayer, scope))
    const pids = await Effect.runPromise(Effect.provideContext(startEscapes("shutdown"), context))
    await Effect.runPromise(Scope.close(scope, Exit.void))
    assert.deepStrictEqual(pids.filter(isAlive), [])
  })

  // A terminal task's leader exits, and nobody holds its terminal any more: the number is free, and the
  // next terminal made (another supervisor's task, a person's login) takes it. The sweep after the exit is
  // of the task's terminal, closed: "/dev/pts/N (deleted)" to who still holds it.
  for (const masterOpen of [true, false]) {
    plainIt(
      masterOpen
        ? "a terminal made after the task's closed, with its number, is not the task's"
        : "who holds the task's terminal after it closed is the task's",
      async () => {
        const leader = spawn("true", [], { detached: true, stdio: "ignore" })
        await new Promise((resolve) => leader.once("exit", resolve))
        const holder = spawn("python3", ["-c", HOLDS_A_TERMINAL, masterOpen ? "open" : "close"], {
          env: { PATH: process.env.PATH! },
          stdio: ["ignore", "pipe", "inherit"]
        })
        const [device, pid] = await new Promise<Array<string>>((resolve) => {
          let text = ""
          holder.stdout.on("data", (chunk: Buffer) => {
            text += chunk.toString()
            if (text.split("\n").length > 2) resolve(text.split("\n"))
          })
        })
        try {
          // The task's terminal had this number (its leader, exited, had it).
          const tree = ProcessTree.make({ pid: leader.pid!, outputs: [device], leaderExited: () => true, graceMs: 100 })
          tree.leaderGone()
          const ended = await Effect.runPromise(tree.sweep)
          if (masterOpen) {
            assert.deepStrictEqual(ended, [])
            assert.isTrue(isAlive(Number(pid)))
          } else {
            await Effect.runPromise(allGone([Number(pid)]))
          }
        } finally {
          holder.kill("SIGKILL")
          if (isAlive(Number(pid))) process.kill(Number(pid), "SIGKILL")
        }
      }
    )
  }
})

/**
 * Makes a terminal, prints its device and the pid of a child in a session of its own that holds it, and
 * keeps the terminal open ("open") or closes it as a task's ends ("close").
 */
const HOLDS_A_TERMINAL = `
import os, pty, sys, time
master, slave = pty.openpty()
pid = os.fork()
if pid == 0:
    os.setsid()
    os.close(master)
    os.dup2(slave, 1)
    time.sleep(300)
    os._exit(0)
print(os.ttyname(slave), pid, sep="\\n", flush=True)
os.close(slave)
if sys.argv[1] == "close":
    os.close(master)
time.sleep(300)
`
