/** A project task not yet run, as lists show it: apart, so that the CLI lists one without the task registry. */
import { commandLine } from "../supervisor/startPolicy.ts"
import type { ProjectTask } from "./ProjectFile.ts"
import type { ListedTask } from "./projectTasks.ts"

/** A project task that has not run, as list_tasks (and `taskmux ps` where no supervisor runs) shows it. */
export const definedListed = (def: ProjectTask): ListedTask => ({
  name: def.name,
  pid: null,
  status: "defined",
  exitCode: null,
  signal: null,
  command: commandLine(def.command, def.args ?? null),
  startedAt: null,
  endedAt: null,
  ports: null,
  memoryBytes: null
})
