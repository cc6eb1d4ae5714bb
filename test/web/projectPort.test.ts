import * as fc from "fast-check"
import { describe, expect, it } from "vitest"
import { projectPort } from "../../src/web/projectPort.ts"

describe("projectPort", () => {
  it("is the same for a project at every start, and never in a system's ephemeral range", () => {
    fc.assert(fc.property(fc.string({ minLength: 1 }), (project) => {
      const port = projectPort(`/home/u/${project}`)
      expect(port).toBe(projectPort(`/home/u/${project}`))
      expect(port).toBeGreaterThanOrEqual(20_000)
      // Linux's ephemeral ports start at 32768 (macOS's and Windows' at 49152).
      expect(port).toBeLessThan(32_768)
    }))
  })
})
