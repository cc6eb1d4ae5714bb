/**
 * How a task's command reaches `exec`: a program with `args` as it is, a shell line through
 * `/bin/sh -c`, with traps that make the shell end as its program did.
 *
 * Why the traps: a Ctrl-C typed on a terminal (or SIGINT sent to the group) reaches the shell as well
 * as its program. dash, /bin/sh on Debian and Ubuntu, then kills itself with that signal once the
 * program exits, even when the program handled it and went on (a REPL), so `exit(3)` read as "killed
 * by SIGINT". bash instead waits to see whether its child died of the signal; these traps give any
 * /bin/sh that rule: after a foreground command ends, the shell dies of SIGINT (SIGQUIT) only if the
 * command did (status 130, 131), else it goes on with the line. Traps set to a command are reset in
 * the children, so programs get the default handling as before.
 */

export const SHELL = "/bin/sh"

const reraise = (signal: "INT" | "QUIT", status: number) =>
  `trap '[ $? = ${status} ]&&trap - ${signal}&&kill -${signal} $$' ${signal};`

/** On the same line as the command, so the shell's error messages keep their line numbers. */
const PREFIX = `${reraise("INT", 130)}${reraise("QUIT", 131)}`

/** The file to exec and its arguments. */
export const argv = (command: string, args: ReadonlyArray<string> | undefined): [string, Array<string>] =>
  args === undefined ? [SHELL, ["-c", PREFIX + command]] : [command, [...args]]

/** A process's command line as the task gave it: the traps left out. */
export const withoutTraps = (commandLine: string): string =>
  commandLine.startsWith(`${SHELL} -c ${PREFIX}`)
    ? `${SHELL} -c ${commandLine.slice(SHELL.length + 4 + PREFIX.length)}`
    : commandLine
