import { createHash } from "node:crypto"

/**
 * A port for the project, the same at every start: in 20000–32767, away from common dev servers' and
 * below every system's ephemeral range (Linux's starts at 32768, macOS's and Windows' at 49152), where
 * any outgoing connection's local port could take it and move the page to another port and token.
 */
export const projectPort = (project: string): number =>
  20_000 + createHash("sha256").update(project).digest().readUInt32BE(0) % 12_768
