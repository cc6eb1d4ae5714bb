import { Effect } from "effect"
import { describe, expect, it } from "vitest"
import { readOptions } from "../../src/Config.ts"
import { frontOptionsReader, sharedDifferences } from "../../src/daemon/frontOptions.ts"
import { WIRE_PROTOCOL } from "../../src/daemon/hello.ts"

const own = Effect.runSync(readOptions({}, {}))

describe("a front's options on a running supervisor", () => {
  it("are those of its wire protocol: a release that adds or drops one bumps WIRE_PROTOCOL", () => {
    // A running supervisor reads a front's options (the front has no parser): one of the same protocol but
    // an older release would refuse a newer flag, and pass over its TASKMUX_* variable, a fence that would
    // not hold. Another protocol is served alone, saying so. Change the list below with the protocol.
    expect({ protocol: WIRE_PROTOCOL, options: Object.keys(own).sort() }).toEqual({
      protocol: 4,
      options: [
        "allow",
        "bufferBytes",
        "bufferLines",
        "cwdRoot",
        "deny",
        "envAllow",
        "inheritEnv",
        "isolated",
        "killGraceMs",
        "logDir",
        "logKeepDays",
        "logMaxBytes",
        "maxInputBytes",
        "maxLineBytes",
        "maxTasks",
        "project",
        "readMaxBytes",
        "shutdownGraceMs",
        "trace"
      ]
    })
  })

  it("are the supervisor's own for the set it was started with: its fence, nothing to say", () => {
    const read = frontOptionsReader(own, ["--project", "/p"], { TASKMUX_ISOLATED: "false", HOME: "/h" })
    expect(read(["--project", "/elsewhere"], { TASKMUX_ISOLATED: "false", PATH: "/bin" })).toEqual({
      policy: { allow: [], deny: [], cwdRoot: undefined, inheritEnv: true, envAllow: [] }
    })
  })

  it("give the front's fence from its flags and its own TASKMUX_* variables, and say the shared settings it does not get", () => {
    const read = frontOptionsReader(own, [], {}, 42)
    const fenced = read(["--deny", "rm -rf", "--max-tasks", "16"], { TASKMUX_NO_INHERIT_ENV: "1", TASKMUX_TRACE: "1" })
    expect(fenced.policy).toMatchObject({ deny: [/rm -rf/], inheritEnv: false })
    expect(fenced.notice).toMatch(
      /^The project's supervisor \(pid 42\) was started with other settings, which every session shares: --max-tasks 64 \(yours: 16\), --trace off \(yours: on\)\. /
    )
    expect(fenced.refused).toBeUndefined()
  })

  it("are refused in the line the server alone would print: a bad flag, a bad variable, a root that is no directory", () => {
    const read = frontOptionsReader(own, [], {})
    expect(read(["--max-tasks", "lots"]).refused).toBe(
      "invalid setting --max-tasks \"lots\": expected a positive integer, such as 64 (the default)"
    )
    expect(read([], { TASKMUX_MAX_TASKS: "lots" }).refused).toBe(
      "invalid setting TASKMUX_MAX_TASKS=\"lots\": expected a positive integer, such as 64 (the default)"
    )
    expect(read(["--cwd-root", "/no/such/dir"]).refused).toBe(
      "invalid setting --cwd-root \"/no/such/dir\": expected an existing directory"
    )
  })

  it("say nothing when only what is per session differs", () => {
    expect(sharedDifferences(own, { ...own, deny: [/x/], cwdRoot: "/tmp", inheritEnv: false }, 1)).toBeUndefined()
  })
})
