/**
 * The MCP App's entry (`ui://taskmux/tasks`, built into one file, dist/ui/app.html): the page's
 * components over the host's bridge. The host loads it into a sandboxed frame with no network; every
 * call goes through the host to taskmux's tools (appBackend polls, as there is no event stream).
 */
import "./style.css"
import { App } from "@modelcontextprotocol/ext-apps"
import { mountApp } from "./app.ts"
import { appBackend } from "./appBackend.ts"
import { h, replace } from "./dom.ts"
import { createScreen } from "./liteScreen.ts"

declare const __TASKMUX_VERSION__: string

const root = document.getElementById("app")!
const app = new App({ name: "taskmux", version: __TASKMUX_VERSION__ }, {}, { autoResize: true })

app.connect().then(
  () => {
    mountApp(root, appBackend(app), { useHash: false, screen: () => Promise.resolve(createScreen) })
    // A sandboxed frame opens no tab of its own: a task's port link is opened by the host, if it can.
    document.addEventListener("click", (e) => {
      const link = (e.target as Element).closest<HTMLAnchorElement>("a[target=_blank]")
      if (link === null || app.getHostCapabilities()?.openLinks === undefined) return
      e.preventDefault()
      void app.openLink({ url: link.href })
    })
  },
  (error: unknown) => {
    replace(
      root,
      h(
        "p",
        { class: "banner", role: "alert" },
        `This is taskmux's MCP App: it runs inside an MCP host, which did not answer (${
          error instanceof Error ? error.message : String(error)
        }).`
      )
    )
  }
)
