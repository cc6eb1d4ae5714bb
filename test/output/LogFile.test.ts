/** The log file copies what it is given (the read buffer is reused) and writes every byte up to its cap. */
import { Effect } from "effect"
import fc from "fast-check"
import { execFileSync, spawnSync } from "node:child_process"
import {
  chownSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync
} from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { afterAll, describe, expect, it } from "vitest"
import { LogFile, pruneOldLogs } from "../../src/output/LogFile.ts"
import { canMount } from "../helpers.ts"

const dir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-logfile-"))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe("LogFile", () => {
  it("holds every byte of chunks that are overwritten as soon as they are written, across many slabs", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 300_000 }), { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 255 }),
        async (sizes, seed) => {
          const log = LogFile.open(dir, "t", 1 << 30)
          const reused = Buffer.alloc(300_000)
          const expected: Array<Buffer> = []
          let n = seed
          for (const size of sizes) {
            for (let i = 0; i < size; i++) reused[i] = n = (n * 31 + 7) & 0xff
            const chunk = reused.subarray(0, size)
            expected.push(Buffer.from(chunk))
            log.write(chunk)
            reused.fill(0x58)
            // Now and then, let a write finish while more comes.
            if (size % 3 === 0) await new Promise((resolve) => setImmediate(resolve))
          }
          await Effect.runPromise(log.close)
          expect(readFileSync(log.stats().path).equals(Buffer.concat(expected))).toBe(true)
        }
      ),
      { numRuns: 30 }
    )
  })

  it("is named for its task, its time, this server's pid and its run: supervisors of two projects share the directory", async () => {
    const log = LogFile.open(dir, "web", 1 << 20)
    await Effect.runPromise(log.close)
    expect(NodePath.basename(log.stats().path)).toMatch(new RegExp(`^web-\\d{8}T\\d{6}Z-${process.pid}-\\d+\\.log$`))
  })

  it("that cannot be made says why, and counts nothing written (no file has it)", async () => {
    writeFileSync(NodePath.join(dir, "a-file"), "")
    const log = LogFile.open(NodePath.join(dir, "a-file", "logs"), "web", 1 << 20)
    log.write(Buffer.from("lost\n"))
    await Effect.runPromise(log.close)
    expect(log.stats()).toMatchObject({ bytes: 0, capped: false, error: expect.stringMatching(/ENOTDIR|EEXIST/) })
  })

  it("makes its directory private whatever the umask: output holds secrets", async () => {
    const before = process.umask(0)
    try {
      const logs = NodePath.join(dir, "umask0", "state", "logs")
      const log = LogFile.open(logs, "web", 1 << 20)
      await Effect.runPromise(log.close)
      expect(log.stats().error).toBeNull()
      expect(statSync(logs).mode & 0o777).toBe(0o700)
      // Its parents 0755, not 0700 (a `~/.local` made by root, with sudo -E, would lock its owner out), nor
      // 0777: anyone could then add a `~/.local/bin` to the user's PATH.
      expect(statSync(NodePath.join(dir, "umask0")).mode & 0o777).toBe(0o755)
      expect(statSync(NodePath.join(dir, "umask0", "state")).mode & 0o777).toBe(0o755)
      expect(statSync(log.stats().path).mode & 0o777).toBe(0o600)
    } finally {
      process.umask(before)
    }
  })

  it("never writes to a name someone planted: a link to another file stays as it was, and the log says why", async () => {
    const shared = NodePath.join(dir, "planted")
    mkdirSync(shared)
    // The next run's name, learnt from one run: the same second (or the next) and the next run number.
    const first = LogFile.open(shared, "db", 1 << 20)
    await Effect.runPromise(first.close)
    const [, run] = /-(\d+)\.log$/.exec(first.stats().path)!
    const target = NodePath.join(dir, "bashrc")
    writeFileSync(target, "# mine\n")
    const now = Date.now()
    for (const at of [now, now + 1000]) {
      const stamp = new Date(at).toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z")
      symlinkSync(target, NodePath.join(shared, `db-${stamp}-${process.pid}-${Number(run) + 1}.log`))
    }
    const log = LogFile.open(shared, "db", 1 << 20)
    log.write(Buffer.from("STRIPE_SECRET_KEY=sk_live_123\n"))
    await Effect.runPromise(log.close)
    expect(readFileSync(target, "utf8")).toBe("# mine\n")
    expect(log.stats()).toMatchObject({ bytes: 0, error: expect.stringMatching(/EEXIST/) })
  })

  it.runIf(process.getuid?.() === 0)(
    "refuses a directory another user made first (a shared /tmp/taskmux-logs)",
    async () => {
      const theirs = NodePath.join(dir, "theirs")
      mkdirSync(theirs, { mode: 0o777 })
      chownSync(theirs, 54321, 54321)
      const log = LogFile.open(theirs, "db", 1 << 20)
      log.write(Buffer.from("GITHUB_TOKEN=ghp_secret\n"))
      await Effect.runPromise(log.close)
      expect(readdirSync(theirs)).toEqual([])
      expect(log.stats().error).toBe(
        `the log directory ${theirs} belongs to uid 54321, not to you (uid 0): use a --log-dir of your own`
      )
    }
  )

  // Where it may mount (root, as CI runs): a disk of its own, 64 KiB, to fill.
  it.skipIf(!canMount())("that the disk refuses says why, not that it was capped", async () => {
    const full = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-full-"))
    execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", full])
    try {
      const log = LogFile.open(full, "web", 1 << 20)
      log.write(Buffer.alloc(256 * 1024, 0x78))
      await Effect.runPromise(log.close)
      expect(log.stats()).toMatchObject({ capped: false, error: expect.stringMatching(/ENOSPC|disk full/) })
      expect(log.stats().bytes).toBeLessThanOrEqual(64 * 1024)
    } finally {
      execFileSync("umount", ["-l", full])
    }
  })

  it.skipIf(!canMount())(
    "counts as written only what reached the file, when the disk refuses a write with more queued behind it",
    async () => {
      const full = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-full-"))
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=64k", "tmpfs", full])
      try {
        const log = LogFile.open(full, "flood", 1 << 30)
        // Written while one write is in flight: the rest queue behind it, as a flood's do.
        for (let i = 0; i < 64; i++) {
          log.write(Buffer.alloc(16 * 1024, 0x78))
          await new Promise((resolve) => setImmediate(resolve))
        }
        await Effect.runPromise(log.close)
        expect(log.stats().error).not.toBeNull()
        expect(log.stats().bytes).toBe(statSync(log.path).size)
      } finally {
        execFileSync("umount", ["-l", full])
      }
    }
  )
})

