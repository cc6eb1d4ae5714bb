/**
 * Keeps V8's young generation the size it has now (once the server's code is loaded: 4 MiB a half) in a
 * long-lived server or supervisor.
 *
 * By default the young generation doubles whenever much of it survives a scavenge, up to 16 MiB a half
 * (64 on a big machine), and never gives the memory back. Starting a hundred tasks at once does that
 * (each task's state is young and survives), and so does a flood that lasts: MBs of RSS then stay for
 * the process's life. Not growing, it promotes the same objects a little sooner instead; the floods and
 * bursts of `npm run bench` take as long. The growth factor is read at each growth, so setting it after
 * start-up works; an explicit choice (`NODE_OPTIONS=--max-semi-space-size=…`) wins.
 */
import * as v8 from "node:v8"

export const keepYoungGenerationSmall = (): void => {
  const chosen = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].some((arg) => arg.includes("semi-space"))
  if (!chosen) v8.setFlagsFromString("--semi-space-growth-factor=1")
}
