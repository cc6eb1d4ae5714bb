/**
 * The CLI's session with a project's supervisor: connect (or start one), MCP's initialize, then tool
 * calls as Effects. A tool's error answer fails with its text, which already names what would be right
 * (an unknown task's answer lists the known ones).
 */
import { Effect, type Scope } from "effect"
import packageJson from "../../package.json" with { type: "json" }
import { connectIfRunning, connectOrStart } from "../daemon/connect.ts"
import { otherProtocol, WIRE_PROTOCOL } from "../daemon/hello.ts"
import { runtimePaths } from "../daemon/runtimePaths.ts"
import { UsageError } from "../daemon/UsageError.ts"
import { ERROR_META, LOG_FILE_META } from "../mcp/errorMeta.ts"
import { CliFailure } from "./CliFailure.ts"
import { inTerminalWords } from "./inTerminalWords.ts"
import { ConnectionClosed, type JsonRpcClient, makeJsonRpcClient, RpcError } from "./JsonRpcClient.ts"

export interface ToolAnswer<A> {
  readonly text: string
  readonly structured: A
}

export interface TaskmuxClient {
  /** The project's real path. */
  readonly project: string
  /** The supervisor as it greeted this client: its pid, and the sessions it served then (this one not counted). */
  readonly supervisor: {
    readonly pid: number
    /** Its taskmux version: another install's, where the first client to start it was another's. */
    readonly version: string
    readonly sessions: number
    readonly viewers: number
    /** What the supervisor says of itself to this caller (a build since replaced on disk). */
    readonly notice?: string
    /** It answers a terminal task's cursor queries (see Welcome.answersCursor). */
    readonly answersCursor: boolean
    /** And the other queries a terminal answers (see Welcome.answersQueries). */
    readonly answersQueries: boolean
  }
  /** A tool call; `onProgress` hears its progress notifications' messages (a chain's waits). */
  readonly call: <A>(
    tool: string,
    args?: Record<string, unknown>,
    onProgress?: (message: string) => void
  ) => Effect.Effect<ToolAnswer<A>, CliFailure>
  /** A request of the supervisor's own (`taskmux/ui`), its result as it came. */
  readonly request: (method: string, params: Record<string, unknown>) => Effect.Effect<unknown, CliFailure>
  /** Calls `onUpdated` on each `notifications/resources/updated` for `uri` (at most 4 a second). */
  readonly subscribe: (uri: string, onUpdated: () => void) => Effect.Effect<void, CliFailure>
}

/** MCP's protocol revision the CLI speaks. */
const PROTOCOL_VERSION = "2025-11-25"

export const outputUri = (name: string) => `task://${encodeURIComponent(name)}/output`

/**
 * The project's real path, or a failure naming the directory: a usage failure for a --project that is no
 * directory, a plain one for a runtime directory that cannot be had (read-only, another user's).
 */
export const projectPaths = (project: string) =>
  Effect.try({
    // A directory deleted under its supervisor's tasks is still theirs to see and stop.
    try: () => runtimePaths(project, process.env, { gone: true }),
    catch: (error) =>
      error instanceof UsageError ? CliFailure.usage(error.message) : CliFailure.failed((error as Error).message)
  })

/**
 * A session with the project's supervisor for the life of the scope; undefined when none runs and
 * `start` is false (never start one just to look).
 */
