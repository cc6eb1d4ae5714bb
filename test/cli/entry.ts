/**
 * The CLI as a process, for tests that need one (a terminal, Ctrl-C, a started supervisor):
 * `node test/cli/entry.ts ps --json`. `supervise --project DIR` (what connectOrStart runs, with this
 * file as the program) runs the stand-in supervisor instead, and says when it listens as the real one does.
 */
import { closeSync, writeSync } from "node:fs"
import { runCliProcess } from "../../src/cli/main.ts"
import { READY_FD } from "../../src/daemon/connect.ts"
import { startStandIn } from "./standIn.ts"

const argv = process.argv.slice(2)
if (argv[0] === "supervise") {
  const readyFd = process.env.TASKMUX_READY_FD
  delete process.env.TASKMUX_READY_FD
  const standIn = await startStandIn(argv[argv.indexOf("--project") + 1]!)
  if (readyFd === String(READY_FD)) {
    writeSync(READY_FD, "ready\n")
    closeSync(READY_FD)
  }
  process.once("SIGTERM", () => void standIn.close().then(() => process.exit(0)))
} else {
  await runCliProcess(argv)
}
