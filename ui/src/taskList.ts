/**
 * The table of every task: status, owner, pid, ports (links), memory, CPU, uptime (ticking), restarts,
 * last exit with the line that says why, and a Start button for a project task not run yet. The rows are one
 * Tab stop (the selected row, or the first): Enter or Space selects, the arrow keys, Home and End move
 * between rows. Updates touch only the cells that changed.
 */
import type { ListedTask, TasksSnapshot } from "./backend.ts"
import { h, replace, RO_NOTE, setText, shown } from "./dom.ts"
import { canStart, exitWhy, formatBytes, hasProcess, lastExit, ownerLabel, statusPill, uptime } from "./format.ts"

export interface TaskListOptions {
  readonly readOnly: boolean
  /** `keys`: chosen with Enter or Space (the focus then goes to the task), not a click. */
  readonly onSelect: (name: string, keys: boolean) => void
  /** Runs a tool for a task (the Start button), reporting its answer on the status line. */
  readonly act: (tool: string, args: Record<string, unknown>, button?: HTMLButtonElement) => void
}

export interface TaskList {
  readonly el: HTMLElement
  update(snapshot: TasksSnapshot): void
  setSelected(name: string | undefined): void
  /** Moves the focus to the selected row (or the first). */
  focus(): void
  /** Refreshes the uptime cells. */
  tick(now: number): void
}

interface Row {
  readonly tr: HTMLTableRowElement
  readonly status: HTMLElement
  readonly name: HTMLElement
  readonly command: HTMLElement
  readonly owner: HTMLElement
  readonly pid: HTMLElement
  readonly ports: HTMLElement
  readonly memory: HTMLElement
  readonly cpu: HTMLElement
  readonly uptime: HTMLElement
  readonly restarts: HTMLElement
  readonly exit: HTMLElement
  readonly exitHow: HTMLElement
  readonly exitWhy: HTMLElement
  readonly action: HTMLElement
  task: ListedTask
  portsKey: string
  actionKey: string
}

const COLUMNS: ReadonlyArray<readonly [string, string]> = [
  ["status", "Status"],
  ["name", "Task"],
  ["owner", "Owner"],
  ["pid", "PID"],
  ["ports", "Ports"],
  ["memory", "Memory"],
  ["cpu", "CPU"],
  ["uptime", "Uptime"],
  ["restarts", "Restarts"],
  ["exit", "Last exit"],
  ["action", "Action"]
]

/** "another session (claude-code)", breaking only before the client's name (never at its hyphen). */
const setOwner = (cell: HTMLElement, label: string) => {
  const text = shown(label)
  if (cell.textContent === text) return
  const at = text.indexOf(" (")
  cell.replaceChildren(
    ...(at === -1 ? [text] : [text.slice(0, at + 1), h("span", { class: "whole" }, text.slice(at + 1))])
  )
}

