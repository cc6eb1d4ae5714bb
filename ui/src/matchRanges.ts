/**
 * Where a search finds `query` (lowered) in `text`, any case: the parts of `text` to mark, in order, none
 * overlapping. Pure.
 *
 * A few characters lower to more units than they are (U+0130 İ to "i" and a combining dot above): past
 * one, an index into the lowered text is not one into the text, and a mark cut at it lands on the wrong
 * letters. Such text is lowered a character at a time, remembering where each unit came from.
 */
export const matchRanges = (text: string, query: string): Array<readonly [number, number]> => {
  if (query === "") return []
  const { lower, source } = lowered(text)
  const ranges: Array<readonly [number, number]> = []
  let last = 0
  for (let at = lower.indexOf(query); at !== -1; at = lower.indexOf(query, at + query.length)) {
    // A match that begins or ends within a character's lowering marks the whole character.
    const start = Math.max(last, source(at))
    let after = at + query.length
    while (after < lower.length && source(after) === source(after - 1)) after++
    last = source(after)
    if (last > start) ranges.push([start, last])
  }
  return ranges
}

/** Whether a search for `query` (lowered) finds it in `text`. */
export const hasMatch = (text: string, query: string) => lowered(text).lower.includes(query)

const lowered = (text: string): { lower: string; source: (unit: number) => number } => {
  const lower = text.toLowerCase()
  // Nearly always: unit for unit.
  if (lower.length === text.length) return { lower, source: (unit) => unit }
  const from: Array<number> = []
  let each = ""
  for (let i = 0; i < text.length;) {
    const char = String.fromCodePoint(text.codePointAt(i)!)
    const low = char.toLowerCase()
    for (let k = 0; k < low.length; k++) from.push(i)
    each += low
    i += char.length
  }
  return { lower: each, source: (unit) => from[unit] ?? text.length }
}
