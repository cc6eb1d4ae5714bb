/**
 * The project file's dependency graph as an indented tree: each task that nothing else needs is a
 * root, with what it needs nested under it. A task already drawn elsewhere is named, not drawn again.
 */
import type { TasksSnapshot, TaskStatus } from "./backend.ts"
import { h, replace } from "./dom.ts"
import { statusLook } from "./format.ts"

export interface GraphView {
  readonly el: HTMLElement
  update(snapshot: TasksSnapshot): void
}

export const graphView = (onSelect: (name: string) => void): GraphView => {
  const body = h("div", { class: "graph-body" })
  const el = h(
    "section",
    { class: "panel graph", "aria-labelledby": "graph-title" },
    h("h2", { id: "graph-title" }, "Project dependencies"),
    body
  )
  let lastKey = ""

  const update = (snapshot: TasksSnapshot) => {
    const graph = snapshot.graph ?? {}
    const statuses = new Map<string, TaskStatus>(snapshot.tasks.map((t) => [t.name, t.status]))
    const key = JSON.stringify([graph, [...statuses]])
    if (key === lastKey) return
    lastKey = key
    const names = Object.keys(graph)
    el.hidden = names.length === 0
    if (names.length === 0) return replace(body)
    const needed = new Set(names.flatMap((n) => graph[n] ?? []))
    const roots = names.filter((n) => !needed.has(n))
    // A graph that is all cycle has no root: start from every task then.
    const starts = roots.length > 0 ? roots : names
    const drawn = new Set<string>()

    const node = (name: string, path: ReadonlyArray<string>): HTMLElement => {
      const status = statuses.get(name)
      const look = status === undefined ? undefined : statusLook(status)
      const deps = graph[name] ?? []
      const label = h(
        "span",
        { class: "node" },
        h("span", { class: `sym ${look?.cls ?? "unknown"}`, "aria-hidden": "true" }, look?.symbol ?? "·"),
        h("button", { type: "button", class: "link", onclick: () => onSelect(name) }, name),
        h("span", { class: "node-status" }, status ?? "not in the list")
      )
      if (path.includes(name)) return h("li", {}, label, h("span", { class: "note" }, " (cycle)"))
      if (drawn.has(name) && deps.length > 0) {
        return h("li", {}, label, h("span", { class: "note" }, " (needs shown above)"))
      }
      drawn.add(name)
      return h(
        "li",
        {},
        label,
        deps.length > 0
          ? h(
            "ul",
            { "aria-label": `${name} needs` },
            deps.map((d) => node(d, [...path, name]))
          )
          : null
      )
    }
    // A status change redraws the tree: keep the focus on the same task's button.
    const focused = body.contains(document.activeElement) ? document.activeElement?.textContent : undefined
    replace(
      body,
      h("p", { class: "hint" }, "Each task, and nested under it the tasks it needs (started first)."),
      h("ul", { class: "tree" }, starts.map((n) => node(n, [])))
    )
    if (focused !== undefined) {
      for (const b of body.querySelectorAll<HTMLButtonElement>("button")) {
        if (b.textContent === focused) {
          b.focus()
          break
        }
      }
    }
  }
  return { el, update }
}
