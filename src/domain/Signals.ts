/**
 * Signal names the tools accept. A fixed list (not `os.constants.signals`) so that the
 * JSON Schema shows the choices and a typo is refused with the list of valid names.
 */
import { Schema } from "effect"
import { constants } from "node:os"

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

/** A signal's number on this platform ("SIGTERM" → 15), any name `os.constants` knows. */
export const signalNumber = (name: string): number | undefined =>
  (constants.signals as Record<string, number | undefined>)[name]

/** Signal names by this platform's numbers, the first name of each (SIGABRT, not SIGIOT). */
const byNumber = new Map<number, string>()
for (const [name, n] of Object.entries(constants.signals)) if (!byNumber.has(n)) byNumber.set(n, name)

/** A signal's name on this platform (11 → "SIGSEGV"). */
export const signalOf = (n: number): string | undefined => byNumber.get(n)
