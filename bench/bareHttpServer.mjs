// An MCP server over HTTP that answers every request at once with a fixed answer, and prints its port:
// the floor of an HTTP call (bench row 16, and the timing note of test/web/mcpHttp.test.ts).
import * as http from "node:http"

const server = http.createServer((req, res) => {
  let body = ""
  req.on("data", (chunk) => (body += chunk))
  req.on("end", () => {
    const message = req.method === "POST" ? JSON.parse(body) : {}
    if (message.id === undefined) return res.writeHead(req.method === "POST" ? 202 : 405).end()
    const result = message.method === "initialize"
      ? { protocolVersion: "2025-11-25", capabilities: { tools: {} }, serverInfo: { name: "bare", version: "1" } }
      : { content: [{ type: "text", text: "No tasks." }], structuredContent: { tasks: [] } }
    const out = JSON.stringify({ jsonrpc: "2.0", id: message.id, result })
    res.writeHead(200, {
      "content-type": "application/json",
      "mcp-session-id": "s",
      "content-length": Buffer.byteLength(out)
    })
    res.end(out)
  })
})
server.listen(0, "127.0.0.1", () => console.log(server.address().port))
