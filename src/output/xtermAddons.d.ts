import type { ITerminalAddon } from "@xterm/headless"

/** Redraws a terminal's state on another: its screen, colours, cursor and modes, as escape sequences. */
export interface SerializeAddon extends ITerminalAddon {
  serialize(options?: { readonly scrollback?: number }): string
}

type Module<A> = A | { readonly default: A }

export declare const loadAddons: () => Promise<
  [
    Module<{ readonly SerializeAddon: new() => SerializeAddon }>,
    Module<{ readonly Unicode11Addon: new() => ITerminalAddon }>
  ]
>
