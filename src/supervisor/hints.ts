/**
 * What an answer says beyond its fields, where taskmux can tell: why a wait saw nothing, what a run
 * left running, where a command was not found, who stopped a task. Words for a model that will act
 * on them, so each names the fix.
 */
import { clipText } from "../domain/clipText.ts"
import type { Holder, PortWanted } from "../process/PortProbe.ts"
import type { TaskState } from "./TaskState.ts"
import { lastLines, runEnv } from "./taskViews.ts"
import type { ViewerShape } from "./Viewer.ts"

const BUFFERING = "as many programs do when writing to a pipe: start it with terminal: true, or make it flush " +
  "(python3 -u, stdbuf -oL, grep --line-buffered, perl's $| = 1)."

/**
 * A timed-out wait whose task printed nothing: on pipes, that it may be buffering; and, with its stdin
 * open, that it may be reading it to the end (`wc`, `jq`: in a shell that would have ended at once).
 */
export const silentHint = (task: TaskState, forALine: boolean, never: boolean, stdinOpen: boolean) => {
  const silence = never ? "It has printed nothing at all." : "It printed nothing while this call waited."
  if (task.terminal !== null) return silence
  const stdin = never && stdinOpen
    ? " Its stdin is open: a program that reads its input to the end (wc, jq, sort, cat, a script " +
      "reading stdin) waits for more: send_input { eof: true } closes it."
    : ""
  return forALine
    ? `${silence} If it should have, it may be buffering its output, ${BUFFERING}${stdin}`
    : `${silence}${stdin}`
}

/**
 * Who holds the port a wait asked for (a dev server left running, another worktree's), as the start of a
 * hint: a task of this taskmux by its name (`leader`: the holder is its own pid, else a process below it,
 * a shell line's program), a process no /proc here shows, another taskmux's task, or another program.
 */
export const portHeldHint = (
  port: PortWanted | undefined,
  holder: Holder,
  task: { readonly name: string; readonly leader: boolean } | undefined
): string =>
  task !== undefined
    ? `Port ${port} is held by task "${task.name}" (${task.leader ? "pid" : "its process"} ${holder.pid}). `
    : holder.pid === null
    ? `Port ${port} is held by a process taskmux cannot see (another container, or PID namespace, on this network). `
    : `Port ${port} is held by ${
      holder.taskmux === true ? "a task of another taskmux (another project's or worktree's)" : "another program"
    } (pid ${holder.pid}: ${holder.command}${holder.cwd === undefined ? "" : `, in ${holder.cwd}`}). `

/** What a program that needs a terminal says when it has pipes (top, docker -it, a raw-mode prompt). */
export const NEEDS_TERMINAL =
  /not a tty|non[- ]tty|failed tty get|input device is not a tty|inappropriate ioctl for device|must be run (?:from|in) a terminal|(?:stdin|stdout|input|output) is not a terminal/i

/**
 * What a program says on pipes when it wanted to ask a person on the terminal (/dev/tty), which a task on
 * pipes has none of (it leads its own session): sudo's password, ssh's host key and password, git's
 * credentials, docker login, gpg's pinentry.
 */
export const ASKS_A_PERSON =
  /a terminal is required to read the password|could not read (?:Username|Password) for|Host key verification failed|interactive login from a non TTY device|cannot open '?\/dev\/tty'?|\/dev\/tty: No such device or address|problem with the agent: Inappropriate ioctl/i

/** An end of a task on pipes that wanted a person to answer on its terminal. */
export const asksAPersonHint = "It wanted to ask a person on a terminal (a password, a host key, credentials), and a " +
  "task on pipes has none. Use a way that asks nothing (ssh keys with -o BatchMode=yes and " +
  "StrictHostKeyChecking=accept-new, sudo -n, a git credential helper or token, docker login --password-stdin), " +
  "or start it with terminal: true and let the user answer it: taskmux attach NAME (or the page) types into it."

/** An end of a task on pipes that said it needs a terminal. */
export const needsTerminalHint = "It needs a terminal: start it with terminal: true (then send_input types into " +
  "it and read_output { screen: true } shows its screen)."

/** A run that a SIGKILL ended which no tool sent: who sends one unasked is most often the kernel. */
export const unaskedKillHint = "No tool sent the SIGKILL that ended it: most often the kernel's OOM killer sends " +
  "one, when the machine or its container runs out of memory (dmesg says so), else another program did."

