import { sha256 } from "@noble/hashes/sha2.js"
import { utf8ToBytes } from "@noble/hashes/utils.js"
import * as fs from "node:fs"

/**
 * A port for the project, the same at every start: in 20000–32767, away from common dev servers' and
 * below every system's ephemeral range (Linux's starts at 32768, macOS's and Windows' at 49152), where
 * any outgoing connection's local port could take it and move the page to another port and token.
 * `attempt` > 0: the next ports to try, the same for the project each time, where its own is taken.
 * SHA-256 in plain JS, as for the socket's name (runtimePaths.ts): the supervisor loads this module at its
 * start (WebUi.ts), and node:crypto would cost that start about 9 ms, for a page most never open.
 */
export const projectPort = (project: string, attempt = 0): number => {
  const digest = sha256(utf8ToBytes(attempt === 0 ? project : `${project}\0${attempt}`))
  return 20_000 + new DataView(digest.buffer, digest.byteOffset).getUint32(0) % 12_768
}

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
