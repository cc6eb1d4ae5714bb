/**
 * taskmux at a user's limits. The process limit (RLIMIT_NPROC, counted per user over every process and
 * thread: a `make -j`, a test runner's workers, a container's pids.max) reached after the server started
 * must fail a start with words, not end the server and every task with it. Root ignores the limit: the
 * server and the program that uses the limit up run as another uid.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { isAlive } from "../helpers.ts"
import { connect, type Connected, serverEntry, textOf, until } from "./client.ts"

const UID = "54323"
const LIMIT = 60
/**
 * Another program of the same user that takes every process left, and holds them for a minute: one
 * freed (a task's process that ended) is taken again within milliseconds.
 */
const HOG = "import os, time\n" +
  "said = False\n" +
  "while True:\n" +
  "    try:\n" +
  "        if os.fork() == 0:\n" +
  "            time.sleep(60); os._exit(0)\n" +
  "    except OSError:\n" +
  "        if not said: print('full', flush=True); said = True\n" +
  "        time.sleep(0.005)\n"
const asUser = ["setpriv", `--reuid=${UID}`, `--regid=${UID}`, "--clear-groups", "prlimit", `--nproc=${LIMIT}`, "--"]

/** A server run by `launcher` (as the other uid), with a home of its own that uid may write to. */
const serverAsUser = async (launcher: ReadonlyArray<string>) => {
  const home = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-limits-"))
  chmodSync(home, 0o777)
  execFileSync("chmod", ["o+x", os.tmpdir()])
  return { home, s: await connect({ HOME: home, TASKMUX_LOG_DIR: home }, [], serverEntry, home, launcher) }
}

/** A terminal task starts (and is stopped): what a start refused a moment before does once its cause passed. */
const startsOnTerminal = async (s: Connected) => {
  const started = await s.structured<{ status: string }>("start_task", { command: "cat", name: "tty", terminal: true })
  expect(started.status).toBe("running")
  await s.structured("stop_task", { name: "tty" })
}

/** HOG, run as the other uid: once it holds every process left (its group, to be SIGKILLed). */
const hogAll = async (): Promise<ChildProcess> => {
  const hog = spawn(asUser[0]!, [...asUser.slice(1), "python3", "-c", HOG], {
    stdio: ["ignore", "pipe", "ignore"],
    detached: true
  })
  let said = ""
  hog.stdout!.on("data", (chunk: Buffer) => (said += chunk.toString()))
  await until(() => said.includes("full") || undefined, 20_000)
  return hog
}

describe.runIf(process.getuid?.() === 0)("a server at its user's process limit", () => {
  it("answers a start that cannot fork with the limit, serves on, and starts again once the limit has passed", async () => {
    const { s } = await serverAsUser(asUser)
    // Another program of the same user takes every process left, and holds them.
    let hog: ChildProcess | undefined
    try {
      hog = await hogAll()
      const refused = await s.call("start_task", { command: "echo hi", name: "first" })
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toMatch(/limit of processes is reached/)
      expect(isAlive(s.pid)).toBe(true)
      expect((await s.structured<{ tasks: Array<unknown> }>("list_tasks")).tasks).toBeDefined()

      process.kill(-hog.pid!, "SIGKILL")
      hog = undefined
      const ran = await until(async () => {
        const result = await s.call("start_task", { command: "echo hi", name: "first", waitFor: { exit: true } })
        return result.isError ? undefined : result.structuredContent as { status: string }
      })
      expect(ran.status).toBe("exited")
    } finally {
      if (hog !== undefined) process.kill(-hog.pid!, "SIGKILL")
      await s.client.close()
    }
  })
})

