// The screen emulator's addons, imported here rather than in TypeScript: their typings are
// @xterm/xterm's, for a browser, and would bring the DOM's types into the server's (xtermAddons.d.ts
// says what they give). esbuild bundles them into the emulator's lazy chunk all the same.
export const loadAddons = () => Promise.all([import("@xterm/addon-serialize"), import("@xterm/addon-unicode11")])
