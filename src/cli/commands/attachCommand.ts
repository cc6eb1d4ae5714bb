/** `taskmux attach NAME`: this terminal becomes a terminal task's (see attach.ts). */
import { Command } from "effect/cli"
import { attach } from "../attach.ts"
import { project, taskName, withClient } from "../withClient.ts"

export const attachCommand = Command.make(
  "attach",
  { project, name: taskName },
  (input) =>
    withClient(
      input.project,
      { start: false, what: `no task to attach to named "${input.name}"` },
      (client) => attach(client, input.name)
    )
).pipe(
  Command.withDescription(
    "Use a terminal task (terminal: true) from this terminal; Ctrl-] detaches, the task keeps running"
  )
)
