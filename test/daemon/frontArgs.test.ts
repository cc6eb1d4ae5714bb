import { describe, expect, it } from "vitest"
import { projectOption, withoutProject } from "../../src/daemon/frontArgs.ts"

describe("a front's arguments", () => {
  it("gives the supervisor its options without the project, which it is given once, as a full path", () => {
    const argv = ["--project", "web", "--max-tasks", "10", "--project=api", "--log-level", "debug"]
    expect(projectOption(argv, {})).toBe("api")
    expect(withoutProject(argv)).toEqual(["--max-tasks", "10", "--log-level", "debug"])
  })
})
