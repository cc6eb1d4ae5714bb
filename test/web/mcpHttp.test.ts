/**
 * MCP over Streamable HTTP at /mcp, against a real supervisor opened as a person opens its listener
 * (`taskmux ui --print`): a 2025-era session driven by the 1.x SDK's client (its tasks shared with the CLI,
 * its notifications, its end), 2026-07-28 requests driven by the 2.x SDK's client (no session; two clients
 * whose request ids collide), the same refusals as the page's (token, Origin, Host) with nothing changed,
 * the bound on sessions and their idle end, the official conformance suite, and a call's time against
 * the same call over stdio.
 */
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from "@modelcontextprotocol/client"
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js"
import { LoggingMessageNotificationSchema, ResourceUpdatedNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectIfRunning } from "../../src/daemon/connect.ts"
import { runtimePaths } from "../../src/daemon/runtimePaths.ts"
import { MAX_SESSIONS } from "../../src/web/McpHttp.ts"
import { builtCli } from "../builtCli.ts"
import { serverEntry, until } from "../e2e/client.ts"
import { isAlive } from "../helpers.ts"
import { send as sendHttp, sendAndLeave } from "./fixtures/http.ts"

const runtime = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-mcphttp-rt-"))
const project = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-mcphttp-"))
/** A session with nothing open ends after 4 s here (10 minutes by default). */
const IDLE_MS = 4000
const env = {
  ...process.env,
  XDG_RUNTIME_DIR: runtime,
  TASKMUX_ISOLATED: "false",
  TASKMUX_LINGER_MS: "300",
  TASKMUX_HTTP_IDLE_MS: String(IDLE_MS)
}

const run = (command: string, args: ReadonlyArray<string>) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(command, args, { cwd: project, env })
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.once("close", (code) => resolve({ code, stdout, stderr }))
  })
const taskmux = (args: ReadonlyArray<string>) => run(process.execPath, [serverEntry, ...args])

interface Listed {
  readonly name: string
  readonly status: string
  readonly owner: string
  readonly pid: number | null
}
const ps = async () => JSON.parse((await taskmux(["ps", "--json"])).stdout) as Array<Listed>

/** A request to /mcp (a POST unless said otherwise). */
const send = (url: URL, options: Parameters<typeof sendHttp>[1] = {}) =>
  sendHttp(url, { method: "POST", path: "/mcp", ...options })

const MODERN_META = {
  "io.modelcontextprotocol/protocolVersion": "2026-07-28",
  "io.modelcontextprotocol/clientCapabilities": {},
  "io.modelcontextprotocol/clientInfo": { name: "raw", version: "1" }
}

