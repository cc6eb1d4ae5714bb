/**
 * Where each session's answers got to in each task's output: the last line an answer showed (a wait
 * starts after it, so a ready line already seen does not match again), and the line still without its
 * newline that it showed last (a prompt), as shown: when that line is completed (by the echo of what was
 * typed, or by its run's end) it is no new line to a wait whose pattern the shown part already matched.
 * Per session, not per task: two sessions on one task each have their own place. Weakly held, so a
 * session or a replaced task's output that is gone takes its entries with it.
 */
import type { OutputBuffer } from "../output/OutputBuffer.ts"
import type { ViewerShape } from "./Viewer.ts"

/** A line an answer showed before its newline came, as it was shown (cleaned). */
export interface ShownPartial {
  readonly seq: number
  readonly text: string
}

export interface ShownCursors {
  /** After the last line `viewer` was shown of `buffer`; a stateless (2026-07-28) request's: its run's start. */
  readonly cursor: (viewer: ViewerShape, buffer: OutputBuffer) => number
  /**
   * `viewer` was shown `buffer` up to `cursor` (never back), and `partial` if it was a line without its
   * newline; `typed`: not shown, but passed by a send_input (a wait looks after it all the same).
   */
  readonly show: (
    viewer: ViewerShape,
    buffer: OutputBuffer,
    cursor: number,
    partial?: ShownPartial,
    typed?: boolean
  ) => void
  /** After the last line an answer gave `viewer` to read (a send_input passes lines it never saw). */
  readonly seen: (viewer: ViewerShape, buffer: OutputBuffer) => number
  /** The line without its newline `viewer` was last shown of `buffer`, if any. */
  readonly partial: (viewer: ViewerShape, buffer: OutputBuffer) => ShownPartial | undefined
}

/** What `viewer` holds per buffer in `by`, made on first use. */
const of = <A>(by: WeakMap<ViewerShape, WeakMap<OutputBuffer, A>>, viewer: ViewerShape) => {
  let held = by.get(viewer)
  if (held === undefined) by.set(viewer, held = new WeakMap())
  return held
}

export const makeShownCursors = (): ShownCursors => {
  const shownBy = new WeakMap<ViewerShape, WeakMap<OutputBuffer, number>>()
  const partialShownBy = new WeakMap<ViewerShape, WeakMap<OutputBuffer, ShownPartial>>()
  const seenBy = new WeakMap<ViewerShape, WeakMap<OutputBuffer, number>>()
  const cursor = (viewer: ViewerShape, buffer: OutputBuffer) =>
    viewer.stateless ? buffer.runStart : shownBy.get(viewer)?.get(buffer) ?? 0
  return {
    cursor,
    show: (viewer, buffer, at, partial, typed) => {
      if (viewer.stateless) return
      of(shownBy, viewer).set(buffer, Math.max(cursor(viewer, buffer), at))
      if (typed !== true) {
        const seen = of(seenBy, viewer)
        seen.set(buffer, Math.max(seen.get(buffer) ?? 0, at))
      }
      if (partial !== undefined) of(partialShownBy, viewer).set(buffer, partial)
    },
    seen: (viewer, buffer) => viewer.stateless ? buffer.runStart : seenBy.get(viewer)?.get(buffer) ?? 0,
    partial: (viewer, buffer) => viewer.stateless ? undefined : partialShownBy.get(viewer)?.get(buffer)
  }
}
