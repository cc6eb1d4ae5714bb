/**
 * The selected task: what it is (get_task), the buttons that do what the tools do (Start, Stop,
 * Restart, Signal, Remove), and its live output: clean lines, and for a terminal task its screen
 * in a terminal emulator one can type into.
 */
import type { Backend, CallToolResult, ListedTask } from "./backend.ts"
import { h, replace, RO_NOTE, setText } from "./dom.ts"
import {
  canRemove,
  canRestart,
  canSignal,
  canStart,
  canStop,
  exitWhy,
  formatBytes,
  hasProcess,
  lastExit,
  ownerLabel,
  statusPill,
  uptime
} from "./format.ts"
import { outputView } from "./outputView.ts"
import type { ScreenLoader } from "./screen.ts"
import type { TerminalView } from "./terminalView.ts"
import { terminalView } from "./terminalView.ts"

export const SIGNALS = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGUSR1",
  "SIGUSR2",
  "SIGQUIT",
  "SIGKILL",
  "SIGSTOP",
  "SIGCONT",
  "SIGWINCH"
] as const

export interface Actions {
  /** Calls a tool (the button busy meanwhile) and shows its answer under the buttons. */
  act(tool: string, args: Record<string, unknown>, button?: HTMLButtonElement): Promise<CallToolResult>
  /** Shows an answer under the buttons (a failed send_input's). */
  report(tool: string, result: CallToolResult): void
  /** Where an action's answer is shown: put under the buttons. */
  readonly answer: HTMLElement
  /** Moves the focus back to the task list. */
  focusList(): void
  /** Loads what draws a terminal task's screen. */
  readonly screen: ScreenLoader
}

export interface TaskDetail {
  readonly el: HTMLElement
  /** The task's name: where the focus goes when a task is chosen from the keyboard. */
  readonly heading: HTMLElement
  /** Shows a task (undefined: none selected), or the same one's new state. */
  show(name: string | undefined, task: ListedTask | undefined): void
  tick(now: number): void
}

interface Info {
  readonly terminal?: { cols: number; rows: number } | null
  readonly cwd?: string
  readonly restarts?: number
  readonly restartPolicy?: string
  readonly logFile?: string | null
  readonly error?: string | null
  readonly cpuPercent?: number | null
  readonly lastExit?: { status: string; exitCode: number | null; signal: string | null; at: string } | null
}

