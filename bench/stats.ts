/**
 * The benchmark's arithmetic, apart from any process so it is unit-tested: percentiles,
 * and ratios of paired samples (taskmux and its baseline measured alternately in the
 * same run, so a noisy machine slows both sides alike).
 */

/** The p-th percentile (0..100) by linear interpolation; NaN for no samples. */
export const percentile = (samples: ReadonlyArray<number>, p: number): number => {
  if (samples.length === 0) return Number.NaN
  const sorted = [...samples].sort((a, b) => a - b)
  const rank = (Math.min(Math.max(p, 0), 100) / 100) * (sorted.length - 1)
  const lo = Math.floor(rank)
  const hi = Math.ceil(rank)
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo)
}

export const median = (samples: ReadonlyArray<number>): number => percentile(samples, 50)

/**
 * The median of per-pair ratios subject/baseline: each pair was measured back to back,
 * so the ratio cancels what the machine was doing at that moment.
 */
export const pairedRatio = (pairs: ReadonlyArray<{ readonly subject: number; readonly baseline: number }>): number =>
  median(pairs.filter((p) => p.baseline > 0).map((p) => p.subject / p.baseline))

/** Runs `a` and `b` `reps` times, alternating which goes first, and pairs their results. */
export const alternate = async <A>(
  reps: number,
  subject: () => Promise<A>,
  baseline: () => Promise<A>
): Promise<Array<{ subject: A; baseline: A }>> => {
  const pairs: Array<{ subject: A; baseline: A }> = []
  for (let i = 0; i < reps; i++) {
    if (i % 2 === 0) {
      const s = await subject()
      pairs.push({ subject: s, baseline: await baseline() })
    } else {
      const b = await baseline()
      pairs.push({ subject: await subject(), baseline: b })
    }
  }
  return pairs
}

/** "✅" when `value` meets the goal (at most, or at least), else "❌". */
export const verdict = (value: number, goal: { readonly atMost?: number; readonly atLeast?: number }): string =>
  (goal.atMost === undefined || value <= goal.atMost) && (goal.atLeast === undefined || value >= goal.atLeast)
    ? "✅"
    : "❌"
