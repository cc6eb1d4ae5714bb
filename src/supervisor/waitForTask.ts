/**
 * A wait on one task: for a line that matches, a port that listens, or the task's end (through the
 * restarts its policy makes), as asked, or the timeout; with progress as it goes, and an answer that
 * says what explains it (the lines up to readiness, the cause of an end, why nothing came). The registry
 * finds the task and the session; what it shares with a wait is the WaitContext.
 */
import { Effect } from "effect"
import { headOf, tailOf } from "../domain/clipText.ts"
import { matchOnce, slashesHint } from "../domain/pattern.ts"
import { describeEnd, isFinished, type LineRecord, type TaskStatus } from "../domain/Task.ts"
import { redrawnInPlace } from "../output/cleanText.ts"
import { lastLinesOf, type SummaryLine } from "../output/explain.ts"
import type { BufferedLine } from "../output/OutputBuffer.ts"
import * as PortProbe from "../process/PortProbe.ts"
import type { PortWanted } from "../process/PortProbe.ts"
import * as procfs from "../process/procfs.ts"
import { listeningPorts } from "../process/usage.ts"
import { endHint, joinHints, pausedHint, portHeldHint, silentHint, stdoutSilentHint } from "./hints.ts"
import type { ShownCursors, ShownPartial } from "./ShownCursors.ts"
import type * as TaskActor from "./TaskActor.ts"
import type { LastExit, TaskState } from "./TaskState.ts"
import { cleanFor, explainRun, lastLines, latestRun, toLineRecord } from "./taskViews.ts"
import type { ViewerShape } from "./Viewer.ts"

export interface WaitRequest {
  /** Matched against each line (cleaned), both streams; with neither this nor `port`: wait for the end. */
  readonly pattern?: RegExp | undefined
  /** Ready when the task listens on this TCP port (with `pattern`: once both hold). */
  readonly port?: PortWanted | undefined
  /**
   * Only lines after this cursor count; "run": the current run's (a dependency's readiness, whatever
   * was shown); default: after the last line an answer about the task showed, and this run's only.
   */
  readonly since?: number | "run" | undefined
  /** Answer when the task ends (a pattern then only says whether a line matched on the way). */
  readonly exit?: boolean | undefined
  readonly timeoutMs: number
  /** Called every few seconds while waiting (with the last line), and at each run's end that a restart follows. */
  readonly onProgress?: ((elapsedMs: number, note: string | undefined) => Effect.Effect<void>) | undefined
}

export interface WaitResult {
  readonly name: string
  /** The line matched, the port listens, or (an exit wait) the task ended, as asked. */
  readonly matched: boolean
  readonly line?: LineRecord
  readonly status: TaskStatus
  readonly exitCode: number | null
  readonly signal: string | null
  readonly timedOut: boolean
  readonly nextCursor: number
  readonly elapsedMs: number
  /** The last lines: what the task printed up to its readiness, its end or the timeout. */
  readonly lastLines: ReadonlyArray<string>
  /** Lines before those that look like the cause (an error, a traceback), with their positions. */
  readonly errorLines?: ReadonlyArray<SummaryLine>
  /** How long the run lasted, once it has ended. */
  readonly durationMs?: number
  /** Why nothing was seen, when the task printed nothing at all while the wait lasted. */
  readonly hint?: string
  /** The port it was found listening on, for a wait on a port. */
  readonly port?: number
  /** Why it ended for good: its restart policy gave up, or a run failed to start. */
  readonly reason?: string
}

/** What a wait needs of the registry. */
export interface WaitContext {
  readonly bufferLines: number
  /** Where each session's answers got to in each task's output. */
  readonly shown: ShownCursors
  /** Records that `viewer` was shown the task's output up to `cursor` (`last`, the line at it). */
  readonly show: (viewer: ViewerShape, state: TaskState, cursor: number, last?: BufferedLine) => void
  /** The tasks there are (a port's holder is named as the task it is). */
  readonly listed: () => ReadonlyArray<TaskActor.TaskActor>
}

