/**
 * The entry's compiled-code cache is the user's own: Node's default is a directory in /tmp that whoever
 * made it first owns, whose cache another user could write and root would load.
 */
import { spawnSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, statSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { serverEntry } from "./client.ts"

const run = (home: string, tmp: string) =>
  spawnSync(process.execPath, [serverEntry, "--version"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, TMPDIR: tmp },
    encoding: "utf8"
  })

describe("the compiled-code cache", () => {
  it("lives in the user's own cache directory, private, never in /tmp", () => {
    const home = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-cache-home-"))
    const tmp = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-cache-tmp-"))
    expect(run(home, tmp).status).toBe(0)
    const dir = NodePath.join(home, ".cache", "taskmux", "compile-cache")
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    expect(readdirSync(dir).length).toBeGreaterThan(0)
    expect(readdirSync(tmp)).toEqual([])
  })

  it("is not used where others may write on the way to it", () => {
    const home = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-cache-home-"))
    const tmp = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-cache-tmp-"))
    mkdirSync(NodePath.join(home, ".cache"))
    chmodSync(NodePath.join(home, ".cache"), 0o777)
    expect(run(home, tmp).status).toBe(0)
    const dir = NodePath.join(home, ".cache", "taskmux", "compile-cache")
    expect(existsSync(dir) ? readdirSync(dir) : []).toEqual([])
    expect(readdirSync(tmp)).toEqual([])
  })
})
