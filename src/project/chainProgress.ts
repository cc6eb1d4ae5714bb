/**
 * What a chain's progress says it waits for (`waiting 2 s for "db" to become ready`), and what the CLI
 * reads back out of it: the tasks waited on were started, and a Ctrl-C names them as running on. Kept
 * together so that a new wording cannot leave the reader behind. Pure.
 */

/** `"db" to become ready`, `"migrate" to succeed`, `"build" to end`. */
export const waitingFor = (name: string, what: "end" | "succeed" | `become ${string}`) => `"${name}" to ${what}`

/** The tasks a progress message says a chain waits for. */
export const waitedOn = (message: string): Array<string> =>
  [...message.matchAll(/\bfor "([^"]+)" to (?:become \w+|succeed|end)\b/g)].map((match) => match[1]!)
