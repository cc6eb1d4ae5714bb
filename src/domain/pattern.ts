/**
 * A pattern as callers write it, compiled: JavaScript regex syntax, and the two ways other languages'
 * users ask for flags, which JavaScript's `RegExp` would reject or match literally: a leading inline
 * group (`(?i)ready`, as Python, Go and PCRE take it) and a regex literal (`/ready/i`). Throws as
 * `RegExp` does for a pattern that is not one.
 */
const INLINE = /^\(\?([ims]+)\)/
const LITERAL = /^\/(.+)\/([imsu]+)$/s

export const compilePattern = (pattern: string): RegExp => {
  const inline = INLINE.exec(pattern)
  if (inline !== null) return new RegExp(pattern.slice(inline[0].length), unique(inline[1]!))
  // Only with flags: "/api/" may well mean the path.
  const literal = LITERAL.exec(pattern)
  if (literal !== null) return new RegExp(literal[1]!, unique(literal[2]!))
  return new RegExp(pattern)
}

const unique = (flags: string) => [...new Set(flags)].join("")
