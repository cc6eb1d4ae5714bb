import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Layer, Scope } from "effect"
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { TaskmuxConfig } from "../../src/Config.ts"
import { SHELL } from "../../src/process/shellLine.ts"
import { TasksLayer } from "../../src/Server.ts"
import { RUN_LOGS_KEPT } from "../../src/supervisor/TaskActor.ts"
import { TaskRegistry } from "../../src/supervisor/TaskRegistry.ts"
import { eventually, fixture, isAlive, pidsIn } from "../helpers.ts"

/** V8's collector, to see what is still held. */
const collector = (): () => void => {
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
}

const TestLayer = TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ shutdownGraceMs: 300 })))

const registry = Effect.service(TaskRegistry)

const outputOf = (name: string) =>
  Effect.map(registry, (r) => r.read(name, { since: 0 })).pipe(Effect.flatten, Effect.map((p) => p.lines))

/** A Python launcher of `child` (Python too) that dies of `signal` at once, leaving its child running (npm's way). */
const launcherOf = (child: string, signal: "SIGTERM" | "SIGINT") =>
  "import os, signal, subprocess, sys\n" +
  `p = subprocess.Popen([sys.executable, '-c', ${JSON.stringify(child)}])\n` +
  `signal.signal(signal.${signal}, lambda *_: os._exit(1))\np.wait()`

const waitForLine = (name: string, text: string) =>
  eventually(outputOf(name), (lines) => lines.some((l) => l.text === text))

const waitForPids = (name: string, count: number) =>
  eventually(outputOf(name), (lines) => pidsIn(lines).length >= count).pipe(Effect.map(pidsIn))

/** A task that crashes and is run again in a directory of its own; and the wait for it to be failed. */
const crashLoopIn = (name: string) =>
  Effect.gen(function*() {
    const r = yield* registry
    const dir = mkdtempSync(NodePath.join(os.tmpdir(), `taskmux-${name}-`))
    yield* r.start({ command: "exit 1", name, cwd: dir, restart: { policy: "on-failure", backoffMs: 200 } })
    return { dir, failed: eventually(r.get(name), (t) => t.status === "failed") }
  })

const waitForEnd = (name: string) =>
  eventually(Effect.flatMap(registry, (r) => r.get(name)), (t) => t.status !== "running")

