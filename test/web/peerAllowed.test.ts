/** Who the web listener serves by the peer's uid: the user, nobody unknown from loopback. */
import { describe, expect, it } from "vitest"
import { peerAllowed } from "../../src/web/peerAllowed.ts"

describe("peerAllowed", () => {
  it("serves this user, and anyone where there is no /proc to tell; refuses another uid, and an unknown loopback peer", () => {
    expect(peerAllowed(1000, 1000, "127.0.0.1")).toBe(true)
    expect(peerAllowed(null, 1000, "127.0.0.1")).toBe(true)
    expect(peerAllowed(1001, 1000, "127.0.0.1")).toBe(false)
    expect(peerAllowed(1001, 1000, "192.168.1.5")).toBe(false)
    // Not found in the tables: from another machine it is judged by its token; from loopback it is refused.
    expect(peerAllowed(undefined, 1000, "192.168.1.5")).toBe(true)
    for (const address of ["127.0.0.1", "127.5.5.5", "::1", "::ffff:127.0.0.1"]) {
      expect(peerAllowed(undefined, 1000, address), String(address)).toBe(false)
    }
  })
})
