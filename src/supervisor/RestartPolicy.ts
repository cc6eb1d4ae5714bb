/**
 * When a task that ended by itself is started again, and after how long: the policy
 * (`no`, `on-failure`, `always`), a cap on restarts in a row, and an exponential backoff
 * with jitter as an Effect `Schedule`. A run that stayed up a while counts as healthy:
 * the backoff and the count start over.
 */
import { Duration, Effect, Schedule } from "effect"
import type { TaskStatus } from "../domain/Task.ts"

export interface RestartPolicy {
  readonly policy: "no" | "on-failure" | "always"
  readonly maxRestarts: number
  readonly backoffMs: number
  readonly maxBackoffMs: number
}

export const defaultPolicy: RestartPolicy = { policy: "no", maxRestarts: 5, backoffMs: 500, maxBackoffMs: 30_000 }

/** A run that stayed up this long resets the backoff and the restart count. */
export const HEALTHY_AFTER_MS = 10_000

export type Decision =
  | { readonly _tag: "Done" }
  | { readonly _tag: "GiveUp"; readonly reason: string }
  | { readonly _tag: "Restart"; readonly inARow: number; readonly resetBackoff: boolean }

/**
 * What follows a run: nothing (it was stopped, or the policy does not restart it), giving up
 * (too many restarts in a row), or another run, counted, with the backoff reset when the run
 * was healthy (stayed up long enough).
 */
export const decide = (
  policy: RestartPolicy,
  run: { readonly status: TaskStatus; readonly stopRequested: boolean; readonly uptimeMs: number },
  inARow: number
): Decision => {
  if (run.status === "failed" || run.stopRequested || !wantsRestart(policy, run.status)) return { _tag: "Done" }
  const healthy = run.uptimeMs >= HEALTHY_AFTER_MS
  const count = healthy ? 0 : inARow
  if (count >= policy.maxRestarts) {
    return {
      _tag: "GiveUp",
      reason: count === 0
        ? "not restarted: restart.maxRestarts is 0"
        : `gave up after ${count} restart${
          count === 1 ? "" : "s"
        } in a row (restart.maxRestarts is ${policy.maxRestarts})`
    }
  }
  return { _tag: "Restart", inARow: count + 1, resetBackoff: healthy }
}

/** Should a run that ended with `status` be followed by another? Never after a stop we asked for. */
export const wantsRestart = (policy: RestartPolicy, status: TaskStatus): boolean => {
  switch (policy.policy) {
    case "no":
      return false
    case "on-failure":
      return status === "crashed"
    case "always":
      return status === "crashed" || status === "exited"
  }
}

/**
 * The least wait between two runs, whatever the policy says: `backoffMs: 0` on a program that ends at
 * once would otherwise spin a core, and write a log file and an exit notification per run.
 */
export const MIN_BACKOFF_MS = 100

/** Delays between restarts: backoffMs, doubling, jittered (±20%), never above maxBackoffMs nor below MIN_BACKOFF_MS. */
export const backoff = (policy: RestartPolicy): Schedule.Schedule<Duration.Duration> =>
  Schedule.exponential(Duration.millis(Math.max(policy.backoffMs, MIN_BACKOFF_MS))).pipe(
    Schedule.jittered,
    Schedule.modifyDelay((meta) =>
      Effect.succeed(
        Duration.max(Duration.min(meta.duration, Duration.millis(policy.maxBackoffMs)), Duration.millis(MIN_BACKOFF_MS))
      )
    )
  )
