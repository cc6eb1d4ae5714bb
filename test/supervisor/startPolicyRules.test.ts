// Boundaries a mutation-testing review (h23b) found unguarded: each test fails with its guard changed.
import { Effect } from "effect"
import { mkdirSync, mkdtempSync, rmdirSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import {
  baseEnv,
  checkDirectory,
  checkPolicy,
  commandLine,
  isSameDirectory,
  lookAtDirectory,
  taskEnv
} from "../../src/supervisor/startPolicy.ts"

const policy = (over: Record<string, unknown> = {}) =>
  ({ allow: [], deny: [], cwdRoot: undefined, inheritEnv: true, envAllow: [], ...over }) as never
const outcome = (config: never, request: { command: string; cwd?: string }, from = "/") =>
  Effect.runPromise(Effect.match(checkPolicy(config, request, from, "/home/u"), {
    onFailure: (e) => `refused: ${(e as { _tag: string })._tag}`,
    onSuccess: (ok) => ok.cwd
  }))

describe("start policy", () => {
  it("--cwd-root admits the root and what is under it, not a sibling that shares its prefix", async () => {
    // Guards startsWith(root + sep)
    const parent = mkdtempSync(NodePath.join(os.tmpdir(), "root-"))
    const root = NodePath.join(parent, "app")
    mkdirSync(NodePath.join(parent, "app", "web"), { recursive: true })
    mkdirSync(NodePath.join(parent, "app-secrets"))
    const config = policy({ cwdRoot: root })
    expect(await outcome(config, { command: "ls", cwd: "web" })).toBe(NodePath.join(root, "web"))
    expect(await outcome(config, { command: "ls", cwd: root })).toBe(root)
    expect(await outcome(config, { command: "ls", cwd: NodePath.join(parent, "app-secrets") })).toBe(
      "refused: CwdOutsideRoot"
    )
  })

  it("a command line passes when any one --allow rule matches it", async () => {
    // Guards allow.some
    const config = policy({ allow: [/^npm /, /^vite\b/] })
    expect(await outcome(config, { command: "vite --port 1" })).toBe("/")
    expect(await outcome(config, { command: "curl x" })).toBe("refused: CommandRefused")
  })

  it("tasks do not inherit the server's own TASKMUX_ settings", () => {
    // sp04
    expect(baseEnv(policy(), { PATH: "/bin", TASKMUX_CWD_ROOT: "/x", HOME: "/h" })).toEqual({
      PATH: "/bin",
      HOME: "/h"
    })
  })

  it("colour is off and Python unbuffered unless the task's env says otherwise; either colour variable keeps colour", () => {
    // sp03, sp05
    expect(taskEnv({}, {})).toEqual({ FORCE_COLOR: "0", NO_COLOR: "1", PYTHONUNBUFFERED: "1" })
    expect(taskEnv({}, { NO_COLOR: "" })).toEqual({ NO_COLOR: "", PYTHONUNBUFFERED: "1" })
    expect(taskEnv({}, { PYTHONUNBUFFERED: "0" })).toEqual({ FORCE_COLOR: "0", NO_COLOR: "1", PYTHONUNBUFFERED: "0" })
  })

  it("quotes an argument with a space, so a rule sees the line as a shell would", () => {
    // sp06
    expect(commandLine("echo", ["a b", "c"])).toBe("echo 'a b' c")
  })

  it("a cwd with a NUL is refused with its reason", async () => {
    // sp09
    expect(await Effect.runPromise(checkDirectory("/tmp\0x"))).toMatch(/NUL/)
  })

  it("a directory removed and made again at its path is another, though its inode number comes back", async () => {
    const dir = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "again-")), "app")
    mkdirSync(dir)
    const first = await Effect.runPromise(lookAtDirectory(dir))
    const identity = "identity" in first ? first.identity : expect.unreachable(first.problem)
    expect(await Effect.runPromise(isSameDirectory(identity, dir))).toBe(true)
    rmdirSync(dir)
    mkdirSync(dir)
    expect(await Effect.runPromise(isSameDirectory(identity, dir))).toBe(false)
  })
})
