/**
 * The CLI as a process, for tests that need one (a terminal, Ctrl-C, a started supervisor):
 * `node test/cli/entry.ts ps --json`. `supervise --project DIR` (what connectOrStart runs, with this
 * file as the program) runs the stand-in supervisor instead, and says when it listens as the real one does.
 */
import { runCliProcess } from "../../src/cli/main.ts"
import { sayReady, takeReadyFd } from "../../src/daemon/sayReady.ts"
import { startStandIn } from "./standIn.ts"

const argv = process.argv.slice(2)
if (argv[0] === "supervise") {
  const readyFd = takeReadyFd()
  const standIn = await startStandIn(argv[argv.indexOf("--project") + 1]!)
  sayReady(readyFd)
  process.once("SIGTERM", () => void standIn.close().then(() => process.exit(0)))
} else {
  await runCliProcess(argv)
}