export const taskList = (options: TaskListOptions): TaskList => {
  const tbody = h("tbody")
  // Until the first list comes, nothing is known: not "no tasks".
  const empty = h("p", { class: "empty" }, "Waiting for the task list…")
  const note = h("p", { class: "project-error", role: "note", hidden: true })
  const table = h(
    "table",
    { class: "tasks" },
    h("caption", { class: "sr-only" }, "Tasks: select a row (Enter) to see its output and controls"),
    h("thead", {}, h("tr", {}, COLUMNS.map(([key, label]) => h("th", { scope: "col", class: `c-${key}` }, label)))),
    tbody
  )
  const el = h("div", { class: "task-list" }, note, table, empty)
  const rows = new Map<string, Row>()
  let order: Array<string> = []
  let selected: string | undefined
  /** The row that is the table's Tab stop: the last one focused, else the selected one, else the first. */
  let current: string | undefined

  const cell = (key: string, label: string) => h("td", { class: `c-${key}`, "data-label": label })

  const makeRow = (task: ListedTask): Row => {
    const td = Object.fromEntries(COLUMNS.map(([key, label]) => [key, cell(key, label)])) as Record<string, HTMLElement>
    const name = h("span", { class: "task-name" })
    const command = h("span", { class: "command" })
    td.name!.append(name, command)
    const exitHow = h("span", { class: "exit-how" })
    const exitWhy = h("span", { class: "exit-why" })
    td.exit!.append(exitHow, exitWhy)
    const tr = h("tr", { tabindex: -1, "data-name": task.name }, COLUMNS.map(([key]) => td[key]!))
    tr.addEventListener("click", (e) => {
      if ((e.target as Element).closest("a, button")) return
      options.onSelect(row.task.name, false)
    })
    tr.addEventListener("focus", () => {
      current = row.task.name
      rove()
    })
    tr.addEventListener("keydown", (e) => {
      if (e.target !== tr) return
      if (e.key === "Enter" || e.key === " ") {
        e.preventDefault()
        options.onSelect(row.task.name, true)
      } else if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault()
        const sibling = e.key === "ArrowDown" ? tr.nextElementSibling : tr.previousElementSibling
        if (sibling instanceof HTMLElement) sibling.focus()
      } else if (e.key === "Home" || e.key === "End") {
        e.preventDefault()
        const target = e.key === "Home" ? tbody.firstElementChild : tbody.lastElementChild
        if (target instanceof HTMLElement) target.focus()
      }
    })
    const row: Row = {
      tr,
      status: td.status!,
      name,
      command,
      owner: td.owner!,
      pid: td.pid!,
      ports: td.ports!,
      memory: td.memory!,
      cpu: td.cpu!,
      uptime: td.uptime!,
      restarts: td.restarts!,
      exit: td.exit!,
      exitHow,
      exitWhy,
      action: td.action!,
      task,
      portsKey: "\0",
      actionKey: "\0"
    }
    return row
  }

  const fill = (row: Row, t: ListedTask, now: number) => {
    row.task = t
    const statusKey = `${t.status}${t.paused === true ? " paused" : ""}`
    if (row.status.dataset.key !== statusKey) {
      row.status.dataset.key = statusKey
      replace(
        row.status,
        statusPill(t.status, t.paused === true)
      )
    }
    row.tr.dataset.status = t.status
    // A row's own name (a focused row is otherwise read as just "row").
    const ports = t.ports === null || t.ports.length === 0 ? "" : `, port ${t.ports.join(", ")}`
    row.tr.setAttribute("aria-label", `${t.name}, ${t.status}${t.paused === true ? ", paused" : ""}${ports}`)
    setText(row.name, t.name)
    setText(row.command, t.command)
    row.command.title = t.command
    setOwner(row.owner, ownerLabel(t.owner, t.client))
    row.owner.dataset.owner = t.owner ?? ""
    setText(row.pid, t.pid === null ? "—" : String(t.pid))
    const portsKey = t.ports === null ? "null" : t.ports.join(",")
    if (portsKey !== row.portsKey) {
      row.portsKey = portsKey
      replace(
        row.ports,
        t.ports === null || t.ports.length === 0
          ? "—"
          : t.ports.map((p) =>
            h("a", {
              href: `http://localhost:${p}`,
              target: "_blank",
              rel: "noopener noreferrer",
              "aria-label": `Open localhost port ${p} in a new tab`
            }, `:${p}`)
          )
      )
    }
    // A task that ended, or waits to restart, uses no memory: "—", not "0 B".
    setText(row.memory, hasProcess(t.status) ? formatBytes(t.memoryBytes) : "—")
    setText(row.cpu, hasProcess(t.status) && t.cpuPercent != null ? `${t.cpuPercent}%` : "—")
    setText(row.uptime, uptime(t, now))
    setText(row.restarts, t.restarts === undefined ? "—" : String(t.restarts))
    const exit = lastExit(t)
    const why = exitWhy(t)
    setText(row.exitHow, exit)
    setText(row.exitWhy, why)
    row.exit.title = why === "" ? exit : `${exit}: ${why}`
    const actionKey = canStart(t.status) ? "start" : ""
    if (actionKey !== row.actionKey) {
      row.actionKey = actionKey
      replace(
        row.action,
        actionKey === "start"
          ? h("button", {
            type: "button",
            class: "btn primary small",
            disabled: options.readOnly,
            "aria-label": `Start ${t.name}`,
            "aria-describedby": options.readOnly ? RO_NOTE : undefined,
            onclick: (e: Event) =>
              options.act("start_task", { name: row.task.name }, e.currentTarget as HTMLButtonElement)
          }, "Start")
          : ""
      )
    }
    for (const c of [row.owner, row.pid, row.ports, row.memory, row.cpu, row.uptime, row.restarts, row.exit]) {
      c.toggleAttribute("data-empty", c.textContent === "—")
    }
  }

  const markSelected = () => {
    for (const [name, row] of rows) {
      if (name === selected) row.tr.setAttribute("aria-current", "true")
      else row.tr.removeAttribute("aria-current")
    }
    rove()
  }
  const rove = () => {
    const stop = [current, selected, order[0]].find((name) => name !== undefined && rows.has(name))
    for (const [name, row] of rows) {
      const tabIndex = name === stop ? 0 : -1
      if (row.tr.tabIndex !== tabIndex) row.tr.tabIndex = tabIndex
    }
  }

  return {
    el,
    update: (snapshot) => {
      const now = Date.now()
      const names = snapshot.tasks.map((t) => t.name)
      for (const [name, row] of rows) {
        if (!names.includes(name)) {
          row.tr.remove()
          rows.delete(name)
        }
      }
      for (const t of snapshot.tasks) {
        let row = rows.get(t.name)
        if (row === undefined) {
          row = makeRow(t)
          rows.set(t.name, row)
        }
        fill(row, t, now)
      }
      if (names.join("\0") !== order.join("\0")) {
        // Only when the order changed: moving a row would take the focus off it.
        for (const name of names) tbody.appendChild(rows.get(name)!.tr)
        order = names
      }
      // The MCP App's list (list_tasks) carries neither: then the columns are left out.
      table.classList.toggle("no-restarts", !snapshot.tasks.some((t) => t.restarts !== undefined))
      table.classList.toggle("no-cpu", !snapshot.tasks.some((t) => t.cpuPercent !== undefined))
      empty.hidden = names.length > 0
      setText(empty, "No tasks.")
      table.hidden = names.length === 0
      note.hidden = snapshot.projectError === undefined
      setText(note, snapshot.projectError === undefined ? "" : `Project file not read: ${snapshot.projectError}`)
      markSelected()
    },
    setSelected: (name) => {
      selected = name
      current = name
      markSelected()
    },
    focus: () => {
      const row = (selected !== undefined ? rows.get(selected) : undefined) ?? rows.get(order[0] ?? "")
      row?.tr.focus()
    },
    tick: (now) => {
      for (const row of rows.values()) setText(row.uptime, uptime(row.task, now))
    }
  }
}
