/** What an end's answer says beyond its status: pure, from the task's state alone. */
import { describe, expect, it } from "vitest"
import { OutputBuffer } from "../../src/output/OutputBuffer.ts"
import { endHint } from "../../src/supervisor/hints.ts"
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
