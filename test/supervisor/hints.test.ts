/** What an end's answer says beyond its status: pure, from the task's state alone. */
import { describe, expect, it } from "vitest"
import { OutputBuffer } from "../../src/output/OutputBuffer.ts"
import { endHint, portHeldHint } from "../../src/supervisor/hints.ts"
import { defaultPolicy } from "../../src/supervisor/RestartPolicy.ts"
import { freshState, type TaskState } from "../../src/supervisor/TaskState.ts"

const ended = (command: string, printed: string, end: Partial<TaskState>): TaskState => {
  const buffer = new OutputBuffer({ maxLines: 100, maxBytes: 1 << 20, maxLineBytes: 8192 })
  buffer.append("stderr", Buffer.from(printed), Date.now())
  const spec = {
    command,
    args: null,
    commandLine: command,
    cwd: "/",
    env: {},
    baseEnv: { PATH: "/usr/bin:/bin" },
    notifyOnExit: true,
    policy: defaultPolicy,
    terminal: null,
    session: null,
    client: null,
    since: new Date(0).toISOString()
  }
  return { ...freshState("t", spec, buffer), status: "crashed", ...end }
}

describe("endHint", () => {
  it("names the PATH searched when a shell line's program was not found", () => {
    const task = ended("nope", "bash: line 1: nope: command not found\n", { exitCode: 127 })
    expect(endHint(task).hint).toMatch(/\/usr\/bin:\/bin/)
  })

  it("says who stopped it, and nothing for a plain end", () => {
    expect(endHint(ended("sleep 9", "", { status: "stopped", stoppedBy: "stop_task from cursor" })))
      .toEqual({ hint: "Stopped by stop_task from cursor." })
    expect(endHint(ended("false", "", { exitCode: 1 }))).toEqual({})
  })

  it("blames the kernel for a SIGKILL no tool sent", () => {
    expect(endHint(ended("x", "", { signal: "SIGKILL" })).hint).toMatch(/^No tool sent the SIGKILL/)
  })
})

describe("portHeldHint", () => {
  const program = { pid: 4242, command: "node server.js" }
  it.each(
    [
      [
        "a task of this taskmux, by its own pid",
        program,
        { name: "web", leader: true },
        "Port 3000 is held by task \"web\" (pid 4242). "
      ],
      [
        "a task's program below its shell line",
        program,
        { name: "web", leader: false },
        "Port 3000 is held by task \"web\" (its process 4242). "
      ],
      [
        "a socket no process here owns",
        { pid: null, command: "" },
        undefined,
        "Port 3000 is held by a process taskmux cannot see (another container, or PID namespace, on this network). "
      ],
      [
        "another taskmux's task, where it runs",
        { ...program, taskmux: true, cwd: "/src/other" },
        undefined,
        "Port 3000 is held by a task of another taskmux (another project's or worktree's) (pid 4242: node server.js, in /src/other). "
      ],
      ["another program", program, undefined, "Port 3000 is held by another program (pid 4242: node server.js). "]
    ] as const
  )("names %s", (_, holder, task, said) => {
    expect(portHeldHint(3000, holder, task)).toBe(said)
  })
})
