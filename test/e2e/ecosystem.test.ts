/**
 * Issue 6: a client nobody here wrote (the MCP Inspector's CLI), an older protocol
 * version, the packed npm package, the prompt, the size of tools/list, and the banner
 * for a person in a terminal.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { connect, serverEntry } from "./client.ts"

const root = NodePath.resolve(import.meta.dirname, "../..")
const inspector = NodePath.join(root, "node_modules/@modelcontextprotocol/inspector/clients/launcher/build/index.js")

/** Runs the Inspector in CLI mode against the built server and parses its JSON answer. */
const inspect = (args: Array<string>) => {
  const out = execFileSync(process.execPath, [inspector, "--cli", process.execPath, serverEntry, ...args], {
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, TASKMUX_LOG_DIR: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-insp-")) }
  })
  return JSON.parse(out) as Record<string, unknown>
}

/** Speaks raw JSON-RPC lines to a freshly launched server; resolves each answer by id. */
const rawSession = (entry: string) => {
  const child = spawn(process.execPath, [entry], { stdio: ["pipe", "pipe", "pipe"] })
  let buffered = ""
  const waiting = new Map<number, (message: Record<string, unknown>) => void>()
  child.stdout.on("data", (chunk: Buffer) => {
    buffered += chunk.toString()
    for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
      const message = JSON.parse(buffered.slice(0, nl)) as { id?: number }
      buffered = buffered.slice(nl + 1)
      if (message.id !== undefined) waiting.get(message.id)?.(message as Record<string, unknown>)
    }
  })
  let nextId = 1
  let stderr = ""
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
  const request = (method: string, params: unknown = {}) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = nextId++
      waiting.set(id, resolve)
      child.once("exit", (code) => reject(new Error(`server exited (${code}) before answering ${method}: ${stderr}`)))
      child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`)
    })
  const notify = (method: string) => child.stdin.write(`${JSON.stringify({ jsonrpc: "2.0", method })}\n`)
  const close = () =>
    new Promise<number | null>((resolve) => {
      child.once("exit", (code) => resolve(code))
      child.stdin.end()
    })
  return { request, notify, close }
}

describe("real clients", () => {
  it("the MCP Inspector CLI lists the tools and calls one", () => {
    const list = inspect(["--method", "tools/list"]) as { tools: Array<{ name: string }> }
    expect(list.tools.map((t) => t.name)).toContain("wait_for_task")
    const call = inspect([
      "--method",
      "tools/call",
      "--tool-name",
      "start_task",
      "--tool-arg",
      "command=echo inspected",
      "--tool-arg",
      "waitFor={\"pattern\":\"inspected\"}"
    ]) as { structuredContent: { matched: boolean; line: { text: string } } }
    expect(call.structuredContent).toMatchObject({ matched: true, line: { text: "inspected" } })
  }, 120_000)

  it("a client on an older protocol version (2024-11-05) is answered in it, and works", async () => {
    const session = rawSession(serverEntry)
    const init = await session.request("initialize", {
      protocolVersion: "2024-11-05",
      capabilities: {},
      clientInfo: { name: "old-client", version: "0.1" }
    }) as { result: { protocolVersion: string; serverInfo: { name: string } } }
    expect(init.result).toMatchObject({ protocolVersion: "2024-11-05", serverInfo: { name: "taskmux" } })
    session.notify("notifications/initialized")
    const list = await session.request("tools/list") as { result: { tools: Array<unknown> } }
    expect(list.result.tools).toHaveLength(10)
    const call = await session.request("tools/call", { name: "list_tasks", arguments: {} }) as {
      result: { content: Array<{ text: string }> }
    }
    expect(call.result.content[0]!.text).toBe("No tasks.")
    expect(await session.close()).toBe(0)
  })
})

describe("reads well to a model", () => {
  it("gives input schemas in the JSON Schema that every model provider takes: every node typed, no maps, no exclusive bounds", async () => {
    // Clients turn an input schema into their model's function declaration, and Gemini's (through Zed,
    // Continue, or the AI SDK before 4.0.43) takes a subset: an untyped enum or a schema-valued
    // additionalProperties fails the whole request, or drops the tool. The one union left is a port's
    // (a number or "any"), which Continue's converter for Gemini cannot take: the README says so.
    const s = await connect()
    try {
      const { tools } = await s.client.listTools()
      const problems: Array<string> = []
      const walk = (node: Record<string, unknown>, path: string) => {
        if (Array.isArray(node.enum) && typeof node.type !== "string") problems.push(`${path}: an enum without a type`)
        if (Array.isArray(node.type)) problems.push(`${path}: a type array`)
        for (const key of ["additionalProperties", "exclusiveMinimum", "exclusiveMaximum", "oneOf", "allOf", "$ref"]) {
          if (key in node) problems.push(`${path}: ${key}`)
        }
        if ("anyOf" in node && !path.endsWith(".port")) problems.push(`${path}: anyOf`)
        if (typeof node.type !== "string" && !("anyOf" in node)) problems.push(`${path}: no type`)
        for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>)) {
          walk(child, `${path}.${key}`)
        }
        if (typeof node.items === "object") walk(node.items as Record<string, unknown>, `${path}[]`)
        for (const [i, branch] of ((node.anyOf ?? []) as Array<Record<string, unknown>>).entries()) {
          walk(branch, `${path}|${i}`)
        }
      }
      for (const tool of tools) walk(tool.inputSchema, tool.name)
      expect(problems).toEqual([])
    } finally {
      await s.client.close()
    }
  })

  it("keeps the whole tools/list answer under 14.6 KB with its task support (issue 28) and what a model reads of it under 6.4 KB, every tool titled, its hints right for a client that applies MCP's defaults", async () => {
    const s = await connect()
    try {
      const list = await s.client.listTools()
      const bytes = Buffer.byteLength(JSON.stringify(list))
      // 14.0 KB before restart_task said how a run that ends at once ended, as start_task does; 14.3 KB
      // before start_task said a project task ran already, and stop_task what still needs what it stopped;
      // 14.27 KB once a tool whose every hint is the default carried no empty annotations; 14.42 KB once
      // read_output gave a screen's cursor and marked a line cut at the line limit.
      // 14.55 KB once every enum of an input schema said its type (Gemini's function declarations need it).
      expect(bytes).toBeLessThan(14_600)
      // What a model is given: the Anthropic and OpenAI tool formats carry a name, a description and an
      // input schema, not the output schema (that is for clients that check structuredContent).
      const forModel = list.tools.map(({ description, inputSchema, name }) => ({ name, description, inputSchema }))
      expect(Buffer.byteLength(JSON.stringify(forModel))).toBeLessThan(6_400)
      // What each tool does, as a client reads it: a hint left out means MCP's default.
      // What runs a command (or types into one) may do anything, anywhere: a client that approves
      // by these hints asks first. The rest only look at or end tasks.
      const closed = { openWorldHint: false }
      const expected: Record<
        string,
        { readOnlyHint: boolean; destructiveHint?: boolean; idempotentHint?: boolean; openWorldHint: boolean }
      > = {
        start_task: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
        stop_task: { readOnlyHint: false, destructiveHint: true, idempotentHint: true, ...closed },
        restart_task: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
        signal_task: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, ...closed },
        remove_task: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, ...closed },
        send_input: { readOnlyHint: false, destructiveHint: true, idempotentHint: false, openWorldHint: true },
        list_tasks: { readOnlyHint: true, ...closed },
        get_task: { readOnlyHint: true, ...closed },
        read_output: { readOnlyHint: true, ...closed },
        wait_for_task: { readOnlyHint: true, ...closed }
      }
      // Fields whose name, type, bounds and default already say what they are.
      const selfDescribed = new Set([
        "cwd",
        "notifyOnExit",
        "cols",
        "rows",
        "tail",
        "timestamps",
        "stream",
        "signal",
        "data"
      ])
      expect(list.tools.map((tool) => tool.name).sort()).toEqual(Object.keys(expected).sort())
      for (const tool of list.tools) {
        expect(tool.title).toBeTruthy()
        const effective = {
          readOnlyHint: false,
          destructiveHint: true,
          idempotentHint: false,
          openWorldHint: true,
          ...tool.annotations
        }
        expect(effective).toMatchObject(expected[tool.name]!)
        for (const [field, schema] of Object.entries(tool.inputSchema.properties ?? {})) {
          // A task's name says what it is; everything else is described unless its schema says it.
          if (field === "name" && tool.name !== "start_task") continue
          if (selfDescribed.has(field) && (!["cols", "rows"].includes(field) || tool.name === "start_task")) continue
          expect((schema as { description?: string }).description, `${tool.name}.${field}`).toBeTruthy()
        }
      }
    } finally {
      await s.client.close()
    }
  })

  it("gives the model the defaults this server's settings give, not the built-in ones", async () => {
    const s = await connect({}, ["--kill-grace-ms", "20000", "--read-max-bytes", "4096"])
    try {
      const { tools } = await s.client.listTools()
      const field = (tool: string, name: string) =>
        tools.find((t) => t.name === tool)!.inputSchema.properties![name] as { default?: unknown }
      expect(field("stop_task", "graceMs").default).toBe(20_000)
      expect(field("read_output", "maxBytes").default).toBe(4096)
    } finally {
      await s.client.close()
    }
  })

  it("offers a run-dev-server prompt that walks through start, wait, read and stop", async () => {
    const s = await connect()
    try {
      const { prompts } = await s.client.listPrompts()
      expect(prompts.map((p) => p.name)).toEqual(["run-dev-server"])
      const prompt = await s.client.getPrompt({ name: "run-dev-server", arguments: { command: "npm run dev" } })
      const text = (prompt.messages[0]!.content as { text: string }).text
      for (const step of ["start_task", "waitFor", "read_output", "since", "wait_for_task", "stop_task"]) {
        expect(text).toContain(step)
      }
      await expect(s.client.getPrompt({ name: "run-dev-server", arguments: {} })).rejects.toThrow(/needs a command/)
      // A ready pattern start_task would refuse is refused here, before a model is told to use it.
      await expect(s.client.getPrompt({ name: "run-dev-server", arguments: { command: "vite", ready: "(" } }))
        .rejects.toThrow(/params\.arguments\.ready is not a regex/)
    } finally {
      await s.client.close()
    }
  })
})

describe("installs like every MCP server", () => {
  it("npm pack holds only what it needs, and the packed server starts and answers on its own", async () => {
    const dir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-pack-"))
    const packed = JSON.parse(
      execFileSync("npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", dir], {
        cwd: root,
        encoding: "utf8",
        timeout: 60_000
      })
    ) as Array<{ files: Array<{ path: string }>; filename: string }>
    const files = packed[0]!.files.map((f) => f.path).sort()
    // The bundle (its entry, the server, and chunks loaded on demand), the built page, the docs, nothing else.
    expect(
      files.filter((f) => !/^dist\/chunks\/[\w-]+\.js$/.test(f) && !/^dist\/ui\/assets\/[\w-]+\.(js|css)$/.test(f))
    )
      .toEqual([
        "CHANGELOG.md",
        "LICENSE",
        "README.md",
        "dist/main.js",
        "dist/server.js",
        "dist/ui/app.html",
        "dist/ui/index.html",
        "package.json"
      ])
    execFileSync("tar", ["-xzf", NodePath.join(dir, readdirSync(dir).find((f) => f.endsWith(".tgz"))!), "-C", dir])
    // No node_modules beside it: the bundle carries everything it needs.
    const session = rawSession(NodePath.join(dir, "package/dist/main.js"))
    const init = await session.request("initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "pack-test", version: "1" }
    }) as { result: { serverInfo: { version: string } } }
    expect(init.result.serverInfo.version).toBe("0.1.0")
    session.notify("notifications/initialized")
    // Without its optional native module, a terminal task fails clearly and pipes still work.
    type Called = { result: { isError?: boolean; content: Array<{ text: string }> } }
    const terminal = await session.request("tools/call", {
      name: "start_task",
      arguments: { command: "echo hi", terminal: true }
    }) as Called
    expect(terminal.result.isError).toBe(true)
    expect(terminal.result.content[0]!.text).toMatch(
      /Terminal mode is unavailable on this server: the native module @lydell\/node-pty could not be loaded .*without npm's --omit=optional, brings it back\)\. Start the task without terminal/
    )
    const piped = await session.request("tools/call", {
      name: "start_task",
      arguments: { command: "echo hi", waitFor: { pattern: "hi" } }
    }) as Called
    expect(piped.result.isError).toBeUndefined()
    expect(piped.result.content[0]!.text).toMatch(/matched after/)
    expect(await session.close()).toBe(0)
  }, 120_000)

  it.each([
    ["alone (--isolated)", {}],
    ["as a front to the project's supervisor", {
      TASKMUX_ISOLATED: "false",
      XDG_RUNTIME_DIR: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-rt-")),
      TASKMUX_LINGER_MS: "100"
    }]
  ])("started by hand in a terminal, %s, it says on stderr what it is and how to add it to a client", (_, env) => {
    // `script` gives the server a real TTY on stdin; stdin then ends, and the server exits.
    const result = spawnSync("script", [
      "-qec",
      `${process.execPath} ${serverEntry} < /dev/tty & sleep 1; kill $!`,
      "/dev/null"
    ], {
      encoding: "utf8",
      timeout: 20_000,
      env: { ...process.env, ...env }
    })
    expect(result.stdout).toMatch(/taskmux \d+\.\d+\.\d+: an MCP server/)
    expect(result.stdout).toMatch(/claude mcp add taskmux -- /)
  })
})
