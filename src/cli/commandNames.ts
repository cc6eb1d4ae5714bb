/** The command line's commands, for the entry point to tell them from the server's options (it loads no CLI code). */
export const CLI_COMMANDS: ReadonlyArray<string> = ["ps", "logs", "stop", "restart", "start", "remove", "attach", "ui"]
