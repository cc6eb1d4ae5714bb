/**
 * Who may use the supervisor's web listener, decided per request before anything else: the listener's
 * own Host (DNS rebinding: a name that is not the listener's is refused), no foreign Origin (no CORS, no
 * cross-site request), and the supervisor's token, from the link the page was opened with (then an
 * HttpOnly, SameSite=Strict cookie scoped to the page's own path) or a header; a request that changes
 * something needs the header (the token, or the page's header token beside its cookie), so a cookie a
 * browser attaches by itself is never enough. MCP at `/mcp` takes the full token only, from
 * `Authorization: Bearer` (or `?token=` in its address, for clients that take nothing but a URL), never
 * from the cookie. Pure: the server applies what this answers.
 */
import { createHmac, timingSafeEqual } from "node:crypto"

export interface Tokens {
  /** Everything. */
  readonly full: string
  /** Looks only: derived from the full one, so it needs no file of its own. */
  readonly readOnly: string
}

export const tokensOf = (full: string): Tokens => ({
  full,
  readOnly: createHmac("sha256", full).update("taskmux read-only page").digest("hex")
})

/**
 * What a page holds for its header, in its HTML (where its scripts read it): derived from its token, and
 * good only beside that token's cookie, which is HttpOnly. So no script of a page ever holds a token that
 * works on its own (at /mcp, from another machine, after the cookie is gone).
 */
export const headerTokenOf = (token: string) => createHmac("sha256", token).update("taskmux page header").digest("hex")

export const COOKIE = "taskmux_token"
export const HEADER = "x-taskmux-token"

/**
 * Where a token's page lives: `/p/KEY/`, KEY derived from the token, and where its cookie is sent. A
 * browser sends a cookie of 127.0.0.1 to every port of it (any local server, another user's too); one
 * scoped to a path nobody can guess without the token reaches this listener's page only, and two
 * projects' pages (or a full and a read-only one) keep a cookie each.
 */
export const pagePath = (token: string) =>
  `/p/${createHmac("sha256", token).update("taskmux page path").digest("hex").slice(0, 24)}/`

export interface Request {
  readonly method: string
  readonly host: string | undefined
  readonly origin: string | undefined
  /** The Cookie header. */
  readonly cookie: string | undefined
  /** The token header (at /mcp, `Authorization: Bearer` too). */
  readonly header: string | undefined
  /** `?token=` on the page's own address, or on /mcp's. */
  readonly query: string | null
  /** It changes something (POST). */
  readonly changes: boolean
  /** A request to MCP at /mcp. */
  readonly mcp?: boolean
}

export type Verdict =
  | { readonly ok: true; readonly readOnly: boolean; readonly setCookie: string | undefined }
  | { readonly ok: false; readonly status: 401 | 403 | 421; readonly error: string }

/**
 * Host names a browser may use for the listener: its address, and localhost for a loopback one. A
 * listener on every interface (`--listen 0.0.0.0`) is reached by any of the machine's addresses: any
 * IP address with its port (`*:PORT`), never a DNS name other than localhost.
 */
export const hostsFor = (address: string, port: number): ReadonlySet<string> => {
  const bracketed = address.includes(":") ? `[${address}]` : address
  const names = new Set([`${bracketed}:${port}`])
  if (address === "127.0.0.1" || address === "::1" || address === "0.0.0.0" || address === "::") {
    names.add(`localhost:${port}`).add(`127.0.0.1:${port}`).add(`[::1]:${port}`)
  }
  if (address === "0.0.0.0" || address === "::") names.add(`*:${port}`)
  return names
}

const IP_HOST = /^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9a-f:.]+\]):(\d+)$/

/** The Host is one of the listener's names (an IP address, for a listener on every interface). */
const allowedHost = (host: string, hosts: ReadonlySet<string>) => {
  if (hosts.has(host)) return true
  const port = IP_HOST.exec(host)?.[1]
  return port !== undefined && hosts.has(`*:${port}`)
}

const same = (given: string | undefined | null, expected: string) =>
  typeof given === "string" && given.length === expected.length &&
  timingSafeEqual(Buffer.from(given), Buffer.from(expected))

const cookieValue = (cookie: string | undefined) =>
  cookie?.split(";").map((part) => part.trim()).find((part) => part.startsWith(`${COOKIE}=`))?.slice(COOKIE.length + 1)

/** Which token a value is: the full one, the read-only one, or none. */
const which = (tokens: Tokens, value: string | undefined | null): "full" | "readOnly" | undefined =>
  same(value, tokens.full) ? "full" : same(value, tokens.readOnly) ? "readOnly" : undefined

export const judge = (request: Request, tokens: Tokens, hosts: ReadonlySet<string>): Verdict => {
  if (request.host === undefined || !allowedHost(request.host.toLowerCase(), hosts)) {
    return {
      ok: false,
      status: 421,
      error: `Host ${JSON.stringify(request.host ?? "")} is not this listener (${[...hosts].join(", ")}).`
    }
  }
  // Scheme and host are case-insensitive: a browser sends them lowercased, but not every client does.
  if (request.origin !== undefined && request.origin.toLowerCase() !== `http://${request.host.toLowerCase()}`) {
    return { ok: false, status: 403, error: `Origin ${JSON.stringify(request.origin)} may not use this listener.` }
  }
  if (request.mcp === true) return judgeMcp(request, tokens)
  const fromCookie = which(tokens, cookieValue(request.cookie))
  const cookieToken = fromCookie === "full" ? tokens.full : fromCookie === "readOnly" ? tokens.readOnly : undefined
  const fromHeader = which(tokens, request.header) ??
    (cookieToken !== undefined && same(request.header, headerTokenOf(cookieToken)) ? fromCookie : undefined)
  const fromQuery = request.changes ? undefined : which(tokens, request.query)
  if (request.changes) {
    if (fromHeader === undefined) {
      return {
        ok: false,
        status: fromCookie === undefined ? 401 : 403,
        error: `A request that changes something needs the token in the ${HEADER} header.`
      }
    }
    return { ok: true, readOnly: fromHeader === "readOnly", setCookie: undefined }
  }
  const token = fromQuery ?? fromHeader ?? fromCookie
  if (token === undefined) {
    return { ok: false, status: 401, error: "No valid token: open the address taskmux ui printed." }
  }
  const value = token === "full" ? tokens.full : tokens.readOnly
  const setCookie = fromQuery === undefined
    ? undefined
    : `${COOKIE}=${value}; HttpOnly; SameSite=Strict; Path=${pagePath(value)}`
  return { ok: true, readOnly: token === "readOnly", setCookie }
}

/**
 * MCP at /mcp: every request, a GET of its stream as much as a POST, needs the full token (a client that
 * speaks MCP may start anything), from the header or the address. The cookie is never enough: a browser
 * sends it by itself.
 */
const judgeMcp = (request: Request, tokens: Tokens): Verdict => {
  const token = which(tokens, request.header) ?? which(tokens, request.query)
  if (token === undefined) {
    return {
      ok: false,
      status: 401,
      error: "MCP at /mcp needs the supervisor's token: send Authorization: Bearer TOKEN, with the token " +
        "taskmux ui prints (also in the project's .token file beside the supervisor's socket)."
    }
  }
  if (token === "readOnly") {
    return { ok: false, status: 403, error: "The read-only token cannot use /mcp: MCP can start and stop tasks." }
  }
  return { ok: true, readOnly: false, setCookie: undefined }
}
