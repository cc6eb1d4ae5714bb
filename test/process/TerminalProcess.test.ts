/**
 * Terminal mode against real programs: a REPL, Ctrl-C, exit codes and signals, whole trees
 * (members that ignore TERM and HUP, an interactive shell's background job), and the screen.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { readFileSync } from "node:fs"
import { TaskmuxConfig } from "../../src/Config.ts"
import { TasksLayer } from "../../src/Server.ts"
import { TaskRegistry } from "../../src/supervisor/TaskRegistry.ts"
import { eventually, fixture, isAlive, pidsIn } from "../helpers.ts"

const TestLayer = TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ shutdownGraceMs: 300 })))

const registry = Effect.service(TaskRegistry)
const terminal = { cols: 120, rows: 40 }

const outputOf = (name: string) =>
  Effect.flatMap(registry, (r) => r.read(name, { since: 0 })).pipe(Effect.map((p) => p.lines))

const waitForText = (name: string, pattern: RegExp) =>
  eventually(outputOf(name), (lines) => lines.some((l) => pattern.test(l.text)))

const waitForPids = (name: string, count: number) =>
  eventually(outputOf(name), (lines) => pidsIn(lines).length >= count).pipe(Effect.map(pidsIn))

/** An interactive shell discards what is typed before its first prompt. */
const shellPrompt = (name: string) =>
  Effect.flatMap(registry, (r) => r.wait(name, { pattern: /[$#] $/, since: 0, timeoutMs: 10_000 }))

const waitForEnd = (name: string) =>
  eventually(Effect.flatMap(registry, (r) => r.get(name)), (t) => t.status !== "running")

describe("terminal tasks (real programs on a pseudo-terminal)", () => {
  it.layer(TestLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("stdin and stdout are a terminal of the asked size, and output is one stream", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({
          command: "test -t 0 && test -t 1 && echo both-tty; stty size; echo oops >&2",
          name: "tty",
          terminal: { cols: 100, rows: 30 }
        })
        yield* waitForEnd("tty")
        const lines = yield* outputOf("tty")
        assert.deepStrictEqual(lines.map((l) => [l.stream, l.text]), [
          ["terminal", "both-tty"],
          ["terminal", "30 100"],
          ["terminal", "oops"]
        ])
        const task = yield* r.get("tty")
        assert.deepStrictEqual([task.status, task.exitCode, task.terminal], ["exited", 0, { cols: 100, rows: 30 }])
      }))

    it.effect("a program that buffers on a pipe prints at once on a terminal", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: `perl -e 'print "ready\\n"; sleep 30'`, name: "perl", terminal })
        const waited = yield* r.wait("perl", { pattern: /^ready$/, since: 0, timeoutMs: 5_000 })
        assert.isTrue(waited.matched)
        assert.isBelow(waited.elapsedMs, 4_000)
        yield* r.stop("perl", { force: true })
      }))

    it.effect("drives a Python REPL: its prompt, an answer, Ctrl-C, and exit", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "python3", args: ["-i", "-q"], name: "repl", terminal, env: { PYTHONSTARTUP: "" } })
        const prompt = yield* r.wait("repl", { pattern: /^>>> $/, since: 0, timeoutMs: 10_000 })
        assert.isTrue(prompt.matched)
        assert.isTrue(prompt.line?.partial)
        yield* r.send("repl", "6*7\r", false)
        yield* waitForText("repl", /^42$/)
        // Ctrl-C interrupts what runs in the foreground, as in a terminal; the REPL lives on.
        yield* r.send("repl", "import time; time.sleep(60)\r", false)
        yield* Effect.sleep(300)
        yield* r.send("repl", "\u0003", false)
        yield* waitForText("repl", /^KeyboardInterrupt$/)
        assert.strictEqual((yield* r.get("repl")).status, "running")
        yield* r.send("repl", "exit(4)\r", false)
        const task = yield* waitForEnd("repl")
        assert.deepStrictEqual([task.status, task.exitCode, task.signal], ["crashed", 4, null])
      }))

    it.effect("Ctrl-C typed into a running command ends it as stopped, by SIGINT", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "sleep", args: ["300"], name: "ctrlc", terminal })
        yield* Effect.sleep(200)
        yield* r.send("ctrlc", "\u0003", false)
        const task = yield* waitForEnd("ctrlc")
        assert.deepStrictEqual([task.status, task.exitCode, task.signal], ["stopped", null, "SIGINT"])
      }))

    // /bin/sh is dash on these machines (Debian), the shell that reported the REPL below as killed by SIGINT.
    it.effect("a shell line ends as its program did: a REPL that handled Ctrl-C, then exit(3), exited 3", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "python3 -q", name: "sh-repl", terminal, env: { PYTHONSTARTUP: "" } })
        yield* r.wait("sh-repl", { pattern: /^>>> $/, since: 0, timeoutMs: 10_000 })
        yield* r.send("sh-repl", "\u0003", false)
        yield* waitForText("sh-repl", /^KeyboardInterrupt$/)
        yield* r.send("sh-repl", "exit(3)\r", false)
        const task = yield* waitForEnd("sh-repl")
        assert.deepStrictEqual([task.status, task.exitCode, task.signal], ["crashed", 3, null])
      }))

    it.effect("a shell line whose program Ctrl-C kills ends by SIGINT, and the rest of the line does not run", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "echo started; sleep 300; echo after", name: "sh-ctrlc", terminal })
        yield* waitForText("sh-ctrlc", /^started$/)
        yield* Effect.sleep(100)
        yield* r.send("sh-ctrlc", "\u0003", false)
        const task = yield* waitForEnd("sh-ctrlc")
        assert.deepStrictEqual([task.status, task.exitCode, task.signal], ["stopped", null, "SIGINT"])
        assert.notInclude((yield* outputOf("sh-ctrlc")).map((l) => l.text), "after")
      }))

    it.effect("Ctrl-C at a shell line's own prompt (a read) ends the line: the rest does not run", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const line = `printf 'Drop the database? '; read answer; echo "DROPPING ($answer)"`
        yield* r.start({ command: line, name: "confirm", terminal })
        yield* r.wait("confirm", { pattern: /Drop the database\? $/, since: 0, timeoutMs: 10_000 })
        yield* Effect.sleep(100)
        yield* r.send("confirm", "\u0003", false)
        const task = yield* waitForEnd("confirm")
        assert.deepStrictEqual([task.status, task.signal], ["stopped", "SIGINT"])
        assert.notMatch((yield* outputOf("confirm")).map((l) => l.text).join("\n"), /DROPPING/)
      }))

    it.effect("reports exit codes and deaths by a signal", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "echo bye; exit 3", name: "code", terminal })
        yield* r.start({ command: "kill -KILL $$", name: "killed", terminal })
        const code = yield* waitForEnd("code")
        const killed = yield* waitForEnd("killed")
        assert.deepStrictEqual([code.status, code.exitCode, code.signal], ["crashed", 3, null])
        // A terminal merges the two streams: asking for one is an error that says so, not an empty answer.
        const oneStream = yield* Effect.flip(r.read("code", { stream: "stderr" }))
        assert.match(oneStream.message, /runs on a terminal, which merges stdout and stderr into one stream/)
        assert.deepStrictEqual([killed.status, killed.exitCode, killed.signal], ["crashed", null, "SIGKILL"])
      }))

    it.effect("a missing program fails the start as on pipes", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const error = yield* Effect.flip(
          r.start({ command: "no-such-program-xyz", args: [], name: "missing", terminal })
        )
        assert.strictEqual(error._tag, "SpawnFailed")
        assert.match(error.message, /was not found/)
        assert.strictEqual((yield* r.get("missing")).status, "failed")
      }))

    it.effect("a stop gives a shell line's program its SIGTERM shutdown, though a launcher before it ends at once (npm run)", () =>
      Effect.gen(function*() {
        const r = yield* registry
        // The launcher ends at once on SIGTERM, as npm does, leaving its program draining for 600 ms.
        const program =
          "trap 'echo draining; sleep 0.6; echo drained; exit 0' TERM; echo up; while :; do sleep 0.05; done"
        yield* r.start({
          command: `sh -c 'sh -c "$0" & trap "exit 143" TERM; wait' "${program}"`,
          name: "drain",
          terminal
        })
        yield* waitForText("drain", /^up$/)
        const ended = yield* r.stop("drain", { graceMs: 3000 })
        assert.strictEqual(ended.status, "stopped")
        const lines = yield* outputOf("drain")
        assert.include(lines.map((l) => l.text).join("\n"), "drained")
      }))

    it.effect("a shell line's shell waits out a draining program without writing on its terminal", () =>
      Effect.gen(function*() {
        const r = yield* registry
        // Short-lived processes come and go while it drains: one that ends between the shell's look at
        // /proc and its read of that process must say nothing. A launcher before it ends at once, as npm does.
        yield* r.start({
          command: `sh -c '"$0" & trap "exit 143" TERM; wait' ${fixture("drain-churn.sh")}`,
          name: "churn",
          terminal
        })
        yield* waitForText("churn", /^up$/)
        yield* r.stop("churn", { graceMs: 5000 })
        const texts = (yield* outputOf("churn")).map((l) => l.text)
        assert.include(texts, "drained")
        assert.deepStrictEqual(texts.filter((t) => t.includes("/proc/")), [])
      }))

    it.effect("a shell line whose program ends its SIGTERM shutdown with exit 0 ends so, as the program run with args does", () =>
      Effect.gen(function*() {
        const r = yield* registry
        for (
          const [name, start] of [["line", { command: fixture("drain-churn.sh") }], ["args", {
            command: fixture("drain-churn.sh"),
            args: []
          }]] as const
        ) {
          yield* r.start({ ...start, name, terminal })
          yield* waitForText(name, /^up$/)
          const ended = yield* r.stop(name, { graceMs: 5000 })
          assert.deepStrictEqual([name, ended.status, ended.exitCode, ended.signal], [name, "stopped", 0, null])
        }
      }))

    it.effect("stop ends a tree that ignores TERM and HUP, escalating to SIGKILL", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: fixture("ignore-term-hup.sh"), name: "stubborn", terminal })
        const pids = yield* waitForPids("stubborn", 3)
        const ended = yield* r.stop("stubborn", { graceMs: 300 })
        assert.strictEqual(ended.status, "stopped")
        assert.deepStrictEqual(pids.filter(isAlive), [])
      }))

    it.effect("stop ends the background jobs of an interactive shell, each in a group of its own", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "bash", args: ["--norc", "--noprofile", "-i"], name: "shell", terminal })
        yield* shellPrompt("shell")
        // The shell prints each job's pid itself: a job's own output would race the next prompt.
        yield* r.send("shell", "sh -c 'trap \"\" TERM HUP; while :; do sleep 1; done' & echo pid $!\r", false)
        yield* r.send("shell", "sleep 300 & echo pid $!\r", false)
        const pids = yield* waitForPids("shell", 2)
        // The jobs are in other process groups than the shell's: a group kill alone misses them.
        const task = yield* r.get("shell")
        for (const pid of pids) assert.notStrictEqual(processGroup(pid), task.pid)
        yield* r.stop("shell", { graceMs: 300 })
        assert.deepStrictEqual(pids.filter(isAlive), [])
      }))

    it.effect("an interactive shell stops at once, run as a shell line as with args (not after the grace)", () =>
      Effect.gen(function*() {
        const r = yield* registry
        const specs = [
          { name: "asline", command: "bash --norc --noprofile -i" },
          { name: "asargs", command: "bash", args: ["--norc", "--noprofile", "-i"] }
        ]
        for (const spec of specs) {
          yield* r.start({ ...spec, terminal })
          yield* shellPrompt(spec.name)
          const pids = (yield* r.get(spec.name)).processes!.map((p) => p.pid)
          const t0 = Date.now()
          const ended = yield* r.stop(spec.name)
          // The grace is 5 s: an interactive shell ignores SIGTERM, and ends on the SIGHUP its terminal's end sends.
          assert.isBelow(Date.now() - t0, 3_000, spec.name)
          assert.notStrictEqual(ended.signal, "SIGKILL")
          assert.deepStrictEqual(pids.filter(isAlive), [])
        }
      }))

    it.effect("ends what the leader left running in its session when it exits", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({
          command: "bash",
          args: ["--norc", "--noprofile", "-i"],
          name: "leaver",
          terminal
        })
        yield* shellPrompt("leaver")
        yield* r.send("leaver", "sh -c 'trap \"\" HUP; sleep 300' & echo pid $!\r", false)
        const [pid] = yield* waitForPids("leaver", 1)
        yield* r.send("leaver", "exit\r", false)
        yield* waitForEnd("leaver")
        yield* eventually(Effect.sync(() => isAlive(pid!)), (alive) => !alive, 5_000)
      }))

    it.effect("the screen shows what a terminal shows after redraws; lines keep the log", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: fixture("redraw.sh"), name: "redraw", terminal: { cols: 40, rows: 10 } })
        yield* waitForText("redraw", /progress: 100%/)
        const screen = yield* r.screen("redraw")
        assert.deepStrictEqual(screen.rows, ["status: ready", "progress: 100%"])
        const lines = (yield* outputOf("redraw")).map((l) => l.text)
        assert.include(lines, "status: starting")
        // A resize reaches the program and the screen.
        yield* r.resize("redraw", { cols: 60, rows: 12 })
        assert.deepStrictEqual((yield* r.get("redraw")).terminal, { cols: 60, rows: 12 })
        yield* r.stop("redraw", { force: true })
        const piped = yield* r.start({ command: "sleep 300", name: "piped" })
        const error = yield* Effect.flip(r.screen(piped.name))
        assert.match(error.message, /runs on pipes, not on a terminal/)
        yield* r.stop("piped", { force: true })
      }))

    it.effect("restart runs it on a terminal again, keeping its output", () =>
      Effect.gen(function*() {
        const r = yield* registry
        yield* r.start({ command: "test -t 1 && echo tty-$$; sleep 300", name: "again", terminal })
        yield* waitForText("again", /^tty-/)
        yield* r.restart("again")
        yield* eventually(outputOf("again"), (lines) => lines.filter((l) => /^tty-/.test(l.text)).length === 2)
        yield* r.stop("again", { force: true })
      }))
  })
})

/** A process's group id, from /proc. */
const processGroup = (pid: number): number => {
  const stat = readFileSync(`/proc/${pid}/stat`, "latin1")
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2])
}
