/**
 * The baseline for protocol cost: a bare MCP SDK stdio server, unbundled, with one
 * trivial tool. What any Node MCP server pays before doing real work. With BENCH_ANSWER
 * (a CallToolResult as JSON) the tool gives that answer instead: the same bytes as a
 * taskmux answer, without taskmux's work.
 */
import { Server } from "@modelcontextprotocol/sdk/server/index.js"
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js"
import { CallToolRequestSchema, ListToolsRequestSchema } from "@modelcontextprotocol/sdk/types.js"

const server = new Server({ name: "bare", version: "1.0.0" }, { capabilities: { tools: {} } })
server.setRequestHandler(ListToolsRequestSchema, () => ({
  tools: [{
    name: "echo",
    description: "Echo text",
    inputSchema: { type: "object", properties: { text: { type: "string" } } }
  }]
}))
const answer = process.env.BENCH_ANSWER === undefined ? undefined : JSON.parse(process.env.BENCH_ANSWER)
server.setRequestHandler(CallToolRequestSchema, (request) =>
  answer === undefined
    ? { content: [{ type: "text", text: String(request.params.arguments?.text ?? "") }] }
    : { ...answer })
await server.connect(new StdioServerTransport())
process.stdin.on("end", () => process.exit(0))
