/**
 * Issue 3 over real stdio: waiting for readiness, exit notifications, output resources,
 * clean text and complete logs on disk.
 */
import {
  LoggingMessageNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema
} from "@modelcontextprotocol/sdk/types.js"
import { existsSync, readFileSync } from "node:fs"
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { fixture } from "../helpers.ts"
import { connect, type Connected, textOf, until } from "./client.ts"

interface Line {
  readonly seq?: number
  readonly stream?: string
  readonly text: string
  readonly time?: string
  readonly partial?: boolean
}

interface Waited {
  readonly name: string
  readonly matched: boolean
  readonly line?: Line
  readonly status: string
  readonly exitCode: number | null
  readonly timedOut: boolean
  readonly nextCursor: number
  readonly lastLines: Array<string>
}

interface Exit {
  readonly event: string
  readonly name: string
  readonly status: string
  readonly exitCode: number | null
  readonly signal: string | null
  readonly lastLines: Array<string>
  readonly errorLines: Array<object>
}

describe("agents: waiting, notifications, resources, clean text, logs", () => {
  let s: Connected
  const exits: Array<{ level: string; data: Exit }> = []
  const updated: Array<{ uri: string; at: number }> = []
  let listChanged = 0

  beforeAll(async () => {
    s = await connect()
    s.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
      const data = n.params.data as Exit
      if (data.event === "task_exit") exits.push({ level: n.params.level, data })
    })
    s.client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
      updated.push({ uri: n.params.uri, at: Date.now() })
    })
    s.client.setNotificationHandler(ResourceListChangedNotificationSchema, () => {
      listChanged++
    })
  })

  afterAll(async () => {
    await s.client.close()
  })

  const structured = <A>(name: string, args: Record<string, unknown> = {}) => s.structured<A>(name, args)

  const exitsOf = (name: string) => exits.filter((e) => e.data.name === name)

  describe("wait_for_task", () => {
    it("answers within 100 ms of the line appearing", async () => {
      const lags: Array<number> = []
      for (let i = 0; i < 3; i++) {
        const name = `ready-${i}`
        await structured("start_task", {
          command: "sleep 0.3; echo booting; echo 'Server ready on :3000'; sleep 300",
          name
        })
        const waited = await structured<Waited>("wait_for_task", { name, pattern: "ready on :\\d+" })
        const answeredAt = Date.now()
        expect(waited).toMatchObject({ matched: true, timedOut: false, status: "running" })
        expect(waited.line?.text).toBe("Server ready on :3000")
        expect(waited.nextCursor).toBe(waited.line?.seq)
        const [line] = (await structured<{ lines: Array<Line> }>("read_output", {
          name,
          since: waited.line!.seq! - 1,
          tail: 1,
          timestamps: true
        })).lines
        lags.push(answeredAt - Date.parse(line!.time!))
        await structured("stop_task", { name })
      }
      // The best of three, so one scheduling hiccup on a busy machine does not fail it.
      expect(Math.min(...lags)).toBeLessThan(100)
    })

    it("times out with the last lines, the task still running", async () => {
      await structured("start_task", { command: "echo compiling; sleep 300", name: "slow" })
      await until(async () =>
        (await structured<{ totalLines: number }>("get_task", { name: "slow" })).totalLines > 0 || undefined
      )
      const result = await s.call("wait_for_task", { name: "slow", pattern: "never", timeoutMs: 300 })
      const waited = result.structuredContent as unknown as Waited
      expect(waited).toMatchObject({ matched: false, timedOut: true, status: "running" })
      expect(waited.lastLines).toEqual(["compiling"])
      expect(textOf(result)).toMatch(
        /Timed out after 0\.\d s; "slow" is still running\. It printed nothing while this call waited\..*\nLast lines:\ncompiling/
      )
      // A look with no wait (timeoutMs: 0) heard nothing because it did not listen: no hint about silence.
      const look = await s.call("wait_for_task", { name: "slow", pattern: "never", timeoutMs: 0 })
      expect(textOf(look)).not.toContain("printed nothing")
      await structured("stop_task", { name: "slow", force: true })
    })

    it("returns when the task ends first, saying how", async () => {
      await structured("start_task", { command: "sleep 0.2; echo 'port in use' >&2; exit 2", name: "early" })
      const result = await s.call("wait_for_task", { name: "early", pattern: "ready" })
      expect(result.structuredContent).toMatchObject({
        matched: false,
        timedOut: false,
        status: "crashed",
        exitCode: 2
      })
      expect(textOf(result)).toMatch(/"early" ended \(crashed, exit code 2\).*without a match[\s\S]*port in use/)
    })

    it("misses no line that arrived between two calls, and matches a line it showed only once", async () => {
      // As tsc --watch does: the line the assistant will wait for is printed before it asks.
      await structured("start_task", {
        command: "echo compiling; echo 'Found 0 errors. Watching.'; sleep 300",
        name: "tsc"
      })
      await until(async () =>
        (await structured<{ totalLines: number }>("get_task", { name: "tsc" })).totalLines > 1 || undefined
      )
      const first = await structured<Waited>("wait_for_task", {
        name: "tsc",
        pattern: "Found 0 errors",
        timeoutMs: 5_000
      })
      expect(first).toMatchObject({ matched: true, line: { seq: 2, text: "Found 0 errors. Watching." } })
      expect(first.line?.stream).toBeUndefined()
      // Shown now: the next wait looks only at what comes after it.
      expect(await structured<Waited>("wait_for_task", { name: "tsc", pattern: "Found 0 errors", timeoutMs: 200 }))
        .toMatchObject({ matched: false, timedOut: true })
      // since overrides it.
      expect(await structured<Waited>("wait_for_task", { name: "tsc", pattern: "compiling", since: 0 }))
        .toMatchObject({ matched: true, line: { seq: 1, text: "compiling" } })
      // A read shows lines too: what it showed does not match again.
      await structured("start_task", { command: "echo ready; sleep 300", name: "read-first" })
      await until(async () =>
        (await structured<{ lines: Array<Line> }>("read_output", { name: "read-first" })).lines.length > 0 || undefined
      )
      expect(await structured<Waited>("wait_for_task", { name: "read-first", pattern: "ready", timeoutMs: 200 }))
        .toMatchObject({ matched: false, timedOut: true })
      await structured("stop_task", { name: "tsc" })
      await structured("stop_task", { name: "read-first" })
    })

    it("takes a cursor of an earlier output (the task started anew since) as this output's start, as read_output does", async () => {
      await structured("start_task", { command: "seq 1 50", name: "anew", waitFor: { exit: true } })
      const old = await structured<{ nextCursor: number }>("read_output", { name: "anew" })
      expect(old.nextCursor).toBe(50)
      await structured("start_task", { command: "echo one; echo two; echo ready; sleep 300", name: "anew" })
      const waited = await structured<Waited>("wait_for_task", { name: "anew", pattern: "ready", since: 50 })
      expect(waited).toMatchObject({ matched: true, line: { seq: 3, text: "ready" }, nextCursor: 3 })
      await structured("stop_task", { name: "anew" })
    })

    it("without a pattern, waits for the task to end", async () => {
      await structured("start_task", { command: "sleep 0.2; exit 0", name: "finish" })
      const result = await s.call("wait_for_task", { name: "finish" })
      expect(result.structuredContent).toMatchObject({ matched: false, timedOut: false, status: "exited", exitCode: 0 })
      expect(textOf(result)).toMatch(/^"finish" ended \(exited, exit code 0\) after running 0\.\d s\.$/)
    })

    it("resolves many concurrent waits on one task", async () => {
      await structured("start_task", { command: "sleep 0.5; echo go; sleep 300", name: "crowd" })
      const waits = await Promise.all(
        Array.from({ length: 25 }, () => structured<Waited>("wait_for_task", { name: "crowd", pattern: "^go$" }))
      )
      expect(waits.every((w) => w.matched && w.line?.text === "go")).toBe(true)
      await structured("stop_task", { name: "crowd" })
    })

    it("refuses an invalid regex, naming it", async () => {
      await structured("start_task", { command: "sleep 300", name: "regex" })
      const result = await s.call("wait_for_task", { name: "regex", pattern: "([unclosed" })
      expect(result.isError).toBe(true)
      expect(textOf(result)).toMatch(/pattern "\(\[unclosed" is not a valid regular expression/)
      await structured("stop_task", { name: "regex" })
    })

    it("sends progress while it waits, when the client asks for it", async () => {
      await structured("start_task", { command: "sleep 4.5; echo done; sleep 300", name: "progress" })
      const progress: Array<{ progress: number; message?: string | undefined }> = []
      const result = await s.client.callTool(
        { name: "wait_for_task", arguments: { name: "progress", pattern: "done" } },
        undefined,
        { onprogress: (p) => progress.push(p), timeout: 20_000 }
      )
      expect(result.structuredContent).toMatchObject({ matched: true })
      expect(progress.length).toBeGreaterThanOrEqual(1)
      expect(progress[0]!.message).toMatch(/^waiting( \d+ s)?(;|$)/)
      await structured("stop_task", { name: "progress" })
    }, 30_000)

    it("stop_task and restart_task send progress while a tree that ignores SIGTERM has its grace", async () => {
      const stubborn = { command: "trap '' TERM; while true; do sleep 0.1; done" }
      for (const tool of ["stop_task", "restart_task"] as const) {
        await structured("start_task", { ...stubborn, name: "stubborn" })
        const progress: Array<{ message?: string | undefined }> = []
        await s.client.callTool(
          { name: tool, arguments: { name: "stubborn", ...(tool === "stop_task" && { graceMs: 4_500 }) } },
          undefined,
          { onprogress: (p) => progress.push(p), timeout: 20_000 }
        )
        expect(progress.length, tool).toBeGreaterThanOrEqual(1)
        expect(progress[0]!.message).toMatch(/^waiting \d+ s for its processes to end/)
        await structured("stop_task", { name: "stubborn", force: true })
      }
    }, 40_000)

    it("a cancelled wait stops at once and leaves nothing behind (1,000 of them)", async () => {
      await structured("start_task", { command: "sleep 300", name: "cancel" })
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(Array.from({ length: 100 }, async () => {
          const controller = new AbortController()
          const call = s.client.callTool(
            { name: "wait_for_task", arguments: { name: "cancel", pattern: "never" } },
            undefined,
            { signal: controller.signal }
          )
          setTimeout(() => controller.abort("test"), 5)
          await call.catch(() => undefined)
        }))
      }
      const watchers = await until(async () => {
        const task = await structured<{ watchers: number }>("get_task", { name: "cancel" })
        return task.watchers === 0 ? task.watchers : undefined
      })
      expect(watchers).toBe(0)
      await structured("stop_task", { name: "cancel" })
    }, 60_000)
  })

  it("start_task with waitFor starts a server and knows it is ready, in one call", async () => {
    const result = await s.call("start_task", {
      command: "echo installing; sleep 0.3; echo 'Local: http://localhost:5173/'; sleep 300",
      name: "dev",
      waitFor: { pattern: "Local:\\s+http", timeoutMs: 10_000 }
    })
    expect(result.structuredContent).toMatchObject({ name: "dev", status: "running", matched: true, timedOut: false })
    expect(textOf(result)).toMatch(/^Started task "dev" \(pid \d+\)\. "dev" matched after \d\.\d s: Local: http/)
    await structured("stop_task", { name: "dev" })
    const bad = await s.call("start_task", { command: "sleep 300", name: "dev2", waitFor: { pattern: "(" } })
    expect(textOf(bad)).toMatch(/waitFor\.pattern "\(" is not a valid regular expression/)
  })

  describe("exit notifications", () => {
    it("sends exactly one task_exit message per ended run: info for exit 0 or a stop, warning for a crash", async () => {
      await structured("start_task", { command: "echo fine", name: "n-ok" })
      await structured("start_task", { command: "echo bad; exit 3", name: "n-bad" })
      await until(() => (exitsOf("n-ok").length > 0 && exitsOf("n-bad").length > 0) || undefined)
      await structured("restart_task", { name: "n-bad" })
      await until(() => exitsOf("n-bad").length >= 2 || undefined)
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(exitsOf("n-ok")).toEqual([{
        level: "info",
        data: {
          event: "task_exit",
          name: "n-ok",
          status: "exited",
          exitCode: 0,
          signal: null,
          lastLines: ["fine"],
          errorLines: []
        }
      }])
      expect(exitsOf("n-bad")).toHaveLength(2)
      // The second run's summary is of that run.
      expect(exitsOf("n-bad")[1]).toMatchObject({
        level: "warning",
        data: { status: "crashed", exitCode: 3, lastLines: ["bad"] }
      })
      await structured("start_task", { command: "sleep 300", name: "n-stopped" })
      await structured("stop_task", { name: "n-stopped" })
      await until(() => exitsOf("n-stopped").length > 0 || undefined)
      expect(exitsOf("n-stopped")[0]).toMatchObject({ level: "info", data: { status: "stopped", signal: "SIGTERM" } })
    })

    it("summary lines have one shape in notifications and answers: stream only when not stdout, no time", async () => {
      const answer = await structured<{ errorLines: Array<object> }>("start_task", {
        command: "echo 'ValueError: on stderr' >&2; sleep 0.1; echo 'Error: on stdout'; sleep 0.1; seq 10; exit 1",
        name: "n-shape",
        waitFor: { exit: true }
      })
      await until(() => exitsOf("n-shape").length > 0 || undefined)
      const notified = exitsOf("n-shape")[0]!.data.errorLines
      expect(answer.errorLines).toEqual([
        { seq: 1, stream: "stderr", text: "ValueError: on stderr" },
        { seq: 2, text: "Error: on stdout" }
      ])
      expect(notified).toEqual(answer.errorLines)
    })

    it("notifyOnExit: false keeps a task quiet", async () => {
      await structured("start_task", { command: "true", name: "n-quiet", notifyOnExit: false })
      await structured("wait_for_task", { name: "n-quiet", since: 0 })
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(exitsOf("n-quiet")).toEqual([])
    })

    it("honours logging/setLevel", async () => {
      await s.client.setLoggingLevel("error")
      await structured("start_task", { command: "exit 1", name: "n-filtered" })
      await structured("wait_for_task", { name: "n-filtered", since: 0 })
      await new Promise((resolve) => setTimeout(resolve, 200))
      expect(exitsOf("n-filtered")).toEqual([])
      await s.client.setLoggingLevel("debug")
    })
  })

  describe("output resources", () => {
    it("lists, reads and templates task://NAME/output; announces added and removed tasks", async () => {
      const before = listChanged
      await structured("start_task", {
        command: "printf 'a\\n'; sleep 0.1; printf 'oops\\n' >&2; sleep 0.1; printf 'b\\n'",
        name: "res"
      })
      await structured("wait_for_task", { name: "res", since: 0 })
      const { resources } = await s.client.listResources()
      expect(resources.find((r) => r.uri === "task://res/output")).toMatchObject({
        name: "res",
        mimeType: "text/plain"
      })
      const { resourceTemplates } = await s.client.listResourceTemplates()
      expect(resourceTemplates[0]?.uriTemplate).toBe("task://{name}/output")
      const read = await s.client.readResource({ uri: "task://res/output" })
      // Stderr marked as read_output's text marks it.
      expect(read.contents[0]).toMatchObject({ uri: "task://res/output", text: "a\n! oops\nb" })
      await expect(s.client.readResource({ uri: "task://nope/output" })).rejects.toThrow(
        /task:\/\/nope\/output not found/
      )
      await structured("remove_task", { name: "res" })
      await until(() => listChanged >= before + 2 || undefined)
    })

    it("a subscription follows its name to the task that replaces a finished one, and unsubscribing ends it", async () => {
      await structured("start_task", { command: "true", name: "phoenix", notifyOnExit: false })
      await structured("wait_for_task", { name: "phoenix", since: 0 })
      await s.client.subscribeResource({ uri: "task://phoenix/output" })
      const from = updated.length
      await structured("start_task", { command: "echo reborn", name: "phoenix", notifyOnExit: false })
      await until(() => updated.slice(from).some((u) => u.uri === "task://phoenix/output") || undefined)
      await s.client.unsubscribeResource({ uri: "task://phoenix/output" })
      expect((await structured<{ watchers: number }>("get_task", { name: "phoenix" })).watchers).toBe(0)
    })

    it("two subscribes to one uri in one read make one subscription, which unsubscribing ends", async () => {
      await structured("start_task", { command: "while :; do echo tick; sleep 0.05; done", name: "twice" })
      const subscribe = (id: string) =>
        JSON.stringify({ jsonrpc: "2.0", id, method: "resources/subscribe", params: { uri: "task://twice/output" } })
      // One write, so that the server reads both before it answers either (a pipelining client).
      const stdin = (s.transport as unknown as { _process: { stdin: { write(text: string): void } } })._process.stdin
      stdin.write(`${subscribe("twice-1")}\n${subscribe("twice-2")}\n`)
      const watchers = async () => (await structured<{ watchers: number }>("get_task", { name: "twice" })).watchers
      await until(async () => (await watchers()) > 0 || undefined)
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(await watchers()).toBe(1)
      await s.client.unsubscribeResource({ uri: "task://twice/output" })
      expect(await watchers()).toBe(0)
      const from = updated.length
      await new Promise((resolve) => setTimeout(resolve, 600))
      expect(updated.slice(from).filter((u) => u.uri === "task://twice/output")).toEqual([])
      await structured("stop_task", { name: "twice" })
    })

    it("a subscription sends coalesced updates, however chatty the task", async () => {
      await structured("start_task", {
        command: "sleep 0.3; yes | head -c 300000000",
        name: "chatty",
        notifyOnExit: false
      })
      await s.client.subscribeResource({ uri: "task://chatty/output" })
      const from = updated.length
      const startedAt = Date.now()
      await structured("wait_for_task", { name: "chatty", timeoutMs: 60_000 })
      const seconds = (Date.now() - startedAt) / 1000
      await new Promise((resolve) => setTimeout(resolve, 400))
      const got = updated.slice(from).filter((u) => u.uri === "task://chatty/output")
      expect(got.length).toBeGreaterThan(0)
      // At most one per 250 ms, plus the trailing one.
      expect(got.length).toBeLessThanOrEqual(Math.ceil(seconds * 4) + 2)
      await s.client.unsubscribeResource({ uri: "task://chatty/output" })
      expect((await structured<{ watchers: number }>("get_task", { name: "chatty" })).watchers).toBe(0)
    }, 60_000)
  })

  describe("clean text", () => {
    it("strips ANSI codes and collapses carriage-return progress bars; raw keeps them", async () => {
      await structured("start_task", { command: fixture("colours.sh"), args: [], name: "colours" })
      await structured("wait_for_task", { name: "colours", since: 0 })
      const clean = await structured<{ lines: Array<Line> }>("read_output", { name: "colours", since: 0 })
      expect(clean.lines.map((l) => l.text)).toEqual([
        "ERROR something failed",
        "OK passed",
        "[##########] 100%",
        "done"
      ])
      const raw = await structured<{ lines: Array<Line> }>("read_output", { name: "colours", since: 0, raw: true })
      expect(raw.lines[0]!.text).toBe("\u001b[31mERROR\u001b[0m something failed")
      expect(raw.lines[2]!.text).toContain("\r")
    })

    it("greps, caps answers with maxBytes, and pages on", async () => {
      await structured("start_task", { command: "seq 1 1000", name: "numbers" })
      await structured("wait_for_task", { name: "numbers", since: 0 })
      const grep = await structured<{ lines: Array<Line> }>("read_output", {
        name: "numbers",
        since: 0,
        grep: "^99\\d$"
      })
      expect(grep.lines.map((l) => l.text)).toEqual([
        "990",
        "991",
        "992",
        "993",
        "994",
        "995",
        "996",
        "997",
        "998",
        "999"
      ])
      const page = await structured<{ lines: Array<Line>; truncated: boolean; nextCursor: number }>("read_output", {
        name: "numbers",
        since: 0,
        maxBytes: 20
      })
      expect(page.truncated).toBe(true)
      // 1..9 and 10..14 are 19 bytes of text; "15" would pass 20.
      expect(page.lines.map((l) => l.text)).toEqual([
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "8",
        "9",
        "10",
        "11",
        "12",
        "13",
        "14"
      ])
      const next = await structured<{ lines: Array<Line> }>("read_output", {
        name: "numbers",
        since: page.nextCursor,
        maxBytes: 6
      })
      expect(next.lines.map((l) => l.text)).toEqual(["15", "16", "17"])
      const bad = await s.call("read_output", { name: "numbers", grep: "+" })
      expect(textOf(bad)).toMatch(/grep "\+" is not a valid regular expression/)
    })

    it("turns colour off in tasks unless the caller sets it", async () => {
      await structured("start_task", { command: "echo \"[$NO_COLOR] [$FORCE_COLOR]\"", name: "env-default" })
      await structured("start_task", {
        command: "echo \"[$NO_COLOR] [$FORCE_COLOR]\"",
        name: "env-own",
        env: { FORCE_COLOR: "1" }
      })
      for (const name of ["env-default", "env-own"]) await structured("wait_for_task", { name, since: 0 })
      const text = async (name: string) =>
        (await structured<{ lines: Array<Line> }>("read_output", { name })).lines[0]!.text
      expect(await text("env-default")).toBe("[1] [0]")
      expect(await text("env-own")).toBe("[] [1]")
    })

    it("answers in compact text, and structure that carries only what the text does not say", async () => {
      await structured("start_task", { command: "seq 1 20", name: "compact" })
      await structured("wait_for_task", { name: "compact", since: 0 })
      const result = await s.call("read_output", { name: "compact" })
      expect(textOf(result)).toBe(`${Array.from({ length: 20 }, (_, i) => i + 1).join("\n")}\n[nextCursor 20]`)
      const lines = (result.structuredContent as { lines: Array<Line> }).lines
      expect(lines[0]).toEqual({ text: "1", seq: 1 })
      expect(lines[1]).toEqual({ text: "2" })
      // Hundreds of real lines, both streams: the structure is at most twice the text of its lines.
      const program = "node --help; python3 -c 'import this' >&2; node --v8-options | head -200"
      await structured("start_task", { command: program, name: "real", waitFor: { exit: true } })
      const real = await s.call("read_output", { name: "real", since: 0, maxBytes: 1_000_000 })
      const realLines = (real.structuredContent as { lines: Array<Line> }).lines
      expect(realLines.length).toBeGreaterThan(600)
      expect(realLines.some((l) => l.stream === "stderr")).toBe(true)
      const textBytes = Buffer.byteLength(realLines.map((l) => l.text).join("\n"))
      const structureBytes = Buffer.byteLength(JSON.stringify(real.structuredContent))
      expect(structureBytes / textBytes).toBeLessThan(1.5)
      // More than a MiB in one answer no context holds: refused, saying what would do.
      const tooMuch = await s.call("read_output", { name: "real", maxBytes: 1e9 })
      expect(tooMuch.isError).toBe(true)
      expect(textOf(tooMuch)).toMatch(/maxBytes.*1048576/)
      // Times when asked.
      const timed = await structured<{ lines: Array<Line> }>("read_output", {
        name: "compact",
        tail: 2,
        timestamps: true
      })
      expect(timed.lines.map((l) => Date.parse(l.time!))).toEqual([expect.any(Number), expect.any(Number)])
      // In the text too: a client may give a model only the text.
      const timedText = textOf(await s.call("read_output", { name: "compact", tail: 2, timestamps: true }))
      expect(timedText.split("\n").slice(0, 2)).toEqual(
        timed.lines.map((l) => expect.stringMatching(new RegExp(`^${l.time!.slice(11, 23)} (! )?`)))
      )
    })

    it("says in the text when the last line has no newline yet (a prompt)", async () => {
      await structured("start_task", { command: "printf 'Password: '; sleep 30", name: "asks-text" })
      const text = await until(async () => {
        const t = textOf(await s.call("read_output", { name: "asks-text" }))
        return t.startsWith("Password:") ? t : undefined
      })
      expect(text).toBe("Password: \n[nextCursor 0; its last line has no newline yet]")
      await structured("stop_task", { name: "asks-text" })
    })
  })

  describe("complete logs on disk", () => {
    it("keeps every line of a 1,000,000-line run while the ring buffer dropped most", async () => {
      await structured("start_task", { command: "seq 1 1000000", name: "million" })
      await structured("wait_for_task", { name: "million", since: 0, timeoutMs: 60_000 })
      const task = await structured<
        { logFile: string; logBytes: number; droppedLines: number; lines: number; totalLines: number }
      >(
        "get_task",
        { name: "million" }
      )
      expect(task.totalLines).toBe(1_000_000)
      expect(task.droppedLines).toBe(990_000)
      const log = readFileSync(task.logFile, "utf8")
      expect(task.logBytes).toBe(Buffer.byteLength(log))
      const lines = log.split("\n")
      expect(lines.length).toBe(1_000_001)
      // Byte for byte: the log's slabs are reused while writes are in flight.
      expect(lines.findIndex((line, i) => line !== (i === 1_000_000 ? "" : String(i + 1)))).toBe(-1)
    }, 60_000)

    it("remove_task keeps the log unless deleteLog", async () => {
      await structured("start_task", { command: "echo keep", name: "keep" })
      await structured("start_task", { command: "echo drop", name: "drop" })
      for (const name of ["keep", "drop"]) await structured("wait_for_task", { name, since: 0 })
      const keep = (await structured<{ logFile: string }>("get_task", { name: "keep" })).logFile
      const drop = (await structured<{ logFile: string }>("get_task", { name: "drop" })).logFile
      await structured("remove_task", { name: "keep" })
      await structured("remove_task", { name: "drop", deleteLog: true })
      expect(existsSync(keep)).toBe(true)
      expect(existsSync(drop)).toBe(false)
    })
  })
})

