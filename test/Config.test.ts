/**
 * Options: an error names what the user set (the flag, or the variable when that is what they
 * set) with the value and what would be accepted; `--help` and the README list every option with
 * its variable and default, checked against the code's own table so they cannot drift.
 */
import { Cause, Effect, Exit, Layer } from "effect"
import { chownSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { CLI_COMMANDS } from "../src/cli/commandNames.ts"
import { defaultLogDir, defaults, helpText, options, parseCommandLine, TaskmuxConfig } from "../src/Config.ts"

/** Starts the config as main does: flags over the environment; the error's message, or "ok". */
const load = (argv: Array<string>, env: Record<string, string> = {}): string => {
  const parsed = parseCommandLine(argv)
  if (parsed._tag === "Invalid") return parsed.error.message
  if (parsed._tag === "Print") return "printed"
  const saved = { ...process.env }
  Object.assign(process.env, env)
  try {
    const exit = Effect.runSyncExit(Layer.build(TaskmuxConfig.layerFrom(parsed.env)).pipe(Effect.scoped))
    return Exit.isSuccess(exit) ? "ok" : (Cause.squash(exit.cause) as Error).message
  } finally {
    for (const key of Object.keys(env)) {
      if (saved[key] === undefined) delete process.env[key]
      else process.env[key] = saved[key]
    }
  }
}

describe("configuration errors name what the user set", () => {
  it("a flag: the flag, the value, and what would be accepted", () => {
    expect(load(["--max-tasks", "lots"])).toBe(
      "invalid setting --max-tasks \"lots\": expected a positive integer, such as 64 (the default)"
    )
    expect(load(["--buffer-lines=0"])).toMatch(/^invalid setting --buffer-lines "0": expected a positive integer/)
    expect(load(["--deny", "("])).toMatch(/^invalid setting --deny "\(": expected a JavaScript regular expression/)
    expect(load(["--max-tasks"])).toBe("invalid setting --max-tasks: needs a value (N)")
    expect(load(["--bogus"])).toMatch(/^invalid setting --bogus: unknown option/)
    expect(load(["--isolatd"])).toMatch(/^invalid setting --isolatd: unknown option \(did you mean --isolated\?\)/)
    expect(load(["frobnicate"])).toMatch(/^frobnicate is not a command: taskmux ps, logs, stop/)
    expect(load(["stpo"])).toMatch(/^stpo is not a command \(did you mean stop\?\): taskmux ps, logs, stop/)
    // Bounds the help gives are checked at start, as every value is.
    expect(load(["--read-max-bytes", "2000000"])).toBe(
      "invalid setting --read-max-bytes \"2000000\": expected a positive integer up to 1048576, such as 32768 (the default)"
    )
    expect(load(["--read-max-bytes", "1048576"])).toBe("ok")
    const file = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-cfg-")), "afile")
    writeFileSync(file, "")
    expect(load(["--log-dir", file])).toBe(`invalid setting --log-dir "${file}": expected a directory (this is a file)`)
    expect(load(["--log-dir", NodePath.join(NodePath.dirname(file), "not-yet")])).toBe("ok")
  })

  it("an environment variable: the variable, only when that is what they set", () => {
    expect(load([], { TASKMUX_MAX_TASKS: "lots" })).toBe(
      "invalid setting TASKMUX_MAX_TASKS=\"lots\": expected a positive integer, such as 64 (the default)"
    )
    expect(load([], { TASKMUX_TRACE: "maybe" })).toMatch(
      /^invalid setting TASKMUX_TRACE="maybe": expected true or false/
    )
    expect(load([], { TASKMUX_ALLOW: "ok\n[" })).toMatch(
      /^invalid setting TASKMUX_ALLOW="\[": expected a JavaScript regular/
    )
    // A good flag wins over a bad variable; a bad flag is named even when the variable is good.
    expect(load(["--max-tasks", "5"], { TASKMUX_MAX_TASKS: "lots" })).toBe("ok")
    expect(load(["--max-tasks", "x"], { TASKMUX_MAX_TASKS: "5" })).toMatch(/^invalid setting --max-tasks "x"/)
  })
})

describe("every option is listed with its variable and default", () => {
  const shown = (o: (typeof options)[number]) => o.default === undefined ? undefined : String(defaults[o.default])

  it("in --help", () => {
    const help = helpText()
    for (const o of options) {
      const line = help.split("\n").find((l) => l.startsWith(`  --${o.flag}`))
      expect(line, o.flag).toBeDefined()
      expect(line).toContain(`[${o.env}]`)
      if (shown(o) !== undefined) expect(line).toContain(`(${shown(o)})`)
    }
  })

  it("with every command in --help's usage line, wait included", () => {
    const usage = helpText().split("\n").find((l) => l.trimStart().startsWith("taskmux ps"))!
    for (const command of CLI_COMMANDS) {
      expect(usage.split(" | ").map((c) => c.replace(/^.*taskmux /, "").split(" ")[0]), command).toContain(command)
    }
  })

  it("in the README's table", () => {
    const readme = readFileSync(NodePath.resolve(import.meta.dirname, "../README.md"), "utf8")
    const table = readme.slice(readme.indexOf("## Configuration"), readme.indexOf("## Supervision"))
    const rows = table.split("\n").filter((l) => l.startsWith("| `--")).map((l) => l.split("|").map((c) => c.trim()))
    const documented = new Map(
      rows.map(([, flag, env, fallback]) => [/`--([a-z-]+)/.exec(flag!)![1]!, { env, fallback }])
    )
    expect([...documented.keys()].sort()).toEqual(options.map((o) => o.flag).sort())
    for (const o of options) {
      const row = documented.get(o.flag)!
      expect(row.env, o.flag).toContain(`\`${o.env}`)
      if (shown(o) !== undefined) expect(row.fallback, o.flag).toBe(shown(o))
    }
  })
})

describe("the default log directory", () => {
  it("takes an empty or relative XDG_STATE_HOME or HOME as unset, and falls back to one of this user's own", () => {
    const h = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-home-"))
    expect(defaultLogDir({ XDG_STATE_HOME: "/s", HOME: h })).toBe("/s/taskmux/logs")
    expect(defaultLogDir({ XDG_STATE_HOME: "", HOME: h })).toBe(`${h}/.local/state/taskmux/logs`)
    // A relative one would put logs in the project, a `git add .` away from being committed.
    expect(defaultLogDir({ XDG_STATE_HOME: "state", HOME: h })).toBe(`${h}/.local/state/taskmux/logs`)
    // One that is not there (`nobody`'s /nonexistent) is none: the logs could never be written under it.
    expect(defaultLogDir({ HOME: "/nonexistent" })).not.toMatch(/^\/nonexistent/)
    const home = defaultLogDir({ HOME: "" })
    expect(home).not.toMatch(/taskmux-logs/)
    expect(NodePath.isAbsolute(home)).toBe(true)
  })

  it.runIf(process.getuid?.() === 0)(
    "takes no other user's HOME (sudo -E keeps it): root would make root's directories there",
    () => {
      const theirs = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-their-home-"))
      chownSync(theirs, 54321, 54321)
      expect(defaultLogDir({ HOME: theirs })).toBe(
        NodePath.join(os.userInfo().homedir, ".local", "state", "taskmux", "logs")
      )
      const mine = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-home-"))
      expect(defaultLogDir({ XDG_STATE_HOME: theirs, HOME: mine })).toBe(`${mine}/.local/state/taskmux/logs`)
    }
  )
})
