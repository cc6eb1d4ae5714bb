/** How numbers, times and ends read on the page. */
import type { ListedTask, TaskStatus } from "./backend.ts"
import { h } from "./dom.ts"

/** 1500 → "1.5 kB", 734003200 → "734 MB": decimal units, as the tools' answers and `taskmux ps` give them. */
export const formatBytes = (bytes: number | null | undefined): string => {
  if (bytes === null || bytes === undefined) return "—"
  const units = ["B", "kB", "MB", "GB", "TB"]
  let v = bytes
  let i = 0
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${i === 0 || v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`
}

/** Seconds → "45s", "12m 05s", "3h 02m", "2d 4h". */
export const formatDuration = (ms: number): string => {
  const s = Math.max(0, Math.floor(ms / 1000))
  if (s < 60) return `${s}s`
  const m = Math.floor(s / 60)
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`
  const hrs = Math.floor(m / 60)
  if (hrs < 24) return `${hrs}h ${String(m % 60).padStart(2, "0")}m`
  return `${Math.floor(hrs / 24)}d ${hrs % 24}h`
}

/** A task's status: the word, a symbol (never colour alone), and its CSS class. */
export const statusLook = (status: TaskStatus): { readonly symbol: string; readonly cls: string } => {
  switch (status) {
    case "running":
      return { symbol: "●", cls: "ok" }
    case "restarting":
      return { symbol: "↻", cls: "busy" }
    case "exited":
      return { symbol: "✓", cls: "done" }
    case "crashed":
    case "failed":
      return { symbol: "✕", cls: "bad" }
    case "stopped":
      return { symbol: "■", cls: "idle" }
    case "defined":
      return { symbol: "○", cls: "defined" }
    case "lost":
      return { symbol: "?", cls: "lost" }
  }
}

/** The status as a pill: symbol and word; a running task stopped by SIGSTOP says it is paused. */
export const statusPill = (status: TaskStatus, paused = false): HTMLElement => {
  const look = paused && status === "running" ? { symbol: "‖", cls: "busy" } : statusLook(status)
  return h(
    "span",
    { class: `pill ${look.cls}` },
    h("span", { class: "sym", "aria-hidden": "true" }, look.symbol),
    paused && status === "running" ? "paused" : status
  )
}

const alive = (s: TaskStatus) => s === "running" || s === "restarting"

/** Whether a process of the task runs: a restarting task waits out its backoff with none (no memory, no CPU). */
export const hasProcess = (s: TaskStatus) => s === "running"

/** Running time from startedAt while it runs; how long it ran once it ended (or while it waits to restart). */
export const uptime = (t: ListedTask, now: number): string => {
  if (t.startedAt === null || t.status === "defined") return "—"
  const start = Date.parse(t.startedAt)
  if (Number.isNaN(start)) return "—"
  if (hasProcess(t.status)) return formatDuration(now - start)
  const end = t.endedAt === null ? NaN : Date.parse(t.endedAt)
  // An end before this run's start is an earlier run's (restart_task stopping this one): not how long it ran.
  return Number.isNaN(end) || end < start ? "—" : `ran ${formatDuration(end - start)}`
}

/** How it ended: "exit 0", "exit 1", "SIGKILL", "lost: supervisor restarted"; "—" while it runs. */
export const lastExit = (t: ListedTask): string => {
  if (t.status === "defined") return "not run yet"
  if (t.status === "lost") return t.reason !== undefined ? `lost: ${t.reason}` : "lost"
  if (t.status === "failed") return t.reason !== undefined ? `could not start: ${t.reason}` : "could not start"
  if (alive(t.status) && t.exitCode === null && t.signal === null) return "—"
  const how = t.signal !== null ? t.signal : t.exitCode !== null ? `exit ${t.exitCode}` : ""
  return how === "" ? t.status : `${t.status}, ${how}`
}

/**
 * The line of output that says why it ended, when it ended by itself (exited, crashed, or restarting
 * after either); a task someone stopped, or one that never ran, has no such line.
 */
export const exitWhy = (t: ListedTask): string =>
  // A run that ended well has no why: its last line would read as a reason.
  t.status === "crashed" || (t.status === "restarting" && t.exitCode !== 0) ? t.exitHeadline ?? "" : ""

/** The owner word as a person reads it. */
export const ownerLabel = (owner: ListedTask["owner"], client?: string): string =>
  owner === "kept"
    ? "kept"
    : owner === "other"
    ? client === undefined ? "another session" : `another session (${client})`
    : owner === "you"
    ? "you"
    : "—"

export const canStop = (s: TaskStatus) => alive(s)
export const canSignal = (s: TaskStatus) => s === "running"
export const canStart = (s: TaskStatus) => s === "defined" || s === "lost"
export const canRestart = (s: TaskStatus) => s !== "defined" && s !== "lost"
export const canRemove = (s: TaskStatus) => s !== "defined"
