/** Small DOM helpers: no framework, just elements. */

/** The read-only page's note: the controls it explains point to it (aria-describedby). */
export const RO_NOTE = "ro-note"

type Attrs = Record<string, string | number | boolean | undefined | null | EventListener>

type Child = Node | string | null | undefined | false

/**
 * `h("button", { class: "x", onclick: f, disabled: true }, "Stop")`: attributes (false/null/undefined
 * leave one out), `on…` listeners, and children (strings become text).
 */
export const h = <K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: ReadonlyArray<Child | ReadonlyArray<Child>>
): HTMLElementTagNameMap[K] => {
  const el = document.createElement(tag)
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value)
    else el.setAttribute(key, value === true ? "" : String(value))
  }
  append(el, children)
  return el
}

const append = (el: Node, children: ReadonlyArray<Child | ReadonlyArray<Child>>) => {
  for (const c of children) {
    if (Array.isArray(c)) append(el, c)
    else if (c instanceof Node) el.appendChild(c)
    else if (typeof c === "string") el.appendChild(document.createTextNode(shown(c)))
  }
}

/** The bidirectional controls: embeddings, overrides, isolates and marks. */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/
const BIDI_ALL = new RegExp(BIDI.source, "g")

/**
 * Text as the page shows it: a bidirectional control as a visible mark ("⟨U+202E⟩"), not obeyed.
 * Commands and output lines come from tasks and models, and an override would show a command other
 * than the one that runs to the person who looks to see what runs (Trojan Source).
 */
export const shown = (text: string): string =>
  BIDI.test(text)
    ? text.replace(BIDI_ALL, (c) => `⟨U+${c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}⟩`)
    : text

/** A terminal's row without bidirectional controls: a terminal shows its cells in the order written. */
export const withoutBidi = (text: string): string => BIDI.test(text) ? text.replace(BIDI_ALL, "") : text

/** Sets an element's text only when it differs (no layout work for an unchanged cell). */
export const setText = (el: Element, text: string): void => {
  const value = shown(text)
  if (el.textContent !== value) el.textContent = value
}

/** Replaces an element's children. */
export const replace = (el: Element, ...children: ReadonlyArray<Child | ReadonlyArray<Child>>): void => {
  el.replaceChildren()
  append(el, children)
}

/**
 * Runs `flush` once in the next animation frame however often it is scheduled before then: many
 * updates in one frame cost one DOM pass. A hidden page gets no frames, so a timer stands in.
 */
export const frameBatcher = (flush: () => void): () => void => {
  let pending = false
  const run = () => {
    if (!pending) return
    pending = false
    flush()
  }
  return () => {
    if (pending) return
    pending = true
    if (document.hidden) setTimeout(run, 250)
    else {
      requestAnimationFrame(run)
      // A frame may never come (a hidden or throttled frame): a timer makes sure the flush happens.
      setTimeout(run, 500)
    }
  }
}
