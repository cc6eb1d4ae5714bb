/** A 2025-era session's idle end: one timer per quiet spell, on the monotonic clock. */
import { idleMs } from "./settings.ts"

/** A timer this late says the process was stopped; the sessions' requests queued meanwhile get this long to arrive. */
const LATE_MS = 1000
const RESUMED_GRACE_MS = 2000

/** What the idle end reads and keeps of a session (LegacySessions.ts). */
export interface Quiet {
  /** HTTP exchanges in progress (an open GET stream is one). */
  readonly open: number
  timer: ReturnType<typeof setTimeout> | undefined
  /** When its last exchange closed. */
  quietSince: number
  readonly ended: boolean
}

/**
 * With nothing open, the session ends after the idle time unless a request comes. One timer per quiet
 * spell, not one per request: when it fires early (a request came and went meanwhile) it waits the rest.
 */
export const armIdle = (session: Quiet, end: () => void) => {
  // The monotonic clock: a step of the wall clock ends no session that a request kept alive.
  session.quietSince = performance.now()
  if (session.timer !== undefined || session.ended) return
  const check = (wait: number) => {
    const due = performance.now() + wait
    session.timer = setTimeout(() => {
      session.timer = undefined
      if (session.open > 0) return // Its last exchange to close arms it again.
      // Far later than asked: this process was stopped (SIGSTOP, a debugger, a frozen cgroup). The requests
      // its clients sent meanwhile wait in its sockets, to be read after this timer: they come first.
      if (performance.now() - due > LATE_MS) return check(RESUMED_GRACE_MS)
      const left = session.quietSince + idleMs() - performance.now()
      if (left > 0) check(left)
      else end()
    }, wait)
    session.timer.unref()
  }
  check(idleMs())
}
