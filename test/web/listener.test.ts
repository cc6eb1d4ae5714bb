/**
 * Issue 29: the supervisor's web listener over real HTTP, against a real supervisor with real tasks,
 * opened as a person opens it (`taskmux ui --print`). Nobody else gets in: no token, a wrong token, a
 * foreign Origin, a rebinding Host, a change with only the cookie, a read-only page's change, a path out
 * of the page: each refused with its status, and nothing changed (pid checks). What the page may do, it
 * does exactly as the tools do.
 */
import { spawn } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs"
import * as http from "node:http"
import * as net from "node:net"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { connectIfRunning } from "../../src/daemon/connect.ts"
import { runtimePaths } from "../../src/daemon/runtimePaths.ts"
import { pagePath, tokensOf } from "../../src/web/guard.ts"
import { projectPort } from "../../src/web/projectPort.ts"
import { builtCli } from "../builtCli.ts"
import { until } from "../e2e/client.ts"
import { asOtherUser, isAlive } from "../helpers.ts"
import { send, sendAndLeave } from "./fixtures/http.ts"

const runtime = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-web-rt-"))
const project = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-web-"))
writeFileSync(
  NodePath.join(project, "taskmux.json"),
  JSON.stringify({
    tasks: {
      db: { command: "sleep 300" },
      api: { command: "sleep 300", dependsOn: { db: "started" } },
      // Never run: asked for by name, the answer quotes what the file gives it.
      worker: { command: "sleep 300", env: { DATABASE_URL: "postgres://app:FILE-SECRET@db/app" } }
    }
  })
)
const env = { ...process.env, XDG_RUNTIME_DIR: runtime, TASKMUX_ISOLATED: "false", TASKMUX_LINGER_MS: "300" }

const taskmux = builtCli(project, env)

const roTokenOf = (token: string) => tokensOf(token).readOnly

const json = (body: string) => JSON.parse(body) as Record<string, unknown>

/** Whether this machine has an IPv6 loopback to listen on. */
const hasIpv6 = () =>
  new Promise<boolean>((resolve) => {
    const probe = net.createServer().once("error", () => resolve(false))
    probe.listen(0, "::1", () => probe.close(() => resolve(true)))
  })

