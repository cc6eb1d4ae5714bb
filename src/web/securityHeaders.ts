/**
 * What every answer of the web listener carries: a strict Content-Security-Policy and the headers that
 * keep the page out of frames, other origins and referrers; and the JSON error answer, with them.
 */
import type * as http from "node:http"

export const CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; " +
  "connect-src 'self'; img-src 'self' data:; font-src 'self'; base-uri 'none'; form-action 'none'; " +
  "frame-ancestors 'none'"

export const securityHeaders = {
  "Content-Security-Policy": CONTENT_SECURITY_POLICY,
  "X-Content-Type-Options": "nosniff",
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Cross-Origin-Opener-Policy": "same-origin",
  "Cross-Origin-Resource-Policy": "same-origin"
}

/** An error answer: `{ error }` as JSON, never cached. */
export const fail = (response: http.ServerResponse, status: number, error: string) => {
  response.writeHead(status, { ...securityHeaders, "Content-Type": "application/json", "Cache-Control": "no-store" })
  response.end(JSON.stringify({ error }))
}
