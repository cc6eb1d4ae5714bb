import * as fc from "fast-check"
import { createHash } from "node:crypto"
import { mkdtempSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { portFileOf, preferredPort, projectPort } from "../../src/web/projectPort.ts"

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

  it("is the port earlier versions chose (node:crypto's SHA-256), so a page's address stays the same", () => {
    fc.assert(fc.property(fc.string({ unit: "grapheme" }), fc.nat(20), (project, attempt) => {
      const digest = createHash("sha256").update(attempt === 0 ? project : `${project}\0${attempt}`).digest()
      expect(projectPort(project, attempt)).toBe(20_000 + digest.readUInt32BE(0) % 12_768)
    }))
  })

  it("keeps the port the page last took, only where a project's own port may be (not an ephemeral one, not 80)", () => {
    const dir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-port-"))
    const tokenFile = NodePath.join(dir, "p-0123456789ab.token")
    const own = projectPort("/home/u/p")
    writeFileSync(portFileOf(tokenFile), "24567\n")
    expect(preferredPort("/home/u/p", tokenFile)).toBe(24567)
    for (const kept of ["80", "0", "19999", "32768", "45000", "x"]) {
      writeFileSync(portFileOf(tokenFile), kept)
      expect(preferredPort("/home/u/p", tokenFile), kept).toBe(own)
    }
  })
})
