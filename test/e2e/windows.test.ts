/**
 * On Windows (a preload makes `process.platform` say "win32"), taskmux says in one sentence on stderr
 * that it runs on Linux and macOS, and how to run it in WSL, before it starts anything: a client shows
 * its server's stderr, and a person the command's.
 */
import { spawnSync } from "node:child_process"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { serverEntry } from "./client.ts"

const preload = NodePath.resolve(import.meta.dirname, "../fixtures/asWindows.mjs")
const initialize = JSON.stringify({
  jsonrpc: "2.0",
  id: 1,
  method: "initialize",
  params: { protocolVersion: "2025-11-25", capabilities: {}, clientInfo: { name: "t", version: "1" } }
})

describe("on Windows", () => {
  it.each([["as an MCP server", []], ["as the command line", ["ps"]]])("says where it runs, %s", (_, args) => {
    const run = spawnSync(process.execPath, [serverEntry, ...args], {
      input: `${initialize}\n`,
      env: { ...process.env, NODE_OPTIONS: `--import ${preload}` },
      encoding: "utf8",
      timeout: 20_000
    })
    expect(run.status).toBe(1)
    expect(run.stdout).toBe("")
    expect(run.stderr).toMatch(/^taskmux runs on Linux and macOS, not on Windows: .* run it in WSL/)
    expect(run.stderr).toContain("wsl.exe")
  })
})
