/**
 * The page's Backend over the supervisor's HTTP API: GET /api/events and /api/output (Server-Sent
 * Events, authenticated by the cookie) and POST /api/call (with the token from the page's meta tag).
 * Streams that fail reconnect with a growing delay (0.5 s doubling to 10 s, with jitter).
 */
import type { Backend, CallToolResult, OutputLine, TasksSnapshot } from "./backend.ts"
import { connectionState, errorResult } from "./backend.ts"

export interface HttpBackendOptions {
  /** Where the API lives; default: the page's own origin and directory. */
  readonly base?: string
  readonly token?: string
  readonly readOnly?: boolean
}

const meta = (name: string): string => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? ""

const FIRST_DELAY = 500
const MAX_DELAY = 10_000

/**
 * A shown page's list comes every 3 s (the supervisor's REFRESH_MS), changed or not: a stream silent for
 * this long is dead, though its connection looks open (a supervisor stopped or stuck, a tunnel whose far
 * end went), and is opened again.
 */
export const SILENT_MS = 10_000

/** The next wait before reconnecting: doubling, capped, with ±20% jitter so many pages do not reconnect at once. */
export const backoff = (attempt: number): number => {
  const d = Math.min(MAX_DELAY, FIRST_DELAY * 2 ** Math.min(attempt, 10))
  return Math.round(d * (0.8 + Math.random() * 0.4))
}

const parse = (data: string): unknown => {
  try {
    return JSON.parse(data)
  } catch {
    return undefined
  }
}

interface Stream {
  close(): void
}

/** What the page says when the supervisor no longer takes its token; trying again would not help. */
export const REFUSED = "This page's link no longer works: the supervisor's token changed (a new supervisor, " +
  "or its token file was removed). Run taskmux ui again for a new link."

/**
 * Whether the server refuses this page's credentials: a failed EventSource does not say why it failed.
 * Asked of api/ping, which answers and ends: a probe of the stream itself opened a stream, and one sent
 * by a page being closed could outlive it, a page the supervisor counted open (and stayed for) for good.
 */
const refused = async (probe: string): Promise<boolean> => {
  try {
    // Not answered at all (a stopped supervisor): not refused, tried again later.
    return (await fetch(probe, { credentials: "same-origin", signal: AbortSignal.timeout(SILENT_MS) })).status === 401
  } catch {
    return false
  }
}

/**
 * An EventSource that reconnects with backoff (instead of the browser's fixed retry), to a URL that
 * may change (the output stream resumes after its last cursor).
 */
const resilientSource = (
  /** `hidden`: the page does not show (another tab in front, a minimised window). */
  url: (hidden: boolean) => string,
  handlers: Record<string, (data: unknown) => void>,
  onState: (up: boolean, why?: string) => void,
  /** Where to ask, once the stream fails, whether the page's token is still taken (see refused). */
  probe: string,
  /** Open while the page is hidden too (at `url(true)`); else closed until it shows. */
  whileHidden = false,
  /** A stream that sends while the page shows at least this often (see SILENT_MS); none for one that may idle. */
  silentMs?: number
): Stream => {
  let source: EventSource | undefined
  let timer: ReturnType<typeof setTimeout> | undefined
  let silence: ReturnType<typeof setTimeout> | undefined
  let attempt = 0
  let closed = false
  // Hidden for good, or for the back-forward cache (see onPageHide).
  let away = false
  const open = () => {
    timer = undefined
    if (closed || away || (document.hidden && !whileHidden)) return
    const es = new EventSource(url(document.hidden), { withCredentials: true })
    source = es
    // A hidden page's stream is sent to only when tasks change.
    const watched = silentMs !== undefined && !document.hidden
    const heard = () => {
      clearTimeout(silence)
      if (watched) silence = setTimeout(() => source === es && es.onerror?.(new Event("error")), silentMs)
    }
    heard()
    es.onopen = () => {
      attempt = 0
      heard()
      onState(true)
    }
    for (const [event, handle] of Object.entries(handlers)) {
      es.addEventListener(event, (e) => {
        heard()
        if (!closed && source === es) handle(parse((e as MessageEvent<string>).data))
      })
    }
    es.onerror = () => {
      es.close()
      if (closed || away || source !== es) return
      clearTimeout(silence)
      source = undefined
      onState(false)
      void refused(probe).then((no) => {
        // Opened again meanwhile (the page hidden and shown): that stream goes on.
        if (closed || away || source !== undefined || timer !== undefined) return
        if (no) {
          closed = true
          return onState(false, REFUSED)
        }
        timer = setTimeout(open, backoff(attempt++))
      })
    }
  }
  // Hidden, a page takes little: a stream closes (or, `whileHidden`, opens again as a hidden page's) and
  // opens again from where it was when the page shows. A tab left open in the background would otherwise
  // have its supervisor look at /proc all day for nobody.
  const onVisibility = () => {
    if (closed || away) return
    source?.close()
    source = undefined
    clearTimeout(silence)
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
    attempt = 0
    open()
  }
  // A page being closed (or put in the back-forward cache) opens nothing more: its visibilitychange comes
  // first, and a stream it opened then could outlive it. Shown from the cache, it opens again.
  const onPageHide = () => {
    away = true
    source?.close()
    source = undefined
    clearTimeout(silence)
    if (timer !== undefined) clearTimeout(timer)
    timer = undefined
  }
  const onPageShow = () => {
    if (!away) return
    away = false
    onVisibility()
  }
  document.addEventListener("visibilitychange", onVisibility)
  addEventListener("pagehide", onPageHide)
  addEventListener("pageshow", onPageShow)
  open()
  return {
    close: () => {
      closed = true
      document.removeEventListener("visibilitychange", onVisibility)
      removeEventListener("pagehide", onPageHide)
      removeEventListener("pageshow", onPageShow)
      source?.close()
      clearTimeout(silence)
      if (timer !== undefined) clearTimeout(timer)
    }
  }
}

