/**
 * A pattern as callers write it, compiled: JavaScript regex syntax, and the two ways other languages'
 * users ask for flags, which JavaScript's `RegExp` would reject or match literally: a leading inline
 * group (`(?i)ready`, as Python, Go and PCRE take it) and a regex literal (`/ready/i`). Throws as
 * `RegExp` does for a pattern that is not one.
 */
import { setFlagsFromString } from "node:v8"
import { headOf } from "./clipText.ts"
import { escapeControls } from "./escapeControls.ts"

// Patterns come from clients, and matching runs on the server's one thread: a pattern that backtracks
// exponentially ("(a+)+$" on a long line) would stall every session. V8 moves a match that backtracks
// too much to its linear-time engine; the second flag lets compilePattern ask whether a pattern can go
// there (the "l" flag).
setFlagsFromString("--enable-experimental-regexp-engine-on-excessive-backtracks")
setFlagsFromString("--enable-experimental-regexp-engine")

const INLINE = /^\(\?([ims]+)\)/
const LITERAL = /^\/(.+)\/([gimsuy]+)$/s

/**
 * The longest pattern taken: readiness patterns and searches are a few words. (V8 compiles a pattern at
 * its first match, and fails one too large for it there, after a start: the shortest it fails is some
 * 30,000 characters.)
 */
export const MAX_PATTERN = 2_000

/**
 * A valid pattern that taskmux will not run, because a line could make it take minutes on the one
 * thread every session shares. Its message says why (not "invalid": JavaScript would take it).
 */
export class RefusedPattern extends Error {}

export const compilePattern = (pattern: string): RegExp => {
  if (pattern.length > MAX_PATTERN) {
    throw new RefusedPattern(`it is ${pattern.length} characters long, more than the ${MAX_PATTERN} a pattern may be`)
  }
  try {
    return compiled(pattern)
  } catch (error) {
    if (error instanceof RefusedPattern) throw error
    // The engine's message quotes the pattern as it is: an escape in it would reach a terminal.
    throw new SyntaxError(escapeControls((error as Error).message), { cause: error })
  }
}

/**
 * What is wrong with a pattern compilePattern threw for, in a sentence's middle: the engine's words
 * without their prefix, and the pattern they quote cut as messages cut it (a long one would fill them).
 */
export const patternProblem = (error: unknown): string => {
  const message = (error as Error).message.replace(/^Invalid regular expression: /, "")
  const quoted = /^\/(.*)\/([a-z]*): /s.exec(message)
  return quoted !== null && quoted[1]!.length > 200
    ? `/${headOf(quoted[1]!, 200)}…/${quoted[2]}: ${message.slice(quoted[0].length)}`
    : message
}

