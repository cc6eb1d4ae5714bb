/** The watchdog layer over a supervisor's long life: watchdogs killed and replaced again and again. */
import { Effect, Exit, Layer, Scope } from "effect"
import { ChildProcess, execFileSync } from "node:child_process"
import * as v8 from "node:v8"
import { describe, expect, it } from "vitest"
import { Watchdog } from "../../src/process/Watchdog.ts"

/** This process's watchdog (its `/bin/sh -c` child), if one runs. */
const watchdogPid = (): number | undefined => {
  const lines = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], { encoding: "utf8" })
  const line = lines.split("\n").find((l) => l.includes("/bin/sh -c"))
  return line === undefined ? undefined : Number(line.trim().split(/\s+/)[0])
}

/** Node's child process objects still reachable, after a full collection. */
const liveChildProcesses = () => v8.queryObjects(ChildProcess, { format: "count" }) as number

describe("Watchdog", () => {
  it("keeps nothing of a watchdog killed and replaced: ten replacements hold no more than one", async () => {
    await Effect.runPromise(Effect.gen(function*() {
      const scope = yield* Scope.make()
      const context = yield* Layer.buildWithScope(Watchdog.layer, scope)
      const watchdog = context.mapUnsafe.get(Watchdog.key) as Watchdog["Service"]
      yield* watchdog.armed
      const replaceOnce = Effect.gen(function*() {
        const pid = watchdogPid()
        expect(pid).toBeDefined()
        process.kill(pid!, "SIGKILL")
        // Replaced once its end is seen; a track waits for the new one.
        for (let tries = 0; watchdogPid() === pid || watchdogPid() === undefined; tries++) {
          expect(tries).toBeLessThan(100)
          yield* Effect.sleep("50 millis")
        }
        yield* watchdog.track(999_999, [])
      })
      yield* replaceOnce
      const afterOne = liveChildProcesses()
      for (let i = 0; i < 9; i++) yield* replaceOnce
      // Each kept replacement would hold its ChildProcess (and its pipes' readers) for the layer's life.
      expect(liveChildProcesses()).toBeLessThanOrEqual(afterOne)
      yield* Scope.close(scope, Exit.void)
      expect(watchdogPid()).toBeUndefined()
    }))
  })
})
