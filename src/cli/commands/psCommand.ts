/** `taskmux ps`: the project's tasks as a table (or JSON), and what the last supervisor left where none runs. */
import { Effect } from "effect"
import { Command } from "effect/cli"
import packageJson from "../../../package.json" with { type: "json" }
import { lostListed } from "../../daemon/lostRecord.ts"
import { jsonEscapingControls } from "../../domain/escapeControls.ts"
import { definedListed } from "../../project/definedListed.ts"
import { readProject } from "../../project/Project.ts"
import { type ListAnswer } from "../answers.ts"
import { CliIo } from "../CliIo.ts"
import { noSupervisorText, psTable } from "../psTable.ts"
import { style } from "../style.ts"
import { json, project, withClient } from "../withClient.ts"

/** Defined tasks named where none runs: a file of 200 tasks is not one line of 1,600 characters. */
const SHOWN_NAMES = 20

/** The first `max` names, and how many more (`--json` lists them all). */
const namesUpTo = (names: ReadonlyArray<string>, max: number) =>
  names.length <= max ? names.join(", ") : `${names.slice(0, max).join(", ")} and ${names.length - max} more`

export const psCommand = Command.make("ps", { project, json }, (input) =>
  withClient(input.project, {
    start: false,
    what: "",
    idle: (real, lost) =>
      Effect.gen(function*() {
        const io = yield* CliIo
        // What the last one left, and what the file defines, as list_tasks will show them once one runs;
        // a broken file is said now, not at the first start.
        const project = yield* Effect.promise(() => readProject(real))
        const left = new Set(lost.map((task) => task.name))
        const defined = [...project.file?.tasks.values() ?? []].filter((task) => !left.has(task.name))
        const message = noSupervisorText(real, lost) +
          (defined.length === 0 ?
            "" :
            `Its project file defines: ${
              namesUpTo(defined.map((task) => task.name), SHOWN_NAMES)
            } (taskmux start NAME starts one, after what it needs).\n`)
        const error = project.error === undefined ? "" : `No project tasks: ${project.error.message}\n`
        if (input.json) {
          const listed = [...lost.map(lostListed), ...defined.map(definedListed)]
          io.stdout(`${jsonEscapingControls(listed, 2)}\n`)
          io.stderr(message + error)
        } else {
          io.stdout(message)
          io.stderr(error)
        }
      })
  }, (client) =>
    Effect.gen(function*() {
      const io = yield* CliIo
      const { structured } = yield* client.call<ListAnswer>("list_tasks")
      // A broken project file is said on stderr either way: the JSON stays the list scripts read.
      const projectError = () => {
        if (structured.projectError !== undefined) io.stderr(`No project tasks: ${structured.projectError}\n`)
      }
      if (input.json) {
        projectError()
        return io.stdout(`${jsonEscapingControls(structured.tasks, 2)}\n`)
      }
      io.stdout(
        structured.tasks.length === 0
          ? `No tasks in ${client.project}.\n`
          : psTable(structured.tasks, { style: style(io.colour), columns: io.columns, now: Date.now() })
      )
      projectError()
      const { pid, sessions, version, viewers } = client.supervisor
      // Another install's (the first client to start it chose): which taskmux serves is worth a word.
      const other = version === packageJson.version ? "" : ` (taskmux ${version})`
      // What keeps it: a page open, or a client over HTTP (which ends 10 minutes after its last request).
      // Sessions counts the stdio ones only: "0 other sessions" beside a row owned by an HTTP client read wrong.
      const others = `${sessions} other ${viewers > 0 ? "stdio " : ""}session${sessions === 1 ? "" : "s"}`
      const web = viewers > 0 ? ", the page or MCP over HTTP open" : ""
      // A person's footer: in a pipe (`ps | awk 'NR>1 {print $1}'`) it would read as a row.
      const footer = `${client.project}: supervisor pid ${pid}${other}, ${others}${web}`
      if (io.terminal) io.stdout(`${style(io.colour).dim(footer)}\n`)
      else io.stderr(`${style(io.colourErr).dim(footer)}\n`)
    }))).pipe(
    Command.withDescription("List the project's tasks: status, pid, owner, uptime, ports, memory, command")
  )