describe("old run logs", () => {
  it("are deleted after the days kept, unless another live server wrote them, this one's tasks use them, or they are not run logs", async () => {
    const dir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-prune-"))
    // A pid that was, and is no more: a process that has ended.
    const gone = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" }).stdout.trim()
    const files = {
      old: `web-20261101T100000Z-${gone}-1.log`,
      recent: `web-20261203T100000Z-${gone}-2.log`,
      alive: `api-20261101T100000Z-${process.ppid}-1.log`,
      // This server's own: a task's that it still lists stays; another goes (a supervisor kept for months).
      ownInUse: `db-20261101T100000Z-${process.pid}-1.log`,
      ownDone: `job-20261101T100000Z-${process.pid}-2.log`,
      notOurs: "notes-2026.log"
    }
    const monthAgo = new Date(Date.now() - 30 * 24 * 60 * 60 * 1000)
    for (const [key, name] of Object.entries(files)) {
      const path = NodePath.join(dir, name)
      writeFileSync(path, "x\n")
      if (key !== "recent") utimesSync(path, monthAgo, monthAgo)
    }
    expect(await pruneOldLogs(dir, 14, Date.now(), new Set([NodePath.join(dir, files.ownInUse)]))).toBe(2)
    expect(readdirSync(dir).sort()).toEqual([files.alive, files.ownInUse, files.notOurs, files.recent].sort())
    expect(await pruneOldLogs(NodePath.join(dir, "none"), 14)).toBe(0)
    rmSync(dir, { recursive: true, force: true })
  })
})