describe("log cap", () => {
  it("stops the file at the cap, says so in the file and in get_task, and adds the run's last lines at its end", async () => {
    const s = await connect({ TASKMUX_LOG_MAX_BYTES: "1000" })
    try {
      await s.call("start_task", { command: "seq 1 10000", name: "big" })
      await s.call("wait_for_task", { name: "big", since: 0 })
      const task = (await s.call("get_task", { name: "big" })).structuredContent as {
        logFile: string
        logBytes: number
        logCapped: boolean
      }
      const text = readFileSync(task.logFile, "utf8")
      expect(task).toMatchObject({ logBytes: Buffer.byteLength(text), logCapped: true })
      // The head up to the cap (the line it cut, cut), the note, then as much of the end as the cap.
      const [head, tail] = text.split(
        "\n[taskmux] log capped at 1000 bytes: later output is not in this file, but for the run's last lines, " +
          "added when it ends\n"
      )
      expect(Buffer.byteLength(head!)).toBe(1000)
      expect(head).toMatch(/^1\n2\n3\n/)
      const [note, ...lines] = tail!.trimEnd().split("\n")
      expect(note).toBe(
        "[taskmux] the run's last " + lines.length +
          " lines, added at its end (those between the cap and them are not in this file):"
      )
      expect(lines.at(-1)).toBe("10000")
      expect(lines.map(Number)).toEqual(lines.map((_, i) => 10_000 - lines.length + 1 + i))
      expect(lines.join("").length).toBeLessThanOrEqual(1000)
      // A server stopped (not ended by itself) past its cap gets its last lines too.
      await s.call("start_task", {
        command: "python3",
        args: [
          "-c",
          "import time\nfor i in range(2000): print('line', i)\nprint('serving', flush=True)\ntime.sleep(60)"
        ],
        name: "server",
        waitFor: { pattern: "serving" }
      })
      const server = (await s.call("stop_task", { name: "server" })).structuredContent as { status: string }
      expect(server.status).toBe("stopped")
      const { logFile } = (await s.call("get_task", { name: "server" })).structuredContent as { logFile: string }
      expect(readFileSync(logFile, "utf8")).toMatch(/\nline 1999\nserving\n$/)
    } finally {
      await s.client.close()
    }
  })
})
