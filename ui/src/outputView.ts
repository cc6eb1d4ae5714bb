/**
 * A task's output as clean lines: stderr marked, a search box that filters and highlights, at most
 * MAX_LINES lines kept (older ones trimmed, with a note), "N lines skipped" where the server left
 * lines out. Lines are queued as they come and drawn once per animation frame, so a flood costs one
 * DOM pass a frame, not one per line.
 */
import type { OutputLine } from "./backend.ts"
import { frameBatcher, h, setText, shown } from "./dom.ts"
import { hasMatch, matchRanges } from "./matchRanges.ts"

export const MAX_LINES = 5000
const CHUNK = 200

interface Entry {
  seq: number
  text: string
  readonly err: boolean
  partial: boolean
  /** > 0: a marker for that many lines left out, not a line. */
  readonly skip: number
  /** The first line of this run (a restart's): a separator above it says so. */
  run?: number | undefined
  el?: HTMLElement | undefined
}

export interface OutputView {
  readonly el: HTMLElement
  /** Lines as an output event brings them, after `skipped` lines that were left out. */
  push(lines: ReadonlyArray<OutputLine>, skipped: number): void
  /** Forgets every line (another task, or a new stream). */
  clear(): void
  /** A line of its own below the lines (stream ended, task removed); "" clears it. */
  setNote(text: string): void
}

/** Splits `text` around case-insensitive matches of `query`, each match in a <mark>; as the page shows text (see shown). */
const highlight = (target: HTMLElement, text: string, query: string) => {
  if (query === "") {
    target.append(shown(text))
    return
  }
  let from = 0
  for (const [start, end] of matchRanges(text, query)) {
    if (start > from) target.append(shown(text.slice(from, start)))
    target.append(h("mark", {}, text.slice(start, end)))
    from = end
  }
  if (from < text.length) target.append(shown(text.slice(from)))
}

