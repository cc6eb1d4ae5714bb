/**
 * The front that starts a supervisor gives it READY_FD (connect.ts), and waits for one line there once
 * it listens.
 */
import * as fs from "node:fs"
import { READY_FD } from "./connect.ts"

/**
 * READY_FD, if the front that started this process gave it one; taken out of `env` either way, before
 * any task could inherit it.
 */
export const takeReadyFd = (env: NodeJS.ProcessEnv = process.env): number | undefined => {
  const given = env.TASKMUX_READY_FD
  delete env.TASKMUX_READY_FD
  return given === String(READY_FD) ? READY_FD : undefined
}

/** Tells the front that started it (if one did: `fd`) that it listens: one line, then closed. */
export const sayReady = (fd: number | undefined): void => {
  if (fd === undefined) return
  try {
    fs.writeSync(fd, "ready\n")
    fs.closeSync(fd)
  } catch {
    // The front is gone: nobody is waiting.
  }
}
