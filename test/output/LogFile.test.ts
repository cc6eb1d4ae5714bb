/** The log file copies what it is given (the read buffer is reused) and writes every byte up to its cap. */
import { Effect } from "effect"
import fc from "fast-check"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { LogFile } from "../../src/output/LogFile.ts"

const dir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-logfile-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("LogFile", () => {
  it("holds every byte of chunks that are overwritten as soon as they are written, across many slabs", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 300_000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 255 }),
        async (sizes, seed) => {
          const log = LogFile.open(dir, "t", 1 << 30)
          const reused = Buffer.alloc(300_000)
          const expected: Array<Buffer> = []
          let n = seed
          for (const size of sizes) {
            for (let i = 0; i < size; i++) reused[i] = n = (n * 31 + 7) & 0xff
            const chunk = reused.subarray(0, size)
            expected.push(Buffer.from(chunk))
            log.write(chunk)
            reused.fill(0x58)
            // Now and then, let a write finish while more comes.
            if (size % 3 === 0) await new Promise((resolve) => setImmediate(resolve))
          }
          await Effect.runPromise(log.close)
          expect(readFileSync(log.stats().path).equals(Buffer.concat(expected))).toBe(true)
        }
      ),
      { numRuns: 30 }
    )
  })

  it("is named for its task, its time, this server's pid and its run: supervisors of two projects share the directory", async () => {
    const log = LogFile.open(dir, "web", 1 << 20)
    await Effect.runPromise(log.close)
    expect(NodePath.basename(log.stats().path)).toMatch(new RegExp(`^web-\\d{8}T\\d{6}Z-${process.pid}-\\d+\\.log$`))
  })
})
