/**
 * An unexpected failure as a client reads it. One has a cause a person can fix: taskmux's own files
 * replaced under a running server (an update, a rebuild), so that a part it loads when first needed
 * (the terminal emulator, the YAML parser) is gone or different.
 */
import { goneSinceStart } from "../loadOnce.ts"

export const internalErrorMessage = (where: string, error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  return goneSinceStart(error)
    ? `taskmux was updated or rebuilt while this server ran (pid ${process.pid}), and a part it loads when ` +
      `first needed is gone (${message}). Restart it: reconnect the client; a shared supervisor ends by ` +
      `itself once no session is connected and no task runs, or end it now (kill ${process.pid}).`
    : `Internal error in ${where}: ${message}`
}
