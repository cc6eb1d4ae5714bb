/** Who may use the web listener, decided alone: Host, Origin, token, and the header a change needs. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { headerTokenOf, hostsFor, judge, pagePath, type Request, tokensOf } from "../../src/web/guard.ts"

const tokens = tokensOf("a".repeat(64))
const hosts = hostsFor("127.0.0.1", 4321)
const base: Request = {
  method: "GET",
  host: "127.0.0.1:4321",
  origin: undefined,
  cookie: `taskmux_token=${tokens.full}`,
  header: undefined,
  query: null,
  changes: false
}

describe("judge", () => {
  it("lets the page in by its link (setting the cookie), then by the cookie; read-only by its own token", () => {
    expect(judge({ ...base, cookie: undefined, query: tokens.full }, tokens, hosts)).toEqual({
      ok: true,
      readOnly: false,
      setCookie: `taskmux_token=${tokens.full}; HttpOnly; SameSite=Strict; Path=${pagePath(tokens.full)}`
    })
    // Each token's page its own path, which only the token gives: a browser sends the cookie there only.
    expect(pagePath(tokens.full)).toMatch(/^\/p\/[0-9a-f]{24}\/$/)
    expect(pagePath(tokens.readOnly)).not.toBe(pagePath(tokens.full))
    expect(judge(base, tokens, hosts)).toEqual({ ok: true, readOnly: false, setCookie: undefined })
    expect(judge({ ...base, cookie: `x=1; taskmux_token=${tokens.readOnly}` }, tokens, hosts)).toMatchObject({
      ok: true,
      readOnly: true
    })
    expect(judge({ ...base, host: "localhost:4321", origin: "http://localhost:4321" }, tokens, hosts).ok).toBe(true)
  })

  it("a change needs the header: the cookie alone is 403, nothing at all 401", () => {
    const change = { ...base, method: "POST", changes: true }
    expect(judge(change, tokens, hosts)).toMatchObject({ ok: false, status: 403 })
    expect(judge({ ...change, cookie: undefined }, tokens, hosts)).toMatchObject({ ok: false, status: 401 })
    // A token in the address never authorises a change.
    expect(judge({ ...change, cookie: undefined, query: tokens.full }, tokens, hosts)).toMatchObject({ status: 401 })
    expect(judge({ ...change, header: tokens.full }, tokens, hosts)).toMatchObject({ ok: true, readOnly: false })
    expect(judge({ ...change, header: tokens.readOnly }, tokens, hosts)).toMatchObject({ ok: true, readOnly: true })
  })

  it("takes a page's header token (what its HTML holds) beside its cookie only: alone it is nothing", () => {
    const change = { ...base, method: "POST", changes: true }
    const pageHeader = headerTokenOf(tokens.full)
    expect(pageHeader).not.toBe(tokens.full)
    expect(judge({ ...change, header: pageHeader }, tokens, hosts)).toMatchObject({ ok: true, readOnly: false })
    const readOnlyPage = { ...change, cookie: `taskmux_token=${tokens.readOnly}` }
    expect(judge({ ...readOnlyPage, header: headerTokenOf(tokens.readOnly) }, tokens, hosts)).toMatchObject({
      ok: true,
      readOnly: true
    })
    // Without its cookie, or beside the other token's, or as a link's token, or at /mcp: refused.
    expect(judge({ ...change, cookie: undefined, header: pageHeader }, tokens, hosts)).toMatchObject({ status: 401 })
    expect(judge({ ...readOnlyPage, header: pageHeader }, tokens, hosts)).toMatchObject({ status: 403 })
    expect(judge({ ...base, cookie: undefined, query: pageHeader }, tokens, hosts)).toMatchObject({ status: 401 })
    expect(judge({ ...base, cookie: undefined, header: pageHeader, mcp: true }, tokens, hosts)).toMatchObject({
      status: 401
    })
  })

  it("any Host but the listener's is 421 and any Origin but its own 403, whatever the token", () => {
    fc.assert(fc.property(
      fc.domain(),
      fc.webUrl(),
      fc.constantFrom(tokens.full, tokens.readOnly),
      fc.boolean(),
      (name, origin, token, changes) => {
        const request = { ...base, header: token, cookie: `taskmux_token=${token}`, changes }
        expect(judge({ ...request, host: `${name}:4321` }, tokens, hosts)).toMatchObject({ ok: false, status: 421 })
        if (origin.toLowerCase() !== "http://127.0.0.1:4321") {
          expect(judge({ ...request, origin }, tokens, hosts)).toMatchObject({ ok: false, status: 403 })
        }
      }
    ))
    // Names are case-insensitive, in the Host and in the Origin alike.
    expect(judge({ ...base, host: "LOCALHOST:4321", origin: "http://LOCALHOST:4321" }, tokens, hosts).ok).toBe(true)
    expect(judge({ ...base, host: undefined }, tokens, hosts)).toMatchObject({ status: 421 })
    expect(judge({ ...base, host: "127.0.0.1:4322" }, tokens, hosts)).toMatchObject({ status: 421 })
    // On every interface: any of the machine's addresses, never a name.
    const everywhere = hostsFor("0.0.0.0", 4321)
    for (const host of ["192.168.1.5:4321", "[fe80::1]:4321", "localhost:4321"]) {
      expect(judge({ ...base, host, origin: `http://${host}` }, tokens, everywhere).ok, host).toBe(true)
    }
    for (const host of ["evil.example:4321", "192.168.1.5:4322", "0x7f.1:4321"]) {
      expect(judge({ ...base, host }, tokens, everywhere), host).toMatchObject({ status: 421 })
    }
  })

  it("the read-only token is the full one's own: another full token's read-only token is nothing here", () => {
    const other = tokensOf("b".repeat(64))
    expect(other.readOnly).not.toBe(tokens.readOnly)
    expect(tokens.readOnly).toMatch(/^[0-9a-f]{64}$/)
    expect(judge({ ...base, cookie: `taskmux_token=${other.readOnly}` }, tokens, hosts)).toMatchObject({ status: 401 })
  })

  it("a loopback listener takes only its own names, and an Origin must be its own exactly (scheme, host, port)", () => {
    // An address of the machine is for a listener on every interface only.
    for (const host of ["192.168.1.5:4321", "[fe80::1]:4321", "10.0.0.1:4321"]) {
      expect(judge({ ...base, host }, tokens, hosts), host).toMatchObject({ status: 421 })
    }
    // Near misses of its own origin: another scheme, a name that ends like it, a sandboxed frame's "null".
    for (const origin of ["https://127.0.0.1:4321", "http://x127.0.0.1:4321", "http://evil.127.0.0.1:4321", "null"]) {
      expect(judge({ ...base, origin }, tokens, hosts), origin).toMatchObject({ status: 403 })
    }
    // Case-insensitive however each is written.
    expect(judge({ ...base, host: "localhost:4321", origin: "HTTP://LOCALHOST:4321" }, tokens, hosts).ok).toBe(true)
  })

  it("a wrong token of any length is 401", () => {
    fc.assert(fc.property(fc.string(), (wrong) => {
      fc.pre(wrong !== tokens.full && wrong !== tokens.readOnly)
      expect(judge({ ...base, cookie: `taskmux_token=${wrong}` }, tokens, hosts)).toMatchObject({ status: 401 })
      expect(judge({ ...base, cookie: undefined, query: wrong }, tokens, hosts)).toMatchObject({ status: 401 })
    }))
  })
})

describe("judge at /mcp", () => {
  const mcp: Request = { ...base, method: "POST", cookie: undefined, changes: true, mcp: true }

  it("takes the full token from the header (Authorization: Bearer) or the address, for a change too", () => {
    expect(judge({ ...mcp, header: tokens.full }, tokens, hosts)).toEqual({
      ok: true,
      readOnly: false,
      setCookie: undefined
    })
    expect(judge({ ...mcp, query: tokens.full }, tokens, hosts)).toEqual({
      ok: true,
      readOnly: false,
      setCookie: undefined
    })
    expect(judge({ ...mcp, method: "GET", changes: false, header: tokens.full }, tokens, hosts).ok).toBe(true)
  })

  it("never the cookie, never the read-only token, nothing at all", () => {
    expect(judge({ ...mcp, cookie: `taskmux_token=${tokens.full}` }, tokens, hosts)).toMatchObject({ status: 401 })
    expect(judge(mcp, tokens, hosts)).toMatchObject({ ok: false, status: 401, error: expect.stringMatching(/Bearer/) })
    expect(judge({ ...mcp, header: tokens.readOnly }, tokens, hosts)).toMatchObject({ ok: false, status: 403 })
    expect(judge({ ...mcp, query: tokens.readOnly }, tokens, hosts)).toMatchObject({ ok: false, status: 403 })
    fc.assert(fc.property(fc.string(), (wrong) => {
      fc.pre(wrong !== tokens.full && wrong !== tokens.readOnly)
      expect(judge({ ...mcp, header: wrong }, tokens, hosts)).toMatchObject({ status: 401 })
      expect(judge({ ...mcp, query: wrong }, tokens, hosts)).toMatchObject({ status: 401 })
    }))
  })

  it("any Host but the listener's is 421 and any Origin but its own 403, whatever the token", () => {
    fc.assert(fc.property(fc.domain(), fc.webUrl(), (name, origin) => {
      const request = { ...mcp, header: tokens.full }
      expect(judge({ ...request, host: `${name}:4321` }, tokens, hosts)).toMatchObject({ ok: false, status: 421 })
      if (origin !== "http://127.0.0.1:4321") {
        expect(judge({ ...request, origin }, tokens, hosts)).toMatchObject({ ok: false, status: 403 })
      }
    }))
    expect(judge({ ...mcp, header: tokens.full, origin: "http://127.0.0.1:4321" }, tokens, hosts).ok).toBe(true)
  })
})
