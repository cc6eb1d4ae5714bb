/**
 * Questions a program asks its terminal and waits for the answer to, which `@xterm/headless` answers as
 * a terminal does (its replies come on its onData): where is the cursor (DSR 6, ESC [ 6 n, and ESC [ ? 6 n;
 * prompt_toolkit asks after each prompt and waits a second), the device attributes (DA1, ESC [ c: fish 4.1+
 * waits 10 s for it at every start, crossterm 2 s, notcurses for ever; DA2, ESC [ > c: vim's t_RV; DA3),
 * the status (ESC [ 5 n), a mode (DECRQM, ESC [ ? 2026 $ p) and a setting (DECRQSS, ESC P $ q). Nothing
 * else answers on a pseudo-terminal taskmux holds. Plain, so `taskmux attach` (which keeps them from the
 * person's terminal) loads no emulator for them.
 */
export const CURSOR_QUERY = "\x1b[6n"

/** What each of those starts with, or is (DECRQM is found by its end, `$p`, see asksTerminal). */
const QUERIES = [
  "\x1b[6n",
  "\x1b[?6n",
  "\x1b[5n",
  "\x1b[c",
  "\x1b[0c",
  "\x1b[>c",
  "\x1b[>0c",
  "\x1b[=c",
  "\x1b[=0c",
  "\x1bP$q"
]
  .map((query) => Buffer.from(query))
const MODE_QUERY_END = Buffer.from("$p")
/** ESC [ ? digits $ p, or ESC [ digits $ p, ending at `end` (the `$`). */
const isModeQuery = (bytes: Buffer, end: number) => {
  let at = end - 1
  while (at >= 0 && bytes[at]! >= 0x30 && bytes[at]! <= 0x39) at--
  if (at === end - 1) return false
  if (bytes[at] === 0x3f) at--
  return at >= 1 && bytes[at] === 0x5b && bytes[at - 1] === 0x1b
}

/** The longest a query that `asksTerminal` finds can be, for one cut across two reads. */
export const LONGEST_QUERY = 12

/** Whether the bytes ask the terminal something it answers (see above): native searches, no decoding. */
export const asksTerminal = (bytes: Buffer): boolean => {
  if (bytes.indexOf(0x1b) === -1) return false
  for (const query of QUERIES) if (bytes.includes(query)) return true
  for (let at = bytes.indexOf(MODE_QUERY_END); at !== -1; at = bytes.indexOf(MODE_QUERY_END, at + 1)) {
    if (isModeQuery(bytes, at)) return true
  }
  return false
}

/** The queries above in a text `taskmux attach` shows the person: the supervisor answers them already. */
// eslint-disable-next-line no-control-regex -- escapes are what it finds
export const ANSWERED_QUERIES = /\x1b\[\??6n|\x1b\[5n|\x1b\[[>=]?0?c|\x1b\[\??\d+\$p|\x1bP\$q[^\x1b]*\x1b\\/g
