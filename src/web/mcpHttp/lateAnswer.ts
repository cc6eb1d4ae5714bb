/** An answer that takes long, sent as an event stream kept alive (settings.ts's keepAliveMs says why). */
import type * as http from "node:http"
import { KEEP_ALIVE, keepAliveMs, NO_STORE } from "./settings.ts"

/**
 * A request's answer not come within keepAliveMs: its response turns into an event stream (the client
 * said it takes one), kept alive by comments until the answer goes out as its one event.
 */
export const lateAnswer = (response: http.ServerResponse, answering: Promise<unknown>) => {
  let keepAlive: ReturnType<typeof setInterval> | undefined
  // Whether the stream began; the comments stop once the answer is in, however it came (or failed).
  const started = new Promise<boolean>((resolve) => {
    const begin = setTimeout(() => {
      response.writeHead(200, { ...NO_STORE, "content-type": "text/event-stream", "cache-control": "no-cache" })
      response.write(KEEP_ALIVE)
      keepAlive = setInterval(() => response.write(KEEP_ALIVE), keepAliveMs())
      resolve(true)
    }, keepAliveMs())
    const settled = () => {
      clearTimeout(begin)
      clearInterval(keepAlive)
      resolve(false)
    }
    answering.then(settled, settled)
  })
  return {
    started,
    finish: async (answer: Response | undefined) => {
      const text = answer === undefined ? "" : (await answer.text()).trim()
      // An event stream's own events as they are; else one message (an answer, or the error of a
      // session that ended under it), each of its lines a data line.
      response.end(
        text === ""
          ? undefined
          : answer?.headers.get("content-type")?.startsWith("text/event-stream")
          ? `${text}\n\n`
          : `event: message\n${text.split("\n").map((line) => `data: ${line}`).join("\n")}\n\n`
      )
    }
  }
}
