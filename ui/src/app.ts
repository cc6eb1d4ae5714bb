/**
 * The whole page, given a Backend: the header (read-only badge, connection), the status line, the
 * task list, the selected task and the project's dependency graph. It does no I/O of its own, so it
 * runs the same on the HTTP page and inside an MCP App.
 */
import type { Backend, CallToolResult, TasksSnapshot } from "./backend.ts"
import { errorResult, resultText } from "./backend.ts"
import { frameBatcher, h, replace, RO_NOTE, setText } from "./dom.ts"
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
  /** The task shown first (the MCP App's: the one the tool call it shows was about). */
  readonly selected?: string | undefined
}

export interface MountedApp {
  /** Shows a task's detail, as a click on its row does, without taking the focus. */
  readonly select: (name: string) => void
  /** Stops every update and poll, and forgets the shown task. */
  readonly dispose: () => void
}

const DISCONNECTED = "Disconnected from taskmux: reconnecting… (what is shown may be out of date)"

export const mountApp = (root: HTMLElement, backend: Backend, options: AppOptions): MountedApp => {
  const useHash = options.useHash ?? true
  const ro = backend.readOnly

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
  // Disabled controls are skipped by Tab: this says why they do nothing, and is a Tab stop itself.
  const roNote = ro
    ? h(
      "p",
      { class: "ro-note", id: RO_NOTE, tabindex: 0 },
      "Read-only link: you can watch the tasks, not change them, so the buttons are off. `taskmux ui` opens the full page."
    )
    : null

  /** A call that went through, and answers that the run failed: crashed at once, or not ready in time. */
  const failedRun = (result: CallToolResult) => {
    const o = result.structuredContent as { status?: unknown; timedOut?: unknown } | undefined
    return o?.status === "crashed" || o?.status === "failed" || o?.timedOut === true
  }
  // The top one, and one under the detail's buttons: inside an MCP App the frame is as tall as its
  // content and never scrolls, so a line at the top is out of sight of a button far below it.
  const top = answerLine()
  const near = answerLine()
  const report = (line: AnswerLine, result: CallToolResult) =>
    line.say(resultText(result), result.isError === true || failedRun(result) ? "error" : "ok")
  /** Disconnected: what the page shows may be stale, so its buttons act on nothing until it is live again. */
  let offline = false
  /** Calls in flight, by the button that made them: a second press while busy waits for the same call. */
  const busy = new WeakMap<HTMLButtonElement, Promise<CallToolResult>>()
  const act = (line: AnswerLine) => (tool: string, args: Record<string, unknown>, button?: HTMLButtonElement) => {
    const running = button === undefined ? undefined : busy.get(button)
    if (running !== undefined) return running
    const call = actOn(line, tool, args, button)
    if (button !== undefined) {
      busy.set(button, call)
      void call.finally(() => busy.delete(button))
    }
    return call
  }
  const actOn = async (line: AnswerLine, tool: string, args: Record<string, unknown>, button?: HTMLButtonElement) => {
    const who = typeof args.name === "string" ? ` ${args.name}` : ""
    if (offline) {
      const refused = errorResult(
        "Not connected to taskmux: what the page shows may be out of date. Wait until it is live again."
      )
      report(line, refused)
      return refused
    }
    line.say(`${VERBS[tool] ?? `Calling ${tool} for`}${who}…`, "info")
    // Busy, not disabled: a disabled button drops the keyboard's focus.
    button?.setAttribute("aria-disabled", "true")
    button?.setAttribute("aria-busy", "true")
    const result = await backend.call(tool, args)
    button?.removeAttribute("aria-busy")
    button?.removeAttribute("aria-disabled")
    apply()
    report(line, result)
    watchFreshRun(tool, result, line)
    return result
  }

  /**
   * A run a button started that answered "running" may end a moment later (a server whose config is
   * wrong crashes in 200 ms): the next snapshots are looked at for a few seconds, and such an end said.
   */
  let fresh:
    | { readonly name: string; readonly pid: number; readonly until: number; readonly line: AnswerLine }
    | undefined
  const FRESH_MS = 3000
  const watchFreshRun = (tool: string, result: CallToolResult, line: AnswerLine) => {
    const o = result.structuredContent as { name?: unknown; pid?: unknown; status?: unknown } | undefined
    if (tool !== "start_task" && tool !== "restart_task") return
    if (result.isError === true || o?.status !== "running" || typeof o.pid !== "number" || typeof o.name !== "string") {
      return
    }
    fresh = { name: o.name, pid: o.pid, until: Date.now() + FRESH_MS, line }
  }
  const checkFreshRun = () => {
    if (fresh === undefined) return
    if (Date.now() > fresh.until) return void (fresh = undefined)
    const { line, name, pid } = fresh
    const t = snapshot.tasks.find((task) => task.name === name)
    if (t === undefined || (t.pid !== null && t.pid !== pid)) return void (fresh = undefined)
    if (t.status !== "crashed" && t.status !== "failed") return
    fresh = undefined
    const why = exitWhy(t)
    // Under the detail only while it shows that task.
    const where = line === near && selected !== name ? top : line
    where.say(`"${name}" ${lastExit(t)} right after it started${why === "" ? "" : `: ${why}`}`, "error")
  }

  let snapshot: TasksSnapshot = { tasks: [] }
  let selected: string | undefined = options.selected ?? (useHash ? readHash() : undefined)

  const list = taskList({
    readOnly: ro,
    onSelect: (name, keys) => select(name, keys ? "keys" : "click"),
    act: (tool, args, button) => void act(top)(tool, args, button)
  })
  const detail = taskDetail(backend, {
    act: act(near),
    report: (_tool, result) => report(near, result),
    answer: near.el,
    focusList: () => list.focus(),
    screen: options.screen
  })
  const graph = graphView((name) => select(name, "keys"))

  /** Until when a resize brings the chosen task's detail into sight again (an MCP App's frame grows later). */
  let revealUntil = 0
  // "nearest": a detail out of sight is scrolled to (its top first if taller than the window); one in sight stays.
  const reveal = () => detail.el.scrollIntoView({ block: "nearest" })
  const skipLink = h("a", { class: "skip-link", href: "#tasks-title" }, "Skip to tasks")
  const select = (name: string, how?: "click" | "keys") => {
    if (name !== selected) near.say("", "info")
    selected = name
    if (useHash && readHash() !== name) history.replaceState(null, "", `#task=${encodeURIComponent(name)}`)
    list.setSelected(name)
    detail.show(name, snapshot.tasks.find((t) => t.name === name))
    setText(skipLink, "Skip to the selected task")
    if (how === undefined) return
    if (how === "keys") detail.heading.focus({ preventScroll: true })
    reveal()
    revealUntil = Date.now() + 2000
  }
  const onResize = () => {
    if (Date.now() < revealUntil) reveal()
  }
  addEventListener("resize", onResize)
  // Not a navigation: inside an MCP App (a srcdoc frame) "#…" would load the host's own page, and on the
  // page it would replace #task=NAME.
  skipLink.addEventListener("click", (e) => {
    e.preventDefault()
    if (selected !== undefined) detail.heading.focus()
    else list.focus()
  })

  // A redraw that disables, hides, moves or replaces the focused control drops the focus to the body:
  // it goes back to the control, or else to its row or the detail's heading.
  let lastFocus: { readonly el: HTMLElement; readonly home: HTMLElement } | undefined
  const gone = (el: HTMLElement) =>
    !el.isConnected || (el as HTMLButtonElement).disabled === true || el.closest("[hidden]") !== null
  root.addEventListener("focusin", (e) => {
    const el = e.target as HTMLElement
    lastFocus = { el, home: el.closest("tr") ?? (detail.el.contains(el) ? detail.heading : el) }
  })
  // A click on nothing leaves the focus on the body on purpose (Chrome's focusout cannot tell: it comes
  // before a removal too).
  const onPointer = () => (lastFocus = undefined)
  addEventListener("pointerdown", onPointer, true)
  // Chrome leaves the focus on a control disabled under it, then (a moment later, outside any redraw)
  // moves it to the body, with a focusout: both are a lost focus.
  root.addEventListener("focusout", (e) => {
    if (e.relatedTarget === null && gone(e.target as HTMLElement)) setTimeout(mendFocus, 0)
  })
  const mendFocus = () => {
    const active = document.activeElement as HTMLElement | null
    if (lastFocus === undefined || (active !== null && active !== document.body && !gone(active))) return
    const { el, home } = lastFocus
    if (!gone(el)) el.focus()
    else if (!gone(home)) home.focus()
    else list.focus()
  }

  const apply = frameBatcher(() => {
    list.update(snapshot)
    graph.update(snapshot)
    if (selected !== undefined) detail.show(selected, snapshot.tasks.find((t) => t.name === selected))
    mendFocus()
  })

  const tasksPanel = h(
    "section",
    { class: "panel tasks-panel", "aria-labelledby": "tasks-title" },
    h("h2", { id: "tasks-title" }, "Tasks"),
    list.el
  )
  const main = h("main", { class: "layout" }, tasksPanel, detail.el, graph.el)
  const sticky = h("div", { class: "sticky" }, banner, top.el)
  replace(
    root,
    skipLink,
    header,
    roNote,
    sticky,
    main
  )
  // The browser scrolls a control it focuses to the window's top edge: below the sticky line, not under it.
  const padTop = new ResizeObserver(() => {
    document.documentElement.style.scrollPaddingTop = `${sticky.offsetHeight + 8}px`
  })
  padTop.observe(sticky)
  if (ro) root.classList.add("read-only")
  list.setSelected(selected)
  detail.show(selected, undefined)
  if (selected !== undefined) setText(skipLink, "Skip to the selected task")

  const offTasks = backend.onTasks((s) => {
    snapshot = s
    checkFreshRun()
    apply()
  })
  const offConnection = backend.onConnection((up, why) => {
    offline = !up
    root.classList.toggle("offline", !up)
    // An error of a call made while it was down says nothing once it is up again.
    if (up) {
      top.clearError(/Not connected|Could not reach/)
      near.clearError(/Not connected|Could not reach/)
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

  return {
    select: (name) => {
      if (name !== selected) select(name)
    },
    dispose: () => {
      offTasks()
      offConnection()
      clearInterval(ticker)
      removeEventListener("hashchange", onHash)
      removeEventListener("resize", onResize)
      removeEventListener("pointerdown", onPointer, true)
      padTop.disconnect()
      detail.show(undefined, undefined)
    }
  }
}

interface AnswerLine {
  readonly el: HTMLElement
  /** Shows an answer ("" hides the line): a success fades after a while, an error waits to be dismissed. */
  say(text: string, kind: "info" | "ok" | "error"): void
  /** Hides an error whose text matches. */
  clearError(pattern: RegExp): void
}

const answerLine = (): AnswerLine => {
  // The live region is in the page from the start, empty and out of sight: one that comes into the
  // tree with its text is often not announced. The dismiss button is outside it, so it is not read out.
  const text = h("p", { class: "status-text", role: "status", "aria-live": "polite", "aria-atomic": "true" })
  const dismiss = h("button", {
    type: "button",
    class: "btn small dismiss",
    "aria-label": "Dismiss the message",
    hidden: true
  }, "×")
  const el = h("div", { class: "status-line", "data-empty": true }, text, dismiss)
  let clearTimer: ReturnType<typeof setTimeout> | undefined
  const say = (message: string, kind: "info" | "ok" | "error") => {
    if (clearTimer !== undefined) clearTimeout(clearTimer)
    el.dataset.kind = kind
    el.toggleAttribute("data-empty", message === "")
    dismiss.hidden = message === ""
    setText(text, message === "" ? "" : kind === "error" ? `Error: ${message}` : message)
    if (kind === "ok") clearTimer = setTimeout(() => say("", "info"), 15_000)
  }
  dismiss.addEventListener("click", () => say("", "info"))
  return {
    el,
    say,
    clearError: (pattern) => {
      if (el.dataset.kind === "error" && pattern.test(text.textContent ?? "")) say("", "info")
    }
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