export const taskDetail = (backend: Backend, { act, answer, focusList, report, screen }: Actions): TaskDetail => {
  const ro = backend.readOnly
  const title = h("h2", { id: "detail-title", tabindex: -1 }, "No task selected")
  const statusEl = h("span", { class: "detail-status" })
  const facts = h("dl", { class: "facts" })
  const btn = (label: string, cls = "btn") => h("button", { type: "button", class: cls, disabled: true }, label)
  const start = btn("Start", "btn primary")
  const stop = btn("Stop")
  const restart = btn("Restart")
  const signalSelect = h(
    "select",
    { id: "signal-select", disabled: true },
    SIGNALS.map((s) => h("option", { value: s }, s))
  )
  const signal = btn("Send signal")
  const remove = btn("Remove", "btn danger")
  const confirmBox = h(
    "span",
    { class: "confirm", hidden: true, role: "group", "aria-label": "Confirm removal" }
  )
  const actions = h(
    "div",
    { class: "actions", role: "toolbar", "aria-label": "Task controls", "aria-describedby": ro ? RO_NOTE : undefined },
    start,
    stop,
    restart,
    h("span", { class: "signal" }, h("label", { for: "signal-select" }, "Signal"), signalSelect, signal),
    remove,
    confirmBox
  )
  const tabs = h("div", { class: "tabs", hidden: true })
  const outputArea = h("div", { class: "output-area" })
  const hint = h("p", { class: "hint", hidden: true })
  const el = h(
    "section",
    { class: "panel detail", "aria-labelledby": "detail-title" },
    h("div", { class: "detail-head" }, title, statusEl),
    facts,
    actions,
    answer,
    hint,
    tabs,
    outputArea
  )

  let name: string | undefined
  let task: ListedTask | undefined
  let info: Info = {}
  let unsubscribe: (() => void) | undefined
  let lines = outputView("Task", "out")
  let term: TerminalView | undefined
  let view: "screen" | "lines" = "lines"
  let infoKey = ""
  let generation = 0

  const run = (tool: string, extra: Record<string, unknown> = {}, button?: HTMLButtonElement) => {
    if (name === undefined) return Promise.resolve(undefined)
    return act(tool, { name, ...extra }, button)
  }
  /** Tasks a stop from this page is ending (its grace period): no restart or signal meanwhile. */
  const stopping = new Set<string>()
  start.addEventListener("click", () => void run("start_task", {}, start))
  stop.addEventListener("click", () => {
    const target = name
    if (target === undefined) return
    stopping.add(target)
    renderState()
    void run("stop_task", {}, stop).finally(() => {
      stopping.delete(target)
      if (name === target) renderState()
    })
  })
  restart.addEventListener("click", () => void run("restart_task", {}, restart))
  signal.addEventListener("click", () => void run("signal_task", { signal: signalSelect.value }, signal))
  remove.addEventListener("click", () => {
    if (name === undefined) return
    const target = name
    const yes = h("button", { type: "button", class: "btn danger" }, `Remove ${target}`)
    const no = h("button", { type: "button", class: "btn" }, "Cancel")
    const close = () => {
      confirmBox.hidden = true
      remove.hidden = false
      replace(confirmBox)
    }
    yes.addEventListener("click", () => {
      close()
      if (name === target) void run("remove_task", {}, remove)
      remove.focus()
    })
    no.addEventListener("click", () => {
      close()
      remove.focus()
    })
    // One handler, this confirmation's (not one more per Remove); its Escape is not also the detail's
    // "back to the list" (the box has left the page by the time that handler looks where it came from).
    confirmBox.onkeydown = (e) => {
      if (e.key !== "Escape") return
      e.preventDefault()
      no.click()
    }
    replace(confirmBox, h("span", { class: "confirm-text" }, `Remove ${target}? It is stopped first.`), yes, no)
    remove.hidden = true
    confirmBox.hidden = false
    no.focus()
  })

  const setView = (v: "screen" | "lines") => {
    view = v
    for (const b of tabs.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b.dataset.view === v))
    lines.el.hidden = term !== undefined && v === "screen"
    if (term !== undefined) term.el.hidden = v !== "screen"
  }

  const ensureTerminal = () => {
    if (term !== undefined || name === undefined) return
    const target = name
    term = terminalView({
      label: target,
      readOnly: ro,
      load: screen,
      send: async (data) => {
        const result = await backend.call("send_input", { name: target, data })
        if (result.isError === true) report("send_input", result)
      },
      leave: () => (tabs.querySelector("button") ?? stop).focus()
    })
    outputArea.prepend(term.el)
    replace(
      tabs,
      h("span", { class: "tabs-label", id: "view-label" }, "View"),
      (["screen", "lines"] as const).map((v) =>
        h("button", {
          type: "button",
          class: "btn small",
          "data-view": v,
          "aria-pressed": "false",
          onclick: () => setView(v)
        }, v === "screen" ? "Screen" : "Lines")
      )
    )
    tabs.hidden = false
    setView("screen")
  }

  const loadInfo = async () => {
    if (name === undefined || task === undefined) return
    if (task.status === "defined") {
      // Removed (or never run): what get_task said of a run is of no run now.
      info = {}
      return renderFacts()
    }
    const mine = generation
    const result = await backend.call("get_task", { name })
    if (mine !== generation || result.isError === true || result.structuredContent === undefined) return
    info = result.structuredContent as Info
    if (info.terminal !== null && info.terminal !== undefined) ensureTerminal()
    renderFacts()
  }

  let wasLost = false

  const subscribe = () => {
    if (name === undefined || unsubscribe !== undefined) return
    // From its start: a task removed and started again under its name shows only its new output.
    lines.clear()
    const target = name
    unsubscribe = backend.onOutput(target, 0, (event) => {
      if (target !== name) return
      if (event.type === "lines") lines.push(event.lines, event.skipped)
      else if (event.type === "reset") lines.clear()
      else if (event.type === "screen") {
        ensureTerminal()
        term?.screen(event.screen, event.cols, event.rows)
      } else {
        lines.setNote("The task is gone: removed, or stopped and forgotten when the session that started it ended.")
        unsubscribe = undefined
      }
    })
  }

  /** A fact: its label, its text (or, with `node`, the key that says when to draw it again). */
  interface Fact {
    readonly label: string
    readonly text: string
    readonly node?: () => Node
    readonly wide?: boolean
    readonly cls?: string
  }
  const code = (text: string) => () => h("code", {}, text)
  let factsKey = ""

  // Redrawn in place, value by value: a snapshot every 100 ms must not take the focus off a port's link.
  const renderFacts = () => {
    if (task === undefined) {
      factsKey = ""
      return replace(facts)
    }
    const t = task
    const le = info.lastExit
    const list: Array<Fact | null> = [
      { label: "Command", text: t.command, node: code(t.command), wide: true },
      info.cwd !== undefined ? { label: "Directory", text: info.cwd, node: code(info.cwd), wide: true } : null,
      { label: "Owner", text: ownerLabel(t.owner, t.client) },
      { label: "PID", text: t.pid === null ? "—" : String(t.pid) },
      {
        label: "Ports",
        text: t.ports === null ? "" : t.ports.join(","),
        node: () =>
          t.ports === null || t.ports.length === 0
            ? document.createTextNode("—")
            : h(
              "span",
              {},
              t.ports.map((p) =>
                h("a", {
                  href: `http://localhost:${p}`,
                  target: "_blank",
                  rel: "noopener noreferrer",
                  "aria-label": `localhost:${p} (opens in a new tab)`
                }, `localhost:${p}`)
              )
            )
      },
      { label: "Memory", text: hasProcess(t.status) ? formatBytes(t.memoryBytes) : "—" },
      // The snapshot's, as the row's: get_task is asked again only when the run changes.
      hasProcess(t.status) && t.cpuPercent != null ? { label: "CPU", text: `${t.cpuPercent}%` } : null,
      { label: "Uptime", text: uptime(t, Date.now()), cls: "detail-uptime" },
      { label: "Restarts", text: String(info.restarts ?? t.restarts ?? "—") },
      info.restartPolicy !== undefined && info.restartPolicy !== "no"
        ? { label: "Restart policy", text: info.restartPolicy }
        : null,
      { label: "Last exit", text: lastExit(t) },
      exitWhy(t) !== "" ? { label: "Why", text: exitWhy(t), node: code(exitWhy(t)), wide: true } : null,
      // How the run before this one ended, while this one runs (an ended task's own end is "Last exit").
      le !== null && le !== undefined && canStop(t.status)
        ? {
          label: "Previous run",
          text:
            `${le.status}${
              le.signal !== null ? `, ${le.signal}` : le.exitCode !== null ? `, exit ${le.exitCode}` : ""
            }` +
            ` at ${new Date(le.at).toLocaleTimeString()}`
        }
        : null,
      info.error !== undefined && info.error !== null ? { label: "Error", text: info.error, wide: true } : null,
      info.logFile !== undefined && info.logFile !== null
        ? { label: "Log file", text: info.logFile, node: code(info.logFile), wide: true }
        : null
    ]
    const shown = list.filter((f): f is Fact => f !== null)
    const key = shown.map((f) => f.label).join("\0")
    if (key !== factsKey) {
      factsKey = key
      replace(
        facts,
        shown.map((f) =>
          h("div", { class: f.wide === true ? "fact wide" : "fact" }, h("dt", {}, f.label), h("dd", { class: f.cls }))
        )
      )
    }
    const dds = facts.querySelectorAll("dd")
    shown.forEach((f, i) => {
      const dd = dds[i]!
      if (f.node === undefined) return setText(dd, f.text)
      if (dd.dataset.key === f.text && dd.firstChild !== null) return
      dd.dataset.key = f.text
      replace(dd, f.node())
    })
  }

  const renderState = () => {
    const t = task
    if (t === undefined) {
      statusEl.replaceChildren()
      if (name !== undefined) {
        hint.hidden = false
        setText(hint, `${name} is no longer in the list.`)
      }
    } else {
      const ending = name !== undefined && stopping.has(name) && canStop(t.status)
      replace(
        statusEl,
        statusPill(t.status, t.paused === true),
        ending ? h("span", { class: "stopping" }, " stopping…") : null
      )
      hint.hidden = t.status !== "defined"
      if (t.status === "defined") setText(hint, "A project task not run yet: Start runs it after the tasks it needs.")
    }
    // While a stop of it is under way only the stop's answer changes anything.
    const s = name !== undefined && stopping.has(name) ? undefined : t?.status
    start.hidden = s === undefined || !canStart(s)
    start.disabled = ro || s === undefined || !canStart(s)
    stop.disabled = ro || s === undefined || !canStop(s)
    restart.disabled = ro || s === undefined || !canRestart(s)
    signal.disabled = ro || s === undefined || !canSignal(s)
    signalSelect.disabled = ro || s === undefined || !canSignal(s)
    remove.disabled = ro || s === undefined || !canRemove(s)
    actions.hidden = name === undefined
  }

  const teardown = () => {
    generation++
    unsubscribe?.()
    unsubscribe = undefined
    term?.dispose()
    term?.el.remove()
    term = undefined
    lines.el.remove()
    lines = outputView(name ?? "Task", "out")
    outputArea.append(lines.el)
    tabs.hidden = true
    replace(tabs)
    info = {}
    infoKey = ""
    // Another task's signal is chosen anew: a SIGKILL picked for one must not wait for the next.
    signalSelect.value = SIGNALS[0]
    view = "lines"
    confirmBox.hidden = true
    remove.hidden = false
  }

  outputArea.append(lines.el)
  // Escape in the controls or the output (not in the terminal, nor a search with text) returns to the list.
  el.addEventListener("keydown", (e) => {
    const target = e.target as HTMLElement
    if (e.key !== "Escape" || e.defaultPrevented || target.closest(".term-host, .confirm") !== null) return
    if (target instanceof HTMLInputElement && target.value !== "") return
    focusList()
  })
  renderState()
  outputArea.hidden = true

  return {
    el,
    heading: title,
    show: (next, nextTask) => {
      if (next !== name) {
        name = next
        teardown()
        setText(title, next ?? "No task selected")
      }
      task = nextTask
      outputArea.hidden = name === undefined || task?.status === "defined"
      renderState()
      if (name === undefined) {
        factsKey = ""
        replace(
          facts,
          h(
            "div",
            { class: "fact wide" },
            h("dt", { class: "sr-only" }, "Hint"),
            h("dd", { class: "hint" }, "Select a task in the list (click it, or Enter on a focused row).")
          )
        )
        return
      }
      // A lost task's stream gave its log file's last lines; run again, its output is live.
      if (wasLost && task?.status !== "lost") {
        unsubscribe?.()
        unsubscribe = undefined
      }
      wasLost = task?.status === "lost"
      if (task !== undefined && task.status !== "defined") subscribe()
      // get_task again when the run changes (a new pid, another status).
      const key = task === undefined ? "" : `${task.status}\0${task.pid}`
      if (key !== infoKey && task !== undefined) {
        infoKey = key
        void loadInfo()
      }
      renderFacts()
      if (view === "screen" && term === undefined) setView("lines")
    },
    tick: (now) => {
      const cell = facts.querySelector(".detail-uptime")
      if (cell !== null && task !== undefined) setText(cell, uptime(task, now))
    }
  }
}
