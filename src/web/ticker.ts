/**
 * The pace of a viewer's live stream: brought up to date at most ten times a second, once something
 * changed, and never while its socket still holds what it was sent (a slow viewer is sent less, not a
 * queue that grows).
 */

/** How often a viewer's streams are brought up to date, at most. */
export const TICK_MS = 100
/** A viewer whose socket holds this much unsent is not sent more until it drains. */
export const MAX_UNSENT = 1024 * 1024

/** What the ticker reads of a response: how much it holds unsent, and when that drained. */
export interface Drainable {
  readonly writableLength: number
  readonly once: (event: "drain", listener: () => void) => unknown
}

/**
 * Brings `send` up to date at most every TICK_MS once marked, and not before the viewer has taken the
 * last (its socket drained). Armed by a mark, not an interval: a page left open on quiet tasks wakes
 * the supervisor for nothing.
 */
export const ticker = (response: Drainable, update: () => Promise<void>) => {
  let dirty = true
  let busy = false
  let stopped = false
  let last = 0
  let draining = false
  let timer: ReturnType<typeof setTimeout> | undefined
  const arm = () => {
    if (timer !== undefined || busy || draining || stopped || !dirty) return
    timer = setTimeout(fire, Math.max(0, last + TICK_MS - performance.now()))
  }
  const fire = () => {
    timer = undefined
    if (stopped) return
    if (response.writableLength > MAX_UNSENT) {
      draining = true
      response.once("drain", () => {
        draining = false
        arm()
      })
      return
    }
    dirty = false
    busy = true
    last = performance.now()
    update().catch(() => {}).finally(() => {
      busy = false
      arm()
    })
  }
  arm()
  return {
    mark: () => {
      dirty = true
      arm()
    },
    stop: () => {
      stopped = true
      clearTimeout(timer)
    }
  }
}
