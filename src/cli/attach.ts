/**
 * `taskmux attach NAME`: this terminal becomes the task's terminal until Ctrl-] detaches (the task
 * keeps running). It draws the task's screen, then copies the task's raw output here and the keys
 * typed here to the task, and gives the task this terminal's size, now and on each resize.
 *
 * Output is pushed (the task's output resource, at most 4 updates a second); while someone types it is
 * also polled every 20 ms, so what a key echoes shows at once rather than up to 250 ms later.
 */
import { Deferred, Effect, Exit, Queue } from "effect"
import { StringDecoder } from "node:string_decoder"
import { ANSWERED_QUERIES, CURSOR_QUERY } from "../output/cursorQuery.ts"
import type { ReadAnswer, TaskAnswer, WaitAnswer } from "./answers.ts"
import { endedBadly, goneText, isGone, isLive, wentWithSession } from "./answers.ts"
import { CliFailure } from "./CliFailure.ts"
import { CliIo } from "./CliIo.ts"
import { LinePrinter } from "./LinePrinter.ts"
import { statusText } from "./psTable.ts"
import { outputUri, type TaskmuxClient } from "./TaskmuxClient.ts"

/** Ctrl-]: telnet's and docker's detach key, which no shell or REPL binds. */
export const DETACH = 0x1d

/** How long the line that says how to leave shows before the task's screen is drawn over it. */
const NOTICE_MS = 700
const READ_BYTES = 1 << 20

const END_WAIT_MS = 600_000
/** While keys are typed (and for a second after), how often new output is looked for. */
const TYPING_POLL_MS = 20
const TYPING_WINDOW_MS = 1000
/** Otherwise a look now and then besides the pushed updates, in case one is lost. */
const IDLE_POLL_MS = 2000

/**
 * What the terminal goes back to on detach: the program may have hidden the cursor, asked for mouse
 * reports or bracketed paste, switched the arrow keys and keypad to application mode, or set a
 * scroll region (reset with the cursor saved: the reset moves it home).
 */
const RESET_MODES =
  "\x1b[0m\x1b[?25h\x1b[?1000l\x1b[?1002l\x1b[?1003l\x1b[?1006l\x1b[?2004l\x1b[?1l\x1b>\x1b7\x1b[r\x1b8"

/** A switch to or from the alternate screen (full-screen programs: less, vim, top). */
const ALTERNATE = new RegExp(String.raw`\x1b\[\?(?:1049|1047|47)([hl])`, "g")

/** Whether the alternate screen is on after `text`, given whether it was before. */
const alternateAfter = (text: string, before: boolean): boolean => {
  let on = before
  for (const [, mode] of text.matchAll(ALTERNATE)) on = mode === "h"
  return on
}

const clamp = (n: number, min: number, max: number) => Math.min(max, Math.max(min, Math.floor(n)))

type Input = { readonly _tag: "Data"; readonly data: string } | { readonly _tag: "Resize" }

