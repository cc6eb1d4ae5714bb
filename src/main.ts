/** Entry point: the command line for a person (ps, logs, stop, ui, …), a front to the project's supervisor, or the server. */
import { cliArgv } from "./cli/commandNames.ts"
import { frontProject } from "./daemon/frontArgs.ts"
import { enterWorkingDirectory } from "./workingDirectory.ts"

const argv = process.argv.slice(2)
const cwdProblem = enterWorkingDirectory(argv, process.env)
if (cwdProblem !== undefined) {
  process.stderr.write(`${cwdProblem}\n`)
  process.exit(2)
}
const project = frontProject(argv, process.env)
const command = cliArgv(argv)

if (command !== undefined) process.exitCode = await (await import("./cli/main.ts")).runCli(command)
else if (project !== undefined) await (await import("./daemon/front.ts")).runFront(project, argv)
else (await import("./Program.ts")).runProgram(argv)
