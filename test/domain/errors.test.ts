import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { closest, TaskNotFound, TooManyTasks } from "../../src/domain/errors.ts"

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