/** A timed-out wait whose task's main process is stopped by a signal. */
export const pausedHint = "It is paused (stopped by SIGSTOP or SIGTSTP, see signal_task): it runs, and prints, " +
  "nothing until signal_task { signal: \"SIGCONT\" }."

/** A timed-out wait for a line from a task on pipes that wrote on stderr only: stdout may be buffered. */
export const stdoutSilentHint = "It printed on stderr only, nothing on stdout: if the line it waits for comes " +
  `on stdout, it may be buffering it, ${BUFFERING}`

/** "stop_task from cursor": a tool and the client that called it, as an end's notification names who asked. */
export const askedBy = (tool: string, viewer: ViewerShape) => {
  const client = viewer.client()
  return client === undefined ? tool : `${tool} from ${client}`
}

const OWNER_LEFT = "its session"

/** "its session (claude-code) ended": who stopped a task its owner's session took with it. */
export const ownerLeft = (client: string | null) => `${OWNER_LEFT}${client === null ? "" : ` (${client})`} ended`

/** Who stopped a run, as a sentence: "Stopped by stop_task from cursor.", "Stopped when its session (claude-code) ended." */
export const stoppedSentence = (by: string) => by.startsWith(OWNER_LEFT) ? `Stopped when ${by}.` : `Stopped by ${by}.`

/**
 * A shell line's program that was not found: where the shell looked. A person's terminal and an MCP
 * client rarely have the same PATH, and a task gets the one of who started it.
 */
export const notFoundHint = (path: string | undefined) =>
  `The shell looked for it on the task's PATH: ${path === undefined ? "(none)" : clipText(path, 300)}. A task ` +
  "gets the environment of the client or terminal that started it: give the program's full path, or a " +
  "PATH in start_task's env (or the project file's)."

/** What a run's main process left running, ended with it: a server started with `&`, usually. */
export const leftRunningHint = (commands: ReadonlyArray<string>) =>
  `It left ${commands.length === 1 ? "1 process" : `${commands.length} processes`} running, which ended with it: ` +
  `${commands.join("; ")}. A task lasts as long as its main process: run a server in the foreground ` +
  `(no "&", no daemon mode), so that the task is the server.`

/** Hints, each a sentence or more, in one (or none). */
export const joinHints = (...hints: ReadonlyArray<{ readonly hint?: string | undefined }>): { hint?: string } => {
  const hint = hints.map((h) => h.hint).filter((h) => h !== undefined && h !== "").join(" ")
  return hint === "" ? {} : { hint }
}

/**
 * The shell looked for a program on PATH and found none (bash's "command not found", dash's "not
 * found"), not a path given that is missing ("/opt/x: No such file or directory", said as it is).
 */
const lookedOnPath = (now: TaskState) => lastLines(now).some((line) => /(?:command )?not found$/.test(line))

/** What an end needs said beyond its status: what it left running, or where a command was not found. */
export const endHint = (now: TaskState, exitCode = now.exitCode): { hint?: string } => {
  // Who stopped it: a session waiting on a task another session or a person stopped is not told
  // its server died.
  const by = now.status === "stopped" && now.stoppedBy !== null ? stoppedSentence(now.stoppedBy) : ""
  const asked = exitCode !== 0 && now.terminal === null && lastLines(now).some((line) => ASKS_A_PERSON.test(line))
  const more = asked
    // Before what it left running: an agent it started (gpg's) is not why it ended.
    ? asksAPersonHint
    : now.leftRunning.length > 0
    ? leftRunningHint(now.leftRunning)
    : exitCode === 127 && now.args === null && lookedOnPath(now)
    ? notFoundHint(runEnv(now.baseEnv, now).PATH)
    : exitCode !== 0 && now.terminal === null && lastLines(now).some((line) => NEEDS_TERMINAL.test(line))
    ? needsTerminalHint
    // Crashed, not stopped: taskmux sent no SIGKILL (a shell line's shell says 137 for it).
    : now.status === "crashed" && (now.signal === "SIGKILL" || exitCode === 137)
    ? unaskedKillHint
    : ""
  const hint = [by, more].filter(Boolean).join(" ")
  return hint === "" ? {} : { hint }
}
