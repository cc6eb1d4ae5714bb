/**
 * The MCP App's screen: the rows as plain text (a <pre>), the cursor marked, and the keys a person
 * presses sent as a terminal sends them. No emulator: the task's screen comes whole, already drawn.
 */
import { atColumn, fitCells } from "./cells.ts"
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
  // One character, which may be two UTF-16 units (an emoji a keyboard types).
  if ([...e.key].length === 1 && !e.ctrlKey) return e.altKey ? `\x1b${e.key}` : e.key
  return undefined
}

export const createScreen: CreateScreen = (host, options) => {
  const pre = h("pre", {
    class: "lite-screen",
    "aria-label": `${options.label}'s screen`
  })
  // Where keys and text arrive: an editable element, so that an input method (Japanese, Chinese, Korean),
  // the emoji picker or dictation can type too; it sits on the cursor, where an input method shows its
  // choices. The screen itself is not editable (what shows is the program's, not what was typed).
  const input = h("textarea", {
    class: "lite-input",
    rows: 1,
    autocapitalize: "off",
    autocomplete: "off",
    spellcheck: "false",
    readonly: options.readOnly,
    "aria-label": options.readOnly ? `${options.label}'s screen (read-only)` : `Type into ${options.label}`,
    "aria-describedby": options.describedBy
  })
  host.append(pre, input)
  pre.addEventListener("mousedown", (e) => {
    e.preventDefault()
    input.focus()
  })
  input.addEventListener("keydown", (e) => {
    if (e.ctrlKey && e.key === "]") {
      e.preventDefault()
      return options.leave()
    }
    // An input method's keys are its own until it commits.
    if (options.readOnly || e.isComposing) return
    const data = keyData(e)
    if (data === undefined) return
    e.preventDefault()
    options.onData(data)
  })
  /** Text, as a terminal sends it (a line's end as Enter's "\r"). */
  const sendText = (text: string) => {
    if (!options.readOnly && text !== "") options.onData(text.replace(/\r?\n/g, "\r"))
  }
  /** What arrived as text rather than as a key: an input method's commit, a picked emoji, dictation. */
  const sendTyped = () => {
    const text = input.value
    input.value = ""
    sendText(text)
  }
  input.addEventListener("input", (e) => {
    if (!(e as InputEvent).isComposing) sendTyped()
  })
  input.addEventListener("compositionend", sendTyped)
  input.addEventListener("paste", (e) => {
    e.preventDefault()
    sendText(e.clipboardData?.getData("text/plain") ?? "")
  })
  return {
    draw: (content, cols, height) => {
      // The app's backend gives text (read_output's rows): escapes it would print as they are.
      if (!("text" in content)) return
      const { cursor, text: rows } = content
      pre.style.setProperty("--cols", String(cols))
      const shown = Array.from({ length: height }, (_, i) => fitCells(withoutBidi(rows[i] ?? ""), cols))
      if (cursor === undefined || cursor.row >= shown.length) {
        pre.textContent = shown.join("\n")
        return
      }
      const [before, under, after] = atColumn(shown[cursor.row]!, cursor.col)
      const mark = h("span", { class: "cursor" }, under)
      pre.replaceChildren(
        [...shown.slice(0, cursor.row), before].join("\n"),
        mark,
        [after, ...shown.slice(cursor.row + 1)].join("\n")
      )
      input.style.left = `${mark.offsetLeft}px`
      input.style.top = `${mark.offsetTop}px`
    },
    dispose: () => {
      pre.remove()
      input.remove()
    }
  }
}
