/** A terminal's size, which the process that runs on it and the screen that shows it both need. */
export interface TerminalSize {
  readonly cols: number
  readonly rows: number
}

/** A terminal's size when none is given. */
export const DEFAULT_TERMINAL: TerminalSize = { cols: 120, rows: 40 }
