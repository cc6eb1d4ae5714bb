import { createHash } from "node:crypto"
import * as fs from "node:fs"

/**
 * A port for the project, the same at every start: in 20000–32767, away from common dev servers' and
 * below every system's ephemeral range (Linux's starts at 32768, macOS's and Windows' at 49152), where
 * any outgoing connection's local port could take it and move the page to another port and token.
 * `attempt` > 0: the next ports to try, the same for the project each time, where its own is taken.
 */
export const projectPort = (project: string, attempt = 0): number =>
  20_000 + createHash("sha256").update(attempt === 0 ? project : `${project}\0${attempt}`).digest().readUInt32BE(0) %
    12_768

/** The file beside the token that remembers the port the page last listened on (`.port`). */
export const portFileOf = (tokenFile: string): string => tokenFile.replace(/\.token$/, "") + ".port"

/**
 * The port the project's page tries first: the one it listened on last (a project whose own port another
 * project's page held, the time it first listened, keeps the one it took then), else its own.
 */
export const preferredPort = (project: string, tokenFile: string): number => {
  try {
    const port = Number(fs.readFileSync(portFileOf(tokenFile), "utf8").trim())
    if (Number.isInteger(port) && port >= 20_000 && port < 32_768) return port
  } catch {
    // None yet.
  }
  return projectPort(project)
}
