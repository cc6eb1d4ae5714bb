/**
 * The restart policy's backoff as the actor applies it: a run that stayed up HEALTHY_AFTER_MS (10 s)
 * starts the doubling again from `backoffMs` (RestartPolicy's unit tests check that it says so; this,
 * that the actor does it). A server that crashed a few times, ran fine for an hour and crashed again is
 * run again after backoffMs, not after the delay its early crashes had doubled to.
 */
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer } from "effect"
import { mkdtempSync, readFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { TaskmuxConfig } from "../../src/Config.ts"
import { TasksLayer } from "../../src/Server.ts"
import { HEALTHY_AFTER_MS } from "../../src/supervisor/RestartPolicy.ts"
import { TaskRegistry } from "../../src/supervisor/TaskRegistry.ts"
import { eventually } from "../helpers.ts"

const TestLayer = TasksLayer.pipe(Layer.provide(TaskmuxConfig.layerTest({ shutdownGraceMs: 300 })))

describe("the restart policy's backoff", () => {
  it.layer(TestLayer, { timeout: 60_000, excludeTestServices: true })((it) => {
    it.effect("starts again from backoffMs after a run that stayed up", () =>
      Effect.gen(function*() {
        const r = yield* TaskRegistry
        const dir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-backoff-"))
        const runs = () => {
          try {
            return Number(readFileSync(NodePath.join(dir, "runs"), "utf8"))
          } catch {
            return 0
          }
        }
        // Runs 1 and 2 crash at once (delays 1 s, then 2 s); run 3 stays up past HEALTHY_AFTER_MS, then crashes.
        const healthy = (HEALTHY_AFTER_MS + 500) / 1000
        yield* r.start({
          command: `n=$(( $(cat runs 2>/dev/null || echo 0) + 1 )); echo $n > runs; ` +
            `if [ $n -le 2 ]; then exit 1; elif [ $n -eq 3 ]; then sleep ${healthy}; exit 1; else sleep 30; fi`,
          cwd: dir,
          name: "flaky",
          restart: { policy: "on-failure", backoffMs: 1_000, maxRestarts: 5 }
        })
        const after3 = yield* eventually(
          r.get("flaky"),
          (t) => runs() === 3 && t.status === "restarting" && t.nextRestartAt !== null,
          30_000
        )
        const delay = Date.parse(after3.nextRestartAt!) - Date.parse(after3.lastExit!.at)
        // Doubled on (1 s, 2 s, then 4 s ± 20 % jitter) it would be over 3 s; started again, 1 s ± 20 %.
        assert.isBelow(delay, 2_000, `delay ${delay} ms`)
        assert.isAtLeast(delay, 700)
        yield* r.stop("flaky")
      }))
  })
})
