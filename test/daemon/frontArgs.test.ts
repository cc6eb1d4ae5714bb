import { Config, ConfigProvider, Effect } from "effect"
import { describe, expect, it } from "vitest"
import { frontProject, projectOption, withAbsolutePaths, withoutProject } from "../../src/daemon/frontArgs.ts"

describe("a front's arguments", () => {
  it("gives the supervisor its options without the project, which it is given once, as a full path", () => {
    const argv = ["--project", "web", "--max-tasks", "10", "--project=api", "--log-level", "debug"]
    expect(projectOption(argv, {})).toBe("api")
    expect(withoutProject(argv)).toEqual(["--max-tasks", "10", "--log-level", "debug"])
  })

  it("reads TASKMUX_ISOLATED as the server does: a front and the supervisor it starts agree", () => {
    // As Config.ts reads it: a word it does not take is an error there, and no isolation here.
    const serverReads = (value: string) =>
      Effect.runSync(
        Config.Boolean("TASKMUX_ISOLATED").parse(ConfigProvider.fromEnvRecord({ TASKMUX_ISOLATED: value })).pipe(
          Effect.orElseSucceed(() => false)
        )
      )
    for (const value of ["true", "yes", "on", "1", "y", "false", "no", "off", "0", "n", ""]) {
      expect(frontProject(["--project", "/p"], { TASKMUX_ISOLATED: value }) === undefined, value).toBe(
        serverReads(value)
      )
    }
  })
})

describe("withAbsolutePaths", () => {
  it("makes a front's relative --log-dir and --cwd-root (and their variables) absolute from where the front runs", () => {
    expect(
      withAbsolutePaths(
        ["--log-dir", "logs", "--cwd-root=..", "--log-max-bytes", "5", "--deny", "rel"],
        { TASKMUX_LOG_DIR: "envlogs", TASKMUX_CWD_ROOT: "/abs", OTHER: "rel" },
        "/p/sub"
      )
    ).toEqual({
      argv: ["--log-dir", "/p/sub/logs", "--cwd-root=/p", "--log-max-bytes", "5", "--deny", "rel"],
      env: { TASKMUX_LOG_DIR: "/p/sub/envlogs", TASKMUX_CWD_ROOT: "/abs", OTHER: "rel" }
    })
  })
})
