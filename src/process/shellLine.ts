/**
 * How a task's command reaches `exec`: a program with `args` as it is, a shell line through
 * `/bin/sh -c`, with traps that make the shell end as its program did.
 *
 * Why the traps: a signal sent to the task (its whole group) or typed on its terminal reaches the shell
 * as well as its program, and dash, /bin/sh on Debian and Ubuntu, forks its commands rather than exec
 * them. Untrapped, a SIGHUP or SIGUSR1 meant to make a server reload killed the shell, and with it the
 * task; and dash killed itself with a Ctrl-C's SIGINT once its program exited, even when the program
 * handled it and went on (a REPL), so `exit(3)` read as "killed by SIGINT". bash waits to see whether
 * its child died of SIGINT; these traps give any /bin/sh that rule for SIGINT, SIGQUIT, SIGHUP, SIGUSR1
 * and SIGUSR2: after a foreground command ends, the shell dies of the signal only if the command did
 * (status 128 + its number), else it goes on with the line. SIGTERM is left alone: the shell ends at
 * once, as a stop wants, and does not print "Terminated" for its command into the task's output. Traps
 * set to a command are reset in the children, so programs get the default handling as before.
 */
import { constants } from "node:os"

export const SHELL = "/bin/sh"

type Trapped = "INT" | "QUIT" | "HUP" | "USR1" | "USR2"

/** Numbers differ between systems (SIGUSR1 is 10 on Linux, 30 on macOS): this one's. */
const reraise = (signal: Trapped) =>
  `trap '[ $? = ${128 + constants.signals[`SIG${signal}`]} ]&&trap - ${signal}&&kill -${signal} $$' ${signal};`

/** On the same line as the command, so the shell's error messages keep their line numbers. */
const PREFIX = (["INT", "QUIT", "HUP", "USR1", "USR2"] as const).map(reraise).join("")

/** The file to exec and its arguments. */
export const argv = (command: string, args: ReadonlyArray<string> | undefined): [string, Array<string>] =>
  args === undefined ? [SHELL, ["-c", PREFIX + command]] : [command, [...args]]

/** A process's command line as the task gave it: the traps left out. */
export const withoutTraps = (commandLine: string): string =>
  commandLine.startsWith(`${SHELL} -c ${PREFIX}`)
    ? `${SHELL} -c ${commandLine.slice(SHELL.length + 4 + PREFIX.length)}`
    : commandLine