describe("TaskRegistry (real processes)", () => {
  it.layer(TestLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("keeps output in order and reports a clean exit", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const started = yield* r.start({
          command: "for i in 1 2 3; do echo out $i; echo err $i >&2; done",
          name: "order"
        })
        assert.strictEqual(started.status, "running")
        assert.isNumber(started.pid)
        const task = yield* waitForEnd("order")
        assert.deepStrictEqual([task.status, task.exitCode, task.signal], ["exited", 0, null])
        const lines = yield* outputOf("order")
        assert.deepStrictEqual(lines.filter((l) => l.stream === "stdout").map((l) => l.text), [
          "out 1",
          "out 2",
          "out 3"
        ])
        assert.deepStrictEqual(lines.filter((l) => l.stream === "stderr").map((l) => l.text), [
          "err 1",
          "err 2",
          "err 3"
        ])
        assert.deepStrictEqual(lines.map((l) => l.seq), [1, 2, 3, 4, 5, 6])
      }))

    it.effect("reports a non-zero exit as crashed, with its code", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "echo bye; exit 3", name: "crash" })
        const task = yield* waitForEnd("crash")
        assert.deepStrictEqual([task.status, task.exitCode], ["crashed", 3])
      }))

    it.effect("reports a death by a signal it was not sent as crashed, naming the signal", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "kill -KILL $$", name: "selfkill" })
        const task = yield* waitForEnd("selfkill")
        assert.deepStrictEqual([task.status, task.exitCode, task.signal], ["crashed", null, "SIGKILL"])
      }))

    it.effect("execs command with args directly, without a shell", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "printf", args: ["%s|", "a b", "$HOME"], name: "noshell" })
        yield* waitForEnd("noshell")
        const lines = yield* outputOf("noshell")
        assert.deepStrictEqual(lines.map((l) => l.text), ["a b|$HOME|"])
      }))

    it.effect("passes env and cwd", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "echo $GREETING; pwd", name: "envcwd", env: { GREETING: "hello" }, cwd: "/tmp" })
        yield* waitForEnd("envcwd")
        assert.deepStrictEqual((yield* outputOf("envcwd")).map((l) => l.text), ["hello", "/tmp"])
      }))

    it.effect("stop_task ends the whole tree and answers only once every process is gone", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: fixture("tree.sh"), name: "tree" })
        const pids = yield* waitForPids("tree", 4)
        assert.isTrue(pids.every(isAlive))
        const ended = yield* r.stop("tree")
        assert.strictEqual(ended.status, "stopped")
        assert.deepStrictEqual(pids.filter(isAlive), [])
      }))

    it.effect("escalates to SIGKILL after graceMs when the tree ignores SIGTERM", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: fixture("ignore-term.sh"), args: [], name: "stubborn" })
        const pids = yield* waitForPids("stubborn", 3)
        const startedAt = Date.now()
        const ended = yield* r.stop("stubborn", { graceMs: 300 })
        assert.isAtLeast(Date.now() - startedAt, 250)
        assert.deepStrictEqual([ended.status, ended.signal], ["stopped", "SIGKILL"])
        assert.deepStrictEqual(pids.filter(isAlive), [])
      }))

    it.effect("force kills at once", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: fixture("ignore-term.sh"), name: "forced" })
        const pids = yield* waitForPids("forced", 3)
        const startedAt = Date.now()
        const ended = yield* r.stop("forced", { force: true })
        // At once: without force, SIGTERM is ignored and the stop takes the whole grace (5 s here).
        assert.isBelow(Date.now() - startedAt, 3_500)
        assert.deepStrictEqual([ended.status, ended.signal], ["stopped", "SIGKILL"])
        assert.deepStrictEqual(pids.filter(isAlive), [])
      }))

    it.effect("a stop of a paused task (SIGSTOP, Ctrl-Z) continues it, so its SIGTERM ends it, with no wait for the grace", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "sleep", args: ["30"], name: "paused" })
        yield* r.signal("paused", "SIGSTOP")
        const startedAt = Date.now()
        const ended = yield* r.stop("paused", { graceMs: 15_000 })
        // Still paused, SIGTERM would wait out the whole grace, and SIGKILL end it.
        assert.isBelow(Date.now() - startedAt, 7_500)
        assert.deepStrictEqual([ended.status, ended.signal], ["stopped", "SIGTERM"])
      }))

    it.effect("since: the nextCursor of a read that reached the end looks after it, not from the start", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "echo ready; sleep 30", name: "server" })
        yield* eventually(r.get("server"), (t) => t.totalLines >= 1)
        const { nextCursor } = yield* r.read("server", { since: 0 })
        assert.strictEqual(nextCursor, 1)
        // Nothing new has come: the line read already is no answer.
        const waited = yield* r.wait("server", { pattern: /ready/, since: nextCursor, timeoutMs: 300 })
        assert.isFalse(waited.matched)
        assert.isTrue(waited.timedOut)
        yield* r.stop("server")
      }))

    it.effect("a prompt matched before its newline: nextCursor leaves its line to be read again, whole", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "python3", args: ["-c", "n = input('Name? '); print('hello', n)"], name: "asker" })
        const waited = yield* r.wait("asker", { pattern: /Name\?/, timeoutMs: 10_000 })
        assert.isTrue(waited.matched)
        assert.isTrue(waited.line?.partial)
        yield* r.send("asker", "bob\n", false)
        const page = yield* eventually(
          r.read("asker", { since: waited.nextCursor }),
          (p) => p.lines.some((l) => l.text === "Name? hello bob")
        )
        assert.strictEqual(page.lines[0]?.text, "Name? hello bob")
      }))

    it.effect("an exit wait with a pattern says no line matched when none did", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "echo building; echo done", name: "build" })
        const waited = yield* r.wait("build", { exit: true, pattern: /ready/, timeoutMs: 10_000 })
        assert.strictEqual(waited.status, "exited")
        assert.isFalse(waited.matched)
        assert.isFalse(waited.timedOut)
      }))

    it.effect("a timed-out wait names as its cause only lines it looked at, not an error shown before it", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({
          command: "echo 'Error: old failure'; for i in 1 2 3 4 5 6 7 8 9 10; do echo tick $i; done; sleep 30",
          name: "repl"
        })
        yield* eventually(r.get("repl"), (t) => t.totalLines >= 11)
        yield* r.read("repl", { since: 0 })
        const waited = yield* r.wait("repl", { pattern: /never/, timeoutMs: 300 })
        assert.isTrue(waited.timedOut)
        assert.deepStrictEqual((waited.errorLines ?? []).map((l) => l.text), [])
        yield* r.stop("repl")
      }))

    it.effect("ends what a task left running in its group when its leader exits", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "sleep 300 & echo pid $!; echo ready", name: "leftover" })
        const pids = pidsIn(yield* waitForLine("leftover", "ready"))
        const task = yield* waitForEnd("leftover")
        assert.strictEqual(task.status, "exited")
        yield* eventually(Effect.sync(() => pids.filter(isAlive)), (alive) => alive.length === 0)
      }))

    it.effect("echoes stdin through cat, and eof ends it", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "cat", name: "cat" })
        assert.deepStrictEqual(yield* r.send("cat", "hello\n", false), { bytes: 6, unread: 0 })
        yield* waitForLine("cat", "hello")
        assert.isTrue((yield* r.get("cat")).stdinOpen)
        yield* r.send("cat", "bye", true)
        const task = yield* waitForEnd("cat")
        assert.deepStrictEqual([task.status, task.exitCode], ["exited", 0])
        assert.deepStrictEqual((yield* outputOf("cat")).map((l) => l.text), ["hello", "bye"])
      }))

    it.effect("writing to a task that closed its stdin is a clear error (EPIPE), not a crash", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "exec 0<&-; echo ready; sleep 300", name: "nostdin" })
        yield* waitForLine("nostdin", "ready")
        const first = yield* r.send("nostdin", "x".repeat(100_000), false).pipe(Effect.flip)
        assert.strictEqual(first._tag, "StdinClosed")
        assert.include(first.message, "closed its stdin")
        const again = yield* r.send("nostdin", "more\n", false).pipe(Effect.flip)
        assert.strictEqual(again._tag, "StdinClosed")
        yield* r.stop("nostdin")
      }))

    it.effect("input a shell line's program will not read, as its stdin is closed, is said so; a loop's input is not", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({
          command: "python3 -c \"import os, time; os.close(0); print('closed', flush=True); time.sleep(300)\"",
          name: "closer"
        })
        yield* waitForLine("closer", "closed")
        // Its shell holds a copy of the stdin, so the bytes go into the pipe, for nobody: said, not promised.
        const sent = yield* r.send("closer", "hello\n", false)
        assert.deepStrictEqual(sent, { bytes: 6, unread: 0, nobodyReads: true })
        yield* r.stop("closer")
        // A loop whose shell reads between its commands: input sent while one of them runs is read after it.
        yield* r.start({ command: "while read x; do echo \"$x\" | { sleep 1; tr a-z A-Z; }; done", name: "loop" })
        yield* eventually(r.get("loop"), (t) => (t.processes ?? []).length >= 1)
        yield* r.send("loop", "one\n", false)
        yield* Effect.sleep(300)
        const second = yield* r.send("loop", "two\n", false)
        assert.strictEqual(second.bytes, 4)
        yield* waitForLine("loop", "TWO")
        assert.isTrue((yield* r.get("loop")).stdinOpen)
        yield* r.stop("loop")
      }))

    it.effect("an input sent at once after an eof is refused, and never reaches the program", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "cat", name: "eofrace" })
        const first = yield* Effect.forkChild(r.send("eofrace", "first\n", true), { startImmediately: true })
        const second = yield* Effect.forkChild(Effect.flip(r.send("eofrace", "second\n", false)), {
          startImmediately: true
        })
        assert.deepStrictEqual(yield* Fiber.join(first), { bytes: 6, unread: 0 })
        const refused = yield* Fiber.join(second)
        assert.strictEqual(refused._tag, "StdinClosed")
        assert.include(refused.message, "closed with eof")
        yield* waitForEnd("eofrace")
        assert.deepStrictEqual((yield* outputOf("eofrace")).map((l) => l.text), ["first"])
      }))

    it.effect("an input a stop cuts off says the task was stopped, not that the program closed its stdin", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "sleep", args: ["300"], name: "cutoff" })
        // More than the pipe holds, so the write waits for a program that never reads.
        const write = yield* Effect.forkChild(Effect.flip(r.send("cutoff", "x".repeat(256 * 1024), false)), {
          startImmediately: true
        })
        yield* Effect.sleep("100 millis")
        yield* r.stop("cutoff", { force: true })
        const error = yield* Fiber.join(write)
        assert.strictEqual(error._tag, "StdinClosed")
        assert.include(error.message, "it was stopped")
        assert.notInclude(error.message, "Use restart_task")
      }))

    it.effect("writing to a task that has ended is a clear error", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "true", name: "gone" })
        yield* waitForEnd("gone")
        const error = yield* r.send("gone", "x", false).pipe(Effect.flip)
        assert.include(error.message, "not running (exited, exit code 0)")
      }))

    it.effect("a missing cwd or binary fails the start clearly and records the task as failed", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const cwd = yield* r.start({ command: "true", name: "badcwd", cwd: "/no/such/dir" }).pipe(Effect.flip)
        assert.strictEqual(cwd._tag, "InvalidCwd")
        assert.include(cwd.message, "\"/no/such/dir\" does not exist")
        const bin = yield* r.start({ command: "no-such-binary-xyz", args: [], name: "badbin" }).pipe(Effect.flip)
        assert.strictEqual(bin._tag, "SpawnFailed")
        assert.include(bin.message, "\"no-such-binary-xyz\" was not found")
        const failed = (yield* r.list).filter((t) => t.status === "failed").map((t) => t.name)
        assert.includeMembers(failed, ["badcwd", "badbin"])
        assert.include((yield* r.get("badbin")).error, "was not found")
      }))

    it.effect("a restart whose working directory has vanished fails, saying so", () =>
      Effect.gen(function*() {
        const { dir, failed } = yield* crashLoopIn("vanish")
        rmSync(dir, { recursive: true })
        assert.include((yield* failed).error, `Working directory "${dir}" no longer exists`)
      }))

    it.effect("restart_task of a running task whose directory went refuses, and leaves the run running", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const dir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-went-"))
        const started = yield* r.start({ command: "sleep 300", name: "runson", cwd: dir })
        rmSync(dir, { recursive: true })
        const refused = yield* r.restart("runson").pipe(Effect.flip)
        assert.strictEqual(refused._tag, "InvalidCwd")
        assert.include(refused.message, `Cannot restart task "runson": its working directory "${dir}" does not exist`)
        assert.include(refused.message, "it runs on as it was")
        const task = yield* r.get("runson")
        assert.deepStrictEqual([task.status, task.pid, task.error], ["running", started.pid, null])
        yield* r.stop("runson")
      }))

    it.effect("a restart whose working directory became a file says what it is, not that it is gone", () =>
      Effect.gen(function*() {
        const { dir, failed } = yield* crashLoopIn("filed")
        rmSync(dir, { recursive: true })
        writeFileSync(dir, "not a directory")
        const task = yield* failed
        rmSync(dir)
        assert.include(task.error, `Working directory "${dir}" is not a directory`)
      }))

    it.effect("refuses a duplicate running name, and replaces a finished one", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "sleep 300", name: "dup" })
        const error = yield* r.start({ command: "sleep 300", name: "dup" }).pipe(Effect.flip)
        assert.strictEqual(error._tag, "TaskAlreadyRunning")
        assert.include(error.message, "\"dup\" is already running")
        yield* r.stop("dup")
        const again = yield* r.start({ command: "echo second", name: "dup" })
        assert.strictEqual(again.status, "running")
        yield* waitForEnd("dup")
        assert.deepStrictEqual((yield* outputOf("dup")).map((l) => l.text), ["second"])
      }))

    it.effect("generates unique names from the command", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const a = yield* r.start({ command: "sleep 300" })
        const b = yield* r.start({ command: "sleep 300" })
        assert.notStrictEqual(a.name, b.name)
        assert.match(a.name, /^sleep-\d+$/)
        yield* r.remove(a.name)
        yield* r.remove(b.name)
      }))

    it.effect("a start without a name of a command that ran and ended runs it again under its name: one-shot runs do not pile up", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const first = yield* r.start({ command: "echo once-more" })
        yield* waitForEnd(first.name)
        const again = yield* r.start({ command: "echo once-more" })
        assert.strictEqual(again.name, first.name)
        yield* waitForEnd(again.name)
        // Not one a caller named, nor one still running: those keep theirs.
        yield* r.start({ command: "echo once-more", name: "chosen" })
        yield* waitForEnd("chosen")
        const running = yield* r.start({ command: "sleep 301" })
        const beside = yield* r.start({ command: "sleep 301" })
        assert.notStrictEqual(beside.name, running.name)
        const third = yield* r.start({ command: "echo once-more" })
        assert.strictEqual(third.name, first.name)
        for (const name of [first.name, "chosen", running.name, beside.name]) yield* r.remove(name)
      }))

    it.effect("signal_task delivers to the group; a death by that signal counts as stopped", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "sleep", args: ["300"], name: "sig" })
        const ended = yield* r.signal("sig", "SIGINT")
        const task = yield* waitForEnd("sig")
        assert.deepStrictEqual([task.status, task.signal], ["stopped", "SIGINT"])
        assert.include(["running", "stopped"], ended.status)
        const error = yield* r.signal("sig", "SIGTERM").pipe(Effect.flip)
        assert.strictEqual(error._tag, "TaskNotRunning")
        assert.include(error.message, "not running (stopped, killed by SIGINT)")
      }))

    it.effect("a shell line ends as its program did when the program handles a SIGINT sent to its group", () =>
      Effect.gen(function*() {
        const r = yield* registry
        // A server that shuts down cleanly on SIGINT, run as a shell line (bash here).
        const py = "import signal, sys, time\n" +
          "signal.signal(signal.SIGINT, lambda *_: (print('bye', flush=True), sys.exit(3)))\n" +
          "print('up', flush=True)\ntime.sleep(300)"
        yield* r.start({ command: `python3 -c "${py}"`, name: "graceful" })
        yield* waitForLine("graceful", "up")
        yield* r.signal("graceful", "SIGINT")
        const task = yield* waitForEnd("graceful")
        assert.deepStrictEqual([task.status, task.exitCode, task.signal], ["crashed", 3, null])
        // get_task shows the line as given, not the shell's traps.
        yield* r.start({ command: "sleep 300 # shown", name: "shown" })
        const shown = yield* eventually(r.get("shown"), (t) => (t.processes ?? []).length > 0)
        assert.strictEqual(shown.processes?.[0]?.command, `${SHELL} -c sleep 300 # shown`)
        yield* r.stop("shown", { force: true })
      }))

    it.effect("a SIGINT that finds a shell line running its own command (a read) ends the line there", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "echo asking; read answer; echo \"went on ($answer)\"", name: "asks" })
        yield* waitForLine("asks", "asking")
        yield* Effect.sleep(100)
        yield* r.signal("asks", "SIGINT")
        const task = yield* waitForEnd("asks")
        assert.deepStrictEqual([task.status, task.signal], ["stopped", "SIGINT"])
        assert.notInclude((yield* outputOf("asks")).map((l) => l.text).join("\n"), "went on")
      }))

    it.effect("a shell line whose program outlives the stop's grace ended by SIGKILL, as the program was", () =>
      Effect.gen(function*() {
        const r = yield* registry
        // dash dies of SIGTERM at once; the server it runs ignores it until SIGKILL comes.
        const py = "import signal, time\n" +
          "signal.signal(signal.SIGTERM, lambda *_: print('ignoring TERM', flush=True))\n" +
          "print('up', flush=True)\ntime.sleep(300)"
        yield* r.start({ command: `python3 -c "${py}"`, name: "stubborn-line" })
        yield* waitForLine("stubborn-line", "up")
        const pids = (yield* r.get("stubborn-line")).processes!.map((p) => p.pid)
        const ended = yield* r.stop("stubborn-line", { graceMs: 300 })
        assert.deepStrictEqual([ended.status, ended.signal], ["stopped", "SIGKILL"])
        assert.deepStrictEqual((yield* r.get("stubborn-line")).lastExit?.signal, "SIGKILL")
        assert.deepStrictEqual(pids.filter(isAlive), [])
        // One that ends on SIGTERM is reported so.
        yield* r.start({
          command: "python3 -c \"import time; print('up', flush=True); time.sleep(300)\"",
          name: "meek"
        })
        yield* waitForLine("meek", "up")
        assert.strictEqual((yield* r.stop("meek", { graceMs: 5_000 })).signal, "SIGTERM")
      }))

    it.effect("a shell line's program takes the signals sent to it: SIGHUP and SIGUSR1 reload a server", () =>
      Effect.gen(function*() {
        const r = yield* registry
        // A server that reloads on SIGHUP and SIGUSR1, as nginx or gunicorn do, run as a shell line (bash here).
        const py = "import signal, time\n" +
          "for s in (signal.SIGHUP, signal.SIGUSR1): signal.signal(s, lambda n, _: print('reload', n, flush=True))\n" +
          "print('up', flush=True)\ntime.sleep(300)"
        yield* r.start({ command: `python3 -c "${py}"`, name: "reloads" })
        yield* waitForLine("reloads", "up")
        const pid = (yield* r.get("reloads")).pid!
        yield* r.signal("reloads", "SIGHUP")
        yield* waitForLine("reloads", "reload 1")
        yield* r.signal("reloads", "SIGUSR1")
        yield* waitForLine("reloads", `reload ${os.constants.signals.SIGUSR1}`)
        const after = yield* r.get("reloads")
        assert.deepStrictEqual([after.status, after.pid], ["running", pid])
        assert.isTrue(isAlive(pid))
        yield* r.stop("reloads")
      }))

    it.effect("a shell line's server asked to end with SIGTERM has its shutdown's time, not a second", () =>
      Effect.gen(function*() {
        const r = yield* registry
        // A server that shuts down cleanly in 1.5 s on SIGTERM (a database's checkpoint), run as a shell line:
        // the server must not be swept a second later, and its shell ends as it did.
        const py = "import signal, sys, time\n" +
          "def term(*_):\n print('shutting down', flush=True); time.sleep(1.5); print('clean exit', flush=True); sys.exit(0)\n" +
          "signal.signal(signal.SIGTERM, term)\nprint('up', flush=True)\ntime.sleep(300)"
        for (const ask of ["signal", "stop"] as const) {
          const name = `clean-${ask}`
          yield* r.start({ command: `python3 -c "${py}"`, name })
          yield* waitForLine(name, "up")
          const pids = (yield* r.get(name)).processes!.map((p) => p.pid)
          if (ask === "signal") yield* r.signal(name, "SIGTERM")
          else yield* r.stop(name)
          const task = yield* eventually(r.get(name), (t) => t.status !== "running", 10_000)
          // Its program handled the signal and exited 0: a signal_task's end is the program's, a stop's is stopped.
          assert.deepStrictEqual([task.status, task.exitCode, task.signal], [
            ask === "signal" ? "exited" : "stopped",
            0,
            null
          ])
          const texts = (yield* outputOf(name)).map((l) => l.text)
          assert.deepStrictEqual(texts.filter((t) => t !== "up"), ["shutting down", "clean exit"])
          assert.deepStrictEqual(pids.filter(isAlive), [])
        }
      }))

    it.effect("a launcher that dies of SIGTERM at once (npm's way) leaves its program the stop's grace, asked once", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const child = "import signal, sys, time\n" +
          "def term(*_):\n print('child got TERM', flush=True); time.sleep(1.5); print('child clean exit', flush=True); sys.exit(0)\n" +
          "signal.signal(signal.SIGTERM, term)\nprint('up', flush=True)\ntime.sleep(300)"
        yield* r.start({ command: "python3", args: ["-c", launcherOf(child, "SIGTERM")], name: "launcher" })
        yield* waitForLine("launcher", "up")
        const pids = (yield* r.get("launcher")).processes!.map((p) => p.pid)
        assert.strictEqual(pids.length, 2)
        yield* r.signal("launcher", "SIGTERM")
        const ended = yield* r.wait("launcher", { exit: true, timeoutMs: 10_000 })
        assert.isTrue(ended.matched)
        const texts = (yield* outputOf("launcher")).map((l) => l.text)
        assert.deepStrictEqual(texts.filter((t) => t.startsWith("child")), ["child got TERM", "child clean exit"])
        // Asked to end with the rest of the task, not left running by its leader: no advice to run it in front.
        assert.notMatch(ended.hint ?? "", /left .* running/)
        assert.deepStrictEqual(pids.filter(isAlive), [])
      }))

    it.effect("what outlives such a signal's grace is swept after it, and named as left running", () =>
      Effect.gen(function*() {
        const r = yield* registry
        // A launcher that ends on SIGINT; its child ignores it (a worker that takes Ctrl-C as "cancel").
        const child = "import signal, time\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" +
          "print('worker up', flush=True)\ntime.sleep(300)"
        yield* r.start({ command: "python3", args: ["-c", launcherOf(child, "SIGINT")], name: "canceller" })
        yield* waitForLine("canceller", "worker up")
        const pids = (yield* r.get("canceller")).processes!.map((p) => p.pid)
        yield* r.signal("canceller", "SIGINT")
        const ended = yield* r.wait("canceller", { exit: true, timeoutMs: 20_000 })
        assert.isTrue(ended.matched)
        assert.match(ended.hint ?? "", /left 1 process running, which ended with it: /)
        assert.deepStrictEqual(pids.filter(isAlive), [])
      }))

    it.effect("a stop waiting out a long grace is overtaken by one that forces", () =>
      Effect.gen(function*() {
        const r = yield* registry
        // A program that ignores SIGTERM, stopped with a minute's grace: the second stop must not wait for it.
        // Run as a program, then by a shell line (whose shell dies of the SIGTERM at once).
        const perl = `$SIG{TERM} = "IGNORE"; $| = 1; print "up\\n"; sleep 300`
        for (const spec of [{ command: "perl", args: ["-e", perl] }, { command: `perl -e '${perl}'` }]) {
          yield* r.start({ ...spec, name: "slow" })
          yield* waitForLine("slow", "up")
          const pids = (yield* r.get("slow")).processes!.map((p) => p.pid)
          const first = yield* Effect.forkChild(r.stop("slow", { graceMs: 60_000 }))
          yield* Effect.sleep(300)
          const t0 = Date.now()
          const forced = yield* r.stop("slow", { force: true })
          const ended = yield* Fiber.join(first)
          assert.isBelow(Date.now() - t0, 10_000)
          assert.deepStrictEqual([forced.status, ended.status, ended.signal], ["stopped", "stopped", "SIGKILL"])
          // Its SIGKILL ended the task: not "it had already ended".
          assert.notProperty(forced, "endedBefore")
          assert.deepStrictEqual(pids.filter(isAlive), [])
          yield* r.remove("slow")
        }
      }))

    it.effect("a signal during a stop's long grace reaches the run it stops, a SIGKILL ending it at once", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const perl = `$SIG{TERM} = "IGNORE"; $SIG{USR1} = sub { print "usr1\\n" }; $| = 1; print "up\\n"; ` +
          "sleep 1 while 1"
        yield* r.start({ command: "perl", args: ["-e", perl], name: "graceful" })
        yield* waitForLine("graceful", "up")
        const pids = (yield* r.get("graceful")).processes!.map((p) => p.pid)
        const stop = yield* Effect.forkChild(r.stop("graceful", { graceMs: 60_000 }))
        yield* Effect.sleep(300)
        // Delivered now, not after the grace (when nothing would be left to signal).
        const signalled = yield* r.signal("graceful", "SIGUSR1")
        assert.strictEqual(signalled.status, "running")
        yield* waitForLine("graceful", "usr1")
        const t0 = Date.now()
        yield* r.signal("graceful", "SIGKILL")
        const ended = yield* Fiber.join(stop)
        assert.isBelow(Date.now() - t0, 10_000)
        assert.deepStrictEqual([ended.status, ended.signal], ["stopped", "SIGKILL"])
        assert.deepStrictEqual(pids.filter(isAlive), [])
        yield* r.remove("graceful")
      }))

    it.effect("a watch follows its name through a remove and a new task under it", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "echo one; sleep 300", name: "followed" })
        yield* waitForLine("followed", "one")
        let changes = 0
        const scope = yield* Scope.make()
        yield* r.watch("followed", () => changes++).pipe(Scope.provide(scope))
        yield* r.remove("followed")
        // Once its actor has ended (at once, its mailbox empty), the next start makes a new one.
        yield* Effect.sleep(500)
        const before = changes
        yield* r.start({ command: "echo two; sleep 300", name: "followed" })
        yield* waitForLine("followed", "two")
        assert.isAbove(changes, before)
        yield* Scope.close(scope, Exit.void)
        yield* r.remove("followed")
      }))

    it.effect(
      "a watch lets go of a removed task's output (a subscription outlives many tasks)",
      () =>
        Effect.gen(function*() {
          const r = yield* registry
          const gc = collector()
          const used = () => {
            gc()
            gc()
            const { heapUsed, arrayBuffers } = process.memoryUsage()
            return heapUsed + arrayBuffers
          }
          const scope = yield* Scope.make()
          const before = used()
          // Ten tasks of about 2 MB of output each, watched, then removed: the watches stay.
          for (let i = 0; i < 10; i++) {
            yield* r.start({ command: `head -c 2000000 /dev/zero | tr '\\0' x | fold -w 100`, name: `held${i}` })
            yield* waitForEnd(`held${i}`)
            yield* r.watch(`held${i}`, () => {}).pipe(Scope.provide(scope))
            yield* r.remove(`held${i}`)
          }
          yield* Effect.sleep(300)
          assert.isBelow(used() - before, 8_000_000)
          yield* Scope.close(scope, Exit.void)
        }),
      60_000
    )

    it.effect("a task that restarts again and again keeps the logs of its last runs only", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({
          command: "echo run",
          name: "looping",
          restart: { policy: "always", maxRestarts: RUN_LOGS_KEPT + 10, backoffMs: 1, maxBackoffMs: 1 }
        })
        const task = yield* eventually(r.get("looping"), (t) => t.status === "exited" && t.restarts > RUN_LOGS_KEPT + 5)
        yield* Effect.sleep(200)
        const dir = NodePath.dirname(task.logFile!)
        const logs = readdirSync(dir).filter((file) => file.startsWith("looping-"))
        assert.strictEqual(logs.length, RUN_LOGS_KEPT)
        assert.include(logs, NodePath.basename(task.logFile!))
      }))

    it.effect("restart keeps the output and its cursor, and counts restarts", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "echo run; sleep 300", name: "again" })
        yield* waitForLine("again", "run")
        const first = (yield* r.get("again")).pid
        const restarted = yield* r.restart("again")
        assert.notStrictEqual(restarted.pid, first)
        const lines = yield* eventually(outputOf("again"), (ls) => ls.length === 2)
        assert.deepStrictEqual(lines.map((l) => [l.seq, l.text]), [[1, "run"], [2, "run"]])
        const task = yield* r.get("again")
        assert.deepStrictEqual([task.restarts, task.status], [1, "running"])
        assert.isFalse(isAlive(first!))
        yield* r.stop("again")
      }))

    it.effect("a wait for the end waits on across restart_task, and answers at the new run's end", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "read line; echo \"got $line\"", name: "waited" })
        const end = yield* Effect.forkChild(r.wait("waited", { exit: true, timeoutMs: 60_000 }), {
          startImmediately: true
        })
        const plain = yield* Effect.forkChild(r.wait("waited", { timeoutMs: 60_000 }), { startImmediately: true })
        yield* r.restart("waited")
        // The stop was restart_task's: neither wait took it for the end.
        yield* Effect.sleep(300)
        assert.isUndefined(end.pollUnsafe())
        assert.isUndefined(plain.pollUnsafe())
        yield* r.send("waited", "two\n", false)
        const [byExit, byEnd] = yield* Fiber.joinAll([end, plain])
        for (const waited of [byExit, byEnd]) {
          assert.deepStrictEqual([waited.status, waited.exitCode], ["exited", 0])
          assert.deepStrictEqual(waited.lastLines, ["got two"])
        }
      }))

    it.effect("after a restart, a wait for its ready line looks at the new run's lines only, shown or not", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "echo \"ready $$\"; sleep 30", name: "rerun" })
        // Nobody read the first run's line (get_task shows none).
        yield* eventually(r.get("rerun"), (t) => t.totalLines >= 1)
        yield* r.restart("rerun")
        const pid = (yield* r.get("rerun")).pid
        const waited = yield* r.wait("rerun", { pattern: /^ready/, timeoutMs: 10_000 })
        assert.isTrue(waited.matched)
        assert.strictEqual(waited.line?.text, `ready ${pid}`)
        // Between runs (a policy's backoff) nothing of the ended runs matches either.
        yield* r.start({
          command: "echo ready; exit 1",
          name: "between",
          restart: { policy: "on-failure", backoffMs: 1_000 }
        })
        yield* eventually(r.get("between"), (t) => t.status === "restarting")
        const between = yield* r.wait("between", { pattern: /^ready/, timeoutMs: 300 })
        assert.isFalse(between.matched)
        yield* r.stop("rerun")
        yield* r.stop("between")
      }))

    it.effect("restart_task starts its restart policy over: the backoff too, not only the count", () =>
      Effect.gen(function*() {
        const r = yield* registry
        // Backoffs of 200 and 400 ms, then it gives up; the next would have been 800.
        yield* r.start({
          command: "exit 1",
          name: "backoff",
          restart: { policy: "on-failure", maxRestarts: 2, backoffMs: 200 }
        })
        yield* eventually(r.get("backoff"), (t) => t.status === "crashed" && t.error !== null)
        yield* r.restart("backoff")
        const waiting = yield* eventually(r.get("backoff"), (t) => t.status === "restarting")
        const delay = Date.parse(waiting.nextRestartAt!) - Date.parse(waiting.lastExit!.at)
        assert.isBelow(delay, 500, "the first backoff again (200 ms ± 20%)")
        yield* r.stop("backoff")
      }))

    it.effect("a write a task does not read blocks none of its other commands", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "sleep", args: ["300"], name: "deaf" })
        // Each fills the pipe and waits a second for the program to read it, which it never does.
        const big = "x".repeat(256 * 1024)
        const writes = yield* Effect.forEach(
          [1, 2, 3, 4, 5],
          () => Effect.forkChild(Effect.exit(r.send("deaf", big, false)), { startImmediately: true })
        )
        const t0 = Date.now()
        const ended = yield* r.stop("deaf", { force: true })
        assert.strictEqual(ended.status, "stopped")
        // Queued behind five waits of a second each, it would have taken five seconds.
        assert.isBelow(Date.now() - t0, 2_500)
        yield* Effect.forEach(writes, Fiber.join)
      }))

    it.effect(
      "lines typed into a terminal whose program does not read block nothing, and what it holds is bounded",
      () =>
        Effect.gen(function*() {
          const r = yield* registry
          yield* r.start({ command: "sleep 300", name: "deafpty", terminal: { cols: 80, rows: 24 } })
          // A pasted block of lines: the pty takes a few KiB, then its program would have to read.
          const block = "some pasted line of text\n".repeat(80)
          let unread = 0
          for (let i = 0; i < 12; i++) unread = (yield* r.send("deafpty", block, false)).unread
          assert.isAbove(unread, 0)
          // The server still answers, and the stop ends it (libuv's own writes spun the thread for ever).
          const t0 = Date.now()
          assert.strictEqual((yield* r.get("deafpty")).status, "running")
          const ended = yield* r.stop("deafpty")
          assert.strictEqual(ended.status, "stopped")
          assert.isBelow(Date.now() - t0, 5_000)
        }),
      60_000
    )

    it.effect(
      "input a program does not read is held up to a send's limit, then refused, naming why",
      () =>
        Effect.gen(function*() {
          const r = yield* registry
          yield* r.start({ command: "sleep", args: ["300"], name: "deafpipe" })
          const first = yield* r.send("deafpipe", "y".repeat(1_000_000), false)
          assert.isAbove(first.unread, 0)
          const refused = yield* r.send("deafpipe", "y".repeat(1_000_000), false).pipe(Effect.flip)
          assert.strictEqual(refused._tag, "InputNotRead")
          assert.match(refused.message, /has not read the \d+ bytes sent to it before: it is busy, or does not read/)
          yield* r.stop("deafpipe", { force: true })
        }),
      30_000
    )

    it.effect("remove stops and forgets; an unknown name lists the known ones", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "sleep 300", name: "temp" })
        const pid = (yield* r.get("temp")).pid!
        yield* r.remove("temp")
        assert.isFalse(isAlive(pid))
        const error = yield* r.get("temp").pipe(Effect.flip)
        assert.strictEqual(error._tag, "TaskNotFound")
        assert.include(error.message, "No task named \"temp\". Known tasks:")
        assert.include(error.message, "order")
      }))

    // Every pipe read lands in the same buffer (PipeProcess): what the ring holds must be its own copy.
    it.effect("holds a flood's lines intact while the read buffer is reused for later reads", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "seq 1 300000; printf 'no newline'; exec sleep 5", name: "flood" })
        yield* eventually(
          Effect.map(r.read("flood", { tail: 1 }), (p) => p.lines),
          (lines) => lines[0]?.text === "no newline"
        )
        const { lines } = yield* r.read("flood", { tail: 401, raw: true })
        assert.deepStrictEqual(
          lines.map((l) => l.text),
          [...Array.from({ length: 400 }, (_, i) => String(299_601 + i)), "no newline"]
        )
        yield* r.stop("flood")
      }))

    it.effect("answers 200 concurrent calls correctly", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "seq 1 50", name: "busy" })
        yield* waitForEnd("busy")
        const results = yield* Effect.forEach(
          Array.from({ length: 200 }, (_, i) => i),
          (i) =>
            i % 2 === 0
              ? Effect.map(r.read("busy", { tail: 5 }), (p) => p.lines.length)
              : Effect.map(r.get("busy"), (t) => t.lines),
          { concurrency: "unbounded" }
        )
        assert.isTrue(results.every((n, i) => n === (i % 2 === 0 ? 5 : 50)))
      }))
  })

  it.live("closing the registry ends every task's tree, fast", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(TestLayer, scope)
      const r = context.mapUnsafe.get(TaskRegistry.key) as TaskRegistry["Service"]
      const pids: Array<number> = []
      for (const [i, [script, count]] of ([["tree.sh", 4], ["ignore-term.sh", 3], ["tree.sh", 4]] as const).entries()) {
        yield* r.start({ command: fixture(script), args: [], name: `t${i}` })
        const lines = yield* eventually(Effect.map(r.read(`t${i}`, { since: 0 }), (p) => p.lines), (ls) =>
          pidsIn(ls).length === count)
        pids.push(...pidsIn(lines))
      }
      assert.strictEqual(pids.length, 11)
      const startedAt = Date.now()
      yield* Scope.close(scope, Exit.void)
      // shutdownGraceMs is 300 here; the SIGTERM-ignoring tree needs the SIGKILL.
      assert.isBelow(Date.now() - startedAt, 2_000)
      assert.deepStrictEqual(pids.filter(isAlive), [])
    }))

  // The log file is opened off the event loop: a directory that cannot be made is reported, not thrown.
  it.live("runs a task whose log cannot be written, and says why", () => {
    const notADirectory = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-")), "file")
    writeFileSync(notADirectory, "")
    return Effect.gen(function*() {
      const r = yield* registry
      yield* r.start({ command: "echo still here", name: "nolog" })
      const task = yield* waitForEnd("nolog")
      assert.strictEqual(task.status, "exited")
      assert.match(task.logError ?? "", /ENOTDIR|EEXIST/)
      assert.deepStrictEqual((yield* outputOf("nolog")).map((l) => l.text), ["still here"])
    }).pipe(
      Effect.provide(
        TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ logDir: NodePath.join(notADirectory, "logs") })))
      )
    )
  })

  it.live("says when a running task's log file was deleted under it, rather than naming a file that is gone", () => {
    const logDir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-logdel-"))
    return Effect.gen(function*() {
      const r = yield* registry
      yield* r.start({ command: "while true; do echo tick; sleep 0.1; done", name: "ticking" })
      // Written to, not only opening: a file deleted while it opens is made again, in a directory made again.
      const before = yield* eventually(
        r.get("ticking"),
        (task) => task.logFile !== null && existsSync(task.logFile) && statSync(task.logFile).size > 0
      )
      assert.isNull(before.logError)
      rmSync(logDir, { recursive: true })
      const after = yield* eventually(r.get("ticking"), (task) => task.logError !== null)
      assert.match(after.logError ?? "", /the log file was deleted while the task ran/)
      yield* r.stop("ticking")
    }).pipe(Effect.provide(TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ logDir })))))
  })

  it.live("keeps to --max-tasks when ended tasks are restarted at the same moment: one of two is refused", () =>
    Effect.gen(function*() {
      const r = yield* registry
      yield* r.start({ command: "sleep 60", name: "first" })
      for (const name of ["second", "third"]) {
        yield* r.start({ command: "sleep 60", name })
        yield* r.stop(name)
      }
      // Each restart looks at its directory (a wait) between the count and its run.
      const outcomes = yield* Effect.all([r.restart("second"), r.restart("third")].map(Effect.exit), {
        concurrency: "unbounded"
      })
      const refused = outcomes.filter(Exit.isFailure).map(String)
      assert.strictEqual(refused.length, 1, String(outcomes))
      assert.match(refused[0]!, /TooManyTasks/)
      const running = (yield* r.list).filter((task) => task.status === "running").map((task) => task.name)
      assert.strictEqual(running.length, 2)
      for (const name of running) yield* r.stop(name)
    }).pipe(Effect.provide(TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ maxTasks: 2 }))))))

  // Under a TestClock that nobody moves, no timer ever fires: a wait that polled would never answer.
  it.effect("a wait for the end hears of it, with no timer (the clock never moves)", () =>
    Effect.gen(function*() {
      const r = yield* registry
      yield* r.start({ command: "python3 -c 'import time; time.sleep(0.3); print(\"done\")'", name: "ends" })
      const waited = yield* r.wait("ends", { exit: true, timeoutMs: 60_000 })
      assert.strictEqual(waited.status, "exited")
      assert.strictEqual(waited.exitCode, 0)
      assert.isFalse(waited.timedOut)
    }).pipe(Effect.provide(TestLayer)), 20_000)
})
