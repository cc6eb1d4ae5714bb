/**
 * The whole page, given a Backend: the header (read-only badge, connection), the status line, the
 * task list, the selected task and the project's dependency graph. It does no I/O of its own, so it
 * runs the same on the HTTP page and inside an MCP App.
 */
import type { Backend, CallToolResult, TasksSnapshot } from "./backend.ts"
import { errorResult, resultText } from "./backend.ts"
import { frameBatcher, h, setText } from "./dom.ts"
import { exitWhy, lastExit } from "./format.ts"
import { graphView } from "./graph.ts"
import type { ScreenLoader } from "./screen.ts"
import { taskDetail } from "./taskDetail.ts"
import { taskList } from "./taskList.ts"

const VERBS: Record<string, string> = {
  start_task: "Starting",
  stop_task: "Stopping",
  restart_task: "Restarting",
  signal_task: "Signalling",
  remove_task: "Removing",
  send_input: "Typing into"
}

export interface AppOptions {
  /** Keep the selected task in location.hash (#task=NAME): false inside a frame that owns no URL. */
  readonly useHash?: boolean
  /** What draws a terminal task's screen (xterm.js on the page, plain text in the MCP App). */
  readonly screen: ScreenLoader
}

const DISCONNECTED = "Disconnected from taskmux: reconnecting… (what is shown may be out of date)"

