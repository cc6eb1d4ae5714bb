/**
 * A program's question "where is the cursor?" (DSR 6, ESC [ 6 n), which a terminal answers with
 * ESC [ row ; col R. prompt_toolkit (ipython, pgcli) asks after each prompt and waits a second for the
 * answer, then prints a warning; nothing else answers on a pseudo-terminal taskmux holds. Plain, so
 * `taskmux attach` (which keeps it from the person's terminal) loads no emulator for it.
 */
export const CURSOR_QUERY = "\x1b[6n"
