import { assert, describe, it } from "@effect/vitest"
import { constants } from "node:os"
import { canTransition, classifyExit, describeEnd } from "../../src/domain/Task.ts"

const number = (name: string) => (constants.signals as Record<string, number | undefined>)[name]
const facts = (code: number | null, signal: string | null, stopRequested = false, sent: Array<string> = []) => ({
  code,
  signal,
  stopRequested,
  signalsSent: new Set(sent)
})

describe("classifyExit", () => {
  it("exited for code 0, crashed for anything else it did by itself", () => {
    assert.strictEqual(classifyExit(facts(0, null), number), "exited")
    assert.strictEqual(classifyExit(facts(1, null), number), "crashed")
    assert.strictEqual(classifyExit(facts(null, "SIGSEGV"), number), "crashed")
    assert.strictEqual(classifyExit(facts(null, "SIGTERM"), number), "crashed")
  })

  it("stopped when we asked, whatever the exit", () => {
    assert.strictEqual(classifyExit(facts(0, null, true), number), "stopped")
    assert.strictEqual(classifyExit(facts(null, "SIGKILL", true), number), "stopped")
  })

  it("stopped when it died of a signal we sent, or a shell reported it as 128+n", () => {
    assert.strictEqual(classifyExit(facts(null, "SIGINT", false, ["SIGINT"]), number), "stopped")
    assert.strictEqual(classifyExit(facts(130, null, false, ["SIGINT"]), number), "stopped")
    assert.strictEqual(classifyExit(facts(143, null, false, ["SIGINT"]), number), "crashed")
  })
})

describe("canTransition", () => {
  it("allows only the lifecycle's moves", () => {
    assert.isTrue(canTransition("new", "running"))
    assert.isTrue(canTransition("new", "failed"))
    assert.isFalse(canTransition("new", "exited"))
    for (const end of ["exited", "crashed", "stopped"] as const) {
      assert.isTrue(canTransition("running", end))
      assert.isTrue(canTransition(end, "running"))
      assert.isFalse(canTransition(end, "stopped"))
    }
    // A claimed run whose spawn fails (its cwd gone by a restart) never had a pid.
    assert.isTrue(canTransition("running", "failed"))
    assert.isFalse(canTransition("running", "running"))
    assert.isTrue(canTransition("failed", "running"))
  })
})

describe("describeEnd", () => {
  it("says how a task ended in words", () => {
    assert.strictEqual(describeEnd("exited", 0, null), "exited, exit code 0")
    assert.strictEqual(describeEnd("crashed", 127, null), "crashed, exit code 127: command not found")
    assert.strictEqual(describeEnd("stopped", null, "SIGKILL"), "stopped, killed by SIGKILL")
  })

  it("names the signal behind a shell's 128 + N", () => {
    assert.strictEqual(
      describeEnd("crashed", 139, null),
      "crashed, exit code 139: a shell's code for a command killed by SIGSEGV"
    )
    assert.strictEqual(
      describeEnd("crashed", 134, null),
      "crashed, exit code 134: a shell's code for a command killed by SIGABRT"
    )
    // Past the signals there are, an exit code is just a number.
    assert.strictEqual(describeEnd("crashed", 255, null), "crashed, exit code 255")
    assert.strictEqual(describeEnd("crashed", 128, null), "crashed, exit code 128")
  })
})