export const mountApp = (root: HTMLElement, backend: Backend, options: AppOptions): () => void => {
  const useHash = options.useHash ?? true
  const ro = backend.readOnly

  const statusLine = h("p", {
    class: "status-line",
    role: "status",
    "aria-live": "polite",
    "aria-atomic": "true",
    hidden: true
  })
  const banner = h(
    "div",
    { class: "banner", role: "alert", hidden: true },
    DISCONNECTED
  )
  const connection = h("span", { class: "conn", "data-state": "connecting" }, "connecting…")
  const header = h(
    "header",
    { class: "top" },
    h("h1", {}, "taskmux"),
    h("span", { class: "subtitle" }, "tasks of this project, live"),
    ro
      ? h(
        "span",
        { class: "badge ro", title: "This page can look but not change anything" },
        "read-only"
      )
      : null,
    connection
  )

  /** A call that went through, and answers that the run failed: crashed at once, or not ready in time. */
  const failedRun = (result: CallToolResult) => {
    const o = result.structuredContent as { status?: unknown; timedOut?: unknown } | undefined
    return o?.status === "crashed" || o?.status === "failed" || o?.timedOut === true
  }
  // An answer stays until the next one; a success fades after a while, an error waits to be dismissed.
  let clearTimer: ReturnType<typeof setTimeout> | undefined
  const dismiss = h("button", { type: "button", class: "btn small dismiss", "aria-label": "Dismiss the message" }, "×")
  const statusText = h("span", {})
  dismiss.addEventListener("click", () => say("", "info"))
  statusLine.append(statusText, dismiss)
  const say = (text: string, kind: "info" | "ok" | "error") => {
    if (clearTimer !== undefined) clearTimeout(clearTimer)
    statusLine.dataset.kind = kind
    statusLine.hidden = text === ""
    setText(statusText, kind === "error" ? `Error: ${text}` : text)
    if (kind === "ok") clearTimer = setTimeout(() => say("", "info"), 15_000)
  }
  const report = (_tool: string, result: CallToolResult) =>
    say(resultText(result), result.isError === true || failedRun(result) ? "error" : "ok")
  /** Disconnected: what the page shows may be stale, so its buttons act on nothing until it is live again. */
  let offline = false
  const act = async (tool: string, args: Record<string, unknown>, button?: HTMLButtonElement) => {
    const who = typeof args.name === "string" ? ` ${args.name}` : ""
    if (offline) {
      const refused = errorResult(
        "Not connected to taskmux: what the page shows may be out of date. Wait until it is live again."
      )
      report(tool, refused)
      return refused
    }
    say(`${VERBS[tool] ?? `Calling ${tool} for`}${who}…`, "info")
    const wasDisabled = button?.disabled ?? false
    if (button !== undefined) {
      button.disabled = true
      button.setAttribute("aria-busy", "true")
    }
    const result = await backend.call(tool, args)
    if (button !== undefined) {
      button.removeAttribute("aria-busy")
      // As it was, then as the latest snapshot says (a stopped task's Stop stays disabled).
      button.disabled = wasDisabled
      apply()
    }
    report(tool, result)
    watchFreshRun(tool, result)
    return result
  }

  /**
   * A run a button started that answered "running" may end a moment later (a server whose config is
   * wrong crashes in 200 ms): the next snapshots are looked at for a few seconds, and such an end said.
   */
  let fresh: { readonly name: string; readonly pid: number; readonly until: number } | undefined
  const FRESH_MS = 3000
  const watchFreshRun = (tool: string, result: CallToolResult) => {
    const o = result.structuredContent as { name?: unknown; pid?: unknown; status?: unknown } | undefined
    if (tool !== "start_task" && tool !== "restart_task") return
    if (result.isError === true || o?.status !== "running" || typeof o.pid !== "number" || typeof o.name !== "string") {
      return
    }
    fresh = { name: o.name, pid: o.pid, until: Date.now() + FRESH_MS }
  }
  const checkFreshRun = () => {
    if (fresh === undefined) return
    if (Date.now() > fresh.until) return void (fresh = undefined)
    const { name, pid } = fresh
    const t = snapshot.tasks.find((task) => task.name === name)
    if (t === undefined || (t.pid !== null && t.pid !== pid)) return void (fresh = undefined)
    if (t.status !== "crashed" && t.status !== "failed") return
    fresh = undefined
    const why = exitWhy(t)
    say(`"${name}" ${lastExit(t)} right after it started${why === "" ? "" : `: ${why}`}`, "error")
  }

  const narrow = matchMedia("(max-width: 640px)")
  let snapshot: TasksSnapshot = { tasks: [] }
  let selected: string | undefined = useHash ? readHash() : undefined

  const list = taskList({
    readOnly: ro,
    onSelect: (name) => select(name, narrow.matches),
    act: (tool, args, button) => void act(tool, args, button)
  })
  const detail = taskDetail(backend, { act, report, focusList: () => list.focus(), screen: options.screen })
  const graph = graphView((name) => select(name, true))

  const select = (name: string, focusDetail = false) => {
    selected = name
    if (useHash && readHash() !== name) history.replaceState(null, "", `#task=${encodeURIComponent(name)}`)
    list.setSelected(name)
    detail.show(name, snapshot.tasks.find((t) => t.name === name))
    if (focusDetail) detail.el.scrollIntoView({ block: "start" })
  }

  const apply = frameBatcher(() => {
    list.update(snapshot)
    graph.update(snapshot)
    if (selected !== undefined) detail.show(selected, snapshot.tasks.find((t) => t.name === selected))
  })

  const tasksPanel = h(
    "section",
    { class: "panel tasks-panel", "aria-labelledby": "tasks-title" },
    h("h2", { id: "tasks-title" }, "Tasks"),
    list.el
  )
  const main = h("main", { class: "layout" }, tasksPanel, detail.el, graph.el)
  root.replaceChildren(
    h("a", { class: "skip-link", href: "#tasks-title" }, "Skip to tasks"),
    header,
    h("div", { class: "sticky" }, banner, statusLine),
    main
  )
  if (ro) root.classList.add("read-only")
  list.setSelected(selected)
  detail.show(selected, undefined)

  const offTasks = backend.onTasks((s) => {
    snapshot = s
    checkFreshRun()
    apply()
  })
  const offConnection = backend.onConnection((up, why) => {
    offline = !up
    root.classList.toggle("offline", !up)
    // An error of a call made while it was down says nothing once it is up again.
    if (
      up && statusLine.dataset.kind === "error" && /Not connected|Could not reach/.test(statusText.textContent ?? "")
    ) {
      say("", "info")
    }
    banner.hidden = up
    setText(banner, why ?? DISCONNECTED)
    connection.dataset.state = up ? "up" : "down"
    setText(connection, up ? "live" : "disconnected")
  })
  const ticker = setInterval(() => {
    // Disconnected, the tasks' clocks stop: a task that runs now is not known to.
    if (offline) return
    const now = Date.now()
    list.tick(now)
    detail.tick(now)
  }, 1000)
  const onHash = () => {
    const name = readHash()
    if (name !== undefined && name !== selected) select(name)
  }
  if (useHash) addEventListener("hashchange", onHash)

  return () => {
    offTasks()
    offConnection()
    clearInterval(ticker)
    removeEventListener("hashchange", onHash)
    detail.show(undefined, undefined)
  }
}

function readHash(): string | undefined {
  const m = /^#task=(.+)$/.exec(location.hash)
  if (m === null) return undefined
  try {
    return decodeURIComponent(m[1]!)
  } catch {
    return undefined
  }
}
