/** `taskmux ps`: the tasks as a table a person scans, cut to the terminal's width. */
import { hasEnded, type LostTask } from "../daemon/lostRecord.ts"
import type { ListedTask } from "./answers.ts"
import { type Style, visibleLength } from "./style.ts"
import { fitColumns, visibleControls } from "./terminalText.ts"

/** "running", "paused", "exited 0", "crashed 3", "crashed SIGKILL", "stopped", "failed", "defined". */
export const statusText = (t: Pick<ListedTask, "status" | "exitCode" | "signal" | "paused">): string => {
  if (t.status === "exited" || t.status === "crashed") {
    return `${t.status} ${t.signal ?? t.exitCode ?? ""}`.trimEnd()
  }
  return t.status === "running" && t.paused === true ? "paused" : t.status
}

const statusColour = (status: string, style: Style) =>
  status === "running"
    ? style.green
    : status === "crashed" || status === "failed"
    ? style.red
    : status === "restarting" || status === "paused"
    ? style.yellow
    : style.dim

/** 42s, 3m05s, 2h07m, 3d04h. */
export const duration = (ms: number): string => {
  const s = Math.max(0, Math.floor(ms / 1000))
  const pad = (n: number) => String(n).padStart(2, "0")
  if (s < 60) return `${s}s`
  if (s < 3600) return `${Math.floor(s / 60)}m${pad(s % 60)}s`
  if (s < 86400) return `${Math.floor(s / 3600)}h${pad(Math.floor(s / 60) % 60)}m`
  return `${Math.floor(s / 86400)}d${pad(Math.floor(s / 3600) % 24)}h`
}

/** How long it has run, or how long ago it ended. */
const age = (t: ListedTask, now: number) => {
  if (t.status === "running" && t.startedAt !== null) return duration(now - Date.parse(t.startedAt))
  if (t.endedAt !== null) return `${duration(now - Date.parse(t.endedAt))} ago`
  return "-"
}

const memory = (bytes: number | null) =>
  bytes === null || bytes === 0
    ? "-"
    : bytes >= 1e9
    ? `${(bytes / 1e9).toFixed(1)} GB`
    : `${Math.max(1, Math.round(bytes / 1e6))} MB`

/** Why a task is lost, and what runs it again. */
export const lostLine = (name: string, reason: string) =>
  `${name} is lost: ${reason} (\`taskmux start ${name}\` runs it again)`

/** How a kept task ended before its supervisor exited, and what runs it again. */
export const endedLine = (name: string, reason: string) =>
  `${name}: ${reason} (\`taskmux start ${name}\` runs it again)`

/** The line below the table for a task whose status needs a why: lost, failed, or ended under a past supervisor. */
const footLine = (t: ListedTask & { readonly reason: string }) =>
  t.status === "lost"
    ? lostLine(t.name, t.reason)
    : t.status === "failed"
    ? `${t.name} failed: ${t.reason}`
    : endedLine(t.name, t.reason)

/** A task a past supervisor left, in a line: lost, or how it ended. */
export const leftLine = (task: LostTask) =>
  visibleControls(hasEnded(task) ? endedLine(task.name, task.reason) : lostLine(task.name, task.reason))

/** What `ps` says where no supervisor runs: that, and what the last one left (lost, or ended and kept). */
export const noSupervisorText = (project: string, left: ReadonlyArray<LostTask>): string => {
  const lost = left.filter((task) => !hasEnded(task))
  const ended = left.filter(hasEnded)
  return `No taskmux supervisor runs for ${project}.\n` +
    (lost.length === 0
      ? ""
      : `Lost: a supervisor ended while these ran:\n${lost.map(leftLine).join("\n")}\n`) +
    (ended.length === 0
      ? ""
      : `Kept tasks that ended before their supervisor did:\n${ended.map(leftLine).join("\n")}\n`)
}

export interface PsOptions {
  readonly style: Style
  /** The terminal's width: the command is cut to fit; undefined (a pipe) leaves it whole. */
  readonly columns: number | undefined
  readonly now: number
}

export const psTable = (tasks: ReadonlyArray<ListedTask>, options: PsOptions): string => {
  const { columns, now, style } = options
  // Only columns some task has something in: owner and since are newer fields.
  const withOwner = tasks.some((t) => t.owner !== undefined)
  const header = ["NAME", "STATUS", "PID", ...(withOwner ? ["OWNER"] : []), "UPTIME", "PORTS", "MEM", "COMMAND"]
  const rows = tasks.map((t) => {
    const status = statusText(t)
    return [
      t.name,
      // Coloured by its first word: "running", "paused", "crashed 3"…
      statusColour(status.split(" ")[0]!, style)(status),
      t.pid === null ? "-" : String(t.pid),
      ...(withOwner
        ? [
          t.owner === undefined
            ? "-"
            : t.client === undefined
            ? t.owner
            // A client names itself: a long name must not squeeze the command out of the row.
            : `${t.owner} (${fitColumns(visibleControls(t.client), CLIENT_COLUMNS)})`
        ]
        : []),
      age(t, now),
      // "?": running, but this system cannot tell (no /proc); "-": none.
      t.ports === null && t.status === "running"
        ? "?"
        : t.ports === null || t.ports.length === 0
        ? "-"
        : t.ports.join(","),
      t.memoryBytes === null && t.status === "running" ? "?" : memory(t.memoryBytes),
      // Its escapes shown, not obeyed: a command must not recolour, retitle or redraw the table it is in.
      visibleControls(t.command.replace(/\s+/g, " ").trim())
    ]
  })
  const last = header.length - 1
  const widths = header.map((h, i) =>
    i === last ? 0 : Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i]!)))
  )
  const line = (cells: ReadonlyArray<string>, head: boolean) => {
    const left = cells.slice(0, last).map((c, i) => c + " ".repeat(widths[i]! - visibleLength(c))).join("  ")
    const room = columns === undefined ? Number.POSITIVE_INFINITY : Math.max(10, columns - visibleLength(left) - 2)
    const command = cells[last]!
    const cut = fitColumns(command, room)
    return `${head ? style.bold(left) : left}  ${head ? style.bold(cut) : cut}`
  }
  // Why a task is lost, failed or ended under a past supervisor does not fit a column: a line each below.
  const lost = tasks.filter((t): t is ListedTask & { readonly reason: string } => t.reason !== undefined)
    .map((t) => visibleControls(footLine(t)))
  return [line(header, true), ...rows.map((r) => line(r, false)), ...(lost.length > 0 ? ["", ...lost] : [])]
    .join("\n") + "\n"
}

/** The most columns a client's name takes in OWNER. */
const CLIENT_COLUMNS = 20