describe("MCP over HTTP at /mcp", () => {
  let page: URL
  let mcpUrl: URL
  let token: string
  const bearer = () => ({ Authorization: `Bearer ${token}` })
  const json = { "content-type": "application/json", accept: "application/json, text/event-stream" }

  /** A 2025-era session opened with raw requests (no GET stream): its id. */
  const rawSession = async () => {
    const answer = await send(page, {
      headers: { ...json, ...bearer() },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } }
      })
    })
    return { answer, id: answer.headers["mcp-session-id"] as string | undefined }
  }
  const inSession = (id: string, message: object, fresh = false) =>
    send(page, {
      headers: { ...json, ...bearer(), "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" },
      body: JSON.stringify({ jsonrpc: "2.0", ...message }),
      fresh
    })
  /** A raw session that started a task (`sleep 300`) named `name`: its id and the task's pid. */
  const sessionWithTask = async (name: string) => {
    const { id } = await rawSession()
    await inSession(id!, { method: "notifications/initialized" })
    const started = await inSession(id!, {
      id: 1,
      method: "tools/call",
      params: { name: "start_task", arguments: { name, command: "sleep 300" } }
    })
    const pid = (JSON.parse(started.body) as { result: { structuredContent: { pid: number } } }).result
      .structuredContent.pid
    return { id: id!, pid }
  }
  const deleteSession = (id: string) =>
    send(page, {
      method: "DELETE",
      headers: { ...bearer(), "mcp-session-id": id, "mcp-protocol-version": "2025-11-25" }
    })

  const legacyClient = async (name: string) => {
    const transport = new StreamableHTTPClientTransport(mcpUrl, { requestInit: { headers: bearer() } })
    const client = new Client({ name, version: "1.0.0" })
    await client.connect(transport)
    return { client, transport }
  }
  const modernClient = async (name: string) => {
    const client = new ModernClient({ name, version: "2.0.0" }, {
      capabilities: {},
      versionNegotiation: { mode: { pin: "2026-07-28" } }
    })
    await client.connect(new ModernTransport(mcpUrl, { requestInit: { headers: bearer() } }))
    return client
  }

  beforeAll(async () => {
    const printed = await taskmux(["ui", "--print"])
    expect(printed.code, printed.stderr).toBe(0)
    page = new URL(printed.stdout.trim())
    token = page.searchParams.get("token")!
    mcpUrl = new URL("/mcp", page)
  })
  afterAll(async () => {
    const c = await connectIfRunning(runtimePaths(project, { XDG_RUNTIME_DIR: runtime }), "cli")
    c?.socket.destroy()
    if (c !== undefined) process.kill(c.welcome.pid, "SIGTERM")
  })

  it("serves a 2025-era session to the 1.x SDK: tools, tasks shared with the CLI, an exit heard, resources, subscriptions; DELETE ends its tasks", async () => {
    const { client, transport } = await legacyClient("http-2025")
    const logs: Array<Record<string, unknown>> = []
    const updated: Array<string> = []
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params.data as never))
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri))
    expect(transport.sessionId).toMatch(/^[0-9a-f-]{36}$/)
    expect(client.getServerVersion()).toMatchObject({ name: "taskmux" })
    expect(client.getServerCapabilities()).toMatchObject({ tools: {}, logging: {}, resources: { subscribe: true } })

    const tools = (await client.listTools()).tools.map((t) => t.name)
    expect(tools).toHaveLength(10)
    expect(tools).toEqual(expect.arrayContaining(["start_task", "list_tasks", "wait_for_task", "stop_task"]))

    const started = await client.callTool({ name: "start_task", arguments: { name: "web", command: "sleep 300" } })
    const webPid = (started.structuredContent as { pid: number }).pid
    expect(isAlive(webPid)).toBe(true)
    const listed = (await client.callTool({ name: "list_tasks", arguments: {} })).structuredContent as {
      tasks: Array<Listed>
    }
    expect(listed.tasks.find((t) => t.name === "web")).toMatchObject({ status: "running", owner: "you" })
    // The CLI, another client of the same supervisor, sees it as someone else's.
    expect((await ps()).find((t) => t.name === "web")).toMatchObject({ status: "running", owner: "other" })

    await client.callTool({ name: "start_task", arguments: { name: "brief", command: "echo done; exit 3" } })
    const exit = await until(() => logs.find((l) => l.event === "task_exit" && l.name === "brief"))
    expect(exit).toMatchObject({ status: "crashed", exitCode: 3, lastLines: ["done"] })
    const read = await client.readResource({ uri: "task://brief/output" })
    expect(read.contents).toEqual([{ uri: "task://brief/output", mimeType: "text/plain", text: "done" }])

    await client.callTool({
      name: "start_task",
      arguments: { name: "ticker", command: "for i in $(seq 1 100); do echo tick $i; sleep 0.1; done" }
    })
    await client.subscribeResource({ uri: "task://ticker/output" })
    await until(() => updated.find((uri) => uri === "task://ticker/output"))
    await client.unsubscribeResource({ uri: "task://ticker/output" })

    // DELETE ends the session: its own tasks end as a closed socket's do (whole trees), and are forgotten.
    await transport.terminateSession()
    await client.close()
    await until(() => isAlive(webPid) ? undefined : true)
    const after = await ps()
    expect(after.map((t) => t.name)).not.toContain("web")
    expect(after.map((t) => t.name)).not.toContain("ticker")
  })

  it("serves 2026-07-28 requests to the 2.x SDK without a session: tools, a call, a listen; a task it starts is kept", async () => {
    const client = await modernClient("http-2026")
    expect(client.getNegotiatedProtocolVersion()).toBe("2026-07-28")
    expect((await client.listTools()).tools).toHaveLength(10)
    const started = await client.callTool({ name: "start_task", arguments: { name: "modern", command: "sleep 300" } })
    expect(started.isError).not.toBe(true)
    expect(started.structuredContent).toMatchObject({ name: "modern", status: "running" })
    // No connection ends with it: what it starts is kept, as the page's starts are.
    expect((await ps()).find((t) => t.name === "modern")).toMatchObject({ status: "running", owner: "kept" })

    const updates: Array<Record<string, unknown>> = []
    client.setNotificationHandler("notifications/resources/updated", (n) => void updates.push(n.params as never))
    await client.callTool({
      name: "start_task",
      arguments: { name: "ticker2", command: "for i in $(seq 1 100); do echo tick $i; sleep 0.1; done" }
    })
    const subscription = await client.listen({ resourceSubscriptions: ["task://ticker2/output"] })
    expect(subscription.honoredFilter).toEqual({ resourceSubscriptions: ["task://ticker2/output"] })
    const heard = await until(() => updates.find((u) => u.uri === "task://ticker2/output"))
    // The client's own listen id, not the one it had inside the listener's session.
    expect(heard._meta).toMatchObject({ "io.modelcontextprotocol/subscriptionId": expect.stringMatching(/^listen:/) })
    await subscription.close()

    // A protocol task (the Tasks extension) outlives the request that started it: asked about in later ones.
    const tasksMeta = {
      ...MODERN_META,
      "io.modelcontextprotocol/clientCapabilities": { extensions: { "io.modelcontextprotocol/tasks": {} } }
    }
    const modernPost = async (id: number, method: string, params: Record<string, unknown>) => {
      const answer = await send(page, {
        headers: {
          ...json,
          ...bearer(),
          "mcp-protocol-version": "2026-07-28",
          "mcp-method": method,
          // What it acts on, as the binding asks: the tool's name, or the protocol task's id.
          "mcp-name": String(params.name ?? params.taskId)
        },
        body: JSON.stringify({ jsonrpc: "2.0", id, method, params: { ...params, _meta: tasksMeta } })
      })
      expect(answer.status, answer.body).toBe(200)
      return (JSON.parse(answer.body) as { result: Record<string, unknown> }).result
    }
    await client.callTool({
      name: "start_task",
      arguments: { name: "slow", command: "sleep 2; echo ready; sleep 300" }
    })
    const asTask = await modernPost(1, "tools/call", {
      name: "wait_for_task",
      arguments: { name: "slow", pattern: "ready", timeoutMs: 20_000 }
    })
    expect(asTask).toMatchObject({ resultType: "task", status: "working" })
    const done = await until(async () => {
      const got = await modernPost(1, "tasks/get", { taskId: asTask.taskId })
      return got.status === "completed" ? got : undefined
    }, 20_000)
    expect(done.result).toMatchObject({ structuredContent: { matched: true } })
    await client.callTool({ name: "stop_task", arguments: { name: "slow" } })

    // Two clients whose request ids are the same, at once: each gets its own answers.
    const other = await modernClient("http-2026-b")
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) => [
        client.callTool({ name: "get_task", arguments: { name: "modern" } }).then((r) => [i, "modern", r] as const),
        other.callTool({ name: "get_task", arguments: { name: "ticker2" } }).then((r) => [i, "ticker2", r] as const)
      ]).flat()
    )
    for (const [, name, result] of answers) expect(result.structuredContent).toMatchObject({ name })
    await client.callTool({ name: "stop_task", arguments: { name: "modern" } })
    await client.callTool({ name: "stop_task", arguments: { name: "ticker2" } })
    await client.close()
    await other.close()
  })

  it("refuses no token, a wrong or read-only token, the cookie alone, a foreign Origin and a rebinding Host; nothing changes", async () => {
    const start = (headers: Record<string, string>) =>
      send(page, {
        headers: {
          ...json,
          "mcp-protocol-version": "2026-07-28",
          "mcp-method": "tools/call",
          "mcp-name": "start_task",
          ...headers
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "start_task", arguments: { name: "intruder", command: "sleep 300" }, _meta: MODERN_META }
        })
      })
    const none = await start({})
    expect(none.status).toBe(401)
    expect(none.headers["www-authenticate"]).toMatch(/^Bearer/)
    expect(JSON.parse(none.body).error).toMatch(/Authorization: Bearer/)
    expect((await start({ Authorization: `Bearer ${"0".repeat(64)}` })).status).toBe(401)
    expect((await start({ Authorization: "Basic Zm9vOmJhcg==" })).status).toBe(401)
    const readOnly = new URL((await taskmux(["ui", "--print", "--read-only"])).stdout.trim()).searchParams.get("token")!
    expect((await start({ Authorization: `Bearer ${readOnly}` })).status).toBe(403)
    // The page's cookie, which a browser would attach by itself, is not enough.
    expect((await start({ cookie: `taskmux_token=${token}` })).status).toBe(401)
    const foreign = await start({ ...bearer(), origin: "https://evil.example" })
    expect(foreign.status).toBe(403)
    expect(foreign.headers["access-control-allow-origin"]).toBeUndefined()
    expect((await start({ ...bearer(), host: `evil.example:${page.port}` })).status).toBe(421)
    // A GET of a session's stream and a DELETE need the token as much as a POST.
    expect((await send(page, { method: "GET", headers: { accept: "text/event-stream" } })).status).toBe(401)
    expect((await send(page, { method: "DELETE", headers: { "mcp-session-id": "x" } })).status).toBe(401)
    expect((await ps()).map((t) => t.name)).not.toContain("intruder")
    // A client refused so looks for OAuth (mcp-remote, the Inspector): told there is none, and what /mcp takes.
    const wrong = { Authorization: `Bearer ${"0".repeat(64)}` }
    for (
      const [method, path] of [
        ["GET", "/.well-known/oauth-protected-resource/mcp"],
        ["GET", "/.well-known/oauth-authorization-server"],
        ["GET", "/.well-known/openid-configuration"],
        ["POST", "/register"]
      ]
    ) {
      const oauth = await send(page, {
        method,
        path,
        headers: { ...json, ...wrong },
        ...(method === "POST" && { body: "{}" })
      })
      expect([oauth.status, JSON.parse(oauth.body).error], path).toEqual([
        404,
        expect.stringMatching(/no OAuth.*Authorization: Bearer TOKEN/)
      ])
    }
    // Host and Origin are judged first, there too.
    const rebound = await send(page, {
      method: "GET",
      path: "/.well-known/oauth-protected-resource/mcp",
      headers: { host: `evil.example:${page.port}` }
    })
    expect(rebound.status).toBe(421)
    // With the token (here in the address, as for clients that take only a URL), it is served.
    const served = await send(page, {
      path: `/mcp?token=${token}`,
      headers: { ...json, "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list", params: { _meta: MODERN_META } })
    })
    expect(served.status).toBe(200)
    expect(JSON.parse(served.body).result.tools).toHaveLength(10)
  })

  it("answers at /mcp with the headers every answer of the listener carries: its Content-Security-Policy and no-referrer", async () => {
    const { answer } = await rawSession()
    const refused = await send(page, { headers: { ...json, ...bearer() }, body: "{" })
    for (const served of [answer, refused]) {
      expect(served.headers["content-security-policy"]).toMatch(/^default-src 'none'.*frame-ancestors 'none'$/)
      expect(served.headers["referrer-policy"]).toBe("no-referrer")
      expect(served.headers["x-content-type-options"]).toBe("nosniff")
    }
  })

  it("answers a body it cannot take (too large, not JSON, not JSON's type) with its status and a sentence, and goes on serving", async () => {
    const post = (body: string, type = "application/json") =>
      send(page, {
        headers: { ...json, ...bearer(), "content-type": type, "mcp-protocol-version": "2026-07-28" },
        body
      })
    const large = await post(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping", pad: "x".repeat(5 << 20) }))
    expect(large.status).toBe(413)
    expect(JSON.parse(large.body).error.message).toMatch(/Payload Too Large: a message is at most 4194304 bytes/)
    const broken = await post("{\"jsonrpc\": \"2.0\", \"id\": 1,")
    expect(broken.status).toBe(400)
    expect(JSON.parse(broken.body).error).toMatchObject({ code: -32700, message: expect.stringMatching(/not JSON/) })
    const text = await post("hello", "text/plain")
    expect(text.status).toBe(415)
    expect(JSON.parse(text.body).error.message).toMatch(/Content-Type: application\/json/)
    const served = await send(page, {
      headers: { ...json, ...bearer(), "mcp-protocol-version": "2026-07-28", "mcp-method": "tools/list" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list", params: { _meta: MODERN_META } })
    })
    expect(JSON.parse(served.body).result.tools).toHaveLength(10)
  })

  it("a 2026-07-28 client, which has no session, keeps the supervisor a session's idle time after its last request", async () => {
    const paths = runtimePaths(project, { XDG_RUNTIME_DIR: runtime })
    /** What keeps the supervisor besides sessions and tasks: open pages and HTTP clients. */
    const viewers = async () => {
      const c = await connectIfRunning(paths, "cli")
      c?.socket.destroy()
      return c?.welcome.viewers ?? 0
    }
    // The earlier tests' sessions gone (their idle time here is 4 s).
    await until(async () => (await viewers()) === 0 ? true : undefined, 3 * IDLE_MS)
    const listed = await send(page, {
      headers: {
        ...json,
        ...bearer(),
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "tools/call",
        "mcp-name": "list_tasks"
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 1,
        method: "tools/call",
        params: { name: "list_tasks", arguments: {}, _meta: MODERN_META }
      })
    })
    expect(listed.status).toBe(200)
    // Answered, nothing open: a model thinking before its next call. The supervisor waits for it...
    expect(await viewers()).toBe(1)
    // ...for the idle time, then lets it go as it would a session.
    await until(async () => (await viewers()) === 0 ? true : undefined, 3 * IDLE_MS)
  })

  it("refuses a 2026-07-28 call whose Mcp-Name header is absent or names another tool than its body, so a gateway's routing by header holds", async () => {
    const call = (name: string | undefined) =>
      send(page, {
        headers: {
          ...json,
          ...bearer(),
          "mcp-protocol-version": "2026-07-28",
          "mcp-method": "tools/call",
          ...(name !== undefined && { "mcp-name": name })
        },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 7,
          method: "tools/call",
          params: { name: "list_tasks", arguments: {}, _meta: MODERN_META }
        })
      })
    const missing = await call(undefined)
    expect(missing.status).toBe(400)
    expect(JSON.parse(missing.body)).toMatchObject({
      id: 7,
      error: {
        code: -32020,
        message: expect.stringMatching(/params\.name="list_tasks" but the required Mcp-Name header is absent/)
      }
    })
    const other = await call("remove_task")
    expect(other.status).toBe(400)
    expect(JSON.parse(other.body).error.message).toMatch(/the Mcp-Name header names "remove_task"/)
    const encoded = await call(`=?base64?${Buffer.from("list_tasks").toString("base64")}?=`)
    expect(JSON.parse(encoded.body).result.structuredContent.tasks).toBeDefined()
    expect(JSON.parse((await call("list_tasks")).body).result.structuredContent.tasks).toBeDefined()
  })

  it(`holds at most ${MAX_SESSIONS} sessions: a new one ends the quietest gone one, else is refused in a sentence; one left alone ends with its tasks`, async () => {
    const opened: Array<string> = []
    while (opened.length < MAX_SESSIONS) {
      const { id } = await rawSession()
      if (id === undefined) break
      opened.push(id)
    }
    // Full of sessions that left without a DELETE (no stream, no request): the oldest makes way.
    const next = await rawSession()
    expect(next.id).toBeDefined()
    const evicted = await inSession(opened[0]!, { id: 1, method: "ping" })
    expect(evicted.status).toBe(404)
    // Its client is told why it may have gone, though it asked in time.
    expect(JSON.parse(evicted.body).error.message).toMatch(/the quietest when 64 are open, to make room for a new one/)
    opened[0] = next.id!
    // Full of sessions each holding its stream open: the next is refused, saying why.
    const streams = await Promise.all(opened.map((id) =>
      new Promise<http.ClientRequest>((resolve) => {
        const request = http.request({
          host: page.hostname,
          port: page.port,
          path: "/mcp",
          headers: {
            ...bearer(),
            accept: "text/event-stream",
            "mcp-session-id": id,
            "mcp-protocol-version": "2025-11-25"
          }
        }, () => resolve(request))
        request.on("error", () => {})
        request.end()
      })
    ))
    const refused = await rawSession()
    expect(refused.answer.status).toBe(503)
    expect(JSON.parse(refused.answer.body).error.message).toMatch(
      /at most 64 MCP sessions over HTTP at once, each with a stream/
    )
    for (const stream of streams) stream.destroy()
    for (const id of opened) expect((await deleteSession(id)).status).toBe(200)
    expect((await inSession(opened[1]!, { id: 1, method: "ping" })).status).toBe(404)

    // A session with no request and no open stream ends after the idle time, and its tasks with it.
    const { id, pid } = await sessionWithTask("abandoned")
    expect(isAlive(pid)).toBe(true)
    await until(() => isAlive(pid) ? undefined : true, IDLE_MS + 10_000)
    expect((await ps()).map((t) => t.name)).not.toContain("abandoned")
    const gone = await inSession(id, { id: 2, method: "ping" })
    expect(gone.status).toBe(404)
    expect(JSON.parse(gone.body).error.message).toMatch(/Start a new one with initialize/)
  })

  it(
    "a session whose request came while the supervisor was stopped past its idle time lives on, and its task",
    async () => {
      const { id, pid } = await sessionWithTask("frozen-over")
      // Stopped (SIGSTOP, a debugger, a frozen cgroup) past the idle time; the client calls in time, 1 s
      // before the end of the idle time. Before: the overdue idle timer ran first, ended the session (404)
      // and stopped its task.
      const supervisor = await connectIfRunning(runtimePaths(project, { XDG_RUNTIME_DIR: runtime }), "cli")
      supervisor!.socket.destroy()
      process.kill(supervisor!.welcome.pid, "SIGSTOP")
      try {
        await new Promise((resolve) => setTimeout(resolve, IDLE_MS - 1_000))
        // On a new connection: one kept alive from before is closed by the server's keep-alive timer, as overdue.
        const during = inSession(id, { id: 2, method: "ping" }, true)
        await new Promise((resolve) => setTimeout(resolve, 3_000))
        process.kill(supervisor!.welcome.pid, "SIGCONT")
        expect((await during).status).toBe(200)
      } finally {
        process.kill(supervisor!.welcome.pid, "SIGCONT")
      }
      expect(isAlive(pid)).toBe(true)
      expect((await inSession(id, { id: 3, method: "ping" })).status).toBe(200)
      expect((await deleteSession(id)).status).toBe(200)
    },
    30_000
  )

  it("a DELETE while requests of the session are open answers them, not leaves them to their client's timeout", async () => {
    const { id } = await sessionWithTask("pending")
    const waiting = inSession(id, {
      id: 2,
      method: "tools/call",
      params: { name: "wait_for_task", arguments: { name: "pending", pattern: "never", timeoutMs: 600_000 } }
    }, true)
    await new Promise((resolve) => setTimeout(resolve, 500))
    expect((await deleteSession(id)).status).toBe(200)
    const answered = await Promise.race([
      waiting,
      new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 5_000))
    ])
    expect(answered?.body).toMatch(
      /The MCP session ended \(a DELETE, or its idle time\) before this request was answered/
    )
  })

  it(
    "a client that hangs up a new connection at once leaves a session that ends when idle, not one busy for good",
    async () => {
      const hangUp = (id: string, afterMs: number) =>
        new Promise<void>((resolve) => {
          const request = http.request({
            host: page.hostname,
            port: page.port,
            method: "POST",
            path: "/mcp",
            // A connection of its own: the listener looks at who connected (asynchronously) before its first request.
            agent: false,
            headers: {
              host: page.host,
              ...json,
              ...bearer(),
              "mcp-session-id": id,
              "mcp-protocol-version": "2025-11-25"
            }
          })
          request.on("error", () => {})
          request.end(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }))
          setTimeout(() => {
            request.destroy()
            resolve()
          }, afterMs)
        })
      const ids: Array<string> = []
      for (let i = 0; i < 20; i++) {
        const { id } = await rawSession()
        ids.push(id!)
        await hangUp(id!, 1 + i % 10)
      }
      await new Promise((resolve) => setTimeout(resolve, IDLE_MS + 2_000))
      const left = []
      for (const id of ids) if ((await inSession(id, { id: 2, method: "ping" })).status !== 404) left.push(id)
      expect(left).toEqual([])
    },
    30_000
  )

  it("a 2025-era request the client cancels (notifications/cancelled, as the SDK's timeout sends) ends its POST", async () => {
    const { id } = await rawSession()
    await inSession(id!, { method: "notifications/initialized" })
    await inSession(id!, {
      id: 1,
      method: "tools/call",
      params: { name: "start_task", arguments: { name: "cancelled", command: "sleep 300" } }
    })
    const waiting = inSession(id!, {
      id: 2,
      method: "tools/call",
      params: { name: "wait_for_task", arguments: { name: "cancelled", pattern: "never", timeoutMs: 600_000 } }
    })
    await new Promise((resolve) => setTimeout(resolve, 300))
    const cancel = await inSession(id!, {
      method: "notifications/cancelled",
      params: { requestId: 2, reason: "timed out" }
    })
    expect(cancel.status).toBe(202)
    // Its POST ends (it was held open for good, and kept the session from ever going idle).
    const answer = await Promise.race([waiting, new Promise((resolve) => setTimeout(resolve, 10_000, "still open"))])
    expect(answer).not.toBe("still open")
    expect(JSON.parse((answer as { body: string }).body)).toMatchObject({ id: 2, error: { code: -32800 } })
    expect(
      (await inSession(id!, { id: 3, method: "tools/call", params: { name: "list_tasks", arguments: {} } })).status
    )
      .toBe(200)
    expect((await deleteSession(id!)).status).toBe(200)
  })

  it("a 2025-era request whose client goes away before its answer is cancelled: a long wait leaves no watcher", async () => {
    const { id } = await rawSession()
    await inSession(id!, { method: "notifications/initialized" })
    const call = (n: number, name: string, args: Record<string, unknown>) =>
      inSession(id!, { id: n, method: "tools/call", params: { name, arguments: args } })
    await call(1, "start_task", { name: "watched", command: "sleep 300" })
    const watchers = async () =>
      (JSON.parse((await call(2, "get_task", { name: "watched" })).body) as {
        result: { structuredContent: { watchers: number } }
      }).result.structuredContent.watchers
    const before = await watchers()
    const waits = Array.from({ length: 5 }, (_, i) =>
      sendAndLeave(
        page,
        "/mcp",
        { ...json, ...bearer(), "mcp-session-id": id!, "mcp-protocol-version": "2025-11-25" },
        JSON.stringify({
          jsonrpc: "2.0",
          id: 10 + i,
          method: "tools/call",
          params: { name: "wait_for_task", arguments: { name: "watched", pattern: `never ${i}`, timeoutMs: 600_000 } }
        })
      ))
    await until(async () => (await watchers()) >= before + 5 ? true : undefined, 5_000)
    for (const request of waits) request.destroy()
    await until(async () => (await watchers()) === before ? true : undefined, 5_000)
    // The session goes on serving.
    expect((await call(3, "list_tasks", {})).status).toBe(200)
    expect((await deleteSession(id!)).status).toBe(200)
  })

  it("passes the official conformance suite's scenarios that apply to taskmux", async () => {
    const dir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-conformance-"))
    const baseline = NodePath.join(dir, "not-applicable.yml")
    writeFileSync(baseline, `server:\n${NOT_APPLICABLE.map((name) => `  - ${name}`).join("\n")}\n`)
    const cli = NodePath.resolve(
      import.meta.dirname,
      "../../node_modules/@modelcontextprotocol/conformance/dist/index.js"
    )
    // The suite's client sends no header of ours: the token goes in the address.
    const url = `${mcpUrl.href}?token=${token}`
    const result = await run(process.execPath, [
      cli,
      "server",
      "--url",
      url,
      "--expected-failures",
      baseline,
      "-o",
      NodePath.join(dir, "results")
    ])
    expect(result.code, result.stdout.slice(-3000) + result.stderr).toBe(0)
    const ran = new Map<string, Array<{ status: string }>>()
    for (const entry of readdirSync(NodePath.join(dir, "results"))) {
      const scenario = /^server-(.+)-\d{4}-\d\d-\d\dT/.exec(entry)![1]!
      ran.set(scenario, JSON.parse(readFileSync(NodePath.join(dir, "results", entry, "checks.json"), "utf8")))
    }
    for (const scenario of APPLIES) {
      const checks = ran.get(scenario)
      expect(checks, scenario).toBeDefined()
      expect(checks!.filter((c) => c.status === "FAILURE" || c.status === "WARNING"), scenario).toEqual([])
    }
  })

  it("measures a call's p50 over HTTP, over stdio, and the SDK's HTTP client's own floor (printed)", async () => {
    const { client: overHttp, transport } = await legacyClient("http-timing")
    const stdio = new StdioClientTransport({ command: process.execPath, args: [serverEntry], cwd: project, env })
    const overStdio = new Client({ name: "stdio-timing", version: "1.0.0" })
    await overStdio.connect(stdio)
    // The floor: the same client against a node:http server in a process of its own that answers at once.
    const bare = spawn(process.execPath, [NodePath.resolve(import.meta.dirname, "../../bench/bareHttpServer.mjs")], {
      stdio: ["ignore", "pipe", "inherit"]
    })
    const port = await new Promise<string>((resolve) =>
      bare.stdout.once("data", (chunk: Buffer) => resolve(String(chunk).trim()))
    )
    const overBare = new Client({ name: "bare-timing", version: "1.0.0" })
    await overBare.connect(new StreamableHTTPClientTransport(new URL(`http://127.0.0.1:${port}/mcp`)))
    const p50 = async (client: Client) => {
      const times: Array<number> = []
      for (let i = 0; i < 200; i++) {
        const start = performance.now()
        await client.callTool({ name: "list_tasks", arguments: {} })
        times.push(performance.now() - start)
      }
      return times.sort((a, b) => a - b)[100]!
    }
    const best = { http: Infinity, stdio: Infinity, bare: Infinity }
    for (let round = 0; round < 3; round++) {
      best.http = Math.min(best.http, await p50(overHttp))
      best.stdio = Math.min(best.stdio, await p50(overStdio))
      best.bare = Math.min(best.bare, await p50(overBare))
    }
    console.log(
      `list_tasks p50: HTTP ${best.http.toFixed(3)} ms, stdio ${best.stdio.toFixed(3)} ms (${
        (best.http / best.stdio).toFixed(2)
      }×); the same HTTP client against a server that answers at once: ${best.bare.toFixed(3)} ms`
    )
    expect(best.http).toBeGreaterThan(0)
    await transport.terminateSession()
    await Promise.all([overHttp.close(), overStdio.close(), overBare.close()])
    bare.kill()
  })
})