export const httpBackend = (options: HttpBackendOptions = {}): Backend => {
  const base = options.base ?? new URL(".", location.href).href
  const token = options.token ?? meta("taskmux-token")
  const readOnly = options.readOnly ?? meta("taskmux-read-only") === "true"
  const api = (path: string) => new URL(path, base).href

  // One /api/events stream for every listener, open while anyone listens.
  const taskListeners = new Set<(s: TasksSnapshot) => void>()
  const connection = connectionState()
  let latest: TasksSnapshot | undefined
  let events: Stream | undefined
  const ensureEvents = () => {
    if (events !== undefined) return
    // Open while hidden too, as a hidden page's (no figures refreshed): the supervisor stays while a page
    // is open, and the list is current the moment it shows.
    events = resilientSource(
      (hidden) => api(`api/events${hidden ? "?hidden=1" : ""}`),
      {
        tasks: (data) => {
          if (typeof data !== "object" || data === null || !Array.isArray((data as TasksSnapshot).tasks)) return
          latest = data as TasksSnapshot
          connection.set(true)
          for (const l of taskListeners) l(latest)
        }
      },
      connection.set,
      api("api/ping"),
      true,
      SILENT_MS
    )
  }

  const call = async (tool: string, args: Record<string, unknown>): Promise<CallToolResult> => {
    let response: Response
    try {
      response = await fetch(api("api/call"), {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-Taskmux-Token": token },
        body: JSON.stringify({ tool, arguments: args })
      })
    } catch {
      return errorResult(`Could not reach taskmux to call ${tool}: is the supervisor still running?`)
    }
    const body = parse(await response.text().catch(() => "")) as
      | { result?: CallToolResult; error?: string }
      | undefined
    if (response.ok && body?.result !== undefined && Array.isArray(body.result.content)) return body.result
    const reason = body?.error ?? `HTTP ${response.status} ${response.statusText}`.trim()
    return errorResult(
      response.status === 401
        ? `${reason} (open the page again with the link taskmux gave, ?token=…)`
        : response.status === 403 && readOnly
        ? `${reason} (this page is read-only)`
        : reason
    )
  }

  return {
    readOnly,
    call,
    onTasks: (listener) => {
      taskListeners.add(listener)
      ensureEvents()
      if (latest !== undefined) listener(latest)
      return () => {
        taskListeners.delete(listener)
        if (taskListeners.size === 0 && connection.listeners() === 0) {
          events?.close()
          events = undefined
          connection.forget()
        }
      }
    },
    onConnection: connection.onConnection,
    onOutput: (name, since, listener) => {
      let cursor = since
      let gone = false
      const stream = resilientSource(
        () => api(`api/output?name=${encodeURIComponent(name)}&since=${cursor}`),
        {
          lines: (data) => {
            const d = data as { lines?: unknown; nextCursor?: unknown; skipped?: unknown } | undefined
            if (d === undefined || !Array.isArray(d.lines)) return
            if (typeof d.nextCursor === "number") cursor = d.nextCursor
            listener({
              type: "lines",
              lines: d.lines as ReadonlyArray<OutputLine>,
              nextCursor: cursor,
              skipped: typeof d.skipped === "number" ? d.skipped : 0
            })
          },
          screen: (data) => {
            const d = data as { redraw?: unknown; cols?: unknown; rows?: unknown } | undefined
            if (d === undefined || typeof d.redraw !== "string") return
            listener({
              type: "screen",
              screen: { redraw: d.redraw },
              cols: typeof d.cols === "number" ? d.cols : 120,
              rows: typeof d.rows === "number" ? d.rows : 40
            })
          },
          reset: () => listener({ type: "reset" }),
          gone: () => {
            gone = true
            stream.close()
            listener({ type: "gone" })
          }
        },
        () => {},
        api("api/ping")
      )
      return () => {
        if (!gone) stream.close()
      }
    }
  }
}
