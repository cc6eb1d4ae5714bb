/**
 * Node allocates a fresh buffer for every pipe read. A task that floods its stdout (`yes`)
 * turns them into garbage faster than V8 decides to collect it, and the server's RSS climbs
 * by 100 MB or more before a collection. A young-generation collection every 8 MiB of
 * output frees them at once and costs well under a millisecond.
 *
 * Just before it, output buffers copy out what they still hold of those read buffers
 * (`beforeCollection`), so that none survives two collections and is promoted: promoted
 * read buffers are freed only by full collections, and once they pile up V8 runs one every
 * few milliseconds (seen in 3 of 8 no-newline floods before, none after). At 16 MiB the
 * young garbage alone could reach V8's limit after a mid-flood full collection and start
 * the same cycle; at 8 MiB it did not in 10 runs.
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"

const EVERY_BYTES = 8 * 1024 * 1024

/** Made at the first 8 MiB, not at start-up: it creates a V8 context, a few milliseconds. */
const makeMinorGc = (): (() => void) | null => {
  try {
    v8.setFlagsFromString("--expose-gc")
    const gc = vm.runInNewContext("gc") as ((options: { type: "minor" }) => void) | undefined
    return gc === undefined ? null : () => gc({ type: "minor" })
  } catch {
    return null
  }
}

let minorGc: (() => void) | null | undefined
let sinceLast = 0
const hooks = new Set<() => void>()

/** Runs `hook` just before each collection (to let go of read buffers); returns its removal. */
export const beforeCollection = (hook: () => void): () => void => {
  hooks.add(hook)
  return () => hooks.delete(hook)
}

/** Counts bytes read from task pipes; collects the young generation when enough piled up. */
export const noteBytesRead = (bytes: number): void => {
  sinceLast += bytes
  if (sinceLast < EVERY_BYTES) return
  sinceLast = 0
  collectYoung()
}

/** Runs the hooks, then a young-generation collection (where Node allows one). */
export const collectYoung = (): void => {
  minorGc ??= makeMinorGc()
  if (minorGc === null) return
  for (const hook of hooks) hook()
  minorGc()
}