/** The suite's scenarios that taskmux passes. */
const APPLIES = [
  "server-initialize",
  "ping",
  "logging-set-level",
  "tools-list",
  "resources-list",
  "prompts-list",
  "server-sse-multiple-streams",
  "dns-rebinding-protection"
]

/**
 * The ones that do not apply: each calls a fixture of the suite's reference server (a tool, prompt or
 * resource named test_* or test://…), or completion/complete, which taskmux does not offer.
 */
const NOT_APPLICABLE = [
  "completion-complete",
  "tools-call-simple-text",
  "tools-call-image",
  "tools-call-audio",
  "tools-call-embedded-resource",
  "tools-call-mixed-content",
  "tools-call-with-logging",
  "tools-call-error",
  "tools-call-with-progress",
  "tools-call-sampling",
  "tools-call-elicitation",
  "elicitation-sep1034-defaults",
  "elicitation-sep1330-enums",
  "resources-read-text",
  "resources-read-binary",
  "resources-templates-read",
  "resources-subscribe",
  "resources-unsubscribe",
  "prompts-get-simple",
  "prompts-get-with-args",
  "prompts-get-embedded-resource",
  "prompts-get-with-image"
]

describe("a 2026-07-28 listen open when its supervisor ends", () => {
  it("is told it is torn down: notifications/cancelled for it, as the revision requires", async () => {
    const rt = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-listen-rt-"))
    const own = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-listen-"))
    const printed = await builtCli(own, { ...process.env, XDG_RUNTIME_DIR: rt, TASKMUX_ISOLATED: "false" })([
      "ui",
      "--print"
    ])
    const url = new URL(printed.stdout.trim())
    const listening = await fetch(new URL("/mcp", url), {
      method: "POST",
      headers: {
        authorization: `Bearer ${url.searchParams.get("token")}`,
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-protocol-version": "2026-07-28",
        "mcp-method": "subscriptions/listen"
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: "sub1",
        method: "subscriptions/listen",
        params: { _meta: MODERN_META, notifications: { resourcesListChanged: true } }
      })
    })
    const reader = listening.body!.getReader()
    let text = ""
    const readUntil = async (done: (text: string) => boolean) => {
      while (!done(text)) {
        // Its end: said, or the connection cut (as it was, with nothing said).
        const chunk = await reader.read().catch(() => ({ done: true as const, value: undefined }))
        if (chunk.done) return
        text += Buffer.from(chunk.value).toString()
      }
    }
    await readUntil((t) => t.includes("notifications/subscriptions/acknowledged"))
    // And a 2025-era session's GET stream beside it, which ends with the listener, not a second later.
    const headers = {
      authorization: `Bearer ${url.searchParams.get("token")}`,
      "content-type": "application/json",
      accept: "application/json, text/event-stream"
    }
    const opened = await fetch(new URL("/mcp", url), {
      method: "POST",
      headers,
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: 0,
        method: "initialize",
        params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } }
      })
    })
    const sessionId = opened.headers.get("mcp-session-id")!
    await opened.text()
    const stream = await fetch(new URL("/mcp", url), {
      headers: {
        ...headers,
        accept: "text/event-stream",
        "mcp-session-id": sessionId,
        "mcp-protocol-version": "2025-11-25"
      }
    })
    let streamEnded = 0
    void stream.text().catch(() => {}).finally(() => (streamEnded = Date.now()))
    const supervisor = await connectIfRunning(runtimePaths(own, { XDG_RUNTIME_DIR: rt }), "cli")
    supervisor!.socket.destroy()
    process.kill(supervisor!.welcome.pid, "SIGTERM")
    await readUntil(() => false)
    const listenEnded = Date.now()
    expect(text).toMatch(/"method":"notifications\/cancelled","params":\{"requestId":"sub1","reason":"[^"]+"\}/)
    await until(() => streamEnded > 0 || undefined)
    // The farewell waits for the listen's stream only (it waited its whole second for this one).
    expect(streamEnded - listenEnded).toBeLessThan(500)
  })
})

