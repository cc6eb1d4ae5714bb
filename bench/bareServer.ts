/**
 * The baseline for protocol cost: a bare MCP SDK stdio server, unbundled, with one
 * trivial tool. What any Node MCP server pays before doing real work. With BENCH_ANSWERS
 * (CallToolResults as a JSON array) the tool gives the one its `answer` argument picks
 * instead: the same bytes as taskmux's answers, without taskmux's work. With BENCH_SPAWN, its
 * `start_task` spawns the command under /bin/sh (its own group, its pipes drained) and its `stop_task`
 * sends the group SIGTERM and answers at the shell's exit: the protocol and Node's spawn, nothing else.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js"
import { type ChildProcess, spawn } from "node:child_process"

const server = new Server({ name: "bare", version: "1.0.0" }, { capabilities: { tools: {} } })
server.setRequestHandler(ListToolsRequestSchema, () => ({
  tools: [{
    name: "echo",
    description: "Echo text",
    inputSchema: { type: "object", properties: { text: { type: "string" } } }
  }]
}))
const answers: Array<Record<string, unknown>> | undefined = process.env.BENCH_ANSWERS === undefined
  ? undefined
  : JSON.parse(process.env.BENCH_ANSWERS)
const children = new Map<string, { readonly child: ChildProcess; readonly exited: Promise<unknown> }>()
const spawner = async (name: string, args: Record<string, unknown>) => {
  const task = String(args.name)
  if (name === "start_task") {
    const child = spawn("/bin/sh", ["-c", String(args.command)], { detached: true, stdio: ["pipe", "pipe", "pipe"] })
    child.stdout!.on("data", () => {})
    child.stderr!.on("data", () => {})
    children.set(task, { child, exited: new Promise((resolve) => child.once("exit", resolve)) })
    await new Promise((resolve) => child.once("spawn", resolve))
    return { content: [{ type: "text" as const, text: `Started ${task} (pid ${child.pid})` }] }
  }
  const { child, exited } = children.get(task)!
  process.kill(-child.pid!, "SIGTERM")
  await exited
  children.delete(task)
  return { content: [{ type: "text" as const, text: `Stopped ${task}` }] }
}
server.setRequestHandler(CallToolRequestSchema, (request) =>
  process.env.BENCH_SPAWN !== undefined
    ? spawner(request.params.name, request.params.arguments ?? {})
    : answers === undefined
    ? { content: [{ type: "text", text: String(request.params.arguments?.text ?? "") }] }
    : { ...answers[Number(request.params.arguments?.answer ?? 0)] })
await server.connect(new StdioServerTransport())
process.stdin.on("end", () => process.exit(0))
