/**
 * MCP's protocol tasks: a tools/call that a client asked to run in the background (2025-11-25's tasks
 * utility) or that the server chose to (2026-07-28's Tasks extension), so a long wait outlives the
 * client's request timeout. These are the protocol's tasks, not taskmux's: one is a call that waits on
 * a taskmux task, and cancelling it ends the wait.
 *
 * One store per session, bounded: at most PER_SESSION tasks held per session and TOTAL in all; a task is
 * kept for its TTL after it ends (and while it works), then forgotten; when a new one needs the room,
 * the finished ones go first, oldest end first (else an afternoon of waits would lock a session out of
 * tasks for an hour). Ids are 128 random bits: a 2026-07-28
 * client names a task by its id alone.
 */
import { headOf } from "../domain/clipText.ts"
import { ErrorCode, invalidParams, protocolError } from "./protocolError.ts"

export type ProtocolTaskStatus = "working" | "completed" | "failed" | "cancelled"

/** How a call ended: its result, or the JSON-RPC error its request would have got. */
export type Outcome =
  | { readonly result: Record<string, unknown> }
  | { readonly error: { readonly code: number; readonly message: string; readonly data?: unknown } }

export interface ProtocolTask {
  readonly taskId: string
  /** Its place in its session, 1 up: a list's cursor is the last one a page gave (see ToolCalls' tasks/list). */
  readonly seq: number
  /** Made by a 2025-11-25 request (its wire, and its status notifications). */
  readonly legacy: boolean
  status: ProtocolTaskStatus
  statusMessage: string | undefined
  readonly createdAt: string
  lastUpdatedAt: string
  readonly ttlMs: number
  readonly pollIntervalMs: number
  outcome: Outcome | undefined
  /** Settles once the call is over (its finalizers, such as a cancelled run's stop, included). */
  readonly done: Promise<void>
  /** Settles once the status is final (at a cancel, before the call is over). */
  readonly ended: Promise<void>
  /** Ends the call. */
  readonly cancel: (reason: string) => void
  /** When it may be forgotten: its TTL after it ended. */
  expiresAt: number
  readonly end: () => void
}

/** Kept this long after it ends unless the client asks otherwise (2025-11-25 lets it). */
export const DEFAULT_TTL_MS = 60 * 60 * 1000
/** The longest a finished task is kept, whatever the client asks. */
export const MAX_TTL_MS = 24 * 60 * 60 * 1000
/** How often a client should ask how it goes: a wait reports progress every 2 s. */
export const POLL_INTERVAL_MS = 1000
export const PER_SESSION = 100
export const TOTAL = 1000

/** Tasks held by every session of this process. */
let held = 0
/** Every open session's store: a session that needs room past TOTAL takes it from the finished tasks of any. */
const stores = new Set<ProtocolTasks>()

export interface CallRun {
  /** Ends the call (the wait; the run too, for a run cancelled as a task). */
  readonly cancel: (reason: string) => void
  readonly outcome: Promise<Outcome>
}

export class ProtocolTasks {
  private readonly tasks = new Map<string, ProtocolTask>()
  private last = 0
  /** Its session ended: a call that becomes a task after that (it raced the end) is cancelled, not held. */
  private closed = false

  /** The last task's seq (see ProtocolTask.seq). */
  get lastSeq(): number {
    return this.last
  }

  /** Hears every status change (for status notifications). */
  private readonly changed: (task: ProtocolTask) => void

  constructor(changed: (task: ProtocolTask) => void) {
    this.changed = changed
    stores.add(this)
  }

  /** Room for one more task, or an error saying why not. */
  room(): Error | undefined {
    this.sweep()
    const endedAt = (t: ProtocolTask) => t.expiresAt - t.ttlMs
    if (this.tasks.size >= PER_SESSION) {
      const finished = [...this.tasks.values()].filter((t) => t.status !== "working")
      for (const task of finished.sort((a, b) => endedAt(a) - endedAt(b))) {
        if (this.tasks.size < PER_SESSION) break
        this.forget(task)
      }
    }
    // The supervisor's bound: the finished tasks of every session make room, the one that ended first going
    // first (else sessions that finished many calls would lock every other session out for their TTL).
    if (held >= TOTAL) {
      const finished = [...stores].flatMap((store) =>
        [...store.tasks.values()].filter((t) => t.status !== "working").map((task) => ({ store, task }))
      )
      for (const { store, task } of finished.sort((a, b) => endedAt(a.task) - endedAt(b.task))) {
        if (held < TOTAL) break
        store.forget(task)
      }
    }
    if (this.tasks.size < PER_SESSION && held < TOTAL) return undefined
    const working = [...this.tasks.values()].filter((t) => t.status === "working").length
    return protocolError(
      ErrorCode.InvalidRequest,
      this.tasks.size >= PER_SESSION
        ? `Too many protocol tasks: this session has ${working} calls working as tasks (at most ` +
          `${PER_SESSION} held, ${TOTAL} in all sessions). Wait for some to end, cancel some (tasks/cancel), or ` +
          "call without a task."
        : `Too many protocol tasks: all sessions together have ${TOTAL} calls working as tasks (this one ${working}). ` +
          "Wait for some to end, or call without a task."
    )
  }

  private forget(task: ProtocolTask) {
    if (this.tasks.delete(task.taskId)) held--
  }