export const connectClient = (
  project: string,
  start: boolean
): Effect.Effect<TaskmuxClient | undefined, CliFailure, Scope.Scope> =>
  Effect.gen(function*() {
    const paths = yield* projectPaths(project)
    const connection = yield* Effect.tryPromise({
      try: () => start ? connectOrStart(paths, "cli", []) : connectIfRunning(paths, "cli"),
      catch: (error) => CliFailure.failed((error as Error).message)
    })
    // One of another build with nothing to do makes way (it ends): as good as none running.
    if (connection === undefined || connection.welcome.replacing === true) {
      connection?.socket.destroy()
      return undefined
    }
    // A TASKMUX_* variable of the person's that the supervisor cannot read: said as the server would.
    if (connection.welcome.refused !== undefined) {
      connection.socket.destroy()
      return yield* CliFailure.usage(`taskmux: ${connection.welcome.refused}`)
    }
    // One of another protocol with work to do (an upgrade under it): it would not understand a word.
    if (connection.welcome.protocol !== WIRE_PROTOCOL) {
      connection.socket.destroy()
      return yield* CliFailure.failed(
        otherProtocol(
          paths.project,
          connection.welcome,
          "and cannot see or stop its tasks: that version's taskmux can."
        )
      )
    }
    const listeners = new Map<string, Set<() => void>>()
    const progressListeners = new Map<string, (message: string) => void>()
    let nextToken = 1
    const rpc = yield* Effect.acquireRelease(
      Effect.sync(() =>
        makeJsonRpcClient(connection.socket, connection.rest, (method, params) => {
          const { message, progressToken, uri } = (params ?? {}) as Record<string, unknown>
          if (method === "notifications/progress" && typeof message === "string") {
            progressListeners.get(String(progressToken))?.(message)
          }
          if (method !== "notifications/resources/updated" || typeof uri !== "string") return
          for (const listener of listeners.get(uri) ?? []) listener()
        })
      ),
      (rpc) => Effect.promise(() => (rpc.close(), rpc.closed))
    )
    yield* request(rpc, "initialize", {
      protocolVersion: PROTOCOL_VERSION,
      capabilities: {},
      clientInfo: { name: "taskmux-cli", version: packageJson.version }
    })
    rpc.notify("notifications/initialized")
    return {
      project: paths.project,
      supervisor: {
        pid: connection.welcome.pid,
        version: connection.welcome.taskmux,
        sessions: connection.welcome.sessions,
        viewers: connection.welcome.viewers ?? 0,
        answersCursor: connection.welcome.answersCursor === true,
        answersQueries: connection.welcome.answersQueries === true,
        ...(connection.welcome.stale !== undefined && { notice: connection.welcome.stale })
      },
      call: <A>(tool: string, args: Record<string, unknown> = {}, onProgress?: (message: string) => void) =>
        Effect.flatMap(
          Effect.suspend(() => {
            const progressToken = onProgress === undefined ? undefined : `cli-${nextToken++}`
            if (progressToken !== undefined) progressListeners.set(progressToken, onProgress!)
            const params = {
              name: tool,
              arguments: args,
              ...(progressToken !== undefined && { _meta: { progressToken } })
            }
            return request(rpc, "tools/call", params, tool, paths.project).pipe(
              Effect.ensuring(Effect.sync(() => progressToken !== undefined && progressListeners.delete(progressToken)))
            )
          }),
          (result) => {
            const answer = result as {
              content?: ReadonlyArray<{ type: string; text?: string }>
              structuredContent?: A
              isError?: boolean
              _meta?: Record<string, unknown>
            }
            const text = (answer.content ?? []).map((c) => c.type === "text" ? c.text ?? "" : "").join("\n")
            const tag = answer._meta?.[ERROR_META]
            const logFile = answer._meta?.[LOG_FILE_META]
            // A value the command line passed on that the tool refused (--signal FOO) is a usage error.
            return answer.isError === true
              ? Effect.fail(
                tag === "InvalidArguments" || tag === undefined && text.startsWith("Invalid arguments for ")
                  ? CliFailure.usage(inTerminalWords(text, typeof args.name === "string" ? args.name : ""))
                  : CliFailure.fromTool(text, args.name, {
                    ...(typeof tag === "string" && { tag }),
                    ...(typeof logFile === "string" && { logFile })
                  })
              )
              : Effect.succeed({ text, structured: answer.structuredContent ?? ({} as A) })
          }
        ),
      request: (method, params) => request(rpc, method, params),
      subscribe: (uri, onUpdated) =>
        Effect.suspend(() => {
          const set = listeners.get(uri) ?? new Set()
          listeners.set(uri, set.add(onUpdated))
          return Effect.asVoid(request(rpc, "resources/subscribe", { uri }))
        })
    }
  })

/**
 * A request as an Effect: interrupting it sends MCP's cancellation, so the supervisor stops waiting too.
 * A connection that closes under it is the supervisor's end (it was killed, or crashed): said so, with
 * what became of the tasks, not as the tool the command happened to be calling.
 */
const request = (rpc: JsonRpcClient, method: string, params: object, what = method, project = "") =>
  Effect.tryPromise({
    try: (signal) => rpc.request(method, params, signal),
    catch: (error) =>
      error instanceof ConnectionClosed
        ? CliFailure.failed(
          `The taskmux supervisor${project === "" ? "" : ` for ${project}`} ended while this ran, and its ` +
            "tasks with it (kept ones too). taskmux ps shows what it lost; taskmux start or restart runs them again."
        )
        : CliFailure.failed(`${what}: ${error instanceof RpcError ? error.message : String(error)}`)
  })