/** Python's named group, which JavaScript writes without the P. */
const PYTHON_GROUP = /\(\?P<(\w+)>/

const compiled = (pattern: string): RegExp => {
  const inline = INLINE.exec(pattern)
  // Only with flags: "/api/" may well mean the path.
  const literal = inline === null ? LITERAL.exec(pattern) : null
  const [source, flags] = inline !== null
    ? [pattern.slice(inline[0].length), unique(inline[1]!)]
    : literal !== null
    // g and y (the flags most often written: `/error/gi`) mean nothing for a test of one line, and
    // would make it remember where it stopped.
    ? [literal[1]!, unique(literal[2]!.replace(/[gy]/g, ""))]
    : [pattern, ""]
  const named = PYTHON_GROUP.exec(source)
  if (named !== null) {
    throw new SyntaxError(
      `Invalid regular expression: /${source}/: ${named[0]} is Python's named group, which JavaScript ` +
        `writes without the P: (?<${named[1]}>…)`
    )
  }
  const regex = unicodeWhereAsked(source, flags)
  // grep's and Python's users write "[[:digit:]]": JavaScript reads a class of "[:dgit" and then a "]".
  const posix = /\[:(alpha|digit|alnum|space|upper|lower|punct|xdigit|word|blank|cntrl|graph|print):\]/.exec(source)
  if (posix !== null) {
    throw new SyntaxError(
      `Invalid regular expression: /${source}/: ${posix[0]} is a POSIX class, which JavaScript patterns ` +
        `do not have: write ${POSIX[posix[1]!]} instead`
    )
  }
  if (!linear(source, regex.flags) && repeatsAChoice(source)) {
    throw new RefusedPattern(
      "it repeats a group that holds a repeat or a choice (a|b), and uses a lookaround or a backreference, " +
        "so a line could take it minutes: drop one of them"
    )
  }
  const unled = withoutLeadingAny(regex.source)
  return unled === regex.source ? regex : new RegExp(unled, regex.flags)
}

/**
 * A pattern without its leading ".*" (".*ready", "(?i).*error"): that matches the empty string where the
 * rest matches, so a test is the same without it, but V8 runs it from every position of the line and back:
 * 0.1 s for an 8 KiB line, and a wait on a 1 MB line without a newline (128 pieces) stalled every session 12 s.
 */
const withoutLeadingAny = (source: string): string => {
  const lead = /^\.\*\??(?![*+?{])/.exec(source)
  return lead === null ? source : withoutLeadingAny(source.slice(lead[0].length))
}

/**
 * A property escape (`\p{L}`, `\p{Script=Han}`) or a code point escape (`\u{1F680}`) means something only
 * in unicode mode: without the u flag JavaScript reads `\p{L}` as the text "p{L}" and matches nothing a
 * program prints, so such a pattern is compiled with it (where it is valid so: `\-` outside a class is not).
 */
const unicodeWhereAsked = (source: string, flags: string): RegExp => {
  if (!/[uv]/.test(flags) && /\\[pP]\{|\\u\{/.test(source)) {
    try {
      return new RegExp(source, `${flags}u`)
    } catch {
      // Not a unicode-mode pattern: taken as JavaScript takes it without the flag.
    }
  }
  return new RegExp(source, flags)
}

/** A pattern read as text slashes and all ("/ready/"): what a wait that found nothing says about it. */
export const slashesHint = (pattern: RegExp): string | undefined =>
  /^\\\/.+\\\/$/s.test(pattern.source) && pattern.flags === ""
    ? `The pattern ${pattern.source.replace(/\\\//g, "/")} was read as text, slashes included: /.../ is a ` +
      `regex literal only with flags (/ready/i); without them, leave the slashes out.`
    : undefined

/** Whether V8's linear-time engine can run it (no lookahead, no backreference): then no line can stall it. */
const linear = (source: string, flags: string) => {
  try {
    new RegExp(source, `${flags}l`)
    return true
  } catch {
    return false
  }
}

/** JavaScript's way to say each POSIX class (ASCII, as grep's C locale). */
const POSIX: Record<string, string> = {
  alpha: "[A-Za-z]",
  digit: "\\d",
  alnum: "[A-Za-z0-9]",
  space: "\\s",
  upper: "[A-Z]",
  lower: "[a-z]",
  punct: "[!-/:-@[-`{-~]",
  xdigit: "[0-9A-Fa-f]",
  word: "\\w",
  blank: "[ \\t]",
  cntrl: "[\\x00-\\x1f]",
  graph: "[!-~]",
  print: "[ -~]"
}

const unique = (flags: string) => [...new Set(flags)].join("")

const QUANTIFIER = /^(?:[+*]|\{\d+,?\d*\})/

/**
 * Whether a group that holds a repeat or a choice is itself repeated: "(a+)+", "((?!x)\\w+)*",
 * "(a|aa)*". Each backtracks exponentially on a line that almost matches, where the linear engine cannot
 * take over.
 */
const repeatsAChoice = (source: string): boolean => {
  // For each open group: whether a repeat or a choice is inside it.
  const open: Array<boolean> = []
  let inClass = false
  for (let i = 0; i < source.length; i++) {
    const c = source[i]!
    if (c === "\\") {
      i++
      continue
    }
    if (inClass) {
      inClass = c !== "]"
      continue
    }
    if (c === "[") inClass = true
    else if (c === "(") open.push(false)
    else if (c === "|" && open.length > 0) open[open.length - 1] = true
    else if (c === ")") {
      const held = open.pop() ?? false
      const repeated = QUANTIFIER.test(source.slice(i + 1))
      if (held && repeated) return true
      if (open.length > 0 && (held || repeated)) open[open.length - 1] = true
    } else if (QUANTIFIER.test(source.slice(i)) && open.length > 0) open[open.length - 1] = true
  }
  return false
}

/** Lines shorter than this are matched as they are: no pattern is slow on them. */
const LONG_LINE = 1_024
/** A test of one long line that took longer than this moves the pattern to the linear engine for long lines. */
const SLOW_MS = 2

/**
 * Each pattern that was slow on a long line, with its linear-time twin (or null where the engine cannot
 * run it). A pattern that scans on from each position ("(\w+)\s+ready", "(.*) ready") costs V8's
 * backtracking engine the square of a line's length without a single backtrack it counts: 35 ms for an
 * 8 KiB piece, seconds of every session's time for a wait on a megabyte printed without a newline. The
 * linear engine takes 0.5 ms for any pattern there, but 100 times the backtracking one's time on the
 * lines patterns usually meet, so only a pattern found slow moves, and only for long lines.
 */
const slow = new WeakMap<RegExp, RegExp | null>()

/** `RegExp.test` without the `g`/`y` flags' memory of the last match, on the engine that suits the line. */
export const matchOnce = (pattern: RegExp, text: string) => {
  if (text.length < LONG_LINE) return testFromStart(pattern, text)
  const twin = slow.get(pattern)
  if (twin !== undefined) return testFromStart(twin ?? pattern, text)
  const t0 = performance.now()
  const found = testFromStart(pattern, text)
  if (performance.now() - t0 > SLOW_MS) slow.set(pattern, linearTwin(pattern))
  return found
}

const testFromStart = (pattern: RegExp, text: string) => {
  pattern.lastIndex = 0
  return pattern.test(text)
}

const linearTwin = (pattern: RegExp): RegExp | null => {
  try {
    return new RegExp(pattern.source, `${pattern.flags}l`)
  } catch {
    return null
  }
}
