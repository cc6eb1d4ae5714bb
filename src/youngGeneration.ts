/**
 * Keeps V8's young generation at its starting size in a long-lived server or supervisor.
 *
 * By default the young generation doubles whenever much of it survives a scavenge, up to 16 MB, and
 * never gives the memory back. Starting a hundred tasks at once does that (each task's state is young
 * and survives), and about 10 MB of RSS then stays for the process's life. Kept at its starting
 * size, the same objects are promoted a little sooner instead. The growth factor is read at each
 * growth, so setting it now works; an explicit choice (`NODE_OPTIONS=--max-semi-space-size=…`) wins.
 */
import * as v8 from "node:v8"

export const keepYoungGenerationSmall = (): void => {
  const chosen = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].some((arg) => arg.includes("semi-space"))
  if (!chosen) v8.setFlagsFromString("--semi-space-growth-factor=1")
}
