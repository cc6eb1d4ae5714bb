/**
 * What a terminal task's screen shows now, as a person would see it: full-screen and
 * prompt-driven programs redraw with cursor moves, so their line log is not their screen.
 *
 * Rendering is `@xterm/headless` (a real terminal emulator), made on the first screen read
 * and fed then. Until a read, output costs one copy into a byte ring of the newest
 * `RECENT_BYTES`, so a flood pays nothing for a screen nobody looks at. When more arrived
 * between two reads than the ring holds, the screen goes on with the newest bytes, which for
 * anything that redraws or scrolls at that rate is what it shows.
 */
import type * as XtermHeadless from "@xterm/headless"
import { firstLineOf } from "../domain/clipText.ts"
import type { TerminalSize } from "../domain/TerminalSize.ts"
import { goneSinceStart, loadOnce } from "../loadOnce.ts"
import { asksTerminal, LONGEST_QUERY } from "./cursorQuery.ts"
import { loadAddons, type SerializeAddon } from "./xtermAddons.js"

export const RECENT_BYTES = 256 * 1024

/** The newest bytes written to it, up to its capacity: synchronous and allocation-free per write. */
export class ByteRing {
  private readonly ring: Buffer
  private end = 0
  /** Bytes written since the last `take`, possibly more than the ring holds. */
  private unread = 0

  constructor(capacity: number) {
    this.ring = Buffer.alloc(capacity)
  }

  write(chunk: Uint8Array): void {
    const capacity = this.ring.length
    this.unread += chunk.length
    const bytes = chunk.length > capacity ? chunk.subarray(chunk.length - capacity) : chunk
    const first = Math.min(bytes.length, capacity - this.end)
    this.ring.set(bytes.subarray(0, first), this.end)
    this.ring.set(bytes.subarray(first), 0)
    this.end = (this.end + bytes.length) % capacity
  }

  /** The bytes written since the last take (only the newest, when more than fit), and whether some were lost. */
  take(): { readonly bytes: Buffer; readonly lost: boolean } {
    const capacity = this.ring.length
    const n = Math.min(this.unread, capacity)
    const lost = this.unread > capacity
    this.unread = 0
    const start = (this.end - n + capacity) % capacity
    const bytes = start + n <= capacity
      ? Buffer.from(this.ring.subarray(start, start + n))
      : Buffer.concat([this.ring.subarray(start), this.ring.subarray(0, this.end)])
    return { bytes, lost }
  }
}

type Xterm = typeof XtermHeadless
interface Emulator {
  readonly Terminal: Xterm["Terminal"]
  readonly SerializeAddon: new() => SerializeAddon
  readonly Unicode11Addon: new() => XtermHeadless.ITerminalAddon
}
const defaultOf = <A>(module: unknown): A => ((module as { default?: A }).default ?? module) as A
/** The emulator and its two addons: Unicode 11 widths (an emoji takes two columns, as in a terminal), and a redraw. */
const loadEmulator = loadOnce(() =>
  Promise.all([import("@xterm/headless"), loadAddons()]).then(([xterm, [serialize, unicode11]]) => ({
    Terminal: defaultOf<Xterm>(xterm).Terminal,
    SerializeAddon: defaultOf<Pick<Emulator, "SerializeAddon">>(serialize).SerializeAddon,
    Unicode11Addon: defaultOf<Pick<Emulator, "Unicode11Addon">>(unicode11).Unicode11Addon
  }))
)

/** The terminal emulator could not be loaded: a screen cannot be read, for now at least (see loadOnce). */
export class EmulatorLoadFailed extends Error {}

export interface Screen {
  /** The rows of the screen, trailing blanks trimmed. */
  readonly rows: ReadonlyArray<string>
  /** Where the cursor is, 0-based. */
  readonly cursor: { readonly row: number; readonly col: number }
  /**
   * With `redraw`: what redraws it on another terminal, escape sequences and all (its colours, the
   * cursor, its modes, and the screen under an alternate screen): what `taskmux attach` shows first.
   */
  readonly redraw?: string
}

const NO_BYTES = Buffer.alloc(0)

export class TerminalScreen {
  private readonly recent = new ByteRing(RECENT_BYTES)
  /** The end of the last chunk when it may be the start of a query (an escape in its last bytes). */
  private unfinished: Buffer = NO_BYTES
  private terminal: { readonly xterm: XtermHeadless.Terminal; readonly serializer: SerializeAddon } | undefined
  private size: TerminalSize
  /** The size the emulator has (or is made with): the size when the bytes not yet fed to it began. */
  private shownSize: TerminalSize
  /** The render under way, if any (see render). */
  private rendering: Promise<void> = Promise.resolve()
  /** Bytes written so far: where each resize falls among them. */
  private written = 0
  /** Resizes since the last render, each at the byte it came after: the bytes before it were drawn at the size before. */
  private resizes: Array<{ readonly at: number; readonly size: TerminalSize }> = []
  /** What the emulator answered to the queries it was fed, not yet taken (see replies). */
  private answered = ""
  private alternate = false
  /** The program switched the cursor keys to application mode (DECCKM, terminfo's smkx: ncurses' keypad()). */
  private applicationCursor = false

