/**
 * Text cut to a length in UTF-16 units without splitting a surrogate pair: half an emoji is a lone
 * surrogate, which JSON.stringify writes as "\ud83d", and which strict JSON parsers (pydantic's, which the
 * Python MCP SDK reads stdio with, and serde_json) refuse, losing the whole message. Pure.
 */
import { jsonEscapingControls } from "./escapeControls.ts"

const isHigh = (code: number) => code >= 0xd800 && code <= 0xdbff
const isLow = (code: number) => code >= 0xdc00 && code <= 0xdfff

/** The first `end` units of `text`, one fewer where the last would be the first half of a pair. */
export const headOf = (text: string, end: number): string =>
  text.slice(0, end > 0 && end < text.length && isHigh(text.charCodeAt(end - 1)) ? end - 1 : end)

/** The last `length` units of `text`, one fewer where the first would be the second half of a pair. */
export const tailOf = (text: string, length: number): string => {
  const start = Math.max(0, text.length - length)
  return text.slice(start > 0 && isLow(text.charCodeAt(start)) ? start + 1 : start)
}

/** What a failure says, its first line only (the rest is a stack, a command's output): for one line of a log or an answer. */
export const firstLineOf = (error: unknown): string =>
  (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? ""

/** `text`, or its first `max - 1` units and "…". */
export const clipText = (text: string, max: number): string => text.length > max ? `${headOf(text, max - 1)}…` : text

/** A value as messages quote it: at most 200 characters of it (a command may be a whole script). */
export const quote = (s: string) => jsonEscapingControls(clipText(s, 201))
