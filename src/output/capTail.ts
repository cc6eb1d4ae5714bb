/**
 * What a capped run log ends with: the run's last lines after the cap, as the ring still holds them.
 * A server kept for days passes a 64 MiB cap; without them its log held how it started and nothing of
 * how it ended, once the task was forgotten.
 */
import type { OutputBuffer } from "./OutputBuffer.ts"

/** At most this much of the run's end, and no more than the cap itself (a small cap asks for a small file). */
const TAIL_BYTES = 1024 * 1024

/** `after`: the last line the file holds whole, when the cap came. "" when nothing came after it. */
export const capTail = (buffer: OutputBuffer, after: number, maxBytes: number): string => {
  const { lines } = buffer.read({
    since: after,
    tail: Number.MAX_SAFE_INTEGER,
    maxBytes: Math.min(TAIL_BYTES, maxBytes)
  })
  if (lines.length === 0) return ""
  const count = lines.length === 1 ? "line" : `${lines.length} lines`
  const gap = lines[0]!.seq > after + 1 ? " (those between the cap and them are not in this file)" : ""
  return `[taskmux] the run's last ${count}, added at its end${gap}:\n${lines.map((line) => line.text).join("\n")}\n`
}

/** How many lines the first `bytes` of a chunk end (lines are numbered as they end). */
export const newlines = (chunk: Buffer, bytes: number): number => {
  let count = 0
  for (let at = chunk.indexOf(10); at !== -1 && at < bytes; at = chunk.indexOf(10, at + 1)) count++
  return count
}
