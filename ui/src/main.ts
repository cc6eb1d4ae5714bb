// The HTTP page's entry: the page's components over the supervisor's HTTP API.
import "./style.css"
import { mountApp } from "./app.ts"
import { httpBackend } from "./httpBackend.ts"
import { followSystemTheme } from "./theme.ts"

followSystemTheme()

mountApp(document.getElementById("app")!, httpBackend(), {
  // xterm.js is a chunk of its own, loaded by the first terminal task shown.
  screen: () => import("./xtermScreen.ts").then((m) => m.createScreen)
})
