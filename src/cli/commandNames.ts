/** The command line's commands, for the entry point to tell them from the server's options (it loads no CLI code). */
export const CLI_COMMANDS: ReadonlyArray<string> = [
  "ps",
  "logs",
  "stop",
  "restart",
  "start",
  "remove",
  "wait",
  "attach",
  "ui"
]

const commands = new Set(CLI_COMMANDS)

/**
 * A person's command line, command first; undefined when it is none (the server's options). `taskmux
 * --project DIR ps` is `taskmux ps --project DIR`: the shared option may come first too.
 */
export const cliArgv = (argv: ReadonlyArray<string>): ReadonlyArray<string> | undefined =>
  // `taskmux help` is the commands' help (`taskmux --help` is the server's); `taskmux help ps`, ps's.
  argv[0] === "help" && argv.length <= 2
    ? [...argv.slice(1), "--help"]
    : commands.has(argv[0] ?? "")
    ? argv
    : argv[0] === "--project" && commands.has(argv[2] ?? "")
    ? [argv[2]!, ...argv.slice(0, 2), ...argv.slice(3)]
    : argv[0]?.startsWith("--project=") === true && commands.has(argv[1] ?? "")
    ? [argv[1]!, argv[0], ...argv.slice(2)]
    : undefined
