/**
 * Signal names the tools accept. A fixed list (not `os.constants.signals`) so that the
 * JSON Schema shows the choices and a typo is refused with the list of valid names.
 */
import { Schema } from "effect"

export const signalNames = [
  "SIGTERM",
  "SIGINT",
  "SIGHUP",
  "SIGQUIT",
  "SIGKILL",
  "SIGUSR1",
  "SIGUSR2",
  "SIGSTOP",
  "SIGCONT",
  "SIGWINCH"
] as const

export const SignalName = Schema.Literals(signalNames)
export type SignalName = typeof SignalName.Type
