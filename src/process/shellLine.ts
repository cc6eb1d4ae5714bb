/**
 * How a task's command reaches `exec`: a program with `args` as it is, a shell line through bash
 * where there is one, else `/bin/sh -c`; with traps that make the shell end as its program did. bash
 * reads no startup file: `--posix` skips BASH_ENV, and `--norc` the ~/.bashrc it would otherwise run
 * whenever its stdin is a socket (as it is under Node, which gives children socket pairs) and SHLVL is
 * unset (as it is in an MCP client's short environment): its "started by sshd" rule.
 *
 * Why bash: a Ctrl-C typed on a task's terminal, or a signal sent to the task (its whole group),
 * reaches the shell as well as its program. bash waits to see what the program does with a SIGINT or
 * SIGQUIT: it dies of the signal only if the program did, and dies at once when the signal finds it
 * running a command of its own (a `read` at a prompt, a loop). dash, /bin/sh on Debian and Ubuntu,
 * cannot tell these apart: it killed itself with a Ctrl-C's SIGINT once its program exited, even when
 * the program handled it and went on (a REPL), so `exit(3)` read as "killed by SIGINT"; and a trap
 * cannot tell them apart either, so a Ctrl-C at a script's `read` prompt went on with the script.
 *
 * Why the traps: any shell dies at once of a SIGHUP, SIGUSR1 or SIGUSR2 meant to make a server reload,
 * and the task with it. The traps give the bash rule to these (and, without bash, to SIGINT and
 * SIGQUIT too, the best a trap can do): after a foreground command ends, the shell dies of the signal
 * only if the command did (status 128 + its number), else it goes on with the line. SIGTERM ends the
 * line: on pipes the shell ends once its foreground command has, with its status (see ENDING); on a
 * terminal once the rest of its session has (see LINGER). Traps set to a command are reset in the
 * children, so programs get the default handling as before.
 */
import { existsSync } from "node:fs"
import { constants } from "node:os"

const BASH = ["/bin/bash", "/usr/bin/bash"].find((path) => existsSync(path))

/** The shell that runs a task's shell line. */
export const SHELL = BASH ?? "/bin/sh"

type Trapped = "INT" | "QUIT" | "HUP" | "USR1" | "USR2"

/** Numbers differ between systems (SIGUSR1 is 10 on Linux, 30 on macOS): this one's. */
const reraise = (signal: Trapped) =>
  `trap '[ $? = ${128 + constants.signals[`SIG${signal}`]} ]&&trap - ${signal}&&kill -${signal} $$' ${signal};`

const TRAPPED: ReadonlyArray<Trapped> = BASH === undefined
  ? ["INT", "QUIT", "HUP", "USR1", "USR2"]
  : ["HUP", "USR1", "USR2"]

const TERMINATED = 128 + constants.signals.SIGTERM

/** In a SIGTERM trap, once `s` holds its foreground command's status: the shell ends as that command did. */
const ENDS_AS_ITS_COMMAND = `[ $s = ${TERMINATED} ]||exit $s;kill -TERM $$`

/**
 * A stop's SIGTERM reaches the shell and its program together. Untrapped, the shell died of it at once,
 * and the task read "killed by SIGTERM" whatever its program did (a server that cleaned up and exited 0,
 * or a signal_task SIGTERM it handled, which is then `exited`): the trap runs once the foreground command
 * has ended (POSIX defers it), and the shell ends as the command did, running nothing more of the line.
 */
const ENDING = `trap 's=$?;trap - TERM;${ENDS_AS_ITS_COMMAND}' TERM;`

/** On the same line as the command, so the shell's error messages keep their line numbers. */
const PREFIX = TRAPPED.map(reraise).join("")

const FLAGS = BASH === undefined ? ["-c"] : ["--norc", "--posix", "-c"]

/**
 * On a terminal the shell leads the session: the moment it dies the kernel hangs the terminal up, and
 * every program of the line gets SIGHUP (most die of it at once, mid-way through their SIGTERM shutdown)
 * and can print no more (EIO). So there the shell does not die of a SIGTERM at once: after its
 * foreground command ends (a launcher, `npm run`, may end at once and leave its program draining), it
 * waits until no other process of its session is left, then ends as that command did (see ENDING). A stop's
 * grace still ends with SIGKILL for all. A process that ends between the look and its read is passed
 * over in silence: the shell's error went to the task's terminal, one line a process, as its output.
 */
const LINGER =
  `trap 's=$?;trap - TERM;while :;do o=;for f in /proc/[0-9]*/stat;do read -r l 2>/dev/null <"$f"||continue;` +
  `set -- \${l##*) };[ "$4" = $$ ]&&[ "$1" != Z ]&&[ "\${f#/proc/}" != "$$/stat" ]&&o=1&&break;done;` +
  `[ -z "$o" ]&&break;sleep 0.05;done;${ENDS_AS_ITS_COMMAND}' TERM;`

/** The file to exec and its arguments. */
export const argv = (
  command: string,
  args: ReadonlyArray<string> | undefined,
  terminal = false
): [string, Array<string>] =>
  args === undefined
    ? [SHELL, [...FLAGS, (terminal && process.platform === "linux" ? LINGER : ENDING) + PREFIX + command]]
    : [command, [...args]]

/**
 * The longest string `exec` takes as one argument or environment entry, in bytes with its NUL: 32 pages on
 * Linux (MAX_ARG_STRLEN; x86's pages are 4 KiB, others' may be 64 KiB); 2 MiB is past every system's
 * (macOS takes 1 MiB in all). A start past it could only fail, and was kept as a failed task holding the
 * whole of it: a 10 MB command made every list_tasks 10 MB and 11 s, and the supervisor's record 21 MB,
 * written again at each start (each took 0.9 s instead of 0.1 s).
 */
const MAX_ARG_BYTES = process.platform === "linux" && (process.arch === "x64" || process.arch === "ia32")
  ? 32 * 4096
  : 2 * 1024 * 1024

/** Whether a command, its args or an env entry of its own is longer than `exec` takes: it cannot run. */
export const overArgLimit = (
  command: string,
  args: ReadonlyArray<string> | undefined,
  env: Readonly<Record<string, string>> = {},
  terminal = false
): boolean => {
  const [file, words] = argv(command, args, terminal)
  return [file, ...words, ...Object.entries(env).map(([key, value]) => `${key}=${value}`)]
    .some((word) => word.length >= MAX_ARG_BYTES / 3 && Buffer.byteLength(word) + 1 > MAX_ARG_BYTES)
}

/** A process's command line as the task gave it: `SHELL -c LINE`, the flags and traps left out. */
export const withoutTraps = (commandLine: string): string => {
  for (const traps of [ENDING + PREFIX, LINGER + PREFIX]) {
    const start = `${SHELL} ${FLAGS.join(" ")} ${traps}`
    if (commandLine.startsWith(start)) return `${SHELL} -c ${commandLine.slice(start.length)}`
  }
  return commandLine
}
