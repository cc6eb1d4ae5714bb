/**
 * The baseline for protocol cost: a bare MCP SDK stdio server, unbundled, with one
 * trivial tool. What any Node MCP server pays before doing real work. With BENCH_ANSWERS
 * (CallToolResults as a JSON array) the tool gives the one its `answer` argument picks
 * instead: the same bytes as taskmux's answers, without taskmux's work.
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
const answers: Array<Record<string, unknown>> | undefined = process.env.BENCH_ANSWERS === undefined
  ? undefined
  : JSON.parse(process.env.BENCH_ANSWERS)
server.setRequestHandler(CallToolRequestSchema, (request) =>
  answers === undefined
    ? { content: [{ type: "text", text: String(request.params.arguments?.text ?? "") }] }
    : { ...answers[Number(request.params.arguments?.answer ?? 0)] })
await server.connect(new StdioServerTransport())
process.stdin.on("end", () => process.exit(0))
