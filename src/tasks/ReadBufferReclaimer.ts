/**
 * Node allocates a fresh 64 KiB buffer for every pipe read. A task that floods its stdout
 * (`yes`) turns them into garbage faster than V8 decides to collect it, and the server's
 * RSS climbs by 100 MB or more before a collection. A young-generation collection every
 * 16 MiB of output frees them at once and costs well under a millisecond.
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"

const EVERY_BYTES = 16 * 1024 * 1024

/** Made at the first 16 MiB, not at start-up: it creates a V8 context, a few milliseconds. */
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

/** Counts bytes read from task pipes; collects the young generation when enough piled up. */
export const noteBytesRead = (bytes: number): void => {
  sinceLast += bytes
  if (sinceLast < EVERY_BYTES) return
  sinceLast = 0
  minorGc ??= makeMinorGc()
  minorGc?.()
}