  constructor(size: TerminalSize) {
    this.size = size
    this.shownSize = size
  }

  /**
   * Takes a chunk of output; whether it may ask the terminal something (see cursorQuery.ts), which
   * `replies` then answers. Found again, or found where there is none, it costs a render and answers nothing.
   */
  write(chunk: Buffer): boolean {
    this.recent.write(chunk)
    this.written += chunk.length
    // One scan of a chunk with no escape (a flood of plain text): no screen switched, nothing asked.
    const escapes = chunk.indexOf(0x1b) !== -1
    if (escapes) this.followModes(chunk)
    // A query split across two chunks (a pseudo-terminal's reads cut anywhere): the end of the one before.
    const asked = (this.unfinished.length > 0 &&
      asksTerminal(Buffer.concat([this.unfinished, chunk.subarray(0, LONGEST_QUERY)]))) ||
      (escapes && asksTerminal(chunk))
    // Only its last bytes can start a query cut in two: a look at those, not a scan of the chunk.
    const escape = escapes ? chunk.indexOf(0x1b, Math.max(0, chunk.length - LONGEST_QUERY)) : -1
    this.unfinished = escape === -1 ? NO_BYTES : Buffer.from(chunk.subarray(escape))
    return asked
  }

  /**
   * The private modes switched in `chunk` (`ESC [ ? n h`, `… l`, several as `1;1049h`), the last of each
   * winning, in one walk: the alternate screen (1049, with the older 1047 and 47) and the cursor keys' (1).
   */
  private followModes(chunk: Buffer): void {
    for (let at = chunk.indexOf(PRIVATE_MODE); at !== -1; at = chunk.indexOf(PRIVATE_MODE, at + 3)) {
      let end = at + 3
      while (end < chunk.length && (chunk[end] === 0x3b || chunk[end]! >= 0x30 && chunk[end]! <= 0x39)) end++
      if (chunk[end] !== 0x68 && chunk[end] !== 0x6c) continue
      const on = chunk[end] === 0x68
      for (const mode of chunk.toString("latin1", at + 3, end).split(";")) {
        if (mode === "1049" || mode === "1047" || mode === "47") this.alternate = on
        else if (mode === "1") this.applicationCursor = on
      }
    }
  }

  /**
   * What a terminal answers to the queries written so far, in order (the cursor where each was asked):
   * the emulator's replies, each given once.
   */
  async replies(): Promise<string> {
    await this.render()
    const replies = this.answered
    this.answered = ""
    return replies
  }

  /** What a terminal answers to a cursor query now: the screen's cursor, 1-based. */
  async cursorReport(): Promise<string> {
    const { cursor } = await this.render()
    return `\x1b[${cursor.row + 1};${cursor.col + 1}R`
  }

  /**
   * Applied when the screen is next rendered, after the bytes written before it: those were drawn at the
   * size before (a program that does not redraw on SIGWINCH leaves them as they were drawn, reflowed).
   */
  resize(size: TerminalSize): void {
    this.size = size
    // A person resizing over and over with nobody reading the screen: the oldest marks count as done first.
    if (this.resizes.length >= MAX_RESIZES) this.shownSize = this.resizes.shift()!.size
    this.resizes.push({ at: this.written, size })
  }

  /**
   * It shows the alternate screen (an editor, a pager, a full-screen menu): its line view is what was drawn
   * over and over, and the screen is what a person sees. Known from the bytes, without rendering them.
   */
  get fullScreen(): boolean {
    return this.alternate
  }

  /**
   * Keys as a terminal sends them now: with the cursor keys in application mode, the arrows, Home and End
   * go as `ESC O A`, not `ESC [ A` (xterm's DECCKM), which is all an ncurses program in keypad mode knows
   * (dialog reads `ESC [ B` as Esc, then `[`, `B`: it cancels).
   */
  keys(bytes: Buffer): Buffer {
    if (!this.applicationCursor || bytes.indexOf(0x1b) === -1) return bytes
    return Buffer.from(bytes.toString("latin1").replace(NORMAL_CURSOR_KEY, "\x1bO$1"), "latin1")
  }

  /** A new run starts on a clean screen, as a terminal that was reset. */
  reset(): void {
    this.recent.take()
    this.resizes = []
    this.shownSize = this.size
    this.terminal?.xterm.resize(this.size.cols, this.size.rows)
    this.answered = ""
    this.alternate = false
    this.applicationCursor = false
    this.terminal?.xterm.reset()
  }

