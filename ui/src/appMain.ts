/**
 * The MCP App's entry (`ui://taskmux/tasks`, built into one file, dist/ui/app.html): the page's
 * components over the host's bridge. The host loads it into a sandboxed frame with no network; every
 * call goes through the host to taskmux's tools (appBackend polls, as there is no event stream).
 */
import "./style.css"
import { App, applyHostFonts } from "@modelcontextprotocol/ext-apps"
import { mountApp, type MountedApp } from "./app.ts"
import { appBackend } from "./appBackend.ts"
import { h, replace } from "./dom.ts"
import { createScreen } from "./liteScreen.ts"
import { applyHostStyles, applyTheme, followSystemTheme, type Theme } from "./theme.ts"

declare const __TASKMUX_VERSION__: string

const root = document.getElementById("app")!

// ext-apps' PostMessageTransport logs every message it sends and takes ("Sending message", "Parsed message")
// with console.debug, the message itself as the argument. A browser keeps a frame's last 1,000 console
// messages with their arguments, DevTools open or not, so each tool result the app polls (read_output's
// lines twice a second, list_tasks every second) stayed in memory: 20 MB in four minutes of a chatty task,
// 108 MB of a flood. Those two are left out; anything else the app or the bridge says still reaches the console.
const debug = console.debug.bind(console)
console.debug = (...args: Array<unknown>) => {
  if (args[0] === "Sending message" || args[0] === "Parsed message") return
  debug(...args)
}

// Inline in a conversation, or fullscreen where a long list of tasks has room: the layout fits either.
const app = new App(
  { name: "taskmux", version: __TASKMUX_VERSION__ },
  { availableDisplayModes: ["inline", "fullscreen"] },
  { autoResize: true }
)

// The host's theme once it gives one (and as it changes); the system's until then.
let followingSystem: (() => void) | undefined = followSystemTheme()
const useHostTheme = (theme: Theme | undefined) => {
  if (theme === undefined) return
  followingSystem?.()
  followingSystem = undefined
  applyTheme(theme)
}
// Its colours and fonts too, where it gives them: a change gives only what changed, and styles whole.
const useHostContext = () => {
  const context = app.getHostContext()
  useHostTheme(context?.theme)
  if (context?.styles === undefined) return
  applyHostStyles(context.styles.variables)
  // Its @font-face rules, for the fonts its variables name (the first given only: the SDK's way).
  if (context.styles.css?.fonts !== undefined) applyHostFonts(context.styles.css.fonts)
}
app.onhostcontextchanged = useHostContext

let mounted: MountedApp | undefined
let torn = false
/** The task the shown tool call is about (get_task's name), until the app is mounted to show it. */
let about: string | undefined
// Set before connecting: the host may send them as soon as the app says it is initialized.
app.ontoolinput = ({ arguments: args }) => {
  const name = args?.name
  if (typeof name !== "string") return
  about = name
  mounted?.select(name)
}
// The host ends the app (the conversation closed, the result scrolled away): its polls end with it.
app.onteardown = () => {
  torn = true
  mounted?.dispose()
  mounted = undefined
  return {}
}

// Polled only while someone can see it: a conversation keeps every result's app, each would poll for good.
let inView = true
new IntersectionObserver((entries) => {
  inView = entries.some((e) => e.isIntersecting)
}).observe(root)
const seen = () => inView && !document.hidden

app.connect().then(
  () => {
    if (torn) return
    useHostContext()
    mounted = mountApp(root, appBackend(app, { seen }), {
      useHash: false,
      selected: about,
      screen: () => Promise.resolve(createScreen)
    })
    // A sandboxed frame opens no tab of its own: a task's port link is opened by the host, if it can;
    // else its address stays there to read (the frame's own try is only refused, with an error).
    document.addEventListener("click", (e) => {
      const link = (e.target as Element).closest<HTMLAnchorElement>("a[target=_blank]")
      if (link === null) return
      e.preventDefault()
      if (app.getHostCapabilities()?.openLinks !== undefined) void app.openLink({ url: link.href })
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
