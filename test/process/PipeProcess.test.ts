/** Reading a child's pipes into the one shared read buffer, and the plain stream where the handle is not there. */
import { spawn } from "node:child_process"
import { PassThrough } from "node:stream"
import { describe, expect, it } from "vitest"
import { readPipe } from "../../src/process/PipeProcess.ts"

const collect = (stream: NodeJS.ReadableStream & { readonly _handle?: unknown }, pauseAfter?: number) => {
  const chunks: Array<Buffer> = []
  const events: Array<string> = []
  let closed: () => void
  const done = new Promise<void>((resolve) => (closed = resolve))
  const reader = readPipe(
    stream as never,
    (chunk) => {
      // Copied at once: the buffer is reused by the next read.
      chunks.push(Buffer.from(chunk))
      return chunks.length !== pauseAfter
    },
    () => events.push("end"),
    () => {
      events.push("close")
      closed()
    }
  )
  return { chunks, events, done, reader }
}

describe("readPipe", () => {
  it("reads a real child's output through a socket of its own, to the end, into one reused buffer", async () => {
    const child = spawn("/bin/sh", ["-c", "seq 1 100000"], { stdio: ["ignore", "pipe", "ignore"] })
    const { chunks, done, events, reader } = collect(child.stdout)
    let seenByNode = 0
    child.stdout.on("data", () => seenByNode++)
    await done
    const text = Buffer.concat(chunks).toString()
    expect(text.split("\n").slice(0, -1)).toEqual(Array.from({ length: 100_000 }, (_, i) => String(i + 1)))
    expect(events).toEqual(["end", "close"])
    // A socket of its own read it all: Node's stream for the pipe never saw a byte.
    expect(reader).not.toBe(child.stdout)
    expect(seenByNode).toBe(0)
  })

  it("falls back to the stream's own chunks where there is no handle to take, pausing when asked", async () => {
    const stream = new PassThrough()
    const { chunks, done, events, reader } = collect(stream, 2)
    stream.write("a")
    stream.write("b")
    stream.write("c")
    await new Promise((resolve) => setImmediate(resolve))
    expect(chunks.map(String)).toEqual(["a", "b"])
    reader.resume()
    stream.end("d")
    await done
    expect(chunks.map(String).join("")).toBe("abcd")
    expect(events).toEqual(["end", "close"])
  })
})
