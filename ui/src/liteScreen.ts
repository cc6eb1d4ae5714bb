/**
 * The MCP App's screen: the rows as plain text (a <pre>), the cursor marked, and the keys a person
 * presses sent as a terminal sends them. No emulator: the task's screen comes whole, already drawn.
 */
import { h, withoutBidi } from "./dom.ts"
import type { CreateScreen } from "./screen.ts"

const KEYS: Record<string, string> = {
  Enter: "\r",
  Backspace: "\x7f",
  Tab: "\t",
  Escape: "\x1b",
  ArrowUp: "\x1b[A",
  ArrowDown: "\x1b[B",
  ArrowRight: "\x1b[C",
  ArrowLeft: "\x1b[D",
  Home: "\x1b[H",
  End: "\x1b[F",
  Insert: "\x1b[2~",
  Delete: "\x1b[3~",
  PageUp: "\x1b[5~",
  PageDown: "\x1b[6~"
}

/** What a key press sends to the program, or undefined for a key that sends nothing. */
export const keyData = (e: Pick<KeyboardEvent, "key" | "ctrlKey" | "altKey" | "metaKey">): string | undefined => {
  if (e.metaKey) return undefined
  if (e.ctrlKey && !e.altKey && e.key.length === 1) {
    const c = e.key.toLowerCase().charCodeAt(0)
    // Ctrl+A … Ctrl+Z, Ctrl+[ \ ] ^ _ and Ctrl+@: the C0 control codes.
    if (c >= 97 && c <= 122) return String.fromCharCode(c - 96)
    if (c >= 64 && c <= 95) return String.fromCharCode(c - 64)
    return undefined
  }
  const named = KEYS[e.key]
  if (named !== undefined) return e.altKey ? `\x1b${named}` : named
  if (e.key.length === 1 && !e.ctrlKey) return e.altKey ? `\x1b${e.key}` : e.key
  return undefined
}

export const createScreen: CreateScreen = (host, options) => {
  const pre = h("pre", {
    class: "lite-screen",
    tabindex: 0,
    role: "textbox",
    "aria-multiline": "true",
    "aria-readonly": options.readOnly ? "true" : undefined,
    "aria-label": options.readOnly ? `${options.label}'s screen (read-only)` : `Type into ${options.label}`,
    "aria-describedby": options.describedBy
  })
  host.append(pre)
  pre.addEventListener("keydown", (e) => {
    if (e.ctrlKey && e.key === "]") {
      e.preventDefault()
      return options.leave()
    }
    if (options.readOnly) return
    const data = keyData(e)
    if (data === undefined) return
    e.preventDefault()
    options.onData(data)
  })
  pre.addEventListener("paste", (e) => {
    e.preventDefault()
    const text = e.clipboardData?.getData("text/plain") ?? ""
    if (!options.readOnly && text !== "") options.onData(text.replace(/\r?\n/g, "\r"))
  })
  return {
    draw: (content, cols, height) => {
      // The app's backend gives text (read_output's rows): escapes it would print as they are.
      if (!("text" in content)) return
      const { cursor, text: rows } = content
      pre.style.setProperty("--cols", String(cols))
      const shown = Array.from({ length: height }, (_, i) => withoutBidi(rows[i] ?? "").slice(0, cols))
      if (cursor === undefined || cursor.row >= shown.length) {
        pre.textContent = shown.join("\n")
        return
      }
      const row = shown[cursor.row]!.padEnd(cursor.col + 1)
      pre.replaceChildren(
        [...shown.slice(0, cursor.row), row.slice(0, cursor.col)].join("\n"),
        h("span", { class: "cursor" }, row[cursor.col]!),
        [row.slice(cursor.col + 1), ...shown.slice(cursor.row + 1)].join("\n")
      )
    },
    dispose: () => pre.remove()
  }
}