  /**
   * Holds a running call as a task, working until its outcome. A tool's error result fails a 2025-11-25
   * (`legacy`) task; in 2026-07-28 only a JSON-RPC error does, and an error result completes it.
   */
  create(call: CallRun, legacy: boolean, ttlMs: number = DEFAULT_TTL_MS): ProtocolTask {
    const now = new Date().toISOString()
    let end!: () => void
    const task: ProtocolTask = {
      taskId: randomId(),
      seq: ++this.last,
      legacy,
      status: "working",
      statusMessage: undefined,
      createdAt: now,
      lastUpdatedAt: now,
      ttlMs: Math.min(Math.max(Math.round(ttlMs), 1000), MAX_TTL_MS),
      pollIntervalMs: POLL_INTERVAL_MS,
      outcome: undefined,
      done: call.outcome.then((outcome) => {
        if (task.status === "cancelled") return
        task.outcome = outcome
        const failed = "error" in outcome || (legacy && outcome.result.isError === true)
        task.statusMessage = summaryOf(outcome)
        this.settle(task, failed ? "failed" : "completed")
      }),
      ended: new Promise((resolve) => end = resolve),
      cancel: call.cancel,
      expiresAt: Infinity,
      end: () => end()
    }
    if (this.closed) {
      // Nobody can ask for it, and nothing would forget it: held for good, it would count against every session.
      call.cancel("session closed")
      return task
    }
    this.tasks.set(task.taskId, task)
    held++
    return task
  }

  /** What a wait reported last, as the task's status message. */
  progress(task: ProtocolTask, message: string): void {
    if (task.status !== "working") return
    task.statusMessage = message
    task.lastUpdatedAt = new Date().toISOString()
  }

  /** The task of that id, or -32602 as the spec names it. */
  get(taskId: unknown): ProtocolTask {
    this.sweep()
    const task = typeof taskId === "string" ? this.tasks.get(taskId) : undefined
    if (task !== undefined) return task
    throw invalidParams(
      typeof taskId === "string"
        ? `Failed to retrieve task: Task not found: no task ${JSON.stringify(taskId)} in this session ` +
          "(unknown, or forgotten once its TTL passed)."
        : `Failed to retrieve task: params.taskId must be the taskId a tools/call answered with, got ${
          JSON.stringify(taskId) ?? "nothing"
        }.`
    )
  }

  /** Cancels a working task (before it answers, as the spec asks), and ends its call. */
  cancel(task: ProtocolTask): void {
    if (task.status !== "working") return
    task.statusMessage = "Cancelled by the client (tasks/cancel)."
    this.settle(task, "cancelled")
    task.cancel("cancelled by tasks/cancel")
  }

  has(taskId: string): boolean {
    return this.tasks.has(taskId)
  }

  /** Every task held, oldest first. */
  list(): ReadonlyArray<ProtocolTask> {
    this.sweep()
    return [...this.tasks.values()]
  }

  /** The session ended: every call still waiting ends, and its tasks are forgotten. */
  close(): void {
    this.closed = true
    for (const task of this.tasks.values()) {
      if (task.status === "working") task.cancel("session closed")
    }
    held -= this.tasks.size
    this.tasks.clear()
    stores.delete(this)
  }

  private settle(task: ProtocolTask, status: ProtocolTaskStatus) {
    task.status = status
    task.lastUpdatedAt = new Date().toISOString()
    task.expiresAt = performance.now() + task.ttlMs
    task.end()
    this.changed(task)
  }

  private sweep() {
    const now = performance.now()
    for (const [id, task] of this.tasks) {
      if (task.expiresAt <= now) {
        this.tasks.delete(id)
        held--
      }
    }
  }
}

/** What a call's answer says first (the first line of its text), or its error: a client may show only this. */
const summaryOf = (outcome: Outcome): string => {
  if ("error" in outcome) return outcome.error.message
  const content = outcome.result.content
  const first = Array.isArray(content) ? content[0] as { text?: unknown } | undefined : undefined
  return typeof first?.text === "string" ? headOf(first.text.split("\n", 1)[0]!, 1000) : "Done."
}

/** A task as 2025-11-25 shows it. */
export const legacyView = (task: ProtocolTask) => ({
  taskId: task.taskId,
  status: task.status,
  ...(task.statusMessage !== undefined && { statusMessage: task.statusMessage }),
  createdAt: task.createdAt,
  lastUpdatedAt: task.lastUpdatedAt,
  ttl: task.ttlMs,
  pollInterval: task.pollIntervalMs
})

/** A task as the 2026-07-28 Tasks extension shows it: with its result or error once it has one. */
export const modernView = (task: ProtocolTask, detailed: boolean) => ({
  taskId: task.taskId,
  status: task.status,
  ...(task.statusMessage !== undefined && { statusMessage: task.statusMessage }),
  createdAt: task.createdAt,
  lastUpdatedAt: task.lastUpdatedAt,
  ttlMs: task.ttlMs,
  pollIntervalMs: task.pollIntervalMs,
  ...(detailed && task.status === "completed" && task.outcome !== undefined && "result" in task.outcome &&
    { result: { resultType: "complete", ...task.outcome.result } }),
  ...(detailed && task.status === "failed" && task.outcome !== undefined && "error" in task.outcome &&
    { error: task.outcome.error })
})

/**
 * A task's id: 128 random bits, from the Web Crypto global (loaded when first used): importing node:crypto
 * costs about 9 ms of every server's start here, and most sessions never make a protocol task.
 */
const randomId = () => Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString("hex")
