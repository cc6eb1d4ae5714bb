/**
 * Issue 29: the task page as an MCP App (`ui://taskmux/tasks`), for clients that render apps (the
 * `io.modelcontextprotocol/ui` extension): linked from list_tasks and get_task, read as one HTML file
 * of the apps' MIME type that reaches nothing on its own. A client without the extension sees nothing new.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { mkdtempSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { connect, serverEntry } from "./client.ts"
import { connectModern } from "./modernClient.ts"

const UI = { "io.modelcontextprotocol/ui": { mimeTypes: ["text/html;profile=mcp-app"] } }

const connectRendering = async () => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverEntry],
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: os.tmpdir(),
      TASKMUX_LOG_DIR: mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-app-logs-")),
      TASKMUX_ISOLATED: "1"
    }
  })
  const client = new Client({ name: "app-host", version: "1" }, { capabilities: { extensions: UI } as never })
  await client.connect(transport)
  return client
}

describe("the MCP App", () => {
  it("is linked from list_tasks and get_task, and read as one self-contained HTML file", async () => {
    const client = await connectRendering()
    try {
      const tools = (await client.listTools()).tools
      const linked = tools.filter((t) => (t._meta as { ui?: { resourceUri?: string } } | undefined)?.ui?.resourceUri)
      expect(linked.map((t) => [t.name, (t._meta as { ui: { resourceUri: string } }).ui.resourceUri])).toEqual([
        ["list_tasks", "ui://taskmux/tasks"],
        ["get_task", "ui://taskmux/tasks"]
      ])
      const listed = (await client.listResources()).resources
      expect(listed).toContainEqual(
        expect.objectContaining({ uri: "ui://taskmux/tasks", mimeType: "text/html;profile=mcp-app" })
      )
      const read = await client.readResource({ uri: "ui://taskmux/tasks" })
      const content = read.contents[0] as { text: string; mimeType: string; _meta: unknown }
      expect(content.mimeType).toBe("text/html;profile=mcp-app")
      expect(content._meta).toEqual({ ui: { csp: { connectDomains: [], resourceDomains: [] }, prefersBorder: true } })
      // One file: its script and style inline, nothing fetched from anywhere.
      expect(content.text).toMatch(/^<!doctype html>/i)
      expect(content.text).toMatch(/<script[^>]*>[^<]{100,}/)
      expect(content.text).not.toMatch(/<script[^>]+src=|<link[^>]+href=/)
    } finally {
      await client.close()
    }
  })

  it("shows nothing new to a client without the extension, in either era", async () => {
    const old = await connect()
    const modern = await connectModern()
    try {
      for (const tools of [(await old.client.listTools()).tools, (await modern.client.listTools()).tools]) {
        expect(tools.filter((t) => t._meta !== undefined)).toEqual([])
      }
      expect((await old.client.listResources()).resources).toEqual([])
      expect((await modern.client.listResources()).resources).toEqual([])
    } finally {
      await old.client.close()
      await modern.client.close()
    }
  })
})
