/**
 * The Backend of the same components inside an MCP App (appMain.ts): a sandboxed frame that reaches
 * taskmux's tools only through its host (ext-apps' `App.callServerTool`). There is no event stream
 * there, so it polls: list_tasks every second for the list, read_output (since the last cursor) for a
 * shown task's lines (its last lines when more came than one answer holds), and read_output
 * { screen: true } for a terminal task's screen; nothing while nobody can see the app. A call that
 * changes something reads the list again at once. list_tasks carries no dependency graph: the app shows
 * none. The host decides what an app may call, so readOnly is given by the caller.
 */
import type { Backend, CallToolResult, ListedTask, OutputEvent, OutputLine, TasksSnapshot } from "./backend.ts"
import { connectionState, errorResult } from "./backend.ts"

/** The part of ext-apps' App that this uses. */
export interface ToolCaller {
  callServerTool(params: { name: string; arguments?: Record<string, unknown> }): Promise<unknown>
}

export interface AppBackendOptions {
  readonly readOnly?: boolean
  /** How often the list is read again; default 1000 ms. */
  readonly tasksEveryMs?: number
  /** How often a shown task's output is read again; default 500 ms. */
  readonly outputEveryMs?: number
  /**
   * Whether anyone can see the app (its frame in view, its tab shown): while not, nothing is polled.
   * Every result a host keeps in a conversation is an app of its own, and each would poll for good.
   */
  readonly seen?: () => boolean
}

const asResult = (value: unknown): CallToolResult =>
  typeof value === "object" && value !== null && Array.isArray((value as CallToolResult).content)
    ? value as CallToolResult
    : errorResult("The host gave an answer that is not a tool result.")

/** The last lines read when more came than one answer holds. */
const JUMP_LINES = 200

/** Tools that only read: any other call may change the list, which is then read again at once. */
const READS = new Set(["list_tasks", "get_task", "read_output"])

interface Poller {
  readonly stop: () => void
  /** Runs the step again as soon as the one in flight (if any) ends. */
  readonly now: () => void
}

/** Runs `step` now and then every `ms` after each one ends (or after what it returns), until stopped. */
const poll = (step: () => Promise<number | void>, ms: number): Poller => {
  let stopped = false
  let running = false
  let again = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const run = async () => {
    timer = undefined
    if (stopped) return
    running = true
    const next = await step().catch(() => ms * 4)
    running = false
    if (stopped) return
    if (again) {
      again = false
      return void run()
    }
    timer = setTimeout(run, typeof next === "number" ? next : ms)
  }
  void run()
  return {
    stop: () => {
      stopped = true
      if (timer !== undefined) clearTimeout(timer)
    },
    now: () => {
      if (stopped) return
      if (running) again = true
      else {
        if (timer !== undefined) clearTimeout(timer)
        void run()
      }
    }
  }
}

