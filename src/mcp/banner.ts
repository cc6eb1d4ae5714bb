/** For a person who started taskmux by hand in a terminal: what this is and how to use it (on stderr). */
import packageJson from "../../package.json" with { type: "json" }
import { supervisorNode } from "../daemon/connect.ts"

export const banner = () =>
  `taskmux ${packageJson.version}: an MCP server. It speaks JSON-RPC on stdin/stdout and is meant to be
started by an MCP client. Add it to one, for example:
  claude mcp add taskmux -- ${supervisorNode()} ${process.argv[1] ?? "dist/main.js"}
Waiting for a client on stdin (Ctrl-C or Ctrl-D to quit). taskmux --help lists the options; taskmux ps
lists the project's tasks.
`
