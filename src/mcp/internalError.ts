/**
 * An unexpected failure as a client reads it. One has a cause a person can fix: taskmux's own files
 * replaced under a running server (an update, a rebuild), so that a part it loads when first needed
 * (the terminal emulator, the YAML parser) is gone or different.
 */
export const internalErrorMessage = (where: string, error: unknown): string => {
  const message = error instanceof Error ? error.message : String(error)
  const code = (error as { code?: unknown } | null)?.code
  return code === "ERR_MODULE_NOT_FOUND" || /^Cannot find module /.test(message)
    ? `taskmux was updated or rebuilt while this server ran (pid ${process.pid}), and a part it loads when ` +
      `first needed is gone (${message}). Restart it: reconnect the client; a shared supervisor ends by ` +
      `itself once no session is connected and no task runs, or end it now (kill ${process.pid}).`
    : `Internal error in ${where}: ${message}`
}
