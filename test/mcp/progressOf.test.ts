import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { progressOf } from "../../src/mcp/Tool.ts"

describe("a wait's progress", () => {
  it("counts seconds to a tenth, always more than the last, with no float noise", () => {
    const seen: Array<number> = []
    const report = progressOf({ progress: (progress) => Effect.sync(() => void seen.push(progress)) }, 30_000)!
    for (const elapsedMs of [0, 0, 0, 2_000, 2_000, 2_049]) Effect.runSync(report(elapsedMs, undefined))
    expect(seen).toEqual([0.1, 0.2, 0.3, 2, 2.1, 2.2])
  })
})
