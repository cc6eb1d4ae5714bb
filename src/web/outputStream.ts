/**
 * A viewer's live output of one task (`/api/output?name=&since=`): its new lines at most ten times a
 * second, the last MAX_LINES of a flood with how many it skipped, a terminal task's screen, a restart's
 * reset; a task the last supervisor lost, its last lines from its log file, once.
 */
import { Effect, Exit, Scope } from "effect"
import type * as http from "node:http"
import type { LostTasks } from "../daemon/LostTasks.ts"
import type { LineRecord } from "../domain/Task.ts"
import { cleanLastLines } from "../output/fileTail.ts"
import type { TaskRegistry } from "../supervisor/TaskRegistry.ts"
import type { PageRunner } from "./pageRunner.ts"
import { sse } from "./sse.ts"
import { ticker } from "./ticker.ts"

/** How many of a lost task's last lines its log file gives the page. */
const LOST_LINES = 200

/** A stream of output sends at most the last this many lines per tick; the rest it says it skipped. */
const MAX_LINES = 2000
/**
 * Its first tick, what the page keeps (ui/src/outputView.ts): a task opened after it printed 10,000 lines
 * is no flood, and its search should find what the page can hold.
 */
const FIRST_LINES = 5000

/**
 * The `lines` event of a read from `cursor`: each line with what the page needs of it, and how many lines
 * between the cursor and the first it skipped (a flood's, past MAX_LINES).
 */
export const linesEvent = (lines: ReadonlyArray<LineRecord>, nextCursor: number, cursor: number) => {
  const first = lines[0]?.seq
  const skipped = first === undefined ? 0 : Math.max(0, first - cursor - 1)
  return {
    lines: lines.map((line) => ({
      seq: line.seq,
      text: line.text,
      ...(line.stream !== "stdout" && { stream: line.stream }),
      ...(line.run !== undefined && { run: line.run }),
      // A prompt still waiting for its newline: sent again, whole, when it has one.
      ...(line.partial === true && { partial: true })
    })),
    nextCursor,
    skipped
  }
}

/** A lost task's last lines, as a `lines` event: numbered from 1, nothing skipped. */
export const lostLinesEvent = (lines: ReadonlyArray<string>) => ({
  lines: lines.map((text, i) => ({ seq: i + 1, text })),
  nextCursor: lines.length,
  skipped: 0
})

export interface OutputStreamOptions {
  readonly run: PageRunner
  readonly registry: TaskRegistry["Service"]
  /** What the last supervisor lost of the name, if it did. */
  readonly lostTask: LostTasks["Service"]["get"]
  /** The listener's scope: each stream's watch is a scope of it, closed with the viewer's request. */
  readonly scope: Scope.Scope
  /** A page started watching (+1) or stopped (-1). */
  readonly viewers: (change: 1 | -1) => void
}

/** The handler of `/api/output`: the stream lasts as long as the viewer's request. */
export const outputStream = (options: OutputStreamOptions) => {
  const { registry, run, scope } = options
  return async (request: http.IncomingMessage, response: http.ServerResponse, url: URL) => {
    const name = url.searchParams.get("name") ?? ""
    let cursor = Math.max(0, Number(url.searchParams.get("since") ?? 0) || 0)
    // Heard from the start: a viewer gone during the awaits below must not leave its watch behind.
    const closed = new Promise((resolve) => request.once("close", resolve))
    const info = await run(Effect.option(registry.get(name)))
    if (info._tag === "None") {
      // A task the last supervisor lost (or left ended): its last lines, from its log file, once.
      const lost = options.lostTask(name)
      const send = sse(response)
      // Removed (a reconnect after its stream ended, a session's end): said as the stream says it, so the
      // page stops asking instead of retrying a 404 until its list catches up.
      if (lost === undefined) {
        send("gone", {})
        return response.end()
      }
      send("lines", lostLinesEvent(cleanLastLines(lost.logFile, LOST_LINES)))
      return
    }
    // Its terminal's size, or null for pipes: a task started anew under the name may differ (see reset).
    let terminal = info.value.terminal
    const send = sse(response)
    let tail = FIRST_LINES
    // The screen last sent: the same is not sent again (its redraw would clear what the person selected).
    let shown = ""
    const tick = ticker(response, async () => {
      const page = await run(
        Effect.option(registry.read(name, { since: cursor, tail, maxBytes: 512 * 1024, shown: false }))
      )
      tail = MAX_LINES
      if (page._tag === "None") {
        send("gone", {})
        return
      }
      const { lines, nextCursor } = page.value
      if (nextCursor < cursor) {
        // Started anew under the same name: its output begins again (the read gave it from its start).
        send("reset", {})
        cursor = 0
        shown = ""
        const now = await run(Effect.option(registry.get(name)))
        if (now._tag === "Some") terminal = now.value.terminal
      }
      const event = linesEvent(lines, nextCursor, cursor)
      if (event.lines.length > 0 || event.skipped > 0) send("lines", event)
      cursor = Math.max(cursor, nextCursor)
      if (terminal !== null) {
        // What `taskmux attach` draws first: the page's emulator shows the colours, modes and cursor with it.
        const screen = await run(Effect.option(registry.screen(name, { redraw: true })))
        const redraw = screen._tag === "Some" ? screen.value.redraw ?? "" : undefined
        const key = `${terminal.cols}x${terminal.rows} ${redraw}`
        if (redraw !== undefined && key !== shown) {
          shown = key
          send("screen", { redraw, ...terminal })
        }
      }
    })
    // Each change of the task marks the stream; the watch ends with the viewer's request.
    const watching = await run(Scope.fork(scope))
    await run(Effect.ignore(Scope.provide(registry.watch(name, tick.mark), watching)))
    options.viewers(1)
    void closed.then(() => {
      tick.stop()
      void run(Scope.close(watching, Exit.void))
      options.viewers(-1)
    })
  }
}