/** How often a waiter rescans at most, so a flood does not turn waiting into busy work. */
const WAIT_SCAN_MS = 20
const PROGRESS_EVERY_MS = 2_000
const PORT_POLL_MS = 100
/**
 * How often a port wait looks whether the port is another program's while the task listens on another
 * (Vite moved to 5174): that wait cannot succeed, and answers then rather than at its timeout.
 */
const MOVED_CHECK_MS = 1_000
/** A port's ready answer waits until the output has been quiet this long, and no longer than the other. */
const READY_QUIET_MS = 50
const READY_SETTLE_MS = 300
/** How long a line without its newline must stay as it is before a pattern may match it (a prompt). */
const PARTIAL_QUIET_MS = 100
/** How long a timed-out wait must have heard nothing to say the task printed nothing. */
const SILENT_AFTER_MS = 250
/** How long a prompt (a last line without its newline) stays as it is before a wait looks whether it waits for input. */
const INPUT_QUIET_MS = 2_000
/** How often, after that, it looks (a few /proc reads for each of the task's processes). */
const INPUT_LOOK_MS = 500
/** A line redrawn in place that nothing redrew for this long of a wait is no progress bar now. */
const STILL_AFTER_MS = 1_000
/** What a pager shows on its last row while it waits for a key (less, man's less, more). */
const PAGER_PROMPT = /^(?::|\(END\)|--More--.*|.*\(press h for help or q to quit\)|.*lines \d+-\d+\/\d+.*)$/
/** A terminal task on its alternate screen: its last lines are what was drawn over and over, not what shows. */
const fullScreenHint = {
  hint: "It shows a full screen (an editor, a pager, a menu): read_output { screen: true } shows it as a person " +
    "sees it. Its own keys end it (vim: \"\\u001b:q!\\r\"; nano: \"\\u0018\"; less: \"q\")."
}
/** A full screen that reads keys (an editor, a menu): its line view's last line is no prompt to quote (fullScreenHint follows). */
const fullScreenKeysHint = {
  hint: "It waits for keys, and nothing comes until someone types them: send_input types them."
}
/**
 * A REPL's or an interactive shell's prompt, as its last line (trimmed) reads: python's ">>>" and "...",
 * IPython's "In [3]:", node's ">", "sqlite>", "mysql>", "postgres=#", "irb(main):001:0>", a shell's "$",
 * "#" or "%" after its user, host and directory. A question ("[y/N]", "Password:") ends otherwise.
 */
