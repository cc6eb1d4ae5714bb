/** `taskmux ui`: the supervisor's page of the project's tasks, opened in the browser or its address printed. */
import { Effect, Option } from "effect"
import { Command, Flag } from "effect/cli"
import { spawn } from "node:child_process"
import { listenAddress } from "../../web/listenAddress.ts"
import { CliFailure } from "../CliFailure.ts"
import { CliIo } from "../CliIo.ts"
import { style } from "../style.ts"
import { project, withClient } from "../withClient.ts"

export const uiCommand = Command.make(
  "ui",
  {
    project,
    print: Flag.Boolean("print").pipe(
      Flag.withDescription("Print the page's address (its token included) instead of opening a browser"),
      Flag.withDefault(false)
    ),
    readOnly: Flag.Boolean("read-only").pipe(
      Flag.withDescription("A page that only looks: every control disabled, every change refused"),
      Flag.withDefault(false)
    ),
    listen: Flag.String("listen").pipe(
      Flag.withDescription(
        "ADDR[:PORT] to serve on instead of 127.0.0.1 (another interface: anyone who can reach it needs the token)"
      ),
      Flag.optional
    )
  },
  (input) =>
    Effect.gen(function*() {
      // A bad --listen is a usage error, said before a supervisor is asked (or started) for it.
      const address = Option.isSome(input.listen) ? listenAddress(input.listen.value) : undefined
      if (typeof address === "string") return yield* CliFailure.usage(address)
      return yield* withClient(input.project, { start: true, what: "cannot open the page" }, (client) =>
        Effect.gen(function*() {
          const io = yield* CliIo
          const { notice, openUrl, url } = (yield* client.request("taskmux/ui", {
            readOnly: input.readOnly,
            ...(Option.isSome(input.listen) && { listen: input.listen.value })
          })) as { readonly url: string; readonly openUrl: string; readonly notice?: string }
          if (notice !== undefined) {
            io.stderr(`${style(io.colourErr).dim(notice)}\n`)
          }
          if (input.print) {
            return io.stdout(`${url}\n`)
          }
          // A one-time address: a browser's command line is there for every user to read (ps).
          const opened = yield* openBrowser(openUrl)
          io.stdout(
            opened
              ? `Opened the tasks of ${client.project} in your browser.\n`
              : `Open ${url} in a browser (no browser could be started here; taskmux ui --print prints only this).\n`
          )
        }))
    })
).pipe(
  Command.withDescription(
    "Open a live page of the project's tasks in the browser, served by its supervisor on 127.0.0.1"
  )
)

/** Starts the system's browser on `url`, detached; false where there is none (no display, no opener). */
const openBrowser = (url: string) =>
  Effect.promise(() =>
    new Promise<boolean>((resolve) => {
      const opener = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open"
      if (process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return resolve(false)
      const child = spawn(opener, [url], { detached: true, stdio: "ignore" })
      child.once("error", () => resolve(false))
      child.once("spawn", () => {
        child.unref()
        resolve(true)
      })
    })
  )
