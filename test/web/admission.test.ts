/** Each request's admission, decided alone: the guard's verdict, one-time tickets, /mcp's refusals, a page's own path. */
import { describe, expect, it } from "vitest"
import { admission } from "../../src/web/admission.ts"
import { hostsFor, pagePath, tokensOf } from "../../src/web/guard.ts"

const tokens = tokensOf("b".repeat(64))
const hosts = hostsFor("127.0.0.1", 4321)
const base = "http://listener"
const get = (headers: Record<string, string> = {}) => ({
  method: "GET",
  headers: { host: "127.0.0.1:4321", ...headers }
})

describe("admission", () => {
  it("lets a one-time ticket in once, for its own page; the second time it says the link was used", () => {
    const { admit, ticket } = admission(tokens)
    const url = new URL(`/?ticket=${ticket(true)}`, base)
    expect(admit(get(), url, hosts)).toEqual({
      ok: true,
      readOnly: true,
      token: tokens.readOnly,
      setCookie: `taskmux_token=${tokens.readOnly}; HttpOnly; SameSite=Strict; Path=${pagePath(tokens.readOnly)}`,
      mcp: false,
      changes: false,
      path: "/"
    })
    expect(admit(get(), url, hosts)).toEqual({
      ok: false,
      status: 401,
      error: "This one-time link was used already, or is over 3 minutes old: run taskmux ui again.",
      headers: {}
    })
  })

  it("tells a client that looks for OAuth there is none; /mcp without the token is asked for a Bearer", () => {
    const { admit } = admission(tokens)
    expect(admit(get(), new URL("/.well-known/oauth-protected-resource/mcp", base), hosts)).toMatchObject({
      ok: false,
      status: 404,
      error: expect.stringMatching(/^taskmux has no OAuth: MCP at \/mcp takes the supervisor's token/),
      headers: {}
    })
    expect(admit({ method: "POST", headers: get().headers }, new URL("/mcp", base), hosts)).toMatchObject({
      ok: false,
      status: 401,
      headers: { "WWW-Authenticate": `Bearer realm="taskmux"` }
    })
    expect(admit(get({ authorization: `Bearer ${tokens.readOnly}` }), new URL("/mcp", base), hosts))
      .toMatchObject({ ok: false, status: 403, headers: {} })
    expect(admit(get({ authorization: `bearer  ${tokens.full} ` }), new URL("/mcp", base), hosts))
      .toMatchObject({ ok: true, mcp: true, readOnly: false, path: "/mcp" })
    // The Bearer is /mcp's alone: the page's API takes its own header.
    expect(admit(get({ authorization: `Bearer ${tokens.full}` }), new URL("/api/ping", base), hosts))
      .toMatchObject({ ok: false, status: 404 })
  })

  it("tells an MCP client at another address (`/mcp/`) where MCP is, not that its POST lacks the page's header", () => {
    const { admit } = admission(tokens)
    const post = (headers: Record<string, string>) => ({ method: "POST", headers: { ...get().headers, ...headers } })
    for (const path of ["/mcp/", "/MCP", "/api/mcp"]) {
      for (const request of [post({ authorization: `Bearer ${tokens.full}` }), get({ authorization: "Bearer nope" })]) {
        expect(admit(request, new URL(path, base), hosts), path).toEqual({
          ok: false,
          status: 404,
          error: `Nothing is served at ${path} for Authorization: Bearer: MCP is at /mcp.`,
          headers: {}
        })
      }
    }
    // Without a Bearer, the page's refusals as before; a foreign Host or Origin is refused first.
    expect(admit(post({}), new URL("/mcp/", base), hosts)).toMatchObject({ ok: false, status: 401 })
    expect(
      admit(
        post({ authorization: `Bearer ${tokens.full}`, origin: "https://evil.example" }),
        new URL("/mcp/", base),
        hosts
      )
    )
      .toMatchObject({ ok: false, status: 403 })
  })

  it("serves a page's path to its own token only, and gives the path from there", () => {
    const { admit } = admission(tokens)
    const cookie = { cookie: `taskmux_token=${tokens.full}` }
    expect(admit(get(cookie), new URL(`${pagePath(tokens.full)}assets/index.js`, base), hosts)).toMatchObject({
      ok: true,
      readOnly: false,
      token: tokens.full,
      setCookie: undefined,
      path: "/assets/index.js"
    })
    expect(admit(get(cookie), new URL(`${pagePath(tokens.readOnly)}`, base), hosts)).toEqual({
      ok: false,
      status: 401,
      error: "No valid token for this page: open the address taskmux ui printed.",
      headers: {}
    })
    expect(admit(get(cookie), new URL("/p/0123456789abcdef01234567/", base), hosts)).toEqual({
      ok: false,
      status: 404,
      error: "No page here: open the address taskmux ui printed.",
      headers: {}
    })
    expect(admit(get({ ...cookie, host: "evil.example:4321" }), new URL("/", base), hosts))
      .toMatchObject({ ok: false, status: 421 })
  })

  it("a POST changes something: it needs the token's header, and says so", () => {
    const { admit } = admission(tokens)
    const post = (headers: Record<string, string>) => ({ method: "POST", headers: { ...get().headers, ...headers } })
    expect(admit(post({ "x-taskmux-token": tokens.full }), new URL("/api/call", base), hosts))
      .toMatchObject({ ok: true, changes: true, readOnly: false, path: "/api/call" })
    expect(admit(post({ cookie: `taskmux_token=${tokens.full}` }), new URL("/api/call", base), hosts))
      .toMatchObject({ ok: false, status: 403 })
  })
})
