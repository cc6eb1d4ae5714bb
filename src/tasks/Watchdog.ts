/**
 * No orphans, even when the server is SIGKILLed or killed for memory: a tiny `sh`
 * process, in a session of its own, holds a pipe from the server and the list of task
 * process groups. When the pipe closes (the server is gone, however it went), it sends
 * SIGTERM to every group, then SIGKILL half a second later, and exits. It blocks in
 * `read` meanwhile: no polling, about a megabyte of memory, one per server.
 */
import { Context, Effect, Layer, Scope } from "effect"
import * as ProcessGroup from "./ProcessGroup.ts"

const script = `
groups=""
while IFS= read -r line; do
  case "$line" in
    +*) groups="$groups \${line#+}" ;;
    -*) kept=""; for g in $groups; do [ "$g" = "\${line#-}" ] || kept="$kept $g"; done; groups=$kept ;;
  esac
done
[ -n "$groups" ] || exit 0
for g in $groups; do kill -s TERM -- "-$g" 2>/dev/null; kill -s CONT -- "-$g" 2>/dev/null; done
sleep 0.5
for g in $groups; do kill -s KILL -- "-$g" 2>/dev/null; done
`

const discard: ProcessGroup.OutputSink = { append: () => true, flush: () => {}, onDrain: (resume) => resume() }

export class Watchdog extends Context.Service<Watchdog, {
  /** The watchdog ends this process group if the server dies first. */
  readonly track: (pgid: number) => Effect.Effect<void>
  /** The group has ended: forget it. */
  readonly untrack: (pgid: number) => Effect.Effect<void>
}>()("taskmux/Watchdog") {
  static readonly layer: Layer.Layer<Watchdog> = Layer.effect(
    Watchdog,
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      // Started with the first task, not at start-up: a server that runs no task needs none.
      const watchdog = yield* Effect.cached(
        ProcessGroup.spawn({
          command: "/bin/sh",
          args: ["-c", script],
          cwd: "/",
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin" },
          releaseGraceMs: 100
        }, discard).pipe(Effect.orDie, Scope.provide(scope))
      )
      const say = (line: string) =>
        Effect.flatMap(watchdog, (group) => Effect.asVoid(group.write(Buffer.from(`${line}\n`), 1_000)))
      return Watchdog.of({
        track: (pgid) => say(`+${pgid}`),
        untrack: (pgid) => say(`-${pgid}`)
      })
    })
  )

  /** For tests that need no watchdog. */
  static readonly layerNoop: Layer.Layer<Watchdog> = Layer.succeed(
    Watchdog,
    Watchdog.of({ track: () => Effect.void, untrack: () => Effect.void })
  )
}