describe("a call longer than an HTTP client waits for headers", () => {
  it("is answered as an event stream kept alive, which the 1.x SDK's client reads; a quiet GET stream is kept alive too", async () => {
    const rt = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-long-rt-"))
    const own = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-long-"))
    // Every 500 ms here (20 s by default: Node's fetch gives up on headers, or a silent body, after 300 s).
    const longEnv = { ...process.env, XDG_RUNTIME_DIR: rt, TASKMUX_ISOLATED: "false", TASKMUX_HTTP_KEEPALIVE_MS: "500" }
    const printed = await builtCli(own, longEnv)(["ui", "--print"])
    const url = new URL(printed.stdout.trim())
    const auth = { Authorization: `Bearer ${url.searchParams.get("token")}` }
    const transport = new StreamableHTTPClientTransport(new URL("/mcp", url), { requestInit: { headers: auth } })
    const client = new Client({ name: "long-calls", version: "1.0.0" })
    try {
      await client.connect(transport)
      await client.callTool({ name: "start_task", arguments: { name: "slow", command: "sleep 2; echo done" } })
      const waited = await client.callTool({ name: "wait_for_task", arguments: { name: "slow", exit: true } })
      expect(waited.structuredContent).toMatchObject({ status: "exited", exitCode: 0 })
      // The same call raw: its headers come before its answer, as a stream, its comments, then its one event.
      await client.callTool({ name: "start_task", arguments: { name: "slower", command: "sleep 2" } })
      /** A tool call in the client's session, sent raw. */
      const callRaw = (id: number, name: string, args: Record<string, unknown>) =>
        sendHttp(url, {
          method: "POST",
          path: "/mcp",
          headers: {
            "content-type": "application/json",
            accept: "application/json, text/event-stream",
            ...auth,
            "mcp-session-id": transport.sessionId!,
            "mcp-protocol-version": "2025-11-25"
          },
          body: JSON.stringify({ jsonrpc: "2.0", id, method: "tools/call", params: { name, arguments: args } })
        })
      const raw = await callRaw(99, "wait_for_task", { name: "slower", exit: true })
      expect(raw.headers["content-type"]).toBe("text/event-stream")
      const [comments, event] = [raw.body.match(/^: .*$/gm) ?? [], /^event: message\ndata: (.*)$/m.exec(raw.body)]
      expect(comments.length).toBeGreaterThanOrEqual(2)
      expect(JSON.parse(event![1]!)).toMatchObject({ id: 99, result: { structuredContent: { status: "exited" } } })
      // A call answered at once is JSON, as before.
      const quick = await callRaw(100, "list_tasks", {})
      expect(quick.headers["content-type"]).toMatch(/^application\/json/)
      // A session's GET stream (one of its own: the client holds its session's), quiet: a comment within
      // the keep-alive's time.
      const opened = await sendHttp(url, {
        method: "POST",
        path: "/mcp",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream", ...auth },
        body: JSON.stringify({
          jsonrpc: "2.0",
          id: 0,
          method: "initialize",
          params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "raw", version: "1" } }
        })
      })
      const stream = await fetch(new URL("/mcp", url), {
        headers: {
          ...auth,
          accept: "text/event-stream",
          "mcp-session-id": String(opened.headers["mcp-session-id"]),
          "mcp-protocol-version": "2025-11-25"
        }
      })
      const reader = stream.body!.getReader()
      let text = ""
      const deadline = Date.now() + 5_000
      while (!text.includes(": taskmux is working on it") && Date.now() < deadline) {
        const chunk = await reader.read()
        if (chunk.done) break
        text += Buffer.from(chunk.value).toString()
      }
      await reader.cancel()
      expect(text).toContain(": taskmux is working on it")
    } finally {
      await client.close()
      const supervisor = await connectIfRunning(runtimePaths(own, { XDG_RUNTIME_DIR: rt }), "cli")
      supervisor?.socket.destroy()
      if (supervisor !== undefined) process.kill(supervisor.welcome.pid, "SIGTERM")
    }
  })
})
