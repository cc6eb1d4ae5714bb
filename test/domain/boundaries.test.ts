// Boundaries a mutation-testing review (h23b) found unguarded: each test fails with its guard changed.
import { assert, describe, it } from "@effect/vitest"
import { compilePattern } from "../../src/domain/pattern.ts"
import { compactLines, TASK_NAME } from "../../src/domain/Task.ts"
import { explain, headline } from "../../src/output/explain.ts"
import { TerminalScreen } from "../../src/output/TerminalScreen.ts"

const rec = (seq: number, text: string) => ({ seq, stream: "stdout" as const, text, time: 0 })

describe("domain", () => {
  it("compactLines gives seq after a gap (a grep's answer), not only on the first line", () => {
    // Guards `l.seq !== next`
    assert.deepStrictEqual(compactLines([rec(1, "a"), rec(2, "b"), rec(7, "x")]), [
      { text: "a", seq: 1 },
      { text: "b" },
      { text: "x", seq: 7 }
    ])
  })
  it("a task name is at most 64 characters", () => {
    // Guards {0,63}
    assert.isTrue(TASK_NAME.test("a".repeat(64)))
    assert.isFalse(TASK_NAME.test("a".repeat(65)))
  })
  it("(?s) is taken as the dotAll flag, as (?i) and (?m) are", () => {
    // Guards INLINE's [ims]
    assert.isTrue(compilePattern("(?s)a.b").test("a\nb"))
  })
  it("a | inside a character class is no choice", () => {
    // Guards inClass tracking
    assert.doesNotThrow(() => compilePattern("((?=.)[a|]x)+"))
  })
})

describe("explain / screen", () => {
  it("headline: a short traceback's last line, not its header, when both are among the last lines", () => {
    // Guards findLast
    const lines = [
      "Traceback (most recent call last):",
      "  File \"app.py\", line 1, in <module>",
      "ValueError: bad port"
    ]
      .map((text, i) => ({ seq: i + 1, stream: "stderr" as const, text }))
    assert.strictEqual(headline(explain(lines)), "ValueError: bad port")
  })
  it("a new run's screen does not replay what the last run wrote and nobody looked at", async () => {
    // Guards reset() drops the bytes not yet rendered
    const screen = new TerminalScreen({ cols: 40, rows: 5 })
    screen.write(Buffer.from("old run output\r\n"))
    screen.reset()
    screen.write(Buffer.from("new run"))
    assert.deepStrictEqual((await screen.render()).rows, ["new run"])
  })
})