const REPL_PROMPT = /^(?:>>>|\.\.\.|In \[\d+\]:|[\w.@:~/()[\]=+-]*[>$#%])$/
/** Lines looked through for a ready answer's last lines (a summary shows fewer). */
const READY_LINES = 16

/** Waits on `actor` for what `request` asks, as `viewer`'s call (its cursor, and what it was shown). */
export const waitForTask = Effect.fnUntraced(function*(
  { bufferLines, listed, show, shown }: WaitContext,
  actor: TaskActor.TaskActor,
  viewer: ViewerShape,
  request: WaitRequest
) {
  const name = actor.name
  const state = () => actor.state()
  // A run that its policy restarts is not the end: a wait goes on through restarts.
  let seenExit = state().lastExit
  /** The last run that ended during this wait and was run again: by its policy, or by another call's restart. */
  let reran: { readonly end: LastExit; readonly by: string | null } | undefined
  // The monotonic clock: a step of the wall clock neither ends the wait early nor keeps it for hours.
  const startedAt = performance.now()
  const deadline = startedAt + request.timeoutMs
  // Not after the call: a line that arrived between two calls is not missed. Nor before this run: a
  // line of a run that ended (a restart's, a crash's) says nothing of this one's readiness.
  // A cursor past the end was given for an earlier output (the task started anew since): this one
  // from its start, as read_output takes it.
  const since = typeof request.since === "number" && request.since > state().buffer.cursor ? 0 : request.since
  let cursor = since === "run"
    ? thisRunStart(state())
    : since ?? Math.max(shown.cursor(viewer, state().buffer), thisRunStart(state()))
  const firstCursor = cursor
  // What this caller has read already: lines up to it are not given again in the answer's last lines.
  const readUpTo = typeof since === "number"
    ? since
    : since === "run"
    ? thisRunStart(state())
    : Math.max(shown.seen(viewer, state().buffer), thisRunStart(state()))
  const exitWait = request.exit === true
  const bytesAtStart = state().buffer.receivedBytes
  /** When this wait last saw output arrive (its start, at first): a line redrawn in place is so while it is. */
  let seenBytes = bytesAtStart
  let lastBytesAt = performance.now()
  /** When this wait last looked whether the task waits for input, and what it found. */
  let inputLookedAt = 0
  let waitsForInput: string | undefined
  let lastProgress = startedAt
  const probe = request.port === undefined
    ? undefined
    : PortProbe.make(request.port, () => state().process?.members() ?? [], () => state().pid ?? undefined)
  let matchedLine: BufferedLine | undefined
  /** A matching line still without its newline, taken once quiet (or matching) PARTIAL_QUIET_MS. */
  let pending: BufferedLine | undefined
  /** Since when a line without its newline has matched. */
  let pendingSince: { readonly seq: number; readonly at: number } | undefined
  /** Lines after the cursor that the ring dropped before the scan reached them. */
  let missed = 0
  const result = (
    matched: boolean,
    timedOut: boolean,
    port?: number,
    elsewhere?: PortProbe.Elsewhere,
    gaveUp = false
  ): WaitResult => {
    const now = state()
    const over = isFinished(now.status) && now.endedAt !== null
    // An end, a timeout or a failed readiness comes with what explains it; readiness with what it printed.
    const ready = matched && !exitWait ? linesUpTo(now, matchedLine?.seq) : undefined
    const explained = ready !== undefined ? { errorLines: [], ...ready } : explainRun(now)
    // A timeout's cause is among the lines this wait looked at: earlier ones were shown already (an
    // old traceback in a REPL is not why its next prompt is late).
    const errorLines = timedOut
      ? explained.errorLines.filter((line) => line.seq > firstCursor)
      : explained.errorLines
    // What an earlier answer showed this caller (the lines up to where this wait began) is not given
    // again: a wait after a start, a read or another wait carries only what is new to it.
    const lastLines = explained.lastSeqs === undefined
      ? explained.lastLines
      : explained.lastLines.filter((_, k) => explained.lastSeqs![k]! > readUpTo)
    // Up to the last line the answer showed: a later wait does not match it again. A line still
    // waiting for its newline (a prompt) is shown as it is (see show).
    const last = matchedLine ?? ready?.last
    const nextCursor = exitWait
      ? now.buffer.cursor
      : last !== undefined
      ? Math.max(cursor, last.partial ? last.seq - 1 : last.seq)
      : cursor
    show(viewer, now, nextCursor, last)
    return {
      name,
      matched,
      ...(matchedLine !== undefined && { line: toLineRecord(now, matchedLine) }),
      ...(port !== undefined && { port }),
      status: now.status,
      exitCode: now.exitCode,
      signal: now.signal,
      timedOut,
      nextCursor,
      elapsedMs: Math.round(performance.now() - startedAt),
      ...(over && {
        durationMs: now.lastRunMs !== null
          ? Math.round(now.lastRunMs)
          : Math.max(0, Date.parse(now.endedAt!) - Date.parse(now.startedAt))
      }),
      ...(over && now.error !== null && { reason: now.error }),
      lastLines,
      ...(errorLines.length > 0 && { errorLines }),
      ...joinHints(
        missedHint(now),
        waitsForInput !== undefined ? inputHint(now, waitsForInput) : {},
        timedOut || gaveUp ? hintOf(now, elsewhere) : {},
        (timedOut || waitsForInput !== undefined) && now.screen?.fullScreen === true && !over ? fullScreenHint : {},
        !matched && !over ? reranHint(now) : {},
        over ? endHint(now) : {},
        !matched && request.pattern !== undefined ? { hint: slashesHint(request.pattern) } : {}
      )
    }
  }
  /** A last line without its newline that has stayed as it is for INPUT_QUIET_MS: a prompt, maybe. */
  const quietPrompt = (now: TaskState): string | undefined => {
    if (!procfs.available || now.pid === null || performance.now() - lastBytesAt < INPUT_QUIET_MS) return undefined
    const last = now.buffer.read({ tail: 1, transform: cleanFor(now) }).lines.at(-1)
    return last?.partial === true && last.text.trim() !== "" ? last.text : undefined
  }
  /** Whether a process of the task waits on the task's stdin (or terminal), as one at a prompt does. */
  const readsInput = (now: TaskState): boolean => {
    const input = now.pid === null ? undefined : procfs.descriptor(now.pid, 0)
    if (input === undefined) return false
    // On a terminal, a program may read it as /dev/tty (sudo, ssh, git's credential prompt).
    const inputs = now.terminal === null ? [input] : [input, "/dev/tty"]
    return (now.process?.members() ?? []).some((m) => m.live && procfs.readsInput(m.pid, inputs))
  }
  /** Enter as send_input types it, quoted: a newline on pipes, a carriage return on a terminal. */
  const enterOf = (now: TaskState) => now.terminal === null ? "\"\\n\"" : "\"\\r\""
  /** What to do about a prompt: answer it, or ask the person it is for; quit a pager; type a REPL a command. */
  const inputHint = (now: TaskState, prompt: string): { hint: string } =>
    pagerHint(now, prompt) ?? (now.screen?.fullScreen === true ? fullScreenKeysHint : undefined) ??
      replHint(now, prompt) ?? {
      hint: `It waits for input at a prompt (${JSON.stringify(tailOf(prompt, 80))}), and nothing comes until ` +
        `someone answers: send_input answers it (the answer, then ${enterOf(now)} for ` +
        `Enter), or ${now.terminal === null ? "eof: true" : "\"\\u0003\" (Ctrl-C)"} ends it. ` +
        (/pass(word|phrase)|token|secret|\bPIN\b|otp|verification code/i.test(prompt)
          ? "It asks for a secret: ask the user to type it themselves (taskmux attach, or the page) rather than " +
            "for the secret, or use a way that asks nothing (keys, a credential helper, sudo -n). "
          : "A flag that answers it beforehand (-y, --yes, -m, --no-input, --non-interactive) runs it in one call. ") +
        "Waiting again would wait for the same prompt."
    }
  /** A REPL's or a shell's prompt: it waits for a command, not an answer; Ctrl-C does not end it, its quit does. */
  const replHint = (now: TaskState, text: string): { hint: string } | undefined =>
    REPL_PROMPT.test(text.trim())
      ? {
        hint: `It waits for a command at its prompt (${JSON.stringify(tailOf(text, 80))}): send_input types one ` +
          `(the line, then ${enterOf(now)}); its own quit (exit, exit(), .exit, \\q) ` +
          "or send_input { eof: true } ends it. Waiting again would wait at the same prompt."
      }
      : undefined
  /** A pager's prompt (less's ":" or "(END)", man's, more's): a key quits it, and its text had a better way. */
  const pagerHint = (now: TaskState, text: string): { hint: string } | undefined =>
    now.terminal !== null && PAGER_PROMPT.test(text.trim())
      ? {
        hint: `It shows a pager (${JSON.stringify(tailOf(text.trim(), 60))}), which waits for keys: ` +
          `send_input "q" quits it (" " pages on; read_output { screen: true } shows the page). For the whole ` +
          "text at once, run the command without a pager: git --no-pager, or env GIT_PAGER=cat, PAGER=cat, " +
          "MANPAGER=cat, SYSTEMD_PAGER=cat (or without terminal: true, where none starts)."
      }
      : undefined
  /** A run this wait saw end and start again: what it shows is the new run's, which a caller should know. */
  const reranHint = (now: TaskState): { hint?: string } =>
    reran === undefined ? {} : {
      hint: `${
        reran.end.status === "stopped" && reran.by !== null
          ? `${reran.by} ran it again during this wait`
          : `It ${describeEnd(reran.end.status, reran.end.exitCode, reran.end.signal)} during this wait, ` +
            "and its restart policy ran it again"
      }${now.status === "running" ? `: its last lines are run ${now.restarts + 1}'s` : ""}.`
    }
  /** Lines it could not look at: the answer is no proof the line was never printed. */
  const missedHint = (now: TaskState): { hint?: string } =>
    missed === 0 || matchedLine !== undefined ? {} : {
      hint: `${missed === 1 ? "1 line" : `${missed} lines`} after where this wait began ${
        missed === 1 ? "was" : "were"
      } dropped before it could look at ${
        missed === 1 ? "it" : "them"
      } (the buffer keeps the last ${bufferLines} lines)${
        now.logFiles.length === 0 ? "" : `; the log file has every line: ${now.logFiles.at(-1)}`
      }.`
    }
  /** Why a wait timed out, where taskmux can tell more than that it did. */
  const hintOf = (now: TaskState, elsewhere: PortProbe.Elsewhere | undefined): { hint?: string } => {
    // A prompt it shows now says more than an earlier line that matched (a REPL waiting for input).
    // The last line (a tail of one gives the last whole line and, after it, a partial one).
    const tail = now.buffer.read({ tail: 1, transform: cleanFor(now) }).lines
    const last = tail.at(-1)
    // A partial line of escapes alone (a TUI hiding its cursor, a synchronized-output mark) shows nothing to
    // answer; nor does the end of one longer than the line limit (a minified bundle, a JSON blob), no prompt.
    if (last?.partial === true && last.text.trim() !== "" && !isFinished(now.status) && tail.at(-2)?.cut !== true) {
      // Redrawn in place as it goes (a progress bar), it is no prompt; and a state it passed through
      // was never a line to match.
      const raw = now.buffer.read({ tail: 1 }).lines.at(-1)?.text ?? ""
      const pager = pagerHint(now, last.text)
      if (pager !== undefined) return pager
      // Redrawn as it goes: only while it goes (output came in the last second). A prompt that a line editor
      // or a password reader drew with a \r or an erase first (ssh, npm init, Node's readline) is still.
      if (
        redrawnInPlace(raw) &&
        performance.now() - lastBytesAt < STILL_AFTER_MS
      ) {
        return {
          hint: `Its last line is redrawn in place (${JSON.stringify(tailOf(last.text, 80))}): a pattern ` +
            "matches a line as it ends up, or a state it holds for 100 ms, not each state it passes through."
        }
      }
      return {
        hint: `Its last line has no newline: it may be waiting for input at a prompt ` +
          `(${JSON.stringify(tailOf(last.text, 80))}${
            request.pattern !== undefined && matchOnce(request.pattern, last.text)
              ? ", shown before this call"
              : ""
          }); send_input answers it.`
      }
    }
    // A line that matches was shown before the call, so this wait did not look at it.
    const before = request.pattern !== undefined && request.since === undefined && firstCursor > 0
      ? scanBefore(now, firstCursor, request.pattern)
      : undefined
    if (before !== undefined) {
      return {
        hint: `A line that matches came before this wait's first line (it looks after the last line an ` +
          `answer showed, [${firstCursor}]): [${before.seq}] ${
            headOf(before.text, 200)
          }. since: ${now.buffer.runStart} looks at ${now.buffer.runStart === 0 ? "them all" : "all of this run's"}.`
      }
    }
    // The port was another program's (a dev server left running): the task went elsewhere, or waits.
    const { holder, ports } = elsewhere ?? { holder: undefined, ports: [] }
    // Another task's, often (two dev servers of one project): named as the task it is.
    const holderTask = holder === undefined
      ? undefined
      : listed().find((actor) => {
        const { pid, process } = actor.state()
        return pid === holder.group || process?.members().some((m) => m.pid === holder.pid)
      })
    const taken = holder === undefined ? "" : portHeldHint(
      request.port,
      holder,
      holderTask && { name: holderTask.name, leader: holderTask.state().pid === holder.pid }
    )
    if (ports.length > 0) {
      return {
        hint: `${taken}It listens on ${ports.length === 1 ? "port" : "ports"} ${ports.join(", ")} instead.`
      }
    }
    if (taken !== "") return { hint: `${taken}Stop it, or give the task another port.` }
    const unknown = probe?.unknown()
    if (unknown !== undefined) return { hint: unknown }
    // Stopped by a signal (SIGSTOP, SIGTSTP): nothing else explains the silence.
    if (now.pid !== null && procfs.available && procfs.stat(now.pid)?.paused === true) {
      return { hint: pausedHint }
    }
    // A server that is up, its ready line worded otherwise than guessed: its port says so at once, where
    // the next guess at the line would wait its whole timeout again.
    const listening = request.pattern !== undefined && request.port === undefined && procfs.available &&
        !isFinished(now.status)
      ? listeningPorts(now.process?.members() ?? [])
      : []
    if (listening.length > 0) {
      return {
        hint: `It listens on ${listening.length === 1 ? "port" : "ports"} ${listening.join(", ")}: if that ` +
          `means ready, wait_for_task {"name":${JSON.stringify(now.name)},"port":${listening[0]}} answers at once.`
      }
    }
    // Silent for a while, not for a wait that looked once (timeoutMs: 0); and a task that printed
    // before the wait is no sign of a buffer holding its lines back (it printed those).
    if (performance.now() - startedAt < SILENT_AFTER_MS) return {}
    const never = bytesAtStart === 0
    // Its log lines on stderr, its ready line held in a buffer on stdout (C's printf on a pipe): whether
    // the stderr lines came during the wait or before it (a start without waitFor, then a wait).
    const stderrOnly = request.pattern !== undefined && now.terminal === null && now.buffer.receivedBytes > 0 &&
      now.buffer.read({ stream: "stdout", since: now.buffer.runStart, tail: 1 }).lines.length === 0
    if (now.buffer.receivedBytes === bytesAtStart) {
      const stdinOpen = now.process?.isStdinOpen() ?? false
      const silence = silentHint(now, request.pattern !== undefined && never, never, stdinOpen)
      return { hint: stderrOnly && !never ? `${silence} ${stdoutSilentHint}` : silence }
    }
    return stderrOnly ? { hint: stdoutSilentHint } : {}
  }
  let movedCheckedAt = startedAt
  for (;;) {
    // Read the status first: once a run has ended, all its output is in the buffer.
    const now = state()
    if (now.buffer.receivedBytes !== seenBytes) {
      seenBytes = now.buffer.receivedBytes
      lastBytesAt = performance.now()
    }
    const over = isFinished(now.status)
    if (now.lastExit !== seenExit) {
      seenExit = now.lastExit
      if (!over && now.lastExit !== null) reran = { end: now.lastExit, by: now.stoppedBy }
      if (!over && request.onProgress !== undefined) {
        yield* request.onProgress(performance.now() - startedAt, restartNote(now))
      }
    }
    if (request.pattern !== undefined && matchedLine === undefined) {
      // Lines the ring dropped before this wait could look at them (a flood, a since far back).
      missed += Math.max(0, now.buffer.stats().droppedLines - cursor)
      // An explicit cursor says where to look from; without one, what was shown does not match again.
      const partial = request.since === undefined ? shown.partial(viewer, now.buffer) : undefined
      const found = scan(now, cursor, request.pattern, partial)
      cursor = found.cursor
      // A line still waiting for its newline is a prompt, or the first piece of a line written in
      // pieces ("listening on http://localhost:80", then "80/"): it matches once it has been quiet
      // PARTIAL_QUIET_MS, or has matched that long (a spinner's line is never quiet), or the run
      // ended, or time is up; until then the scan starts again from its cursor.
      const line = found.line
      const at = performance.now()
      if (line?.partial === true && pendingSince?.seq !== line.seq) pendingSince = { seq: line.seq, at }
      // A line's time is a wall time (a timestamp); pendingSince bounds the wait whatever that clock does.
      pending = line?.partial === true && !over && Date.now() - line.time < PARTIAL_QUIET_MS &&
          at - pendingSince!.at < PARTIAL_QUIET_MS
        ? line
        : undefined
      if (pending === undefined) matchedLine = line
    } else if (request.pattern === undefined) {
      cursor = now.buffer.cursor
    }
    const lineReady = request.pattern === undefined || matchedLine !== undefined
    if (!exitWait && lineReady && probe === undefined && request.pattern !== undefined) return result(true, false)
    if (!exitWait && lineReady && probe !== undefined && !over) {
      const port = yield* Effect.promise(() => probe.check())
      if (port !== undefined) {
        // A server prints its URL as it starts listening, a moment after the port opens: let it.
        if (request.pattern === undefined) yield* awaitQuiet(state, READY_QUIET_MS, READY_SETTLE_MS)
        // A listing right after the answer shows the port too, not a sample taken before it opened.
        actor.usage.outdate()
        return result(true, false, port)
      }
      if (performance.now() - movedCheckedAt >= MOVED_CHECK_MS) {
        movedCheckedAt = performance.now()
        // The port asked for is another program's, and the task listens on others: it went elsewhere.
        const found = yield* Effect.promise(() => probe.elsewhere(true))
        if (found.holder !== undefined && found.ports.length > 0) {
          return result(false, false, undefined, found, true)
        }
      }
    }
    if (over) return result(exitWait && lineReady, false)
    // A program at a prompt, waiting for someone to type (rm -i, apt-get, sudo on a terminal, npm init): no
    // line, port or end comes until someone does, so say so now, not at the timeout (5 minutes for an end).
    // Every wait still here looks: a matched pattern without a port answered above, and one given neither
    // pattern nor exit waits for the end as much as exit's does.
    const prompt = quietPrompt(now)
    if (prompt !== undefined && performance.now() - inputLookedAt >= INPUT_LOOK_MS) {
      inputLookedAt = performance.now()
      if (readsInput(now)) {
        waitsForInput = prompt
        return result(false, false)
      }
    }
    const at = performance.now()
    if (at >= deadline) {
      // Time is up: a prompt that matched a moment ago is the answer all the same.
      if (pending === undefined || probe !== undefined || exitWait) {
        return result(
          false,
          true,
          undefined,
          probe === undefined ? undefined : yield* Effect.promise(() => probe.elsewhere())
        )
      }
      matchedLine = pending
      return result(true, false)
    }
    if (request.onProgress !== undefined && at - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = at
      const last = lastLines(now, 1)[0]
      yield* request.onProgress(
        at - startedAt,
        last === undefined ? undefined : `last line: ${headOf(last, 200)}`
      )
    }
    const nextProgress = request.onProgress === undefined ? deadline : lastProgress + PROGRESS_EVERY_MS
    // A port is looked at every PORT_POLL_MS; output and status changes wake the wait at once.
    const nextPort = probe === undefined ? deadline : at + PORT_POLL_MS
    const nextPartial = pending === undefined
      ? deadline
      : at + Math.min(PARTIAL_QUIET_MS - (Date.now() - pending.time), PARTIAL_QUIET_MS - (at - pendingSince!.at))
    // While it runs, a look every INPUT_LOOK_MS for a prompt that waits (and for quiet: output does not wake an end's wait).
    const nextInput = procfs.available && now.pid !== null ? at + INPUT_LOOK_MS : deadline
    const ms = Math.max(0, Math.min(deadline, nextProgress, nextPort, nextPartial, nextInput) - performance.now())
    if (request.pattern === undefined && probe === undefined) {
      // Only the end matters: woken by it, not by each line a chatty task prints.
      yield* awaitChange(actor, ms, () => isFinished(state().status) || state().lastExit !== seenExit)
      continue
    }
    yield* awaitChange(actor, ms)
    yield* Effect.sleep(Math.max(0, WAIT_SCAN_MS - (performance.now() - at)))
  }
})

/** The cursor before the current run's first line; between runs (restarting), after the last run's lines. */
const thisRunStart = (task: TaskState) => task.status === "restarting" ? task.buffer.cursor : task.buffer.runStart

/** The last line before `cursor` that matches, if the buffer still holds one (the newest few thousand looked at). */
const scanBefore = (task: TaskState, cursor: number, pattern: RegExp): BufferedLine | undefined => {
  // This run's only: an earlier run's line says nothing about this one (a server that no longer starts).
  const since = Math.max(task.buffer.runStart, cursor - 5_000)
  const { lines } = task.buffer.read({ since, maxBytes: 1 << 20, transform: cleanFor(task) })
  return lines.findLast((line) => line.seq <= cursor && !line.partial && matchOnce(pattern, line.text))
}

/** The last lines up to `seq` (all held, without it), cleaned, as few as a summary shows; and the last one read. */
const linesUpTo = (task: TaskState, seq: number | undefined) => {
  const window = { maxBytes: 64 * 1024, transform: cleanFor(task) }
  const { lines } = task.buffer.read(
    seq === undefined ? { ...window, tail: READY_LINES } : { ...window, since: Math.max(0, seq - READY_LINES) }
  )
  // Not the run before a restart's: what this run printed up to its readiness.
  const upTo = seq === undefined ? lines : lines.filter((l) => l.seq <= seq)
  const run = latestRun(upTo)
  const { first, lastLines } = lastLinesOf(run)
  return { lastLines, lastSeqs: run.slice(first, first + lastLines.length).map((l) => l.seq), last: upTo.at(-1) }
}

/** "run 2 crashed (exit code 3); restarting in 0.5 s": the end of a run that a restart follows. */
const restartNote = (task: TaskState) => {
  const end = task.lastExit!
  const ended = describeEnd(end.status, end.exitCode, end.signal)
  if (task.status !== "restarting") return `run ${task.restarts} ${ended}; restarted`
  const inMs = task.restartDueMs === null ? 0 : Math.max(0, task.restartDueMs - performance.now())
  return `run ${task.restarts + 1} ${ended}; restarting in ${(inMs / 1000).toFixed(1)} s`
}

/** Returns once the task has printed nothing for `quietMs`, or after `maxMs`. */
const awaitQuiet = (state: () => TaskState, quietMs: number, maxMs: number) =>
  Effect.gen(function*() {
    const deadline = performance.now() + maxMs
    for (;;) {
      const before = state().buffer.receivedBytes
      yield* Effect.sleep(Math.max(0, Math.min(quietMs, deadline - performance.now())))
      if (state().buffer.receivedBytes === before || performance.now() >= deadline) return
    }
  })

/**
 * Resolves on the task's next change, or after `ms`; with `until`, once it holds (at once if it
 * does already), however many changes come first.
 */
export const awaitChange = (actor: TaskActor.TaskActor, ms: number, until?: () => boolean) =>
  Effect.callback<void>((resume) => {
    if (until?.() === true) return resume(Effect.void)
    // Unsubscribed by itself when it fires (a canceller runs only on interruption).
    const unsubscribe = actor.subscribe(() => {
      if (until !== undefined && !until()) return
      unsubscribe()
      resume(Effect.void)
    })
    return Effect.sync(unsubscribe)
  }).pipe(Effect.timeoutOption(ms), Effect.asVoid)

/**
 * The first line after `cursor` (cleaned) that matches, or the cursor after everything scanned. A line
 * shown before its newline came, whose shown part already matched, is not matched again as it grows
 * (the echo of what was typed after a prompt) or once complete.
 */
const scan = (
  task: TaskState,
  cursor: number,
  pattern: RegExp,
  shown?: ShownPartial
): { line?: BufferedLine; cursor: number } => {
  const seen = shown !== undefined && matchOnce(pattern, shown.text) ? shown.seq : undefined
  const clean = cleanFor(task)
  for (;;) {
    const page = task.buffer.read({ since: cursor, maxBytes: 1 << 20, transform: clean })
    for (const line of page.lines) {
      if (line.seq === seen) continue
      if (matchOnce(pattern, line.text)) return { line, cursor }
    }
    if (!page.truncated) return { cursor: page.nextCursor }
    cursor = page.nextCursor
  }
}