export const outputView = (label: string, idPrefix: string): OutputView => {
  const searchId = `${idPrefix}-search`
  const search = h("input", {
    id: searchId,
    type: "search",
    placeholder: "Filter lines (text, any case)",
    autocomplete: "off",
    spellcheck: "false",
    "aria-describedby": `${idPrefix}-count`
  })
  // Not live: it changes with every line. What a search found is said once per search, by `found`.
  const count = h("span", { class: "count", id: `${idPrefix}-count` })
  const found = h("span", { class: "sr-only", role: "status" })
  const trimmed = h("div", { class: "trimmed", hidden: true })
  const list = h("div", { class: "lines" })
  const placeholder = h("div", { class: "placeholder" }, "No output yet.")
  const note = h("div", { class: "stream-note", hidden: true })
  const scroller = h(
    "div",
    { class: "output", tabindex: 0, role: "region", "aria-label": `${label}: output lines` },
    trimmed,
    list,
    placeholder,
    note
  )
  const jump = h("button", { type: "button", class: "btn small jump", hidden: true }, "↓ Jump to latest")
  const el = h(
    "div",
    { class: "output-view" },
    h(
      "div",
      { class: "output-tools" },
      h("label", { for: searchId }, "Search"),
      search,
      count,
      found
    ),
    scroller,
    jump
  )

  let entries: Array<Entry> = []
  /** entries[drawnUpTo…] have not been considered for drawing yet. */
  let drawnUpTo = 0
  let trimmedCount = 0
  let lastSeq = -1
  let query = ""
  let pending: Array<Entry> = []
  let matches = 0
  let follow = true

  const matchesQuery = (e: Entry) => e.skip > 0 || query === "" || hasMatch(e.text, query)

  const draw = (e: Entry): HTMLElement => {
    if (e.skip > 0) {
      return h(
        "div",
        { class: "skip", role: "note" },
        `… ${e.skip.toLocaleString()} line${e.skip === 1 ? "" : "s"} skipped`
      )
    }
    const line = h("div", { class: e.err ? "ln err" : e.partial ? "ln partial" : "ln" })
    if (e.err) {
      line.append(h("span", { class: "tag", title: "stderr" }, h("span", { class: "sr-only" }, "stderr: "), "!"))
    }
    highlight(line, e.text, query)
    if (e.run === undefined) return line
    return h(
      "div",
      { class: "run-start" },
      h("div", { class: "run", role: "separator", "aria-label": `run ${e.run}` }, `── run ${e.run} ──`),
      line
    )
  }

  const updateCount = () => {
    const lines = entries.length - entries.filter((e) => e.skip > 0).length
    setText(
      count,
      query === ""
        ? `${lines.toLocaleString()} line${lines === 1 ? "" : "s"}`
        : `${matches.toLocaleString()} of ${lines.toLocaleString()} match`
    )
    placeholder.hidden = entries.length > 0
    trimmed.hidden = trimmedCount === 0
    setText(
      trimmed,
      `${trimmedCount.toLocaleString()} earlier line${
        trimmedCount === 1 ? "" : "s"
      } not kept here (this page keeps the last ${MAX_LINES.toLocaleString()})`
    )
  }

  const atBottom = () => scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 8

  /** Takes an entry's line off the page (and its chunk, once empty). */
  const undraw = (e: Entry) => {
    if (e.el === undefined) return
    if (e.skip === 0 && query !== "") matches--
    const chunk = e.el.parentElement
    e.el.remove()
    if (chunk !== null && chunk.firstChild === null) chunk.remove()
  }

  /** Takes the last entry away: a partial line whose whole line will not come (it was skipped). */
  const dropLast = () => {
    undraw(entries.pop()!)
    drawnUpTo = Math.min(drawnUpTo, entries.length)
  }

  const flush = () => {
    const incoming = pending
    pending = []
    const stick = follow || atBottom()
    for (const e of incoming) {
      let last = entries[entries.length - 1]
      // A partial line followed by anything but itself, whole: the server skipped its end (a flood), so
      // what it showed of it was never a line.
      if (last !== undefined && last.skip === 0 && last.partial && (e.skip > 0 || e.seq !== last.seq)) {
        dropLast()
        last = entries[entries.length - 1]
      }
      if (e.skip === 0) {
        // A partial line (a prompt) comes again, whole, once it ends: it replaces the partial one.
        if (last !== undefined && last.skip === 0 && last.partial && e.seq === last.seq) {
          last.text = e.text
          last.partial = e.partial
          // Its mark may come only with the whole line (a server that did not mark the partial one).
          if (e.run !== undefined) last.run = e.run
          if (last.el !== undefined) {
            const fresh = draw(last)
            last.el.replaceWith(fresh)
            last.el = fresh
          }
          continue
        }
        if (e.seq <= lastSeq) continue
        lastSeq = e.seq
      }
      entries.push(e)
    }
    if (entries.length > MAX_LINES) {
      const cut = entries.length - MAX_LINES
      for (let i = 0; i < cut; i++) {
        const e = entries[i]!
        // A marker of lines skipped counts them: the note says how many came before the first shown.
        trimmedCount += e.skip > 0 ? e.skip : 1
        undraw(e)
      }
      entries = entries.slice(cut)
      drawnUpTo = Math.max(0, drawnUpTo - cut)
    }
    // Lines go into chunks of CHUNK: the browser lays out only the chunks in sight (content-visibility).
    let chunk = list.lastElementChild as HTMLElement | null
    let room = chunk === null ? 0 : CHUNK - chunk.childElementCount
    let fragment = document.createDocumentFragment()
    const close = () => {
      if (chunk !== null && fragment.firstChild !== null) chunk.appendChild(fragment)
      fragment = document.createDocumentFragment()
    }
    for (let i = drawnUpTo; i < entries.length; i++) {
      const e = entries[i]!
      if (!matchesQuery(e)) continue
      if (room <= 0) {
        close()
        chunk = list.appendChild(h("div", { class: "chunk" }))
        room = CHUNK
      }
      e.el = draw(e)
      if (e.skip === 0 && query !== "") matches++
      fragment.appendChild(e.el)
      room--
    }
    close()
    drawnUpTo = entries.length
    updateCount()
    if (stick) scroller.scrollTop = scroller.scrollHeight
    else if (incoming.length > 0) jump.hidden = false
  }
  const schedule = frameBatcher(flush)

  const redraw = () => {
    list.replaceChildren()
    matches = 0
    for (const e of entries) e.el = undefined
    drawnUpTo = 0
    follow = true
    flush()
  }

  const searchFor = (text: string) => {
    query = text.toLowerCase()
    redraw()
    setText(found, query === "" ? "" : count.textContent ?? "")
  }
  let searchTimer: ReturnType<typeof setTimeout> | undefined
  search.addEventListener("input", () => {
    if (searchTimer !== undefined) clearTimeout(searchTimer)
    searchTimer = setTimeout(() => searchFor(search.value), 120)
  })
  search.addEventListener("keydown", (e) => {
    if (e.key === "Escape" && search.value !== "") {
      e.preventDefault()
      search.value = ""
      searchFor("")
    }
  })
  scroller.addEventListener("scroll", () => {
    follow = atBottom()
    if (follow) jump.hidden = true
  })
  jump.addEventListener("click", () => {
    follow = true
    scroller.scrollTop = scroller.scrollHeight
    jump.hidden = true
    scroller.focus()
  })
  updateCount()

  return {
    el,
    push: (lines, skipped) => {
      if (skipped > 0) pending.push({ seq: -1, text: "", err: false, partial: false, skip: skipped })
      let seq = lastSeq
      const lastPending = pending[pending.length - 1]
      if (lastPending !== undefined && lastPending.skip === 0) seq = Math.max(seq, lastPending.seq)
      for (const l of lines) {
        // The seq is left out when it is the previous line's + 1.
        seq = l.seq ?? seq + 1
        pending.push({
          seq,
          text: l.text,
          err: l.stream === "stderr",
          partial: l.partial === true,
          skip: 0,
          run: l.run
        })
      }
      // A flood between two frames: only the last MAX_LINES can be shown anyway.
      if (pending.length > MAX_LINES * 2) {
        const cut = pending.length - MAX_LINES
        trimmedCount += pending.slice(0, cut).reduce((n, e) => n + (e.skip > 0 ? e.skip : 1), 0)
        pending = pending.slice(cut)
      }
      schedule()
    },
    clear: () => {
      entries = []
      pending = []
      drawnUpTo = 0
      trimmedCount = 0
      lastSeq = -1
      matches = 0
      follow = true
      list.replaceChildren()
      jump.hidden = true
      note.hidden = true
      updateCount()
    },
    setNote: (text) => {
      note.hidden = text === ""
      setText(note, text)
    }
  }
}