export const appBackend = (app: ToolCaller, options: AppBackendOptions = {}): Backend => {
  const tasksEvery = options.tasksEveryMs ?? 1000
  const outputEvery = options.outputEveryMs ?? 500
  const seen = options.seen ?? (() => true)
  const connection = connectionState()

  const listPollers = new Set<Poller>()
  const call = async (tool: string, args: Record<string, unknown>): Promise<CallToolResult> => {
    try {
      const result = asResult(await app.callServerTool({ name: tool, arguments: args }))
      if (!READS.has(tool)) { for (const p of listPollers) p.now() }
      return result
    } catch (e) {
      // A host refuses a call (its user said no, a policy) as it fails one it cannot make: the reads say
      // whether the view is stale, and a button's call says why it did nothing.
      return errorResult(`The host did not run ${tool}: ${e instanceof Error ? e.message : String(e)}`)
    }
  }

  return {
    readOnly: options.readOnly ?? false,
    call,
    onConnection: connection.onConnection,
    onTasks: (listener) => {
      let last = ""
      const poller = poll(async () => {
        if (!seen()) return undefined
        const result = await call("list_tasks", {})
        const s = result.structuredContent as
          | { tasks?: ReadonlyArray<ListedTask>; projectError?: string; graph?: TasksSnapshot["graph"] }
          | undefined
        if (result.isError === true || s?.tasks === undefined) {
          const said = result.content.find((c) => c.type === "text")?.text ?? "no task list in its answer"
          connection.set(
            false,
            `${said.replace(/\.?$/, ".")} What is shown may be out of date: asked again every few seconds.`
          )
          return tasksEvery * 2
        }
        connection.set(true)
        const key = JSON.stringify(s)
        if (key === last) return undefined
        last = key
        listener({
          tasks: s.tasks,
          ...(s.projectError !== undefined && { projectError: s.projectError }),
          ...(s.graph !== undefined && { graph: s.graph })
        })
        return undefined
      }, tasksEvery)
      listPollers.add(poller)
      return () => {
        listPollers.delete(poller)
        poller.stop()
      }
    },
    onOutput: (name, since, listener) => {
      let cursor = since
      /** More came than one answer holds: the next read is of the last lines (the view keeps no more). */
      let behind = false
      /**
       * The line at the cursor, as read (its time): each read begins one line before the cursor, and a
       * line there of another time is another output, the name started anew, whose lines are numbered
       * from 1 again. Without it, an output longer than the one shown went on from its middle.
       */
      let atCursor: { readonly seq: number; readonly time: string } | undefined
      let terminal: { cols: number; rows: number } | null | undefined
      let lastScreen = ""
      let stop: () => void = () => {}
      const emit = (event: OutputEvent) => listener(event)
      /**
       * get_task of the name; "gone" (said, and the polls stopped) when there is no such task, "later" when
       * the host could not ask (connected is false then).
       */
      const lookUp = async () => {
        const info = await call("get_task", { name })
        if (info.isError !== true) return info
        if (connection.current() === false) return "later"
        emit({ type: "gone" })
        stop()
        return "gone"
      }
      stop = poll(async () => {
        if (!seen()) return undefined
        if (terminal === undefined) {
          const info = await lookUp()
          if (info === "later") return outputEvery * 4
          if (info === "gone") return undefined
          terminal = (info.structuredContent?.terminal as { cols: number; rows: number } | null | undefined) ?? null
        }
        const jump = behind && cursor > 0
        const overlap = !jump && cursor > 0 && atCursor?.seq === cursor
        const read = await call(
          "read_output",
          cursor === 0
            ? { name, tail: 2000, timestamps: true }
            : jump
            ? { name, tail: JUMP_LINES, timestamps: true }
            : { name, since: overlap ? cursor - 1 : cursor, timestamps: true }
        )
        if (read.isError === true) {
          // Removed since (as the page's stream says "gone"): the view stops asking, and follows the name from
          // its start if it comes back, on a terminal or not.
          return (await lookUp()) === "gone" ? undefined : outputEvery * 4
        }
        let o = read.structuredContent as
          | { lines: ReadonlyArray<OutputLine>; nextCursor: number; dropped: number; truncated: boolean }
          | undefined
        if (o !== undefined && overlap) {
          const first = o.lines[0]
          // Started anew (past where this view was, or short of it): the new output, from its start.
          if ((first?.seq === cursor && first.time !== atCursor?.time) || o.nextCursor < cursor) {
            emit({ type: "reset" })
            cursor = 0
            atCursor = undefined
            behind = false
            return 0
          }
          // The line shown already; or, when the ring dropped it, none (and it is no line skipped).
          o = first?.seq === cursor
            ? { ...o, lines: o.lines.slice(1) }
            : { ...o, dropped: Math.max(0, o.dropped - 1) }
        }
        // Started anew under its name, shorter than what was shown: the read gave it from its start.
        if (o !== undefined && o.nextCursor < cursor) emit({ type: "reset" })
        // What the jump to the last lines passed over (lines after `cursor` are numbered from cursor + 1).
        const first = o?.lines[0]?.seq
        const skipped = o === undefined
          ? 0
          : jump
          ? (first !== undefined && o.nextCursor >= cursor ? Math.max(0, first - cursor - 1) : 0)
          : o.dropped
        if (o !== undefined && (o.lines.length > 0 || skipped > 0)) {
          emit({ type: "lines", lines: o.lines, nextCursor: o.nextCursor, skipped })
        }
        if (o !== undefined) {
          // The last whole line (a partial one, still without its newline, may follow it).
          const at = o.lines.slice(-3).find((line) => line.seq === o!.nextCursor && line.partial !== true)
          if (at?.time !== undefined) atCursor = { seq: at.seq!, time: at.time }
          else if (o.nextCursor !== cursor) atCursor = undefined
          cursor = o.nextCursor
        }
        behind = o?.truncated === true
        if (terminal !== null) {
          const screen = await call("read_output", { name, screen: true })
          const rows = screen.structuredContent?.screen as ReadonlyArray<string> | undefined
          const at = screen.structuredContent?.cursor as { row?: unknown; col?: unknown } | undefined
          const cursor = typeof at?.row === "number" && typeof at.col === "number"
            ? { row: at.row, col: at.col }
            : undefined
          // The cursor too: a cursor that moved alone (an arrow key) is drawn again.
          const key = JSON.stringify([rows, cursor])
          if (rows !== undefined && key !== lastScreen) {
            lastScreen = key
            const screen = { text: rows, ...(cursor && { cursor }) }
            emit({ type: "screen", screen, cols: terminal.cols, rows: terminal.rows })
          }
        }
        // More lines than one answer holds: the last ones, at the next read (not at once: a flood would
        // keep the host busy with lines the view drops).
        return undefined
      }, outputEvery).stop
      return () => stop()
    }
  }
}