describe.runIf(process.getuid?.() === 0)("a restart policy at its user's process limit", () => {
  it("tries a restart the limit kept from starting again at its next backoff, and runs once the limit has passed", async () => {
    const { home, s } = await serverAsUser(asUser)
    let hog: ChildProcess | undefined
    type Got = { status: string; error: string | null; restarts: number }
    const got = () => s.structured<Got>("get_task", { name: "flaky" })
    try {
      // Crashes once, when told to (its shell waits on a FIFO, a read that needs no process), then serves.
      const flag = NodePath.join(home, "crashed-once")
      const crash = NodePath.join(home, "crash")
      execFileSync("mkfifo", ["-m", "666", crash])
      await s.structured("start_task", {
        command: `test -f ${flag} && exec sleep 60; touch ${flag}; read go < ${crash}; exit 3`,
        name: "flaky",
        restart: { policy: "on-failure", backoffMs: 1_500, maxBackoffMs: 1_500 }
      })
      await until(() => existsSync(flag) || undefined)
      // The limit is reached before the crash, so its restart comes while it holds, however slow the machine.
      hog = await hogAll()
      writeFileSync(crash, "go\n")
      await until(async () => (await got()).status === "restarting" || undefined)
      // The restart came while the limit held: said, and to be tried again.
      const held = await until(async () => {
        const now = await got()
        return now.error !== null && /limit of processes/.test(now.error) ? now : undefined
      }, 20_000)
      expect(held.status).toBe("restarting")
      process.kill(-hog.pid!, "SIGKILL")
      hog = undefined
      expect((await until(async () => (await got()).status === "running" ? got() : undefined, 20_000)).error)
        .toBeNull()
    } finally {
      if (hog !== undefined) process.kill(-hog.pid!, "SIGKILL")
      await s.client.close()
    }
  })
})

describe.runIf(process.getuid?.() === 0)("a terminal module that could not be loaded once", () => {
  it("loads at the next terminal start once it can be (no restart of the server)", async () => {
    // Unreadable by the server's uid for a moment (as a file is to a process out of descriptors); root, and
    // so every other test, reads it all the same.
    const pty = NodePath.resolve(import.meta.dirname, "../../node_modules/@lydell/node-pty")
    const mode = statSync(pty).mode & 0o7777
    const { s } = await serverAsUser(asUser.slice(0, 4))
    try {
      chmodSync(pty, 0o700)
      const refused = await s.call("start_task", { command: "cat", name: "tty", terminal: true })
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toMatch(/Terminal mode is unavailable/)
      chmodSync(pty, mode)
      await startsOnTerminal(s)
    } finally {
      chmodSync(pty, mode)
      await s.client.close()
    }
  })
})

describe.runIf(process.getuid?.() === 0)("a terminal emulator that could not be loaded once", () => {
  it("says a screen it cannot read and why, as a tool's error, and reads it once it can (no restart)", async () => {
    const chunks = NodePath.resolve(import.meta.dirname, "../../dist/chunks")
    const emulator = NodePath.join(chunks, readdirSync(chunks).find((f) => /^xterm-headless-.*\.js$/.test(f))!)
    const mode = statSync(emulator).mode & 0o7777
    const { s } = await serverAsUser(asUser.slice(0, 4))
    try {
      await s.structured("start_task", { command: "cat", name: "tty", terminal: true })
      chmodSync(emulator, 0o600)
      const refused = await s.call("read_output", { name: "tty", screen: true })
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toMatch(
        /^The screen of task "tty" cannot be read now: the terminal emulator could not be loaded \(.*EACCES.*\)\. Its lines can: read_output without screen\./
      )
      chmodSync(emulator, mode)
      const read = await s.structured<{ screen: Array<string> }>("read_output", { name: "tty", screen: true })
      expect(read.screen).toEqual([])
      await s.structured("stop_task", { name: "tty" })
    } finally {
      chmodSync(emulator, mode)
      await s.client.close()
    }
  })
})

describe.runIf(process.platform === "linux")("a machine out of memory", () => {
  it("has the kernel end a task's processes before the server's: each is the OOM killer's choice first", async () => {
    const s = await connect()
    try {
      const oomScoreAdj = (pid: number) => Number(readFileSync(`/proc/${pid}/oom_score_adj`, "utf8"))
      const own = oomScoreAdj(s.pid)
      // A shell and what it forks later (a test runner's workers): every one of them.
      await s.structured("start_task", { command: "sleep 0.2; sleep 30 & wait", name: "workers" })
      const task = await until(async () => {
        const got = await s.structured<{ processes: Array<{ pid: number }> }>("get_task", { name: "workers" })
        return got.processes.length >= 2 ? got : undefined
      })
      for (const { pid } of task.processes) expect(oomScoreAdj(pid)).toBe(Math.max(own, 500))
      expect(oomScoreAdj(s.pid)).toBe(own)
      await s.structured("stop_task", { name: "workers" })
    } finally {
      await s.client.close()
    }
  })
})

