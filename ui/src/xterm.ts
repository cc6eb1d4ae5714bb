// The terminal emulator and its stylesheet, one chunk loaded by the first terminal task shown.
import "@xterm/xterm/css/xterm.css"
export { Terminal } from "@xterm/xterm"
