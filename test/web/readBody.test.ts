/** The one body reader of both HTTP paths (the page's calls and /mcp): whole, or refused as its limit is passed. */
import type * as http from "node:http"
import { PassThrough } from "node:stream"
import { describe, expect, it } from "vitest"
import { readBody } from "../../src/web/readBody.ts"

const request = () => new PassThrough() as unknown as http.IncomingMessage & PassThrough

describe("readBody", () => {
  it("gives the body whole, however it arrives", async () => {
    const body = request()
    const read = readBody(body, 10)
    body.write("{\"a\":")
    body.end("1}")
    expect((await read as Buffer).toString()).toBe("{\"a\":1}")
  })

  it("a body of exactly the limit is whole; an empty one is empty", async () => {
    const exact = request()
    const read = readBody(exact, 4)
    exact.end("abcd")
    expect((await read as Buffer).toString()).toBe("abcd")
    const empty = request()
    const none = readBody(empty, 4)
    empty.end()
    expect((await none as Buffer).length).toBe(0)
  })

  it("says too large as the limit is passed, before the body ends, and reads on so the client reads the refusal", async () => {
    const body = request()
    const read = readBody(body, 4)
    body.write("abcde")
    expect(await read).toBe("too large")
    expect(body.destroyed).toBe(false)
    body.write("more")
    await new Promise((resolve) => setImmediate(resolve))
    expect(body.destroyed).toBe(false)
  })

  it("ends the connection once a body runs far past its limit", async () => {
    const body = request()
    const read = readBody(body, 4)
    body.write("x".repeat(20))
    expect(await read).toBe("too large")
    body.write("x".repeat(20))
    await new Promise((resolve) => setImmediate(resolve))
    expect(body.destroyed).toBe(true)
  })
})
