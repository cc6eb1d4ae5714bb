/** MCP over HTTP's idle time and keep-alive period from the environment, and the idle time as said. */
import { describe, expect, it } from "vitest"
import { idleMs, idleText, keepAliveMs } from "../../../src/web/mcpHttp/settings.ts"

describe("idleMs and keepAliveMs", () => {
  it("take a number of ms above 0, and their defaults (10 minutes, 20 s) for anything else", () => {
    expect(idleMs({})).toBe(600_000)
    expect(idleMs({ TASKMUX_HTTP_IDLE_MS: "4000" })).toBe(4000)
    expect(keepAliveMs({})).toBe(20_000)
    expect(keepAliveMs({ TASKMUX_HTTP_KEEPALIVE_MS: "500" })).toBe(500)
    for (const value of ["", "0", "-5", "soon", "Infinity"]) {
      expect(idleMs({ TASKMUX_HTTP_IDLE_MS: value }), value).toBe(600_000)
      expect(keepAliveMs({ TASKMUX_HTTP_KEEPALIVE_MS: value }), value).toBe(20_000)
    }
  })
})

describe("idleText", () => {
  it("says minutes from 2 minutes on, seconds below", () => {
    expect(idleText(600_000)).toBe("10 minutes")
    expect(idleText(120_000)).toBe("2 minutes")
    expect(idleText(119_000)).toBe("119 s")
    expect(idleText(4000)).toBe("4 s")
  })
})
