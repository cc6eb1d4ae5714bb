/**
 * One temporary directory per test run, removed at the end: every test's log directories,
 * packed tarballs and fixtures go under it (os.tmpdir() reads TMPDIR, which the workers
 * inherit), so a run leaves nothing behind in /tmp.
 */
import { mkdtempSync, rmSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"

export default function setup() {
  const dir = mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-tests-"))
  process.env.TMPDIR = dir
  // Retried: a project's supervisor from the last test file may still be ending (its linger), writing its
  // record and lock file into its runtime directory under this one as the removal walks it (ENOTEMPTY).
  return () => rmSync(dir, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 })
}
