/**
 * No orphans, even when the server is SIGKILLed or killed for memory: a tiny `sh`
 * process, in a session of its own, holds a pipe from the server and the list of task
 * leaders (each the leader of its own session and process group). When the pipe closes
 * (the server is gone, however it went), it sends SIGTERM to every group, to every
 * process of those sessions (a terminal's shell puts jobs in groups of their own), to every
 * process marked as a run of this server and to every process that holds a task's output
 * (see ProcessTree), then SIGKILL half a second later, and exits. It blocks in `read`
 * meanwhile: no polling, about a megabyte of memory, one per server. It is there before a task's
 * first process is (a run not yet tracked is found by its marker), and one that dies (a stray
 * `pkill sh`) is replaced and told again what it watches.
 */
import { Context, Deferred, Duration, Effect, Exit, Layer, Schedule, Scope } from "effect"
import type { SpawnFailed } from "../domain/errors.ts"
import * as PipeProcess from "./PipeProcess.ts"
import { MARKER_VARIABLE, serverMarkerPrefix } from "./ProcessTree.ts"
import type { OutputSink, TaskProcess } from "./TaskProcess.ts"

// `groups` is " 12 34 " (a space on both sides of each id), so removing one is two expansions,
// not a loop over all of them. "+12 socket:?45? /dev/pts/3" tracks group 12 and what its output's
// descriptors point to (other than [\w:/.-] as ?), kept in o_12.
const script = `
groups=" "
while IFS= read -r line; do
  case "$line" in
    +*) set -- \${line#+}; g=$1; shift; eval "o_$g=\\"\\$*\\""
        case "$groups" in *" $g "*) ;; *) groups="$groups$g " ;; esac ;;
    -*) g="\${line#-}"; unset "o_$g"
        case "$groups" in *" $g "*) groups="\${groups%% $g *} \${groups#* $g }" ;; esac ;;
  esac
done
# Every group, every process whose session is a task's ("pid (comm) state ppid pgrp session ..."),
# every process that carries a marker of this server's runs (escaped from both; even with no group
# tracked: a run spawned just now, whose group was not said yet, has its marker), and the holders.
holders=""
sweep() {
  for g in $groups; do kill -s "$1" -- "-$g" 2>/dev/null; done
  for p in $holders; do kill -s "$1" "$p" 2>/dev/null; done
  for p in /proc/[0-9]*; do
    read -r stat 2>/dev/null < "$p/stat" || continue
    set -- "$1" \${stat##*") "}
    case "$groups" in *" $5 "*) kill -s "$1" "\${p#/proc/}" 2>/dev/null ;; esac
  done
  for f in $(grep -lzs "^${MARKER_VARIABLE}=$TASKMUX_SWEEP" /proc/[0-9]*/environ); do
    p="\${f#/proc/}"; kill -s "$1" "\${p%/environ}" 2>/dev/null
  done
}
# What it knows first, at once; then who holds a task's output, which takes a look at every descriptor
# of the machine (tens of thousands beside a browser): one pass, each looked up in a set, not matched
# against every pattern. The server's end closed its terminals' masters: to who still holds one, it is
# "/dev/pts/3 (deleted)", while a holder of "/dev/pts/3" is of a new terminal that took the number.
sweep TERM
outs=""
for g in $groups; do eval "outs=\\"\\$outs \\$o_$g\\""; done
if [ -n "\${outs# }" ]; then
  holders=$(ls -l /proc/[0-9]*/fd/ 2>/dev/null | awk -v outs="$outs" '
    BEGIN { n = split(outs, o, " "); for (i = 1; i <= n; i++) want[o[i]] = 1 }
    /^\\/proc\\/[0-9]+\\/fd\\/?:$/ { split($0, d, "/"); pid = d[3]; next }
    { t = $NF; if (t == "(deleted)") t = $(NF - 1); else if (t ~ /^\\/dev\\/pts\\//) next; gsub(/[^A-Za-z0-9_:\\/.-]/, "?", t); if (t in want) print pid }')
  for p in $holders; do kill -s TERM "$p" 2>/dev/null; done
fi
sweep CONT
sleep 0.5
sweep KILL
`

/** "socket:[45]" as "socket:?45?": nothing the shell would expand or split (the watchdog writes a link's target so too). */
const asPattern = (output: string) => output.replace(/[^\w:/.-]/g, "?")

const nextTurn = Effect.callback<void>((resume) => {
  const immediate = setImmediate(() => resume(Effect.void))
  return Effect.sync(() => clearImmediate(immediate))
})

/**
 * Watchdogs started in place of one killed, at most, in a minute: one killed as soon as it starts (a loop
 * of pkill) is not started again and again; one killed now and then, over a supervisor's days, always is.
 */
const MAX_REPLACED = 10
const REPLACED_WINDOW_MS = 60_000

const discard: OutputSink = { append: () => true, flush: () => {}, onDrain: (resume) => resume() }

