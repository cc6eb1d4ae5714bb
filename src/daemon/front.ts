/**
 * The front: what an MCP client starts. It connects to the project's supervisor (starting one when none
 * runs) and passes MCP's lines both ways, untouched. It holds no task and loads no task code; it only
 * remembers which requests are unanswered, so that if the supervisor dies mid-call each gets an error
 * that says so instead of silence.
 */
import { banner } from "../mcp/banner.ts"
import { connectOrStart } from "./connect.ts"
import { otherProtocol, type Welcome, WIRE_PROTOCOL } from "./hello.ts"
import { type RuntimePaths, runtimePaths } from "./runtimePaths.ts"
import { UsageError } from "./UsageError.ts"

type FrontEnd =
  /** The client went away (0), or the supervisor did (1). */
  | { readonly _tag: "Done"; readonly code: number }
  /** The supervisor speaks another protocol and is busy: serve this session in-process, saying why. */
  | { readonly _tag: "Isolated"; readonly note: string }

/**
 * Serves the client through the project's supervisor. Its options are checked by the supervisor (a
 * new one as it starts, a running one on hello), so the front loads no parser; one line on stderr says
 * what is wrong.
 */
export const runFront = async (project: string, argv: ReadonlyArray<string>): Promise<void> => {
  if (process.stdin.isTTY) process.stderr.write(banner())
  let end: FrontEnd
  try {
    end = await pipeThrough(runtimePaths(project), argv)
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`taskmux: ${error.message}\n`)
      process.exit(2)
    }
    // No supervisor to be had (its directory is another user's, the disk is full): the client is served
    // all the same, alone, rather than left with no tools at all.
    end = {
      _tag: "Isolated",
      // A supervisor may be there (stopped, stuck): its tasks are not this session's to see, nor their names.
      note: `The project's supervisor cannot serve this session (${project}): ${(error as Error).message}. ` +
        "This session runs on its own: it sees no task a supervisor runs, and its own tasks end with it."
    }
  }
  if (end._tag === "Done") process.exit(end.code)
  process.stderr.write(`taskmux: ${end.note}\n`)
  ;(await import("../Program.ts")).runProgram(argv, end.note)
}

/** How an answer line starts (taskmux writes its keys in this order): enough to read its id. */
const ANSWER_ID = /^\{"jsonrpc":"2\.0","id":(-?\d+|"(?:[^"\\]|\\.)*")/

const pipeThrough = async (paths: RuntimePaths, supervisorArgs: ReadonlyArray<string>): Promise<FrontEnd> => {
  const { rest, socket, welcome } = await connectOrStart(paths, "front", supervisorArgs)
  if (welcome.refused !== undefined) {
    socket.destroy()
    throw new UsageError(welcome.refused)
  }
  if (welcome.protocol !== WIRE_PROTOCOL) {
    socket.destroy()
    return { _tag: "Isolated", note: mismatch(paths, welcome) }
  }
  if (welcome.notice !== undefined) process.stderr.write(`taskmux: ${welcome.notice}\n`)
  const pending = new Map<string, string | number>()
  const stdin = process.stdin
  const stdout = process.stdout

  const fromClient = lines(Infinity, (line) => {
    const cancelled = line.includes("notifications/cancelled")
    if (!line.includes("\"method\"") || !cancelled && !line.includes("\"id\"")) return
    try {
      const message = JSON.parse(line) as { id?: unknown; method?: unknown; params?: { requestId?: unknown } }
      if (typeof message.method === "string" && (typeof message.id === "string" || typeof message.id === "number")) {
        pending.set(JSON.stringify(message.id), message.id)
      }
      // A call the client gave up on gets no answer (the supervisor sends none either).
      if (message.method === "notifications/cancelled") pending.delete(JSON.stringify(message.params?.requestId))
    } catch {
      // The supervisor answers a line that is not JSON; the front only passes it on.
    }
  })
  const fromSupervisor = lines(200, (line) => {
    const id = ANSWER_ID.exec(line)?.[1]
    if (id !== undefined) pending.delete(id)
  })

  return new Promise((resolve) => {
    let clientGone = false
    stdin.on("data", (chunk: Buffer) => {
      fromClient(chunk)
      if (!socket.write(chunk)) {
        stdin.pause()
        socket.once("drain", () => stdin.resume())
      }
    })
    const onClientEnd = () => {
      if (clientGone) return
      clientGone = true
      socket.end()
    }
    stdin.once("end", onClientEnd).once("close", onClientEnd)
    stdout.on("error", () => {
      onClientEnd()
      socket.destroy()
    })
    for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      process.once(signal, () => {
        onClientEnd()
        socket.destroy()
        resolve({ _tag: "Done", code: 0 })
      })
    }

    // Whether the last line passed on is still open: the supervisor died writing it.
    let midLine = false
    const onSupervisorData = (chunk: Buffer) => {
      fromSupervisor(chunk)
      if (chunk.length > 0) midLine = chunk[chunk.length - 1] !== 0x0a
      if (!stdout.write(chunk)) {
        socket.pause()
        stdout.once("drain", () => socket.resume())
      }
    }
    if (rest.length > 0) onSupervisorData(rest)
    socket.on("data", onSupervisorData)
    socket.on("error", () => {})
    socket.once("close", () => {
      if (clientGone) return resolve({ _tag: "Done", code: 0 })
      // The supervisor went away under a live client: every open call gets a sentence, then the client
      // sees this server end, and its next connection starts a new supervisor.
      const message = `The taskmux supervisor for ${paths.project} (pid ${welcome.pid}) ended while this call ` +
        "ran, and its tasks with it. Reconnect (restart the MCP server in your client) to start a new one; " +
        "if it was killed, list_tasks there shows what ran as lost."
      // Its half line ends here (the client drops it), so that every open call's sentence is a line of its own:
      // the cut answer's own call first among them.
      if (midLine) stdout.write("\n")
      for (const id of pending.values()) {
        stdout.write(`${JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32603, message } })}\n`)
      }
      process.stderr.write(`taskmux: the supervisor (pid ${welcome.pid}) ended; see ${paths.log}\n`)
      stdout.write("", () => resolve({ _tag: "Done", code: 1 }))
    })
    socket.resume()
  })
}

const mismatch = (paths: RuntimePaths, welcome: Welcome) =>
  otherProtocol(
    paths.project,
    welcome,
    "so this session runs on its own and its tasks end with it (as every session does while that one runs)."
  )

/** Calls `onLine` with each line's text, or its first `maxBytes` (and a few more). */
const lines = (maxBytes: number, onLine: (line: string) => void) => {
  let carry: Array<Buffer> = []
  let carried = 0
  return (chunk: Buffer) => {
    let start = 0
    for (let end = chunk.indexOf(0x0a); end !== -1; end = chunk.indexOf(0x0a, start)) {
      const part = chunk.subarray(start, end)
      onLine((carried > 0 ? Buffer.concat([...carry, part]) : part).toString("utf8"))
      carry = []
      carried = 0
      start = end + 1
    }
    if (start < chunk.length && carried < maxBytes) {
      const part = chunk.subarray(start, Math.min(chunk.length, start + maxBytes - carried))
      carry.push(Buffer.from(part))
      carried += part.length
    }
  }
}