describe("the web listener", () => {
  let url: URL
  let token: string
  let cookie: string
  let apiPid: number

  const call = (tool: string, args: Record<string, unknown>, headers: Record<string, string>) =>
    send(url, {
      method: "POST",
      path: "/api/call",
      headers: { "content-type": "application/json", ...headers },
      body: JSON.stringify({ tool, arguments: args })
    })

  beforeAll(async () => {
    const started = await taskmux(["start", "api"])
    expect(started.code, started.stderr).toBe(0)
    const printed = await taskmux(["ui", "--print"])
    expect(printed.code, printed.stderr).toBe(0)
    url = new URL(printed.stdout.trim())
    token = url.searchParams.get("token")!
    const first = await send(url, { path: `/?token=${token}` })
    cookie = String(first.headers["set-cookie"]).split(";")[0]!
    const listed = json((await call("list_tasks", {}, { cookie, "x-taskmux-token": token })).body)
    const tasks = (listed.result as { structuredContent: { tasks: Array<{ name: string; pid: number }> } })
      .structuredContent.tasks
    apiPid = tasks.find((t) => t.name === "api")!.pid
  })
  afterAll(async () => {
    const c = await connectIfRunning(runtimePaths(project, { XDG_RUNTIME_DIR: runtime }), "cli")
    c?.socket.destroy()
    if (c !== undefined) process.kill(c.welcome.pid, "SIGTERM")
  })

  it("listens on loopback only (127.0.0.1, and ::1 on the same port), with a 256-bit token kept 0600 beside the socket", async () => {
    expect(url.hostname).toBe("127.0.0.1")
    // A client that tries localhost's ::1 first finds it there too (where the machine has IPv6).
    if (await hasIpv6()) {
      const six = await send(new URL(`http://[::1]:${url.port}/`), { path: "/api/ping", headers: { cookie } })
      expect(six.status).toBe(204)
    }
    expect(token).toMatch(/^[0-9a-f]{64}$/)
    const file = runtimePaths(project, { XDG_RUNTIME_DIR: runtime }).token
    expect(readFileSync(file, "utf8").trim()).toBe(token)
    expect(statSync(file).mode & 0o777).toBe(0o600)
  })

  it("another user gets neither the token nor an answer: the connection is closed before any request of it is answered", async () => {
    const tokenFile = runtimePaths(project, { XDG_RUNTIME_DIR: runtime }).token
    // A one-time address on a browser's command line, which every user can read: theirs to race for.
    const once = new URL(
      (await builtCli(project, env)(["ui", "--print"])).stdout.trim().replace(/\?token=.*/, "") + "?ticket=none"
    )
    const attempt = asOtherUser(
      `const fs = require("fs")
      try { fs.readFileSync(${JSON.stringify(tokenFile)}); console.log("read") } catch (e) { console.log(e.code) }
      const get = (path, next) => require("http").get(${JSON.stringify(url.origin)} + path, (r) => {
        console.log(r.statusCode); next()
      }).on("error", (e) => { console.log(["ECONNRESET", "EPIPE"].includes(e.code) ? "closed" : e.code); next() })
      // Sent whole, then half-closed, twenty times: a socket no longer ESTABLISHED must not pass for unknown.
      let answered = 0
      const half = (left, next) => {
        if (left === 0) { console.log(answered === 0 ? "closed" : "answered " + answered); return next() }
        const s = require("net").connect(${url.port}, "127.0.0.1", () =>
          s.end("GET /api/events HTTP/1.1\\r\\nHost: ${url.host}\\r\\n\\r\\n"))
        let got = ""
        s.on("data", (d) => (got += d)).on("error", () => {}).on("close", () => {
          if (got.startsWith("HTTP/")) answered++
          half(left - 1, next)
        })
      }
      get("/api/events", () => get(${JSON.stringify(`/?token=${token}`)}, () => get(${
        JSON.stringify(once.pathname + once.search)
      }, () => half(20, () => process.exit(0)))))`,
      runtime
    )
    // Shown where the tests run as root, the only way to make another uid: refused at the door, even with
    // the token itself.
    if (attempt !== undefined) expect(attempt.split("\n")).toEqual(["EACCES", "closed", "closed", "closed", "closed"])
    // The user's own still get in.
    expect((await call("list_tasks", {}, { cookie, "x-taskmux-token": token })).status).toBe(200)
  })

  it("holds a descriptor per connection for so many only: a flood of idle connections leaves tasks their spawns", async () => {
    const sockets = await Promise.all(Array.from({ length: 320 }, () =>
      new Promise<net.Socket>((resolve) => {
        const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => resolve(socket))
        socket.on("error", () => undefined)
      })))
    try {
      // Past the listener's limit the rest are closed at once, and what the supervisor holds stays bounded.
      const closed = await until(() => {
        const n = sockets.filter((socket) => socket.destroyed || socket.readableEnded).length
        return n >= 320 - 256 ? n : undefined
      })
      expect(closed).toBeGreaterThanOrEqual(64)
      const c = await connectIfRunning(runtimePaths(project, { XDG_RUNTIME_DIR: runtime }), "cli")
      c?.socket.destroy()
      expect(readdirSync(`/proc/${c!.welcome.pid}/fd`).length).toBeLessThan(400)
    } finally {
      for (const socket of sockets) socket.destroy()
    }
    // Once they are gone, the page answers again.
    await until(async () =>
      (await call("list_tasks", {}, { cookie, "x-taskmux-token": token }).catch(() => undefined))?.status === 200 ||
      undefined
    )
  })

  it("opens with the token: an HttpOnly, SameSite=Strict cookie for the page's own path, a strict CSP, no CORS", async () => {
    const first = await send(url, { path: `/?token=${token}` })
    // To the page's path, where the cookie goes (a browser sends 127.0.0.1's cookies to every port of it,
    // not to every path): the address bar keeps no token.
    expect(first.status).toBe(303)
    const page = first.headers.location!
    expect(page).toMatch(/^\/p\/[0-9a-f]{24}\/$/)
    expect(String(first.headers["set-cookie"])).toBe(`taskmux_token=${token}; HttpOnly; SameSite=Strict; Path=${page}`)
    const html = await send(url, { path: page, headers: { cookie } })
    expect([html.status, html.headers["content-type"]]).toEqual([200, "text/html; charset=utf-8"])
    // The page itself carries the whole policy: no inline script, no frame, no referrer, no sniffing.
    expect(html.headers["content-security-policy"]).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; connect-src 'self'; img-src 'self' data:; " +
        "font-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
    expect([html.headers["x-frame-options"], html.headers["referrer-policy"], html.headers["x-content-type-options"]])
      .toEqual(["DENY", "no-referrer", "nosniff"])
    // What its scripts can read holds no token: a header token, good only beside the HttpOnly cookie.
    expect(html.body).not.toContain(token)
    const pageHeader = /<meta name="taskmux-token" content="([0-9a-f]{64})">/.exec(html.body)![1]!
    expect((await call("list_tasks", {}, { cookie, "x-taskmux-token": pageHeader })).status).toBe(200)
    expect((await call("list_tasks", {}, { "x-taskmux-token": pageHeader })).status).toBe(401)
    expect((await send(url, { path: page })).status).toBe(401)
    expect((await send(url, { path: "/p/000000000000000000000000/", headers: { cookie } })).status).toBe(404)
    // The page's own path, with the read-only token's cookie, is not the read-only page.
    const roCookie = String((await send(url, { path: `/?token=${roTokenOf(token)}` })).headers["set-cookie"]).split(
      ";"
    )[0]!
    expect((await send(url, { path: page, headers: { cookie: roCookie } })).status).toBe(401)
    const events = await new Promise<http.IncomingMessage>((resolve) => {
      http.get({ host: url.hostname, port: url.port, path: "/api/events", headers: { cookie } }, resolve)
    })
    expect(events.statusCode).toBe(200)
    expect(events.headers["content-type"]).toMatch(/text\/event-stream/)
    expect(events.headers["content-security-policy"]).toMatch(/default-src 'none'; script-src 'self'/)
    expect(events.headers["access-control-allow-origin"]).toBeUndefined()
    const first2 = await new Promise<string>((resolve) => {
      let text = ""
      events.on("data", (chunk: Buffer) => {
        text += chunk.toString()
        if (text.includes("event: tasks")) resolve(text)
      })
    })
    events.destroy()
    expect(first2).toMatch(/"name":"api"/)
    expect(first2).toMatch(/"graph":\{"db":\[\],"api":\["db"\],"worker":\[\]\}/)
  })

  it("refuses no token, a wrong token, a foreign Origin and a rebinding Host, each with its status", async () => {
    expect((await send(url, { path: "/api/events" })).status).toBe(401)
    expect((await send(url, { path: `/?token=${"0".repeat(64)}` })).status).toBe(401)
    expect((await send(url, { path: "/api/events", headers: { cookie: "taskmux_token=nope" } })).status).toBe(401)
    // What a page whose stream failed asks: its token taken or not, answered at once, nothing kept open.
    expect((await send(url, { path: "/api/ping", headers: { cookie: "taskmux_token=nope" } })).status).toBe(401)
    expect((await send(url, { path: "/api/ping", headers: { cookie } })).status).toBe(204)
    const foreign = await send(url, { path: "/api/events", headers: { cookie, origin: "https://evil.example" } })
    expect(foreign.status).toBe(403)
    expect(json(foreign.body).error).toMatch(/Origin "https:\/\/evil.example"/)
    const rebound = await send(url, { path: "/api/events", headers: { cookie, host: `evil.example:${url.port}` } })
    expect(rebound.status).toBe(421)
    const stop = await call("stop_task", { name: "api" }, {
      cookie,
      "x-taskmux-token": token,
      host: `evil.example:${url.port}`
    })
    expect(stop.status).toBe(421)
    expect(isAlive(apiPid)).toBe(true)
  })

  it("takes ?token= on the page's own address only: nowhere else is a token in an address (logs, history) let in", async () => {
    for (
      const path of [`/api/ping?token=${token}`, `/api/events?token=${token}`, `${pagePath(token)}?token=${token}`]
    ) {
      expect((await send(url, { path })).status, path).toBe(401)
    }
  })

  it("a change with only the cookie (cross-site request forgery) is refused, and nothing changes", async () => {
    const forged = await call("stop_task", { name: "api" }, { cookie })
    expect(forged.status).toBe(403)
    expect(json(forged.body).error).toMatch(/x-taskmux-token header/)
    const foreign = await call("stop_task", { name: "api" }, {
      cookie,
      "x-taskmux-token": token,
      origin: "http://evil.example"
    })
    expect(foreign.status).toBe(403)
    // What a form can send (text/plain, urlencoded) is no call, whatever else it carries.
    for (const type of ["text/plain", "application/x-www-form-urlencoded"]) {
      const form = await call("stop_task", { name: "api" }, { cookie, "x-taskmux-token": token, "content-type": type })
      expect(form.status, type).toBe(415)
    }
    expect(isAlive(apiPid)).toBe(true)
  })

  it("the browser taskmux ui starts gets a one-time address, never the token on its command line", async () => {
    const bin = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-opener-"))
    const seen = NodePath.join(bin, "argv")
    writeFileSync(NodePath.join(bin, "xdg-open"), `#!/bin/sh\necho "$@" > ${seen}\n`, { mode: 0o755 })
    const opened = await builtCli(project, { ...env, DISPLAY: ":99", PATH: `${bin}:${process.env.PATH}` })(["ui"])
    expect(opened.code, opened.stderr).toBe(0)
    const argv = await until(async () => readFileSync(seen, "utf8").trim() || undefined)
    expect(argv).not.toContain(token)
    const once = new URL(argv)
    expect(once.searchParams.get("ticket")).toMatch(/^[0-9a-f]{32}$/)
    const first = await send(once, { path: `${once.pathname}${once.search}` })
    expect(first.status).toBe(303)
    expect(String(first.headers["set-cookie"])).toContain(`taskmux_token=${token};`)
    // Used: whoever reads it later gets nothing, and is told why.
    const again = await send(once, { path: `${once.pathname}${once.search}` })
    expect(again.status).toBe(401)
    expect(json(again.body).error).toBe(
      "This one-time link was used already, or is over 3 minutes old: run taskmux ui again."
    )
  })

  it("taskmux ui --read-only opens the browser on a one-time address to the read-only page, never the full one", async () => {
    const bin = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-opener-"))
    const seen = NodePath.join(bin, "argv")
    writeFileSync(NodePath.join(bin, "xdg-open"), `#!/bin/sh\necho "$@" > ${seen}\n`, { mode: 0o755 })
    const opened = await builtCli(project, { ...env, DISPLAY: ":99", PATH: `${bin}:${process.env.PATH}` })([
      "ui",
      "--read-only"
    ])
    expect(opened.code, opened.stderr).toBe(0)
    const once = new URL(await until(async () => readFileSync(seen, "utf8").trim() || undefined))
    const first = await send(once, { path: `${once.pathname}${once.search}` })
    expect(first.status).toBe(303)
    const { readOnly } = tokensOf(token)
    expect(first.headers.location).toBe(pagePath(readOnly))
    expect(String(first.headers["set-cookie"])).toContain(`taskmux_token=${readOnly};`)
    expect(String(first.headers["set-cookie"])).not.toContain(token)
  })

  it("a call's body too large is 413, said; send_input's own limit is the tool's error", async () => {
    const huge = await call("send_input", { name: "api", data: "x".repeat(9 * 1024 * 1024) }, {
      "x-taskmux-token": token
    })
    expect(huge.status).toBe(413)
    expect(json(huge.body).error).toMatch(/over 8 MiB/)
    // Over send_input's 1 MiB, though its JSON is under the body's limit: the tool says what is wrong.
    const lines = await call("send_input", { name: "api", data: "\n".repeat(1536 * 1024) }, {
      "x-taskmux-token": token
    })
    expect(lines.status).toBe(200)
    const result = json(lines.body).result as { isError?: boolean; content: Array<{ text: string }> }
    expect(result.isError).toBe(true)
    expect(result.content[0]!.text).toMatch(/^data is 1572864 bytes, more than/)
  })

  it("a read-only page looks, and every change it asks is refused", async () => {
    const printed = await taskmux(["ui", "--print", "--read-only"])
    const readOnly = new URL(printed.stdout.trim())
    expect(readOnly.port).toBe(url.port)
    const roToken = readOnly.searchParams.get("token")!
    expect(roToken).not.toBe(token)
    expect(roToken).toBe(roTokenOf(token))
    const page = await send(url, { path: `/?token=${roToken}` })
    expect(page.status).toBe(303)
    expect(page.headers.location).toBe(pagePath(roToken))
    const look = await call("get_task", { name: "api" }, { "x-taskmux-token": roToken })
    expect(look.status).toBe(200)
    // Environment values may hold secrets, and a read-only link may travel further than the full one.
    const secrets = await call("get_task", { name: "api", envValues: true }, { "x-taskmux-token": roToken })
    expect(secrets.status).toBe(403)
    expect(json(secrets.body).error).toMatch(/read-only: environment values .* need the full token/)
    expect((await call("get_task", { name: "api", envValues: true }, { "x-taskmux-token": token })).status).toBe(200)
    // Nor the project file's values, which the answer about a task not run yet quotes.
    const defined = (tokenUsed: string) =>
      call("get_task", { name: "worker" }, { "x-taskmux-token": tokenUsed }).then((answer) =>
        JSON.stringify(json(answer.body).result)
      )
    const roDefined = await defined(roToken)
    expect(roDefined).toContain("env DATABASE_URL.")
    expect(roDefined).not.toContain("FILE-SECRET")
    expect(await defined(token)).toContain("DATABASE_URL=postgres://app:FILE-SECRET@db/app")
    const stop = await call("stop_task", { name: "api" }, { "x-taskmux-token": roToken })
    expect(stop.status).toBe(403)
    expect(json(stop.body).error).toMatch(/read-only: stop_task is refused/)
    expect(isAlive(apiPid)).toBe(true)
  })

  it("a call whose viewer goes away ends with it: a long wait leaves no watcher behind", async () => {
    const headers = { cookie, "x-taskmux-token": token }
    const watchers = async () =>
      (json((await call("get_task", { name: "api" }, headers)).body).result as {
        structuredContent: { watchers: number }
      }).structuredContent.watchers
    const before = await watchers()
    const waits = Array.from({ length: 5 }, (_, i) =>
      sendAndLeave(
        url,
        "/api/call",
        { "content-type": "application/json", ...headers },
        JSON.stringify({ tool: "wait_for_task", arguments: { name: "api", pattern: `never ${i}`, timeoutMs: 600_000 } })
      ))
    await until(async () => (await watchers()) >= before + 5 ? true : undefined, 5_000)
    for (const request of waits) request.destroy()
    await until(async () => (await watchers()) === before ? true : undefined, 5_000)
  })

  it("serves nothing outside the page's own files", async () => {
    for (const path of ["/../../etc/passwd", "/assets/../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/api/../x"]) {
      const answer = await send(url, { path, headers: { cookie } })
      expect(answer.status, path).toBe(404)
      expect(answer.body).not.toMatch(/root:/)
    }
    const deleted = await send(url, { method: "DELETE", path: "/api/call", headers: { cookie } })
    expect([deleted.status, deleted.headers.allow]).toEqual([405, "GET, POST"])
  })

  it("does what the tools do: a project task started after its dependency, a stop that ends the tree", async () => {
    const headers = { cookie, "x-taskmux-token": token }
    const stopped = await call("stop_task", { name: "api" }, headers)
    expect(stopped.status).toBe(200)
    expect(json(stopped.body).result).toMatchObject({ structuredContent: { name: "api", status: "stopped" } })
    expect(isAlive(apiPid)).toBe(false)
    const restarted = json((await call("start_task", { name: "api" }, headers)).body).result as {
      structuredContent: { tasks: Array<{ name: string }> }
    }
    expect(restarted.structuredContent.tasks.map((t) => t.name)).toEqual(["db", "api"])
    const unknown = await call("launch_rocket", {}, headers)
    expect(unknown.status).toBe(404)
    expect(json(unknown.body).error).toMatch(/^No tool "launch_rocket": the tools are start_task, .*list_tasks/)
    const jsonHeaders = { ...headers, "content-type": "application/json" }
    const empty = await send(url, { method: "POST", path: "/api/call", headers: jsonHeaders, body: "{}" })
    expect([empty.status, json(empty.body).error]).toEqual([400, expect.stringMatching(/^The body needs "tool"/)])
    await until(async () => {
      const ps = await taskmux(["ps", "--json"])
      const tasks = JSON.parse(ps.stdout) as Array<{ name: string; status: string; owner: string }>
      // Started from the page: kept, like the CLI's starts.
      return tasks.find((t) => t.name === "api" && t.status === "running" && t.owner === "kept")
    })
  })

  it.for(["127.0.0.1", "::1"])(
    "where another user's program holds the project's port on %s, the page moves with a new token and says so",
    async (address, { skip }) => {
      if (address === "::1" && !(await hasIpv6())) return skip("no IPv6 here")
      // Another user's listener: as root, a child of uid 65534 (nobody); otherwise not to be had here.
      if (process.getuid?.() !== 0) return skip("only root can run a listener as another user")
      const elsewhere = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-web-squat-"))
      const paths = runtimePaths(elsewhere, { XDG_RUNTIME_DIR: runtime })
      const old = "1".repeat(64)
      writeFileSync(paths.token, `${old}\n`, { mode: 0o600 })
      const squatter = spawn("setpriv", [
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        process.execPath,
        "-e",
        `require("net").createServer().listen(${projectPort(paths.project)}, ${
          JSON.stringify(address)
        }, () => console.log("up"))`
      ], { stdio: ["ignore", "pipe", "inherit"] })
      await new Promise((resolve) => squatter.stdout.once("data", resolve))
      try {
        const printed = await builtCli(elsewhere, env)(["ui", "--print"])
        expect(printed.code, printed.stderr).toBe(0)
        expect(printed.stderr).toMatch(/port \d+ is taken by another program: .* with a new token/)
        const there = new URL(printed.stdout.trim())
        expect(there.port).not.toBe(String(projectPort(paths.project)))
        // A token a client gave the squatter opens nothing here.
        expect(there.searchParams.get("token")).not.toBe(old)
        expect((await send(there, { path: `/?token=${old}` })).status).toBe(401)
      } finally {
        squatter.kill()
        const c = await connectIfRunning(paths, "cli")
        c?.socket.destroy()
        if (c !== undefined) process.kill(c.welcome.pid, "SIGTERM")
      }
    }
  )

  it("where another project's page holds the project's port, the page keeps its token, moves, and stays on the port it took", async () => {
    const elsewhere = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-web-squat-"))
    const paths = runtimePaths(elsewhere, { XDG_RUNTIME_DIR: runtime })
    const old = "2".repeat(64)
    writeFileSync(paths.token, `${old}\n`, { mode: 0o600 })
    // This user's program on the port (as another project's page would be, its port derived the same).
    const squatter = net.createServer()
    await new Promise<void>((resolve) => squatter.listen(projectPort(paths.project), "127.0.0.1", resolve))
    const stop = async () => {
      const c = await connectIfRunning(paths, "cli")
      c?.socket.destroy()
      if (c !== undefined) {
        process.kill(c.welcome.pid, "SIGTERM")
        await until(() => (isAlive(c.welcome.pid) ? undefined : true))
      }
    }
    try {
      const printed = await builtCli(elsewhere, env)(["ui", "--print"])
      expect(printed.code, printed.stderr).toBe(0)
      expect(printed.stderr).toMatch(/port \d+ is taken by another program of yours .* with the same token/)
      const there = new URL(printed.stdout.trim())
      expect(there.port).not.toBe(String(projectPort(paths.project)))
      expect(there.searchParams.get("token")).toBe(old)
      await stop()
      // The next supervisor comes back to the port it took, the token the same: a configured address holds.
      squatter.close()
      const again = await builtCli(elsewhere, env)(["ui", "--print"])
      expect(again.stdout.trim()).toBe(printed.stdout.trim())
    } finally {
      squatter.close()
      await stop()
    }
  })

  it("a token file open to other users is not taken: the page gets a new random token, written 0600", async () => {
    const elsewhere = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-web-open-"))
    const paths = runtimePaths(elsewhere, { XDG_RUNTIME_DIR: runtime })
    const old = "3".repeat(64)
    writeFileSync(paths.token, `${old}\n`, { mode: 0o644 })
    try {
      const printed = await builtCli(elsewhere, env)(["ui", "--print"])
      expect(printed.code, printed.stderr).toBe(0)
      const fresh = new URL(printed.stdout.trim()).searchParams.get("token")!
      expect(fresh).toMatch(/^[0-9a-f]{64}$/)
      // Neither the one others could read, nor this listener's own (each is random).
      expect([fresh === old, fresh === token]).toEqual([false, false])
      expect(statSync(paths.token).mode & 0o777).toBe(0o600)
      expect(readFileSync(paths.token, "utf8").trim()).toBe(fresh)
    } finally {
      const c = await connectIfRunning(paths, "cli")
      c?.socket.destroy()
      if (c !== undefined) {
        process.kill(c.welcome.pid, "SIGTERM")
        await until(() => (isAlive(c.welcome.pid) ? undefined : true))
      }
    }
  })

  // Last: the page moves for it.
  it("ui --listen on another address moves the page there, token kept; a bad address leaves it where it is", async () => {
    const bad = await taskmux(["ui", "--print", "--listen", "203.0.113.1:1"])
    expect([bad.code, bad.stderr]).toEqual([1, expect.stringContaining("Cannot listen on 203.0.113.1:1")])
    expect(bad.stderr).toContain(
      "That is not an address of this machine: give one of its own, such as 127.0.0.1:8080 or [::1]:8080."
    )
    expect((await send(url, { path: `/?token=${token}` })).status).toBe(303)
    // Every interface, no port given: the project's own port, which the loopback listener held, and the
    // same token (it was taken for another program's, and the token file given a new one).
    const everywhere = await taskmux(["ui", "--print", "--listen", "0.0.0.0"])
    expect(everywhere.code, everywhere.stderr).toBe(0)
    expect(everywhere.stderr).not.toMatch(/taken by another program/)
    const wide = new URL(everywhere.stdout.trim())
    expect([wide.port, wide.searchParams.get("token")]).toEqual([url.port, token])
    expect((await send(url, { path: `/?token=${token}` })).status).toBe(303)
    const free = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as net.AddressInfo
        probe.close(() => resolve(port))
      })
    })
    const moved = await taskmux(["ui", "--print", "--listen", `127.0.0.1:${free}`])
    expect(moved.code, moved.stderr).toBe(0)
    const there = new URL(moved.stdout.trim())
    expect([there.port, there.searchParams.get("token")]).toEqual([String(free), token])
    expect((await send(there, { path: `/?token=${token}` })).status).toBe(303)
    await expect(send(url, { path: `/?token=${token}` })).rejects.toThrow(/ECONNREFUSED/)
  })
})