describe.runIf(process.platform === "linux" && process.getuid?.() === 0)("a server out of file descriptors", () => {
  it("says a terminal it cannot make is for want of descriptors (not forkpty(3)'s word alone), and makes one once some are free", async () => {
    const s = await connect()
    try {
      // The native module loaded: a start at the limit gets as far as the terminal.
      await s.structured("start_task", { command: "cat", name: "first", terminal: true })
      await s.structured("stop_task", { name: "first" })
      // Once its descriptors are closed (some after the stop's answer), none free below the limit: a
      // descriptor is the lowest number free, so a count would leave the holes the stop made.
      const fds = () => readdirSync(`/proc/${s.pid}/fd`).map(Number)
      let settled = ""
      await until(async () => {
        const now = fds().sort((a, b) => a - b).join()
        if (now === settled) return true
        settled = now
        await new Promise((resolve) => setTimeout(resolve, 300))
        return undefined
      })
      const used = new Set(fds())
      let free = 0
      while (used.has(free)) free++
      const open = used.size
      execFileSync("prlimit", ["--pid", String(s.pid), `--nofile=${free}:${open + 1000}`])
      const refused = await s.call("start_task", { command: "cat", name: "tty", terminal: true })
      execFileSync("prlimit", ["--pid", String(s.pid), `--nofile=${open + 1000}`])
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toBe(
        "Could not start \"cat\": taskmux has too many files open (forkpty(3) failed). Stop or remove tasks it no " +
          "longer needs, or raise its limit (ulimit -n) where it is started."
      )
      await startsOnTerminal(s)
    } finally {
      await s.client.close()
    }
  })

  it("still finds a stopped tree that ignores SIGTERM, SIGKILLs it after the grace, and says so", async () => {
    const s = await connect()
    // The descriptors a server has before its first task (its reserve for /proc among them): a limit there
    // leaves none free once tasks hold more, even when a stopped task's pipes are closed.
    const lowestFree = () => {
      const used = new Set(readdirSync(`/proc/${s.pid}/fd`).map(Number))
      let free = 0
      while (used.has(free)) free++
      return free
    }
    const before = lowestFree()
    try {
      for (let i = 0; i < 12; i++) await s.structured("start_task", { command: "sleep 600", name: `idle-${i}` })
      // A shell line: the shell that runs it ends at the SIGTERM, and only a look at the group finds the rest.
      const script = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-stubborn-")), "stubborn.py")
      writeFileSync(
        script,
        "import os, signal, time\n" +
          "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n" +
          "if os.fork() == 0:\n" +
          "    print('child', os.getpid(), flush=True)\n" +
          "else:\n" +
          "    print('parent', os.getpid(), flush=True)\n" +
          "while True: time.sleep(1)\n"
      )
      await s.structured("start_task", {
        command: `python3 ${script}; echo done`,
        name: "stubborn",
        waitFor: { pattern: "child", timeoutMs: 10_000 }
      })
      const read = await s.structured<{ lines: Array<{ text: string }> }>("read_output", { name: "stubborn", since: 0 })
      const pids = read.lines.map((line) => Number(/\d+/.exec(line.text)![0]))
      expect(pids).toHaveLength(2)
      const open = readdirSync(`/proc/${s.pid}/fd`).length
      expect(lowestFree()).toBeGreaterThan(before)
      execFileSync("prlimit", ["--pid", String(s.pid), `--nofile=${before}:${open + 1000}`])
      const stopped = await s.structured<{ status: string; signal: string | null }>("stop_task", {
        name: "stubborn",
        graceMs: 1_000
      })
      expect(stopped.signal).toBe("SIGKILL")
      expect(pids.filter(isAlive)).toEqual([])
      execFileSync("prlimit", ["--pid", String(s.pid), `--nofile=${open + 1000}`])
      for (let i = 0; i < 12; i++) await s.structured("stop_task", { name: `idle-${i}` })
    } finally {
      await s.client.close()
    }
  })
})
