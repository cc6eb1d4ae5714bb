/**
 * What a terminal task's screen shows now, as a person would see it: full-screen and
 * prompt-driven programs redraw with cursor moves, so their line log is not their screen.
 *
 * Rendering is `@xterm/headless` (a real terminal emulator), made on the first screen read
 * and fed then. Until a read, output costs one copy into a byte ring of the newest
 * `RECENT_BYTES`, so a flood pays nothing for a screen nobody looks at. When more arrived
 * between two reads than the ring holds, the screen is rebuilt from the newest bytes, which
 * for anything that redraws or scrolls at that rate is what it shows.
 */
import type * as XtermHeadless from "@xterm/headless"
import type { TerminalSize } from "../domain/TerminalSize.ts"

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
let loaded: Promise<Xterm> | undefined
const loadXterm = () =>
  loaded ??= import("@xterm/headless").then((module) => ((module as { default?: Xterm }).default ?? module) as Xterm)

export interface Screen {
  /** The rows of the screen, trailing blanks trimmed. */
  readonly rows: ReadonlyArray<string>
  /** Where the cursor is, 0-based. */
  readonly cursor: { readonly row: number; readonly col: number }
}

export class TerminalScreen {
  private readonly recent = new ByteRing(RECENT_BYTES)
  private terminal: XtermHeadless.Terminal | undefined
  private size: TerminalSize

  constructor(size: TerminalSize) {
    this.size = size
  }

  write(chunk: Uint8Array): void {
    this.recent.write(chunk)
  }

  resize(size: TerminalSize): void {
    this.size = size
    this.terminal?.resize(size.cols, size.rows)
  }

  /** A new run starts on a clean screen, as a terminal that was reset. */
  reset(): void {
    this.recent.take()
    this.terminal?.reset()
  }

  async render(): Promise<Screen> {
    const xterm = await loadXterm()
    const { cols, rows } = this.size
    const { bytes, lost } = this.recent.take()
    if (this.terminal === undefined || lost) {
      this.terminal?.dispose()
      this.terminal = new xterm.Terminal({ cols, rows, scrollback: 0, allowProposedApi: true })
    }
    const terminal = this.terminal
    // Its writes are parsed asynchronously: the callback says the screen is up to date.
    await new Promise<void>((resolve) => terminal.write(bytes, resolve))
    const buffer = terminal.buffer.active
    const lines: Array<string> = []
    for (let i = 0; i < terminal.rows; i++) {
      lines.push((buffer.getLine(buffer.viewportY + i)?.translateToString(true) ?? "").trimEnd())
    }
    while (lines.length > 0 && lines[lines.length - 1] === "") lines.pop()
    return { rows: lines, cursor: { row: buffer.cursorY, col: buffer.cursorX } }
  }
}
