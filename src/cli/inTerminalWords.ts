/**
 * A tool's answer or error as the person at a terminal reads it: the advice names the commands they
 * would type (`taskmux stop web`), not the tools a model would call (stop_task).
 */
export const inTerminalWords = (message: string, name: string): string => {
  const task = name === "" ? "NAME" : /^[\w.@:+-]+$/.test(name) ? name : JSON.stringify(name)
  return message
    // A flag's value refused, by the name the person typed (--grace-ms, not graceMs).
    .replace(
      /^Invalid arguments for \w+: (graceMs|signal|deleteLog)\b/,
      (_, field: string) => `--${field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`
    )
    // A name refused by a tool the command called on the way (logs reads with read_output): the name's fault.
    .replace(
      /^Invalid arguments for (?:read_output|get_task|wait_for_task|send_input|list_tasks): name: /,
      "The name: "
    )
    // The CLI starts project tasks by name only: no command to pass, no other name to choose.
    .replace(
      /\bstart_task needs a command, or the name of a project task: /g,
      "`taskmux start` starts a project task: "
    )
    .replace(
      /\bstart_task needs a command: ("[^"]*") is not a project task/g,
      "`taskmux start` starts a project task: $1 is not one"
    )
    .replace(/, or pass a command\./g, ".")
    .replace(/; start_task with a command runs a new task under that name\./g, ".")
    .replace(/,? or (choose )?another name\./g, ".")
    .replace(
      /\bwait_for_task \{[^}]*\} waits for its end \(or for a line: pattern\)/g,
      `\`taskmux logs ${task} -f\` follows it`
    )
    .replace(/\bwait_for_task \{[^}]*\} waits for this run to be\./g, `\`taskmux logs ${task} -f\` follows it.`)
    // What only a tool can do, and the flags a person types for the others.
    .replace(/: send_input \{ eof: true \} closes it\./g, ".")
    .replace(/\(dependents: true stops them first\)/g, "(--dependents stops them first)")
    .replace(/\ba PATH in start_task's env \(or the project file's\)/g, "a PATH in the project file's env")
    .replace(
      /\b(start|stop|restart|remove)_task \{ name(: "(?:[^"\\]|\\.)*")? \}/g,
      (_, command) => `\`taskmux ${command} ${task}\``
    )
    .replace(/\b(start|stop|restart|remove)_task\b/g, (_, command) => `\`taskmux ${command} ${task}\``)
    .replace(/\blist_tasks\b/g, "`taskmux ps`")
    .replace(/\bread_output shows what it printed\b/g, `\`taskmux logs ${task}\` shows what it printed`)
    // Where a model's next read would start: a person's next command (logs) finds its own.
    .replace(/\n?\[nextCursor \d+\]/g, "")
}
