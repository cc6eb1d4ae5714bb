/** The benchmark must not rot: a --quick run completes and reports every figure. */
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"

const root = NodePath.resolve(import.meta.dirname, "../..")

describe("npm run bench -- --quick", () => {
  it("measures all seventeen workloads and saves them", () => {
    const table = execFileSync(process.execPath, [NodePath.join(root, "bench/run.ts"), "--quick"], {
      cwd: root,
      encoding: "utf8",
      // 86 s on a quiet run; 163 s on a loaded two-core machine.
      timeout: 480_000,
      stdio: ["ignore", "pipe", "ignore"]
    })
    expect(table).toMatch(/^\| # \| workload \| figure \| goal \| \|$/m)
    const saved = JSON.parse(readFileSync(NodePath.join(root, "bench/results/latest-quick.json"), "utf8")) as {
      quick: boolean
      rows: Array<{ n: number; figures: Record<string, number> }>
    }
    expect(saved.quick).toBe(true)
    expect(saved.rows.map((r) => r.n)).toEqual(Array.from({ length: 17 }, (_, i) => i + 1))
    for (const row of saved.rows) {
      for (const value of Object.values(row.figures)) expect(Number.isFinite(value), `row ${row.n}`).toBe(true)
    }
  }, 540_000)
})
