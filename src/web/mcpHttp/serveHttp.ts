/**
 * node:http to the transports' web-standard Request (`webRequest`) and back, for one request to /mcp:
 * its body read, its answer (late ones as an event stream kept alive), a stream passed on while the
 * client takes it.
 */
import type * as http from "node:http"
import { isObject } from "../../mcp/json.ts"
import { type Id, idOf } from "./jsonRpcError.ts"
import { lateAnswer } from "./lateAnswer.ts"
import { readJson } from "./readJson.ts"
import { KEEP_ALIVE, keepAliveMs, NO_STORE } from "./settings.ts"

/** How long a stream's client may take nothing (kernel buffers full) before it counts as not reading. */
const STALLED_AFTER_MS = 5000

/** What serving a request needs of the 2025-era session it names (LegacySessions.ts). */
export interface ServedSession {
  /** Cancels a request of the session, as its client's notifications/cancelled would. */
  readonly cancel: (id: Id) => void
  /** Its requests whose POST waits for an answer. */
  readonly pending: Set<Id>
  /** Its stream's client is not taking what it is sent. */
  readonly stream: { stalled: boolean }
}

export interface Serving {
  /** The session the request names, if it is one being served. */
  readonly session: ServedSession | undefined
  /** The answer to the request, its body read and parsed (dispatch.ts). */
  readonly respond: (request: http.IncomingMessage, body: unknown, signal: AbortSignal) => Promise<Response> | Response
  /** An event stream of no session goes out: `ended` when its response closes. */
  readonly track: (ended: Promise<void>) => void
}

/**
 * node:http to the transports' web-standard Request (`webRequest`) and back. A JSON answer
 * leaves in one write with its length (the SDK's toNodeHandler streams every body: a small answer in two
 * writes, each waking the client); a stream is passed on as it comes, as fast as the client takes it.
 */
export const serveHttp = async (
  request: http.IncomingMessage,
  response: http.ServerResponse,
  { respond, session, track }: Serving
) => {
  const abort = new AbortController()
  let finished = false
  response.once("close", () => {
    if (!finished) abort.abort()
  })
  let answer: Response
  const read = request.method === "POST" ? await readJson(request) : undefined
  if (read instanceof Response) answer = read
  else {
    const body = read?.json
    const id = idOf(body)
    let answering: Promise<Response | undefined>
    if (session !== undefined && id !== null && isObject(body) && typeof body.method === "string") {
      // A client gone before its answer (a JSON answer has nowhere else to go) cancels its request, as
      // its notifications/cancelled would: a wait ends then, not at its timeout with nobody to answer.
      const gone = new Promise<undefined>((resolve) =>
        abort.signal.addEventListener("abort", () => {
          session.cancel(id)
          resolve(undefined)
        }, { once: true })
      )
      session.pending.add(id)
      answering = Promise.race([respond(request, body, abort.signal), gone]).finally(() => session.pending.delete(id))
    } else answering = Promise.resolve(respond(request, body, abort.signal))
    const late = id !== null && String(request.headers.accept).includes("text/event-stream")
      ? lateAnswer(response, answering)
      : undefined
    const answered = await answering
    if (late !== undefined && await late.started) {
      finished = true
      return late.finish(answered)
    }
    if (answered === undefined) return
    answer = answered
  }
  const headers: Record<string, string> = { ...NO_STORE }
  for (const [name, value] of answer.headers) headers[name] = value
  if (answer.body === null || !headers["content-type"]?.startsWith("text/event-stream")) {
    const bytes = Buffer.from(await answer.arrayBuffer())
    finished = true
    response.writeHead(answer.status, { ...headers, "content-length": String(bytes.length) }).end(bytes)
    return
  }
  response.writeHead(answer.status, headers).flushHeaders()
  if (session === undefined) {
    // A 2026-07-28 exchange's stream, which farewell ends (a session's GET stream ends with the listener).
    track(new Promise<void>((resolve) => response.once("close", resolve)))
  }
  // A client that goes away ends the stream at once (its transport forgets it), not at its next event.
  const reader = answer.body.getReader()
  const stop = () => void reader.cancel().catch(() => {})
  abort.signal.addEventListener("abort", stop, { once: true })
  const gone = new Promise<void>((resolve) => abort.signal.addEventListener("abort", () => resolve(), { once: true }))
  // Between two events (the transport writes each whole): a quiet stream is not one a client drops.
  const keepAlive = setInterval(() => response.write(KEEP_ALIVE), keepAliveMs())
  try {
    for (;;) {
      const { done, value } = await reader.read()
      if (done || abort.signal.aborted) break
      if (!response.write(value)) {
        // A client that takes nothing for a while is not reading: its session's news is dropped (it
        // would pile up in the SDK's queue) until it takes what waits.
        const stalled = session === undefined
          ? undefined
          : setTimeout(() => (session.stream.stalled = true), STALLED_AFTER_MS)
        await Promise.race([new Promise((resolve) => response.once("drain", resolve)), gone])
        clearTimeout(stalled)
        if (session !== undefined) session.stream.stalled = false
      }
    }
  } catch {
    // The stream failed (its transport closed): the client's stream ends here.
  } finally {
    clearInterval(keepAlive)
    abort.signal.removeEventListener("abort", stop)
  }
  finished = true
  response.end()
}
