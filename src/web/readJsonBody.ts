/** A POST's body, read whole and parsed as JSON, up to MAX_BODY: past it, the rest is read and dropped. */
import type * as http from "node:http"

/** A call's body at most: send_input's 1 MiB of data, escaped in JSON (a control character takes six). */
export const MAX_BODY = 8 * 1024 * 1024

export class BodyTooLarge extends Error {}

/** The body as JSON; fails with BodyTooLarge past MAX_BODY, or an Error that says it is not JSON. */
export const readJsonBody = (request: http.IncomingMessage) =>
  new Promise<unknown>((resolve, reject) => {
    const chunks: Array<Buffer> = []
    let size = 0
    request.on("data", (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY) return void chunks.push(chunk)
      if (size - chunk.length <= MAX_BODY) {
        chunks.length = 0
        reject(new BodyTooLarge())
      }
      // The rest is read and dropped, so the client reads the 413; a body past reason ends the connection.
      if (size > 8 * MAX_BODY) request.destroy()
    })
    request.on("end", () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")))
      } catch {
        reject(new Error("the body is not JSON"))
      }
    })
    request.on("error", reject)
  })