export class Watchdog extends Context.Service<Watchdog, {
  /**
   * The watchdog runs (spawned with the first task, before its process). A spawn that failed (too many
   * files open, the process limit) fails this start, and the next start tries again.
   */
  readonly armed: Effect.Effect<void, SpawnFailed>
  /** The watchdog ends this process group, and whoever holds `outputs`, if the server dies first. */
  readonly track: (pgid: number, outputs: ReadonlyArray<string>) => Effect.Effect<void>
  /** The group has ended: forget it. */
  readonly untrack: (pgid: number) => Effect.Effect<void>
}>()("taskmux/Watchdog") {
  static readonly layer: Layer.Layer<Watchdog> = Layer.effect(
    Watchdog,
    Effect.gen(function*() {
      const scope = yield* Effect.scope
      // What it watches, by group: said again, whole, to a watchdog spawned anew.
      const watched = new Map<number, string>()
      /** When each of the last replacements was started. */
      const replacedAt: Array<number> = []
      const spawnIn = (own: Scope.Closeable): Effect.Effect<TaskProcess, SpawnFailed> =>
        PipeProcess.spawn({
          command: "/bin/sh",
          args: ["-c", script],
          cwd: "/",
          env: { PATH: process.env.PATH ?? "/usr/bin:/bin", TASKMUX_SWEEP: serverMarkerPrefix },
          releaseGraceMs: 100,
          stopGraceMs: 100
        }, discard).pipe(
          Effect.tap((group) =>
            // Its end before the server's is a watchdog killed (the server's end interrupts this first).
            Effect.forkIn(
              Effect.gen(function*() {
                yield* group.exited
                // The monotonic clock: a step of the wall clock must not leave the tasks without one for hours.
                const now = performance.now()
                while (replacedAt.length > 0 && now - replacedAt[0]! > REPLACED_WINDOW_MS) replacedAt.shift()
                if (replacedAt.length >= MAX_REPLACED) {
                  const waitMs = REPLACED_WINDOW_MS - (now - replacedAt[0]!)
                  const seconds = Math.ceil(waitMs / 1000)
                  yield* Effect.logError(
                    `the watchdog was killed ${MAX_REPLACED} times in a minute: another starts in ${seconds} s; ` +
                      "until then the tasks would not be ended if this server were killed"
                  )
                  yield* Effect.sleep(waitMs)
                }
                replacedAt.push(performance.now())
                yield* invalidate
                yield* Effect.logWarning("the watchdog ended; starting another")
                // A limit reached (files, processes) passes: tried again each second, said at once and then
                // once a minute (a limit that lasts a day is not 86,400 lines of log).
                let tries = 0
                const fresh = yield* running.pipe(
                  Effect.tapError((error) =>
                    tries++ % 60 === 0
                      ? Effect.logError(`another watchdog could not start (${error.message}): trying again each second`)
                      : Effect.void
                  ),
                  Effect.retry(Schedule.spaced("1 second"))
                )
                if (watched.size > 0) yield* fresh.write(Buffer.from([...watched.values()].join("")), 1_000)
                // Let go of the one that ended once another is on watch (its release takes a moment).
                yield* Scope.close(own, Exit.void)
              }),
              scope
            )
          ),
          Scope.provide(own)
        )
      // Each watchdog in a scope of its own, closed once it has ended: over a supervisor's weeks, one
      // replaced now and then would otherwise leave its process object in the layer's scope each time.
      const spawnOne: Effect.Effect<TaskProcess, SpawnFailed> = Effect.flatMap(
        Scope.fork(scope),
        (own) => spawnIn(own).pipe(Effect.onError((cause) => Scope.close(own, Exit.failCause(cause))))
      )
      // Started with the first task, not at start-up: a server that runs no task needs none. A failed
      // spawn is not kept: the next caller spawns again.
      const [watchdog, invalidate] = yield* Effect.cachedInvalidateWithTTL(
        Effect.suspend(() => spawnOne),
        Duration.infinity
      )
      const running = Effect.tapError(watchdog, () => invalidate)
      // Lines said in the same turn of the event loop go in one write: a mass start or stop
      // says hundreds in a burst, and each write wakes the shell (which reads a byte at a time).
      // The first caller of a turn writes for all; each returns once its line is written.
      let batch: { text: string; readonly written: Deferred.Deferred<void> } | undefined
      const say = (line: string) =>
        Effect.flatMap(running, (group) =>
          Effect.suspend(() => {
            if (batch !== undefined) {
              batch.text += `${line}\n`
              return Deferred.await(batch.written)
            }
            const current = batch = { text: `${line}\n`, written: Deferred.makeUnsafe<void>() }
            return nextTurn.pipe(
              Effect.andThen(Effect.suspend(() => {
                batch = undefined
                return group.write(Buffer.from(current.text), 1_000)
              })),
              Effect.ensuring(Deferred.succeed(current.written, undefined)),
              // It writes for the others too: not to be interrupted halfway.
              Effect.uninterruptible,
              Effect.asVoid
            )
          })).pipe(
            // None runs (another could not start yet): the line waits in `watched`, said whole to the next.
            Effect.orElseSucceed(() => undefined)
          )
      return Watchdog.of({
        armed: Effect.asVoid(running),
        track: (pgid, outputs) => {
          const line = `+${[pgid, ...outputs.map(asPattern)].join(" ")}`
          watched.set(pgid, `${line}\n`)
          return say(line)
        },
        untrack: (pgid) => {
          watched.delete(pgid)
          return say(`-${pgid}`)
        }
      })
    })
  )

  /** For tests that need no watchdog. */
  static readonly layerNoop: Layer.Layer<Watchdog> = Layer.succeed(
    Watchdog,
    Watchdog.of({ armed: Effect.void, track: () => Effect.void, untrack: () => Effect.void })
  )
}
