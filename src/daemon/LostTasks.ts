/**
 * Nothing forgotten when a supervisor dies: the record of what ran (names, commands, owners, how
 * they ended, log files) is kept on disk as it changes, and the next supervisor of the project shows
 * what was running then as `lost`, restarting none of it by itself. `start_task { name }` or
 * `restart_task` starts a lost task again with its recorded command (a project task as its file says);
 * `remove_task` forgets it, and so does any new run of its name.
 * A supervisor that ends in order leaves only what is still lost, the kept tasks that had ended by
 * themselves (how they ended outlives it), and what it stopped as it ended (lost too).
 */
import { Context, Effect, FiberSet, Layer, PubSub, Scope } from "effect"
import * as fs from "node:fs"
import { isFinished } from "../domain/Task.ts"
import { kill, MARKER_VARIABLE, serverMarkerPrefix } from "../process/ProcessTree.ts"
import * as procfs from "../process/procfs.ts"
import { Notifier } from "../supervisor/Notifier.ts"
import { type RecordedTask, type StartRequest, TaskRegistry } from "../supervisor/TaskRegistry.ts"
import { ENDED_BY_ITSELF, endedKept, type LostTask, lostWith, readPast, type RecordFile } from "./lostRecord.ts"
import type { RuntimePaths } from "./runtimePaths.ts"

export type { LostTask }

/**
 * How soon after a restart policy's run the record is written: a burst of them is one write. A small
 * record soon; a big one (hundreds of tasks: 150 KB) less often, 2 ms later per KB it had, up to a second:
 * one task restarting ten times a second had it made and written twenty times a second (a fifth of a
 * core). Any other change (a start, a stop, a removal: what someone was just told of) is written at once.
 */
const WRITE_DELAY_MS = 25
const MAX_WRITE_DELAY_MS = 1_000
const DELAY_MS_PER_KB = 2

