/**
 * Each request's admission, before anything is served: what guard.ts judges (Host, Origin, the token
 * from the header, the cookie, the address or a one-time ticket), and whether a page's path is the
 * page of the token it came with; a refusal with its status and what to tell the person. Pure but for
 * the tickets, which are taken once.
 */
import type * as http from "node:http"
import { HEADER, judge, pagePath, type Tokens } from "./guard.ts"
import { ticketBook } from "./ticketBook.ts"

/** How long a browser the CLI starts has to open its one-time address. */
const TICKET_MS = 3 * 60_000

/** OAuth's discovery and registration (RFC 9728, RFC 8414, OpenID, RFC 7591), which taskmux does not offer. */
const OAUTH_PATH = /^\/(?:\.well-known\/(?:oauth-|openid-)|mcp\/\.well-known\/|register$|token$|authorize$)/
const NO_OAUTH = "taskmux has no OAuth: MCP at /mcp takes the supervisor's token as Authorization: Bearer TOKEN " +
  "(taskmux ui --print prints it; the project's .token file beside the supervisor's socket holds it). A token " +
  "from before that file was deleted no longer works."

/** `Authorization: Bearer TOKEN`, as MCP clients send their token. */
const BEARER = /^Bearer +(\S+)\s*$/i

export type Admission =
  | {
    readonly ok: true
    readonly readOnly: boolean
    /** The token it came with: the page's own (read-only or full). */
    readonly token: string
    readonly setCookie: string | undefined
    /** A request to MCP at /mcp. */
    readonly mcp: boolean
    /** It changes something (POST). */
    readonly changes: boolean
    /** The path asked for, from the page's own path (`/p/KEY/`) when it came by one. */
    readonly path: string
  }
  | {
    readonly ok: false
    readonly status: number
    readonly error: string
    /** Headers the refusal carries besides the usual ones. */
    readonly headers: Readonly<Record<string, string>>
  }

/** Whether a request is let in, by the listener's host names. */
export type Admit = (
  request: Pick<http.IncomingMessage, "method" | "headers">,
  url: URL,
  hosts: ReadonlySet<string>
) => Admission

export const admission = (
  tokens: Tokens
): { readonly ticket: (readOnly: boolean) => string; readonly admit: Admit } => {
  /** One-time tickets for a browser the CLI opens: the token itself never goes on a command line. */
  const tickets = ticketBook(TICKET_MS)
  const ticketToken = (ticket: string | null) => {
    const readOnly = tickets.take(ticket)
    return readOnly === undefined ? null : readOnly ? tokens.readOnly : tokens.full
  }
  /** Each page's path, and whether it is the read-only one. */
  const pages = new Map([[pagePath(tokens.full), false], [pagePath(tokens.readOnly), true]])

  const refused = (status: number, error: string, headers: Record<string, string> = {}): Admission => ({
    ok: false,
    status,
    error,
    headers
  })

  return {
    /** A ticket for the page (read-only or not), good once, within TICKET_MS. */
    ticket: (readOnly: boolean) => tickets.issue(readOnly),
    admit: (request, url, hosts) => {
      const changes = request.method === "POST"
      const mcp = url.pathname === "/mcp"
      const bearer = BEARER.exec(mcp ? request.headers.authorization ?? "" : "")?.[1]
      // The page lives under its token's path (see pagePath); the rest of the API is reached with the header.
      const page = /^\/p\/[0-9a-f]+\//.exec(url.pathname)?.[0]
      const verdict = judge(
        {
          method: request.method ?? "GET",
          host: request.headers.host,
          origin: request.headers.origin,
          cookie: request.headers.cookie,
          header: bearer ?? (typeof request.headers[HEADER] === "string" ? request.headers[HEADER] : undefined),
          query: url.pathname === "/"
            ? url.searchParams.has("ticket")
              ? ticketToken(url.searchParams.get("ticket"))
              : url.searchParams.get("token")
            : mcp
            ? url.searchParams.get("token")
            : null,
          changes,
          mcp
        },
        tokens,
        hosts
      )
      if (!verdict.ok) {
        // A client refused at /mcp (a token from before the .token file was deleted) that looks for OAuth,
        // as mcp-remote and the Inspector do: told there is none and what /mcp takes, not the page's 401
        // about a header it never heard of.
        if (verdict.status === 401 && OAUTH_PATH.test(url.pathname)) return refused(404, NO_OAUTH)
        // A Bearer is /mcp's alone: one sent elsewhere (`/mcp/`, a mistyped path) is an MCP client at the
        // wrong address, told where MCP is, not a 401 about the page's header that sends it to look for OAuth.
        if (verdict.status === 401 && !mcp && BEARER.test(request.headers.authorization ?? "")) {
          return refused(404, `Nothing is served at ${url.pathname} for Authorization: Bearer: MCP is at /mcp.`)
        }
        // The link `taskmux ui` gave a browser works once: said so, rather than to open an address it never printed.
        const usedTicket = url.pathname === "/" && url.searchParams.has("ticket") && verdict.status === 401
        return refused(
          verdict.status,
          usedTicket
            ? `This one-time link was used already, or is over ${TICKET_MS / 60_000} minutes old: run taskmux ui again.`
            : verdict.error,
          mcp && verdict.status === 401 ? { "WWW-Authenticate": `Bearer realm="taskmux"` } : {}
        )
      }
      if (page !== undefined && !pages.has(page)) {
        return refused(404, "No page here: open the address taskmux ui printed.")
      }
      if (page !== undefined && pages.get(page) !== verdict.readOnly) {
        return refused(401, "No valid token for this page: open the address taskmux ui printed.")
      }
      return {
        ok: true,
        readOnly: verdict.readOnly,
        token: verdict.readOnly ? tokens.readOnly : tokens.full,
        setCookie: verdict.setCookie,
        mcp,
        changes,
        path: page === undefined ? url.pathname : url.pathname.slice(page.length - 1)
      }
    }
  }
}
