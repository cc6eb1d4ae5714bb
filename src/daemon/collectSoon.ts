/**
 * A memory-reducing collection once sessions stop ending for a few seconds: V8 keeps the heap a busy
 * session grew to, and a supervisor that served a thousand conversations sat at 1.5 to 2.3 times the
 * memory its live data needs. A plain gc() keeps that heap reserved; the "last-resort" flavour gives it
 * back (150 MB to 92 after 300 sessions). The collector is asked for here, not with --expose-gc at the
 * start: that flag costs Node its startup snapshot, 40 ms of every supervisor's cold start.
 */
import * as v8 from "node:v8"
import * as vm from "node:vm"

/** How long after the last session ended the supervisor collects its garbage (a burst of ends: once)… */
const COLLECT_AFTER_MS = 5_000
/** …and how long sessions that never stop ending may put it off. */
const COLLECT_WITHIN_MS = 60_000

// The process's own: one heap, whichever supervisor asks.
let collecting: ReturnType<typeof setTimeout> | undefined
let firstEnd: number | undefined
let gc: ((options: object) => void) | undefined

export const collectSoon = (): void => {
  const now = performance.now()
  firstEnd ??= now
  if (collecting !== undefined) {
    if (now - firstEnd >= COLLECT_WITHIN_MS) return
    clearTimeout(collecting)
  }
  collecting = setTimeout(() => {
    collecting = undefined
    firstEnd = undefined
    if (gc === undefined) {
      v8.setFlagsFromString("--expose-gc")
      gc = vm.runInNewContext("gc") as (options: object) => void
    }
    gc({ type: "major", execution: "sync", flavor: "last-resort" })
  }, COLLECT_AFTER_MS)
  collecting.unref()
}
