import { Schema } from "effect"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { closest, formatSchemaError } from "../../src/domain/argumentIssues.ts"
import { TaskNotFound, TooManyTasks } from "../../src/domain/errors.ts"

describe("closest: the field a misspelt one was meant to be", () => {
  const fields = ["command", "args", "name", "cwd", "env", "waitFor", "timeoutMs", "graceMs", "dependsOn"]

  it("finds a slip of case, a letter or two, a swap, or the start of a name", () => {
    expect(closest("nmae", fields)).toBe("name")
    expect(closest("Name", fields)).toBe("name")
    expect(closest("comand", fields)).toBe("command")
    expect(closest("dependOn", fields)).toBe("dependsOn")
    expect(closest("wait_for", fields)).toBe("waitFor")
    expect(closest("timeout", fields)).toBe("timeoutMs")
    expect(closest("grace", fields)).toBe("graceMs")
    expect(closest("arg", fields)).toBe("args")
  })

  it("guesses nothing for a word that is not near any", () => {
    expect(closest("colour", fields)).toBeUndefined()
    expect(closest("x", fields)).toBeUndefined()
    expect(closest("", fields)).toBeUndefined()
    expect(closest("cmd", fields)).toBeUndefined()
  })

  it("takes a field given as it is for itself, and guesses only among the names", () => {
    fc.assert(fc.property(fc.constantFrom(...fields), (field) => closest(field, fields) === field))
    fc.assert(fc.property(fc.string(), fc.array(fc.string()), (given, names) => {
      const guess = closest(given, names)
      return guess === undefined || names.includes(guess)
    }))
  })
})

describe("TooManyTasks", () => {
  it("for a chain, says how many it needs (a long one by its ends), how many run, and how many to stop", () => {
    const starts = Array.from({ length: 50 }, (_, i) => `s${String(50 + i).padStart(3, "0")}`)
    expect(new TooManyTasks({ limit: 64, chain: { asked: "s099", starts, running: 50 } }).message).toBe(
      "Project task \"s099\" was not started: it needs 50 tasks started (s050 … s099); 50 run already and the " +
        "limit is 64 (--max-tasks). Stop or remove 36 first, or start taskmux with a higher --max-tasks."
    )
  })
})

describe("TaskNotFound", () => {
  it("says which known task a misspelt name was meant to be, and lists them all", () => {
    expect(new TaskNotFound({ name: "apii", known: ["db", "api", "web"] }).message).toBe(
      "No task named \"apii\" (did you mean \"api\"?). Known tasks: db, api, web."
    )
    expect(new TaskNotFound({ name: "nope", known: ["db", "api"] }).message).toBe(
      "No task named \"nope\". Known tasks: db, api."
    )
  })
})

describe("formatSchemaError: what a model is told of arguments that do not fit", () => {
  const Start = Schema.Struct({
    command: Schema.String,
    signal: Schema.optionalKey(Schema.Literals(["SIGTERM", "SIGKILL", "SIGINT"])),
    waitFor: Schema.optionalKey(
      Schema.Struct({ pattern: Schema.optionalKey(Schema.String), timeoutMs: Schema.optionalKey(Schema.Int) })
    )
  })
  const said = (input: unknown) => {
    try {
      Schema.decodeUnknownSync(Start)(input, { errors: "all", onExcessProperty: "error" })
      return "ok"
    } catch (error) {
      return formatSchemaError(error as Schema.SchemaError, input, "start")
    }
  }

  it("names the field of a struct it holds that a misplaced one was meant to be", () => {
    expect(said({ command: "x", timeout: 5 })).toBe(
      "timeout: not a field of start (did you mean \"waitFor.timeoutMs\"?); its fields are command, signal, waitFor"
    )
    // One of its own fields first.
    expect(said({ command: "x", comand: 1 })).toMatch(/^comand: not a field of start \(did you mean "command"\?\)/)
    // A struct given as a word: the struct it was meant to be.
    expect(said({ command: "x", waitFor: "ready" })).toBe(
      "waitFor: Expected object, got \"ready\" (did you mean {\"pattern\":\"ready\"}?)"
    )
    expect(said({ command: "x", waitFor: 5173 })).toMatch(/\(did you mean \{"port":5173\}\?\)$/)
    // Another word for it, as models write them: said as the field, where this tool has one.
    expect(said({ cmd: "x" })).toMatch(/^cmd: not a field of start \(did you mean "command"\?\)/)
    expect(said({ command: "x", match: "ready" })).toMatch(/^match: not a field of start; its fields/)
  })

  it("says a bounded integer given a fraction is wrong once, with its bounds", () => {
    const Size = Schema.Struct({ cols: Schema.Int.check(Schema.isBetween({ minimum: 20, maximum: 1000 })) })
    const said = (input: unknown) => {
      try {
        Schema.decodeUnknownSync(Size)(input, { errors: "all" })
        return "ok"
      } catch (error) {
        return formatSchemaError(error as Schema.SchemaError, input)
      }
    }
    expect(said({ cols: 1.5 })).toBe("cols: Expected an integer between 20 and 1000, got 1.5")
    expect(said({ cols: 5 })).toBe("cols: Expected a value between 20 and 1000, got 5")
    expect(said({ cols: 30.5 })).toBe("cols: Expected an integer, got 30.5")
  })

  it("names the value a signal written another way was meant to be", () => {
    expect(said({ command: "x", signal: "sigterm" })).toBe(
      "signal: Expected \"SIGTERM\" | \"SIGKILL\" | \"SIGINT\", got \"sigterm\" (did you mean \"SIGTERM\"?)"
    )
    expect(said({ command: "x", signal: "KILL" })).toMatch(/\(did you mean "SIGKILL"\?\)$/)
    expect(said({ command: "x", signal: "SIGTREM" })).toMatch(/\(did you mean "SIGTERM"\?\)$/)
    expect(said({ command: "x", signal: "HUP" })).not.toMatch(/did you mean/)
  })
})