  /**
   * Rejects with the emulator's load failure (a passing one: too many files open) as EmulatorLoadFailed;
   * with taskmux's files replaced under it, as it was.
   */
  render(options: { readonly redraw?: boolean } = {}): Promise<Screen> {
    // One at a time: a render's resizes fall between its own writes, which a second render's must not reach.
    const rendered = this.rendering.then(() => this.renderNow(options))
    this.rendering = rendered.then(() => undefined, () => undefined)
    return rendered
  }

  private async renderNow(options: { readonly redraw?: boolean }): Promise<Screen> {
    const emulator = await loadEmulator().catch((error: unknown) => {
      // taskmux's files replaced under it: said as every such failure is (see mcp/internalError.ts).
      if (goneSinceStart(error)) throw error
      throw new EmulatorLoadFailed(firstLineOf(error))
    })
    const { bytes, lost } = this.recent.take()
    // More came than the ring keeps: the screen goes on from where it was, as a terminal's would (a header
    // or footer drawn once and not since stays, and so does the alternate screen), with the newest bytes
    // from where a terminal can take them up (see fromBoundary), not from inside a sequence, whose rest
    // would print as text.
    const fed = lost ? fromBoundary(bytes) : bytes
    const start = this.written - fed.length
    // Resizes before the first byte fed apply at once; the others between the bytes that came around them.
    const resizes = this.resizes
    this.resizes = []
    while (resizes.length > 0 && resizes[0]!.at <= start) this.shownSize = resizes.shift()!.size
    if (this.terminal === undefined) {
      const { cols, rows } = this.shownSize
      const xterm = new emulator.Terminal({ cols, rows, scrollback: 0, allowProposedApi: true })
      const serializer = new emulator.SerializeAddon()
      xterm.loadAddon(serializer)
      xterm.loadAddon(new emulator.Unicode11Addon())
      xterm.unicode.activeVersion = "11"
      xterm.onData((reply) => (this.answered += reply))
      this.terminal = { xterm, serializer }
    }
    const { serializer, xterm: terminal } = this.terminal
    terminal.resize(this.shownSize.cols, this.shownSize.rows)
    let from = 0
    const end = { at: start + fed.length, size: resizes.at(-1)?.size ?? this.shownSize }
    for (const { at, size } of [...resizes, end]) {
      // Its writes are parsed asynchronously (the callback says the screen is up to date), and a resize
      // is at once: each part is drawn before the resize that came after it.
      const part = fed.subarray(from, at - start)
      if (part.length > 0) await new Promise<void>((resolve) => terminal.write(part, resolve))
      from = at - start
      terminal.resize(size.cols, size.rows)
      this.shownSize = size
    }
    const buffer = terminal.buffer.active
    const lines: Array<string> = []
    for (let i = 0; i < terminal.rows; i++) {
      lines.push((buffer.getLine(buffer.viewportY + i)?.translateToString(true) ?? "").trimEnd())
    }
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop()
    const cursor = { row: buffer.cursorY, col: buffer.cursorX }
    return options.redraw === true
      ? { rows: lines, cursor, redraw: serializer.serialize({ scrollback: 0 }) }
      : { rows: lines, cursor }
  }
}

/** Resizes kept between two renders; older ones are taken as done before the bytes (see resize). */
const MAX_RESIZES = 64

/** How far into the newest bytes a boundary is looked for: past it, a row or two is a fair price. */
const BOUNDARY_SEARCH_BYTES = 4096

/**
 * `bytes` from a place a terminal can take them up at: a sequence's start (an escape), a carriage return
 * (column 0 of the row, as a progress bar redraws it) or after a newline, whichever comes first within the
 * first few KiB; else (one long line) from the first whole character, so nothing the screen shows is lost.
 */
const fromBoundary = (bytes: Buffer): Buffer => {
  const head = bytes.subarray(0, BOUNDARY_SEARCH_BYTES)
  const starts = [head.indexOf(0x1b), head.indexOf(0x0d), head.indexOf(0x0a)].map((at, i) =>
    at === -1 ? Infinity : i === 2 ? at + 1 : at
  )
  const at = Math.min(...starts)
  if (at !== Infinity) return bytes.subarray(at)
  let first = 0
  while (first < head.length && (bytes[first]! & 0xc0) === 0x80) first++
  return bytes.subarray(first)
}

/** What begins a private mode's switch (see followModes). */
const PRIVATE_MODE = Buffer.from("\x1b[?")
/** An arrow, Home or End as typed in normal mode, with no modifier (Ctrl-Up is `ESC [ 1 ; 5 A` in both modes). */
// eslint-disable-next-line no-control-regex -- the keys are escapes
const NORMAL_CURSOR_KEY = /\x1b\[([A-DHF])/g
