/** The built CLI as a person runs it: `taskmux ARGS` in a project, with an environment; its exit and output. */
import { spawn } from "node:child_process"
import { serverEntry } from "./e2e/client.ts"

export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** With `closeInput`, its stdin is closed at once (a client that leaves); else it stays open. */
export const builtCli = (cwd: string, env: NodeJS.ProcessEnv) => (args: ReadonlyArray<string>, closeInput = false) =>
  new Promise<CliRun>((resolve) => {
    const child = spawn(process.execPath, [serverEntry, ...args], { cwd, env })
    if (closeInput) child.stdin.end()
    let stdout = ""
    let stderr = ""
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString()))
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()))
    child.once("close", (code) => resolve({ code, stdout, stderr }))
  })
