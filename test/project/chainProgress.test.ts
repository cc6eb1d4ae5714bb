/** The words of a chain's progress, and the CLI's reading of them: every wording the chain says is read back. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { TASK_NAME } from "../../src/domain/Task.ts"
import { waitedOn, waitingFor } from "../../src/project/chainProgress.ts"

const name = fc.stringMatching(TASK_NAME)
const what = fc.constantFrom("end", "succeed", "become ready", "become started") as fc.Arbitrary<
  "end" | "succeed" | `become ${string}`
>

describe("chain progress", () => {
  it("names every task a progress message waits for, whatever it waits for", () =>
    fc.assert(fc.property(name, what, fc.boolean(), (task, wanted, late) => {
      // As Tool.ts's progressOf words it: at once, or after a while with the last line.
      const message = `waiting${late ? " 2 s" : ""} for ${waitingFor(task, wanted)}${late ? "; last line: x" : ""}`
      expect(waitedOn(message)).toEqual([task])
    })))

  it("names none in a message that waits for no task", () => {
    expect(waitedOn("waiting 2 s; last line: listening for \"x\" to arrive")).toEqual([])
  })
})
