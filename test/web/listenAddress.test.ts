import { describe, expect, it } from "vitest"
import { listenAddress } from "../../src/web/listenAddress.ts"

describe("--listen as the listener takes it", () => {
  it("is loopback and a port of the system's choosing by default; an address, with or without a port", () => {
    expect(listenAddress(undefined)).toEqual({ host: "127.0.0.1", port: 0 })
    expect(listenAddress("0.0.0.0:8080")).toEqual({ host: "0.0.0.0", port: 8080 })
    expect(listenAddress("[::1]:8080")).toEqual({ host: "::1", port: 8080 })
    expect(listenAddress("localhost")).toEqual({ host: "localhost", port: 0 })
  })

  it("takes a port alone (8766, :8766) as a port on loopback, not a host named 8766", () => {
    expect(listenAddress("8766")).toEqual({ host: "127.0.0.1", port: 8766 })
    expect(listenAddress(":8766")).toEqual({ host: "127.0.0.1", port: 8766 })
    expect(listenAddress("65535")).toEqual({ host: "127.0.0.1", port: 65535 })
  })

  it("refuses what is none, naming what would be right", () => {
    for (const bad of ["bogus:x", ""]) {
      expect(listenAddress(bad)).toMatch(/^--listen takes an address and an optional port/)
    }
    // A port out of range is said as that, not as a wrong form.
    for (const bad of ["127.0.0.1:99999", "99999", "65536", "[::1]:65536"]) {
      expect(listenAddress(bad)).toMatch(/: a port is 1 to 65535 \(or 0, the system's choice\)\.$/)
    }
  })
})
