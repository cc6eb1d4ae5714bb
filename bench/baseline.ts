/**
 * The raw baselines, each run in a fresh Node process (as each taskmux measurement runs in
 * a fresh server), so neither side inherits the bench process's garbage or warm-up.
 *   node bench/baseline.ts drain "<shell command>"   → ms to spawn it and drain its pipes, and this
 *                                                      process's peak RSS in MB
 *   node bench/baseline.ts ptydrain "<shell command>" → the same, the command on a pseudo-terminal
 *   node bench/baseline.ts spawnkill <count>         → tasks/s to spawn and kill `sleep 60`s
 */
import { spawn } from "node:child_process"
import { createRequire } from "node:module"

const [mode, arg] = process.argv.slice(2)

const drain = (command: string) =>
  new Promise<number>((resolve) => {
    const t0 = performance.now()
    const child = spawn("/bin/sh", ["-c", command], { stdio: ["ignore", "pipe", "pipe"] })
    child.stdout.on("data", () => {})
    child.stderr.on("data", () => {})
    child.on("close", () => resolve(performance.now() - t0))
  })

/** A bare Node loop reading a pseudo-terminal: what taskmux's terminal mode is measured against. */
const ptyDrain = (command: string) =>
  new Promise<number>((resolve) => {
    const pty = createRequire(import.meta.url)("@lydell/node-pty") as typeof import("@lydell/node-pty")
    const t0 = performance.now()
    const terminal = pty.spawn("/bin/sh", ["-c", command], { cols: 120, rows: 40, encoding: null })
    terminal.onData(() => {})
    terminal.onExit(() => resolve(performance.now() - t0))
  })

const spawnKill = async (count: number) => {
  const t0 = performance.now()
  const children = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<ReturnType<typeof spawn>>((resolve) => {
        const child = spawn("/bin/sh", ["-c", "sleep 60"], { detached: true, stdio: ["pipe", "pipe", "pipe"] })
        child.once("spawn", () => resolve(child))
      }))
  )
  await Promise.all(children.map((child) =>
    new Promise<void>((resolve) => {
      child.once("exit", () => resolve())
      process.kill(-child.pid!, "SIGTERM")
    })
  ))
  return count / ((performance.now() - t0) / 1000)
}

const value = mode === "drain"
  ? `${await drain(arg!)} ${process.resourceUsage().maxRSS / 1024}`
  : mode === "ptydrain"
  ? `${await ptyDrain(arg!)} ${process.resourceUsage().maxRSS / 1024}`
  : `${await spawnKill(Number(arg))}`
process.stdout.write(`${value}\n`)
