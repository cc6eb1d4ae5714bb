/**
 * MCP over HTTP's times and limits: the idle time and the keep-alive period (each a test hook in the
 * environment, read when used), and what every answer and stream carries.
 */

/** TASKMUX_HTTP_* as a number of ms above 0, else the default. */
const positiveMs = (value: string | undefined, fallback: number) => {
  const ms = Number(value)
  return Number.isFinite(ms) && ms > 0 ? ms : fallback
}

/** A 2025-era session with no request and no open stream this long ends (its own tasks with it). */
export const idleMs = (env: NodeJS.ProcessEnv = process.env) => positiveMs(env.TASKMUX_HTTP_IDLE_MS, 10 * 60_000)

/**
 * An answer not ready this soon goes out as an event stream, with a comment this often while it is
 * awaited, and a stream says the same while quiet: Node's fetch (undici, under the SDKs, mcp-remote and
 * the Inspector) gives up on a response whose headers take 300 s, or whose body is silent that long.
 */
export const keepAliveMs = (env: NodeJS.ProcessEnv = process.env) => positiveMs(env.TASKMUX_HTTP_KEEPALIVE_MS, 20_000)

export const KEEP_ALIVE = ": taskmux is working on it\n\n"

/** The idle time as a sentence says it. */
export const idleText = (ms = idleMs()) =>
  ms >= 120_000 ? `${Math.round(ms / 60_000)} minutes` : `${Math.round(ms / 1000)} s`

/** On every answer (the transport's own headers win: an event stream says no-cache, no-transform). */
export const NO_STORE = { "cache-control": "no-store", "x-content-type-options": "nosniff" }

/** The largest POST body taken (send_input's own limit is 1 MiB). */
export const MAX_BODY = 4 * 1024 * 1024
