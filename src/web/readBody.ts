/** A request's body, read whole up to a limit; past it, read and dropped, so the client reads the refusal. */
import type * as http from "node:http"

/** How far past its limit a body is drained before the connection is ended: past reason, nobody reads. */
const DRAIN_FACTOR = 8

/**
 * The body whole, or "too large" as soon as it passes `max` bytes (what arrives after is read and dropped,
 * then the connection destroyed past `DRAIN_FACTOR` times the limit). Events, not `for await`: a small
 * body in one tick.
 */
export const readBody = (request: http.IncomingMessage, max: number) =>
  new Promise<Buffer | "too large">((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    request.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= max) return void chunks.push(chunk)
      if (size - chunk.length <= max) {
        chunks.length = 0
        resolve("too large")
      }
      if (size > DRAIN_FACTOR * max) request.destroy()
    })
    request.once("end", () => {
      if (size <= max) resolve(Buffer.concat(chunks, size))
    })
    request.once("error", reject)
  })