export const attach = Effect.fn("cli.attach")(function*(client: TaskmuxClient, name: string) {
  const io = yield* CliIo
  const tty = io.tty
  if (tty === undefined || tty.stdin.isTTY !== true || tty.stdout.isTTY !== true) {
    return yield* CliFailure.usage(
      `attach needs a terminal: run it in one, not with stdin or stdout redirected (to read the output: taskmux logs -f ${name})`
    )
  }
  const { stdin, stdout } = tty
  // The program's terminal output and attach's own escapes, as they are (io.stdout shows controls).
  const raw = (text: string) => {
    if (stdout.writable) stdout.write(text)
  }
  const task = (yield* client.call<TaskAnswer>("get_task", { name })).structured
  if (task.terminal === null) {
    return yield* CliFailure.failed(
      `"${name}" runs on pipes, not on a terminal: only a task started with terminal: true can be attached. ` +
        `Follow its output with: taskmux logs -f ${name}`
    )
  }
  if (!isLive(task.status)) {
    // The screen it left, which is what the person came to see; then why there is nothing to attach to.
    const left = yield* Effect.option(client.call<ReadAnswer>("read_output", { name, screen: true }))
    const rows = left._tag === "Some" ? left.value.structured.screen ?? [] : []
    if (rows.length > 0) io.stdout(`${rows.join("\n")}\n`)
    // One that could not start says why: a restart would fail the same way (a terminal that cannot open).
    return yield* CliFailure.failed(
      task.status === "failed" && task.error
        ? `"${name}" is not running: ${task.error}`
        : `"${name}" is not running (${statusText(task)}): start it again with taskmux restart ${name}`
    )
  }

  // A terminal that reports no size (0 × 0, as a bare pty can) leaves the task's size as it is.
  const size = () =>
    stdout.columns > 0 && stdout.rows > 0
      ? { cols: clamp(stdout.columns, 20, 1000), rows: clamp(stdout.rows, 5, 500) }
      : {}
  const read = (args: Record<string, unknown>) =>
    Effect.map(client.call<ReadAnswer>("read_output", { name, ...args }), (a) => a.structured)

  // The task's terminal takes our size before its screen is drawn, so the screen fits here; the size it
  // had goes back on detach, unless someone has changed it since.
  // The size this attach gave it last: still its size on detach, nobody else has resized it since.
  let sized = size()
  yield* client.call("send_input", { name, data: "", ...sized })
  const wake = yield* Queue.sliding<void>(1)
  yield* client.subscribe(outputUri(name), () => Queue.offerUnsafe(wake, undefined))
  // The cursor first: output between the two reads is drawn twice rather than lost.
  const start = yield* read({ tail: 0, raw: true })
  // The screen as escapes that redraw it: its colours, its cursor, the screen under an alternate one.
  const redraw = (yield* read({ screen: true, raw: true })).screen?.join("") ?? ""
  // A restart (by anyone) says so where the new run begins.
  const printer = new LinePrinter({
    piece: (_stream, text) => text,
    run: (run) => `\x1b[2m── run ${run} ──\x1b[0m\n`
  })
  printer.shownPartial(start.lines.at(-1))
  let cursor = start.nextCursor
  let alternate = alternateAfter(redraw, false)
  // How to leave, where it stays in sight: the window's title (the one it had is pushed, and popped on
  // detach), and a line shown for a moment before the screen is drawn over it (Ctrl-C would stop the task).
  yield* Effect.acquireRelease(
    Effect.sync(() => raw(`\x1b[22;0t\x1b]2;${name}: taskmux attach, Ctrl-] detaches\x07`)),
    () => Effect.sync(() => raw("\x1b[23;0t"))
  )
  io.stderr(`taskmux: attached to ${name}. Ctrl-] detaches, leaving it running; Ctrl-C goes to the task.\r\n`)
  yield* Effect.sleep(NOTICE_MS)
  raw(`\x1b[H\x1b[2J${redraw}`)

  const inputs = yield* Queue.unbounded<Input>()
  const detached = yield* Deferred.make<void>()
  // SIGTERM, or SIGHUP (the terminal closed): leave as a detach does, the terminal put back.
  const signalled = yield* Deferred.make<"SIGHUP" | "SIGTERM">()
  let typingUntil = 0

  // Raw mode for as long as we are attached: every key (Ctrl-C too) goes to the task.
  yield* Effect.acquireRelease(
    Effect.sync(() => {
      const decoder = new StringDecoder("utf8")
      const onData = (chunk: Buffer) => {
        const at = chunk.indexOf(DETACH)
        const data = decoder.write(at === -1 ? chunk : chunk.subarray(0, at))
        if (data !== "") Queue.offerUnsafe(inputs, { _tag: "Data", data })
        typingUntil = performance.now() + TYPING_WINDOW_MS
        Queue.offerUnsafe(wake, undefined)
        if (at !== -1) Deferred.doneUnsafe(detached, Effect.void)
      }
      const onResize = () => Queue.offerUnsafe(inputs, { _tag: "Resize" })
      const onHangup = () => Deferred.doneUnsafe(signalled, Exit.succeed("SIGHUP"))
      const onTerm = () => Deferred.doneUnsafe(signalled, Exit.succeed("SIGTERM"))
      stdin.setRawMode(true)
      stdin.on("data", onData).resume()
      stdout.on("resize", onResize)
      process.on("SIGHUP", onHangup).on("SIGTERM", onTerm)
      return { onData, onResize, onHangup, onTerm }
    }),
    ({ onData, onHangup, onResize, onTerm }) =>
      Effect.sync(() => {
        process.off("SIGHUP", onHangup).off("SIGTERM", onTerm)
        stdout.off("resize", onResize)
        stdin.off("data", onData).pause()
        // After a hangup the terminal is gone: putting it back fails (EIO), and nothing needs it.
        try {
          stdin.setRawMode(false)
        } catch {
          // Nothing to put back.
        }
        // Back to the screen it had before, as the program's own exit would.
        stdout.write(`${alternate ? "\x1b[?1049l" : ""}${RESET_MODES}`)
      })
  )

  // Keys and sizes go to the task one call at a time, in order; keys typed during a call go in one.
  const forward = Effect.forever(Effect.gen(function*() {
    const batch = yield* Queue.takeAll(inputs)
    let data = ""
    const flush = Effect.suspend(() => {
      const sent = data === "" ? Effect.void : Effect.asVoid(client.call("send_input", { name, data }))
      data = ""
      return sent
    })
    for (const input of batch) {
      if (input._tag === "Data") {
        data += input.data
      } else {
        yield* flush
        sized = size()
        yield* client.call("send_input", { name, data: "", ...sized })
      }
    }
    yield* flush
  }))

  const readNew = Effect.gen(function*() {
    for (;;) {
      const page = yield* read({ since: cursor, raw: true, maxBytes: READ_BYTES })
      // The supervisor answers a program's cursor query from its screen: the person's terminal, asked
      // too, would answer a second time, into the program's input.
      const shown = printer.page(page.lines)
      const text = client.supervisor.answersQueries
        ? shown.replace(ANSWERED_QUERIES, "")
        : client.supervisor.answersCursor
        ? shown.replaceAll(CURSOR_QUERY, "")
        : shown
      if (text !== "") {
        alternate = alternateAfter(text, alternate)
        raw(text)
        typingUntil = Math.max(typingUntil, performance.now() + TYPING_POLL_MS * 5)
      }
      cursor = page.nextCursor
      if (!page.truncated) return
    }
  })
  const show = Effect.forever(Effect.gen(function*() {
    const poll = performance.now() < typingUntil ? TYPING_POLL_MS : IDLE_POLL_MS
    yield* Effect.raceFirst(Queue.take(wake), Effect.sleep(poll))
    yield* readNew
  }))

  const awaitEnd = Effect.gen(function*() {
    for (;;) {
      const wait = yield* client.call<WaitAnswer>("wait_for_task", { name, timeoutMs: END_WAIT_MS })
      if (!wait.structured.timedOut) return wait.structured
    }
  })

  // Removed meanwhile (remove_task, or with the session that started it): an end, said as one.
  const outcome = yield* Effect.raceFirst(
    Effect.raceFirst(Effect.as(Deferred.await(detached), undefined), Deferred.await(signalled)),
    Effect.raceFirst(awaitEnd, Effect.raceFirst(forward, show))
  ).pipe(
    Effect.catchIf((failure) => isGone(failure), (failure) => Effect.succeed({ removed: goneText(name, failure) })),
    // Any other failure (its supervisor killed) is said on a line of its own, as an end is, not after a prompt.
    Effect.mapError((failure) => new CliFailure({ ...fieldsOf(failure), message: `\r\n${failure.message}` }))
  )
  // Off the alternate screen before saying what happened, or the words would go with it.
  const leaveAlternate = () => {
    if (alternate) raw("\x1b[?1049l")
    alternate = false
  }
  if (outcome === undefined || outcome === "SIGHUP" || outcome === "SIGTERM") {
    yield* restoreSize(client, name, task.terminal, sized)
    leaveAlternate()
    const left = `detached from ${name}; it keeps running`
    if (outcome !== undefined) return yield* CliFailure.signalled(`\r\n${left} (${outcome})`, outcome)
    io.stderr(`\r\n${left}\r\n`)
  } else if (typeof outcome === "object" && "removed" in outcome) {
    raw(printer.finish())
    leaveAlternate()
    return yield* CliFailure.failed(`\r\n${outcome.removed}`)
  } else {
    // Forgotten as it ended (with the session it belonged to): its last output was shown as it came.
    yield* Effect.catchIf(readNew, (failure) => wentWithSession(failure), () => Effect.void)
    raw(printer.finish())
    leaveAlternate()
    const ended = `${name} ended (${statusText(outcome)})${outcome.hint === undefined ? "" : `: ${outcome.hint}`}`
    // Crashed or failed: the exit code says so too (a script's `taskmux attach job && ...`).
    if (endedBadly(outcome.status)) return yield* CliFailure.failed(`\r\n${ended}`)
    io.stderr(`\r\n${ended}\r\n`)
  }
})

/** A failure's fields, to make it again with other words. */
const fieldsOf = ({ exitCode, logFile, message, tag, task }: CliFailure) => ({
  message,
  exitCode,
  ...(task !== undefined && { task }),
  ...(tag !== undefined && { tag }),
  ...(logFile !== undefined && { logFile })
})

/** The size the task had before the attach, back, if the attach's is still its size (no one resized it since). */
const restoreSize = (
  client: TaskmuxClient,
  name: string,
  before: { readonly cols: number; readonly rows: number },
  ours: { readonly cols?: number; readonly rows?: number }
) =>
  Effect.gen(function*() {
    const now = (yield* client.call<TaskAnswer>("get_task", { name })).structured.terminal
    if (now === null || now.cols !== ours.cols || now.rows !== ours.rows) return
    if (now.cols === before.cols && now.rows === before.rows) return
    yield* client.call("send_input", { name, data: "", cols: before.cols, rows: before.rows })
  }).pipe(Effect.ignore)
