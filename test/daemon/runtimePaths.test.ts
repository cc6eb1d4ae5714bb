import { createHash } from "node:crypto"
import { chmodSync, chownSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { ensurePrivateDir, runtimeDir, runtimePaths, SOCKET_PATH_MAX } from "../../src/daemon/runtimePaths.ts"

const uid = process.getuid!()
const base = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-run-user-"))
afterAll(() => rmSync(base, { recursive: true, force: true }))

describe("the user's runtime directory", () => {
  it("is the same whether XDG_RUNTIME_DIR is set (a terminal) or not (an MCP client's short environment)", () => {
    const own = NodePath.join(base, String(uid))
    mkdirSync(own, { mode: 0o700 })
    expect(runtimeDir({ XDG_RUNTIME_DIR: own }, base)).toBe(NodePath.join(own, "taskmux"))
    expect(runtimeDir({}, base)).toBe(NodePath.join(own, "taskmux"))
  })

  it("is not /run/user/UID when that is open to others or not the user's, nor where there is none", () => {
    const own = NodePath.join(base, String(uid))
    chmodSync(own, 0o755)
    expect(runtimeDir({}, base)).toBe(`/tmp/taskmux-${uid}`)
    chmodSync(own, 0o700)
    if (uid === 0) {
      chownSync(own, 65534, 65534)
      expect(runtimeDir({}, base)).toBe(`/tmp/taskmux-${uid}`)
      chownSync(own, 0, 0)
    }
    expect(runtimeDir({}, NodePath.join(base, "none"))).toBe(`/tmp/taskmux-${uid}`)
  })

  it.runIf(uid === 0)(
    "is not in another user's XDG_RUNTIME_DIR (kept by su or sudo -E), where that user could not remove it",
    () => {
      const theirs = NodePath.join(base, "theirs")
      mkdirSync(theirs, { mode: 0o700 })
      chownSync(theirs, 65534, 65534)
      expect(runtimeDir({ XDG_RUNTIME_DIR: theirs }, NodePath.join(base, "none"))).toBe(`/tmp/taskmux-${uid}`)
    }
  )
})

describe("the user's runtime directory, checked", () => {
  it("is not a symlink planted where it would be, even to a private directory of the user's", () => {
    const real = NodePath.join(base, "real-private")
    mkdirSync(real, { mode: 0o700 })
    const planted = NodePath.join(base, "planted")
    symlinkSync(real, planted)
    expect(() => ensurePrivateDir(planted)).toThrow(/is not a directory \(a symlink or a file\): remove it/)
  })

  it("is not a relative XDG_RUNTIME_DIR, which would name another directory in each directory a client starts in", () => {
    // "." is a directory of the user's wherever the tests run: taken, it would be ./taskmux.
    expect(runtimeDir({ XDG_RUNTIME_DIR: "." }, base)).toBe(runtimeDir({}, base))
    expect(NodePath.isAbsolute(runtimeDir({ XDG_RUNTIME_DIR: "." }, base))).toBe(true)
  })
})

describe("a project's files", () => {
  it("are named after its real path's SHA-256, as every earlier build named them (or a new build would start a second supervisor)", () => {
    const project = mkdtempSync(NodePath.join(base, "my project é-"))
    const real = realpathSync(project)
    const key = createHash("sha256").update(real).digest("hex").slice(0, 12)
    const paths = runtimePaths(project, { XDG_RUNTIME_DIR: base })
    const name = NodePath.basename(real).replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 24)
    expect(paths.socket).toBe(NodePath.join(base, "taskmux", `${name}-${key}.sock`))
    expect(paths.lock).toBe(NodePath.join(base, "taskmux", `${name}-${key}.lock`))
  })

  it("are under /tmp/taskmux-UID where XDG_RUNTIME_DIR is so long that a socket could not be bound there", () => {
    const long = NodePath.join(base, "x".repeat(100 - base.length))
    mkdirSync(long, { mode: 0o700 })
    const project = mkdtempSync(NodePath.join(base, "a-project-with-a-long-name-"))
    const paths = runtimePaths(project, { XDG_RUNTIME_DIR: long })
    expect(paths.socket.startsWith(`/tmp/taskmux-${uid}/`)).toBe(true)
    expect(Buffer.byteLength(paths.socket)).toBeLessThanOrEqual(SOCKET_PATH_MAX)
    // A short one is kept.
    expect(runtimePaths(project, { XDG_RUNTIME_DIR: base }).dir).toBe(NodePath.join(base, "taskmux"))
  })
})
