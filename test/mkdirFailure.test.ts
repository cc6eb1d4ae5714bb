/** Why a directory could not be made, in the kernel's words: a read-only file system is no missing parent. */
import { spawnSync } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { ensurePrivateDir } from "../src/daemon/runtimePaths.ts"
import { canMount } from "./helpers.ts"

describe.runIf(canMount())("a directory on a read-only file system", () => {
  it("is said to be read-only, not missing (Node's recursive mkdir says ENOENT)", () => {
    const mount = fs.mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-ro-"))
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "ro,size=4k", "tmpfs", mount]).status).toBe(0)
    try {
      expect(() => ensurePrivateDir(NodePath.join(mount, "taskmux"))).toThrow(
        /^cannot make \S+\/taskmux: EROFS: read-only file system/
      )
    } finally {
      spawnSync("umount", [mount])
    }
  })

  it("is said to be read-only where several directories on the way are missing (~/.local/state/taskmux/logs)", () => {
    const mount = fs.mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-ro-"))
    expect(spawnSync("mount", ["-t", "tmpfs", "-o", "ro,size=4k", "tmpfs", mount]).status).toBe(0)
    try {
      expect(() => ensurePrivateDir(NodePath.join(mount, ".local", "state", "taskmux"))).toThrow(
        /^cannot make \S+\/taskmux: EROFS: read-only file system/
      )
    } finally {
      spawnSync("umount", [mount])
    }
  })
})
