/**
 * Spans to an OpenTelemetry collector (`OTEL_EXPORTER_OTLP_ENDPOINT`), over real stdio and real HTTP: the
 * OTel variables a user sets are read as OpenTelemetry says, a malformed one costs a line, not the server,
 * and a collector that is down is said once and costs the exit no more than a moment.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import { describe, expect, it } from "vitest"
import { connect, freePort, until } from "./client.ts"

interface Post {
  readonly headers: http.IncomingHttpHeaders
  readonly body: {
    readonly resourceSpans: ReadonlyArray<{
      readonly resource: { readonly attributes: ReadonlyArray<{ key: string; value: { stringValue?: string } }> }
      readonly scopeSpans: ReadonlyArray<{ readonly spans: ReadonlyArray<{ readonly name: string }> }>
    }>
  }
}

/** A collector that takes every export and keeps it. */
const collector = async () => {
  const posts: Array<Post> = []
  const server = http.createServer((request, response) => {
    let body = ""
    request.on("data", (chunk: Buffer) => (body += chunk.toString()))
    request.on("end", () => {
      posts.push({ headers: request.headers, body: JSON.parse(body) as Post["body"] })
      response.writeHead(200, { "content-type": "application/json" })
      response.end("{}")
    })
  })
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    posts,
    close: () => server.close()
  }
}

/** Resolves once the server process has exited, with how long that took from now. */
const exitOf = (pid: number) => {
  const from = performance.now()
  return until(() => {
    try {
      process.kill(pid, 0)
      return undefined
    } catch {
      return performance.now() - from
    }
  }, 10_000)
}

describe("OTLP export", () => {
  it("reads OTEL_SERVICE_NAME and OTEL_EXPORTER_OTLP_HEADERS, and a % in OTEL_RESOURCE_ATTRIBUTES costs no start", async () => {
    const c = await collector()
    try {
      const s = await connect({
        OTEL_EXPORTER_OTLP_ENDPOINT: c.url,
        OTEL_SERVICE_NAME: "my-service",
        OTEL_EXPORTER_OTLP_HEADERS: "authorization=Bearer%20secret,x-tenant=acme",
        // Not URI-encoded, as machine-wide tooling often sets it: Effect's own reader refused it and ended the server.
        OTEL_RESOURCE_ATTRIBUTES: "host.cpu=50%,team=web"
      })
      await s.structured("list_tasks")
      await s.client.close()
      await exitOf(s.pid)
      const post = await until(() => c.posts[0])
      expect(post.headers.authorization).toBe("Bearer secret")
      expect(post.headers["x-tenant"]).toBe("acme")
      const attributes = Object.fromEntries(
        post.body.resourceSpans[0]!.resource.attributes.map((a) => [a.key, a.value.stringValue])
      )
      expect(attributes).toMatchObject({ "service.name": "my-service", "host.cpu": "50%", team: "web" })
      const names = c.posts.flatMap((p) => p.body.resourceSpans.flatMap((r) => r.scopeSpans.flatMap((x) => x.spans)))
        .map((span) => span.name)
      expect(names).toContain("tool.list_tasks")
    } finally {
      c.close()
    }
  })

  it("a collector where nothing listens is said once on stderr, and the exit waits for it a moment only", async () => {
    const port = await freePort()
    const s = await connect({ OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` })
    await s.structured("list_tasks")
    const closed = s.client.close()
    // The 3 s the exporter's retries took by default were past the 2 s a client gives a server to end.
    expect(await exitOf(s.pid)).toBeLessThan(2_000)
    await closed
    const said = s.stderr().split("\n").filter((line) => line.includes("could not be sent"))
    expect(said).toEqual([
      `taskmux: spans to http://127.0.0.1:${port}/v1/traces could not be sent (ECONNREFUSED): dropped until the collector answers`
    ])
  })
})
