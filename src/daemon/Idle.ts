/**
 * When the supervisor has nothing to do: no session, no page open and no task running. Then it lingers
 * a moment (a reconnect finds it) and ends. The counts are kept by Node callbacks and fibers alike, on
 * the one thread: each change is followed by a `check`.
 */
import { Effect, type Scope } from "effect"

export interface Idle {
  /** Sessions served now. */
  readonly sessions: () => number
  /** Pages open (their live streams). */
  readonly viewers: () => number
  /** A session begins: it has come, whatever the linger had left. */
  readonly sessionStarted: () => void
  readonly sessionEnded: () => void
  readonly viewersChanged: (change: number) => void
  /** A page was just asked for (taskmux ui): its browser has a while to come. */
  readonly pageAsked: () => void
  /** Nothing connected and nothing running: `end` after the linger, unless someone comes. */
  readonly check: Effect.Effect<void>
}

/**
 * Before its first session it waits at least this long, whatever the linger: the front that started it
 * connects once it listens (and gives up after 10 s), and must find it there.
 */
const FIRST_SESSION_MS = 10_000
/** How long it waits for a page someone asked for (taskmux ui) to be opened. */
const PAGE_GRACE_MS = 60_000

/** How long a supervisor with nothing to do waits for a session before it ends. */
const LINGER_MS = 3_000
/** TASKMUX_LINGER_MS as a whole number of ms, 0 or more; undefined when it is not one. */
const lingerOf = (value: string | undefined) => {
  const ms = value === undefined || value.trim() === "" ? undefined : Number(value)
  return ms !== undefined && Number.isInteger(ms) && ms >= 0 ? ms : undefined
}

/**
 * `running`: the tasks running now; `lingerSetting`: TASKMUX_LINGER_MS (a bad one is said, and the
 * default waited); `end` is called once the linger passes with nothing to do.
 */
export const makeIdle = (options: {
  readonly running: Effect.Effect<{ readonly all: number }>
  readonly lingerSetting: string | undefined
  readonly end: () => void
}): Effect.Effect<Idle, never, Scope.Scope> =>
  Effect.gen(function*() {
    const { lingerSetting } = options
    const lingerMs = lingerOf(lingerSetting) ?? LINGER_MS
    if (lingerSetting !== undefined && lingerOf(lingerSetting) === undefined) {
      yield* Effect.logWarning(
        `TASKMUX_LINGER_MS=${lingerSetting}: expected a whole number of ms, 0 or more; waiting ${LINGER_MS} ms`
      )
    }
    let sessions = 0
    let viewers = 0
    let pageGraceUntil = 0
    let served = false
    const firstSessionBy = performance.now() + FIRST_SESSION_MS
    let linger: ReturnType<typeof setTimeout> | undefined
    yield* Effect.addFinalizer(() => Effect.sync(() => clearTimeout(linger)))
    return {
      sessions: () => sessions,
      viewers: () => viewers,
      sessionStarted: () => {
        sessions++
        served = true
        clearTimeout(linger)
      },
      sessionEnded: () => {
        sessions--
      },
      viewersChanged: (change) => {
        viewers += change
      },
      pageAsked: () => {
        pageGraceUntil = performance.now() + PAGE_GRACE_MS
      },
      check: Effect.flatMap(options.running, (running) =>
        Effect.sync(() => {
          clearTimeout(linger)
          const idle = sessions === 0 && viewers === 0 && running.all === 0
          const waitMs = Math.max(
            lingerMs,
            pageGraceUntil - performance.now(),
            served ? 0 : firstSessionBy - performance.now()
          )
          linger = idle ? setTimeout(options.end, waitMs) : undefined
        }))
    }
  })
