/** Entry point: the command line for a person (ps, logs, stop, ui, …), a front to the project's supervisor, or the server. */
import { cliArgv } from "./cli/commandNames.ts"
import { frontProject } from "./daemon/frontArgs.ts"
import { unsupportedPlatform } from "./unsupportedPlatform.ts"
import { enterWorkingDirectory } from "./workingDirectory.ts"

// stderr only says what happened: a full disk (the supervisor's is a file there) or a client that closed
// the pipe must end nothing, the server and every task least of all.
process.stderr.on("error", () => {})
const unsupported = unsupportedPlatform(process.platform)
if (unsupported !== undefined) {
  process.stderr.write(`${unsupported}\n`)
  process.exit(1)
}
const argv = process.argv.slice(2)
const cwdProblem = enterWorkingDirectory(argv, process.env)
if (cwdProblem !== undefined) {
  process.stderr.write(`${cwdProblem}\n`)
  process.exit(2)
}
const command = cliArgv(argv)
// Which project a front serves is looked for (up from here) only when this is a front.
const project = command === undefined ? frontProject(argv, process.env) : undefined

if (command !== undefined) await (await import("./cli/main.ts")).runCliProcess(command)
else if (project !== undefined) await (await import("./daemon/front.ts")).runFront(project, argv)
else (await import("./Program.ts")).runProgram(argv)