export class LostTasks extends Context.Service<LostTasks, {
  /**
   * Reads what a dead supervisor left, and keeps the record from now on: once this supervisor holds the
   * project's lock, so that one that loses the race to another neither says the live one died nor writes
   * over its record.
   */
  readonly begin: Effect.Effect<void>
  readonly list: () => ReadonlyArray<LostTask>
  readonly get: (name: string) => LostTask | undefined
  readonly forget: (name: string) => void
}>()("taskmux/LostTasks") {
  /** No record: a server alone (`--isolated`) ends with its tasks, so nothing of it can be lost. */
  static readonly layerNone: Layer.Layer<LostTasks> = Layer.succeed(
    LostTasks,
    LostTasks.of({ begin: Effect.void, list: () => [], get: () => undefined, forget: () => {} })
  )

  /** The record of the project at `paths`, kept once `begin` has read it. */
  static readonly layerRecorded = (paths: RuntimePaths): Layer.Layer<LostTasks, never, TaskRegistry | Notifier> =>
    Layer.effect(
      LostTasks,
      Effect.gen(function*() {
        const registry = yield* TaskRegistry
        const notifier = yield* Notifier
        const scope = yield* Effect.scope
        const lost = new Map<string, LostTask>()
        let begun = false
        let timer: ReturnType<typeof setTimeout> | undefined
        /** The last record's size, in KB. */
        let lastKb = 0
        const write = (tasks: ReadonlyArray<RecordedTask>) => {
          const record: RecordFile = {
            supervisorPid: process.pid,
            tasks,
            lost: [...lost.values()],
            gone: registry.goneTasks(),
            sweep: serverMarkerPrefix
          }
          const temporary = `${paths.record}.${process.pid}`
          try {
            const text = JSON.stringify(record)
            lastKb = text.length / 1024
            fs.writeFileSync(temporary, text, { mode: 0o600 })
            fs.renameSync(temporary, paths.record)
          } catch (error) {
            // A full disk: the record stays as it was, and no empty half of a new one is left beside it.
            fs.rmSync(temporary, { force: true })
            process.stderr.write(`taskmux: cannot write ${paths.record}: ${(error as Error).message}\n`)
          }
        }
        const writeAfter = (delayMs: number) => {
          timer = setTimeout(() => {
            timer = undefined
            runFork(Effect.flatMap(registry.records, (tasks) => Effect.sync(() => write(tasks))))
          }, delayMs)
        }
        const writeSoon = () => {
          if (timer === undefined) {
            writeAfter(Math.min(MAX_WRITE_DELAY_MS, Math.max(WRITE_DELAY_MS, lastKb * DELAY_MS_PER_KB)))
          }
        }
        // At once, and once for the changes of one turn of the event loop (two hundred starts at once).
        const writeNow = () => {
          clearTimeout(timer)
          writeAfter(0)
        }
        /** Tasks whose last run ended with their restart policy to run them again: maybe a loop of runs. */
        const restarting = new Set<string>()

        const begin = Effect.gen(function*() {
          if (begun) return
          begun = true
          const past = readPast(paths.record, (why) => {
            // Kept beside it for the person to look at: the next write replaces the record.
            const kept = `${paths.record}.unreadable`
            let copy = `; a copy is kept as ${kept}`
            try {
              fs.copyFileSync(paths.record, kept)
            } catch {
              copy = ""
            }
            process.stderr.write(`taskmux: ${paths.record} ${why}${copy}\n`)
          })
          for (const task of past.lost) lost.set(task.name, task)
          // The front that saw the last one die points here ("see LOG"): what it left is said here.
          if (past.leftRunning.length > 0) {
            process.stderr.write(
              `taskmux: the last supervisor (pid ${past.supervisorPid}) ended with tasks running (killed, out of ` +
                `memory, or ended by kill PID): ${past.leftRunning.join(", ")} lost; list_tasks and taskmux ps show ` +
                "them, restart_task runs one again\n"
            )
          }
          if (past.sweep !== undefined) yield* Effect.forkIn(endLeftOver(past.sweep), scope)
          // A dev server the last conversation started comes back in one call, whichever supervisor it ran under.
          registry.recall(past.gone)
          write(yield* registry.records)
          const events = yield* Scope.provide(notifier.subscribe, scope)
          yield* PubSub.take(events).pipe(
            Effect.tap((event) =>
              Effect.sync(() => {
                // A new run of a lost name, however started, is what that name is now.
                if (event._tag === "TaskStarted") lost.delete(event.name)
                // A restart policy's runs (one that ends at once, again and again) wait for the write after
                // them: lost either way, running or restarting. What else changed, someone may just have
                // been told of (started, stopped, removed): on disk before a kill can come.
                const policyRun = event._tag === "TaskExit"
                  ? event.restartAt !== undefined
                  : event._tag === "TaskStarted" && restarting.has(event.name)
                if (event._tag === "TaskExit" && event.restartAt !== undefined) restarting.add(event.name)
                else if (event._tag !== "TaskStarted") restarting.delete(event.name)
                if (policyRun) writeSoon()
                else writeNow()
              })
            ),
            Effect.forever,
            Effect.forkIn(scope)
          )
        })
        // Ended in order (its tasks are stopped next): what is still lost needs keeping; the kept tasks
        // that ended by themselves (a kept build, a server that crashed after the last session left), so
        // the next look (`taskmux ps`, a new supervisor) says how they ended; and what still runs (it
        // ends only by a signal then: a `kill` after an upgrade), lost as a SIGKILL would leave it, so the
        // next supervisor runs it again when asked rather than knowing nothing of it. Not begun (it lost
        // the race to another supervisor): the record is that one's.
        yield* Effect.addFinalizer(() =>
          Effect.flatMap(registry.records, (tasks) =>
            Effect.sync(() => {
              clearTimeout(timer)
              if (!begun) return
              for (const task of tasks) {
                const kept = task.session === null && ENDED_BY_ITSELF.has(task.status)
                if (kept || !isFinished(task.status)) {
                  // Newest last, where the record's cap keeps it.
                  lost.delete(task.name)
                  lost.set(task.name, kept ? endedKept(task) : lostWith(task, process.pid))
                }
              }
              if (lost.size === 0 && registry.goneTasks().length === 0) fs.rmSync(paths.record, { force: true })
              else write([])
            }))
        )
        // The timer's writes run here; closed before the last write above (finalizers run in reverse), so
        // none comes after it.
        const runFork = yield* FiberSet.makeRuntime<never>()
        return LostTasks.of({
          begin,
          list: () => [...lost.values()],
          get: (name) => lost.get(name),
          // A task gone with its session forgotten (the registry's) leaves the record too.
          forget: (name) => {
            lost.delete(name)
            if (begun) writeNow()
          }
        })
      })
    )
}

/**
 * What a dead supervisor's tasks left running because its watchdog died too (killed with it, or just
 * before it, by a `kill -9` of every taskmux process): ended as that watchdog would have, SIGTERM then
 * SIGKILL half a second later. Found by their runs' marker, which no other process carries; on Linux.
 */
const endLeftOver = (prefix: string) =>
  Effect.gen(function*() {
    if (!procfs.available) return
    const left = () =>
      procfs.processes().filter((p) => procfs.environValue(p.pid, MARKER_VARIABLE)?.startsWith(prefix) === true)
    const found = left()
    if (found.length === 0) return
    process.stderr.write(
      `taskmux: ${found.length} process${found.length === 1 ? "" : "es"} of the last supervisor's tasks outlived it ` +
        `and its watchdog (pids ${found.map((p) => p.pid).join(", ")}): ending them\n`
    )
    for (const p of found) kill(p.pid, "SIGTERM")
    yield* Effect.sleep(KILL_AFTER)
    for (const p of left()) kill(p.pid, "SIGKILL")
  })

/** As the watchdog waits between its SIGTERM and its SIGKILL. */
const KILL_AFTER = "500 millis"

/** A lost task as a start takes it: its recorded command, where and how it ran; kept if it was. */
export const startRequestOf = (task: LostTask, keep: boolean): StartRequest => ({
  command: task.command,
  ...(task.args !== null && { args: task.args }),
  name: task.name,
  cwd: task.cwd,
  env: task.env,
  notifyOnExit: task.notifyOnExit,
  restart: task.policy,
  ...(task.terminal !== null && { terminal: task.terminal }),
  ...((keep || task.session === null) && { keep: true })
})
