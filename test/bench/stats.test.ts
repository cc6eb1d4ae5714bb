import { assert, describe, it } from "@effect/vitest"
import { alternate, median, pairedRatio, percentile, verdict } from "../../bench/stats.ts"

describe("bench stats", () => {
  it("computes percentiles by interpolation", () => {
    assert.strictEqual(percentile([3, 1, 2], 50), 2)
    assert.strictEqual(percentile([1, 2, 3, 4], 50), 2.5)
    assert.strictEqual(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90), 9.1)
    assert.strictEqual(percentile([5], 99), 5)
    assert.isNaN(percentile([], 50))
    assert.strictEqual(median([10, 1, 100]), 10)
  })

  it("takes the median of per-pair ratios, so one noisy pair does not move it", () => {
    const pairs = [
      { subject: 110, baseline: 100 },
      { subject: 240, baseline: 200 }, // the whole machine was slow: both sides
      { subject: 500, baseline: 100 }, // one outlier
      { subject: 130, baseline: 100 }
    ]
    assert.closeTo(pairedRatio(pairs), 1.25, 1e-9) // ratios 1.1, 1.2, 5, 1.3
    assert.isNaN(pairedRatio([{ subject: 1, baseline: 0 }]))
  })

  it("alternates which side runs first", async () => {
    const order: Array<string> = []
    const pairs = await alternate(
      3,
      async () => (order.push("s"), 1),
      async () => (order.push("b"), 2)
    )
    assert.deepStrictEqual(order, ["s", "b", "b", "s", "s", "b"])
    assert.deepStrictEqual(pairs, [{ subject: 1, baseline: 2 }, { subject: 1, baseline: 2 }, {
      subject: 1,
      baseline: 2
    }])
  })

  it("judges a value against its goal", () => {
    assert.strictEqual(verdict(1.2, { atMost: 1.3 }), "✅")
    assert.strictEqual(verdict(1.4, { atMost: 1.3 }), "❌")
    assert.strictEqual(verdict(0.4, { atLeast: 0.5 }), "❌")
  })
})
