import { Command, Flag } from "effect/cli"
import { callAbout, json, project, taskName } from "../withClient.ts"

/** remove_task: a finished task out of the list (a running one stopped first), its log kept unless asked. */
export const removeCommand = Command.make(
  "remove",
  {
    project,
    json,
    name: taskName,
    deleteLog: Flag.Boolean("delete-log").pipe(
      Flag.withDescription("Delete its log files too"),
      Flag.withDefault(false)
    )
  },
  (input) => callAbout(input, "remove", "remove_task", input.deleteLog ? { deleteLog: true } : {}, true)
).pipe(Command.withDescription("Take a task out of the list, stopping it first if it runs (its log file stays)"))
