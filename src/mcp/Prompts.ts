/**
 * Prompts a client can offer its user: `run-dev-server` spells out the flow a model
 * should follow with taskmux (start and wait in one call, read only what is new, stop).
 */
import { compilePattern } from "../domain/pattern.ts"
import { isObject, type McpSession, quoteValue, stringParam } from "./McpSession.ts"
import { invalidParams } from "./protocolError.ts"

const runDevServer = {
  name: "run-dev-server",
  title: "Run a dev server",
  description: "Start a dev server in the background, wait until it is ready, then watch its output.",
  arguments: [
    { name: "command", description: "The command that starts it, e.g. \"npm run dev\".", required: true },
    { name: "ready", description: "A regex for its ready line, e.g. \"ready|listening|Local:\".", required: false },
    { name: "cwd", description: "The project directory.", required: false }
  ]
}

const text = (args: Record<string, string>) => {
  const ready = args.ready ?? "ready|listening|Local:"
  const start = JSON.stringify({
    command: args.command,
    name: "dev",
    ...(args.cwd ? { cwd: args.cwd } : {}),
    waitFor: { pattern: ready, timeoutMs: 60000 }
  })
  return [
    `Run the dev server with taskmux and keep it running while we work:`,
    `1. Call start_task with ${start}. It answers once a line matches "${ready}", or says why not (it ended, or timed out) with its last lines.`,
    `2. If it did not become ready, its answer's errorLines and lastLines say why; read_output { "name": "dev", "tail": 50 } shows more. Fix the cause before retrying.`,
    `3. Later, to see what happened since, call read_output { "name": "dev", "since": <nextCursor of the last answer> }; use grep to find errors.`,
    `4. To wait for a rebuild or a log line, call wait_for_task { "name": "dev", "pattern": "..." } instead of polling.`,
    `5. When done, stop_task { "name": "dev" } ends the server and every process it started.`
  ].join("\n")
}

export const registerPrompts = (session: McpSession) => {
  session.handle("prompts/list", () => ({ prompts: [runDevServer] }))
  session.handle("prompts/get", (params) => {
    const name = stringParam("prompts/get", params, "name", runDevServer.name)
    if (name !== runDevServer.name) {
      throw invalidParams(`Unknown prompt ${JSON.stringify(name)}. Available prompts: ${runDevServer.name}.`)
    }
    const args = params?.arguments ?? {}
    if (!isObject(args)) {
      throw invalidParams(
        `Invalid params for prompts/get: params.arguments must be an object of strings such as {"command": "npm run dev"}, got ${
          quoteValue(args)
        }.`
      )
    }
    const bad = Object.entries(args).find(([, value]) => typeof value !== "string")
    if (bad !== undefined) {
      throw invalidParams(
        `Invalid params for prompts/get: params.arguments.${bad[0]} must be a string, got ${quoteValue(bad[1])}.`
      )
    }
    // Every value was just checked to be a string.
    const strings = args as Record<string, string>
    if (!strings.command) {
      throw invalidParams(`Prompt run-dev-server needs a command argument, e.g. "npm run dev".`)
    }
    // A ready pattern start_task would refuse would send the model into a call that fails.
    if (strings.ready !== undefined) {
      try {
        compilePattern(strings.ready)
      } catch (error) {
        throw invalidParams(
          `Invalid params for prompts/get: params.arguments.ready is not a regex (${
            (error as Error).message
          }): give one such as "ready|listening|Local:".`
        )
      }
    }
    return {
      description: runDevServer.description,
      messages: [{ role: "user", content: { type: "text", text: text(strings) } }]
    }
  })
}
