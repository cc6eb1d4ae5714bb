/**
 * Row 12's floor for one more hop: a bare Node process between the client and the server in
 * BENCH_RELAY_TO (spawned here, over pipes), passing bytes both ways without looking at them, as a
 * front passes them to its supervisor (over a unix socket, the same kind of wake-up).
 */
import { spawn } from "node:child_process"

const server = spawn(process.execPath, [process.env.BENCH_RELAY_TO!], { stdio: ["pipe", "pipe", "ignore"] })
process.stdin.pipe(server.stdin)
server.stdout.pipe(process.stdout)
server.once("exit", (code) => process.exit(code ?? 0))
