/**
 * What draws a terminal task's screen and takes what a person types into it. The page uses a real
 * terminal emulator (xterm.js, loaded on first use: most of the page's weight); the MCP App, which must
 * stay one small file, uses a plain-text screen (liteScreen.ts). terminalView is the same for both.
 */
import type { ScreenContent } from "./backend.ts"

export interface ScreenOptions {
  /** The task's name, for the labels. */
  readonly label: string
  readonly readOnly: boolean
  /** The id of the element that says how to type into the screen and leave it. */
  readonly describedBy: string
  /** What the person typed (as a terminal sends it: "\r" for Enter, escape sequences for keys). */
  readonly onData: (data: string) => void
  /** Ctrl+] was pressed: move the focus out (Tab belongs to the program). */
  readonly leave: () => void
}

export interface Screen {
  /** Shows the screen as it is now, at the terminal's size. */
  draw(content: ScreenContent, cols: number, height: number): void
  dispose(): void
}

export type CreateScreen = (host: HTMLElement, options: ScreenOptions) => Screen

/** Loads a screen implementation (the first terminal task shown asks for it). */
export type ScreenLoader = () => Promise<CreateScreen>
