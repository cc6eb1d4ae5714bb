import { createHash } from "node:crypto"

/** A port for the project, the same at every start: in 20000–39999, away from common dev servers'. */
export const projectPort = (project: string): number =>
  20_000 + createHash("sha256").update(project).digest().readUInt32BE(0) % 20_000
