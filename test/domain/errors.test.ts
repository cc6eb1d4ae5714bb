import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { closest } from "../../src/domain/errors.ts"

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
