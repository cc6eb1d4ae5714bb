/**
 * Issue 12 over real stdio, the server started as a client starts it (a short environment:
 * no PYTHONUNBUFFERED, whatever this machine exports): output that arrives when a program
 * prints it, terminal tasks through every tool, and no orphans however the server ends.
 */
import { LoggingMessageNotificationSchema } from "@modelcontextprotocol/sdk/types.js"
import { mkdtempSync, readFileSync } from "node:fs"
import * as os from "node:os"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { fixture, isAlive, pidsIn } from "../helpers.ts"
import { connect, type Connected, textOf, until, withServer } from "./client.ts"

interface Line {
  readonly seq: number
  readonly stream: string
  readonly text: string
  readonly partial?: boolean
}
interface Waited {
  readonly matched: boolean
  readonly timedOut: boolean
  readonly elapsedMs: number
  readonly hint?: string
  readonly line?: Line
}

const linesOf = async (s: Connected, name: string) =>
  (await s.structured<{ lines: Array<Line> }>("read_output", { name, since: 0 })).lines

const pidsOf = (s: Connected, name: string, count: number) =>
  until(async () => {
    const pids = pidsIn(await linesOf(s, name))
    return pids.length >= count ? pids : undefined
  })

/** Prints its ready line with print(), as a user's script would, then keeps running. */
const pythonServer = `import time
print("ready on port 8000")
time.sleep(60)`

describe("output arrives when the program prints it", () => {
  it("a Python script's print() reaches a waiter within a second on pipes", () =>
    withServer(async (s) => {
      // The test's own premise: the server, like one a client starts, has no PYTHONUNBUFFERED to pass on.
      expect(readFileSync(`/proc/${s.pid}/environ`, "latin1").split("\0")).not.toContainEqual(
        expect.stringMatching(/^PYTHONUNBUFFERED=/)
      )
      const started = await s.structured<Waited>("start_task", {
        command: "python3",
        args: ["-c", pythonServer],
        name: "py",
        waitFor: { pattern: "^ready on port", timeoutMs: 5_000 }
      })
      expect(started.matched).toBe(true)
      expect(started.elapsedMs).toBeLessThan(1_000)
    }))

  it("the same script with buffering on times out, saying it printed nothing and why that may be", () =>
    withServer(async (s) => {
      // Python ignores an empty PYTHONUNBUFFERED: this is what a pipe does to it without taskmux's default.
      const result = await s.call("start_task", {
        command: "python3",
        args: ["-c", pythonServer],
        name: "buffered",
        env: { PYTHONUNBUFFERED: "" },
        waitFor: { pattern: "^ready on port", timeoutMs: 1_000 }
      })
      const waited = result.structuredContent as unknown as Waited
      expect(waited).toMatchObject({ matched: false, timedOut: true })
      expect(waited.hint).toMatch(/printed nothing.*buffering.*terminal: true/)
      expect(textOf(result)).toMatch(/still running\. It has printed nothing at all\..*terminal: true/)
    }))

  it("python3 -m http.server is known ready from its line, on pipes", () =>
    withServer(async (s) => {
      const started = await s.structured<Waited>("start_task", {
        command: "python3 -m http.server 0 --bind 127.0.0.1",
        name: "http",
        waitFor: { pattern: "Serving HTTP on", timeoutMs: 10_000 }
      })
      expect(started.matched).toBe(true)
    }))

  it("perl's print is seen at once on a terminal (on a pipe it buffers)", () =>
    withServer(async (s) => {
      const command = `perl -e 'print "ready\\n"; sleep 30'`
      const onTerminal = await s.structured<Waited>("start_task", {
        command,
        name: "perl-tty",
        terminal: true,
        waitFor: { pattern: "^ready$", timeoutMs: 5_000 }
      })
      expect(onTerminal.matched).toBe(true)
      expect(onTerminal.line?.stream).toBe("terminal")
    }))
})

describe("terminal tasks through every tool", () => {
  it("a REPL: prompt, answer, screen, resize, log file and exit notification", () =>
    withServer(async (s) => {
      const notes: Array<Record<string, unknown>> = []
      s.client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
        notes.push(n.params.data as Record<string, unknown>)
      })
      const started = await s.structured<Waited & { pid: number }>("start_task", {
        command: "python3",
        args: ["-i", "-q"],
        name: "repl",
        terminal: true,
        cols: 80,
        rows: 24,
        waitFor: { pattern: "^>>> $" }
      })
      expect(started.matched).toBe(true)
      expect(started.line?.partial).toBe(true)
      await s.structured("send_input", { name: "repl", data: "print(6*7)\r" })
      const answer = await s.structured<Waited>("wait_for_task", { name: "repl", pattern: "^42$", since: 0 })
      expect(answer.matched).toBe(true)
      const read = await s.call("read_output", { name: "repl" })
      expect(textOf(read)).toMatch(/>>> print\(6\*7\)\n42\n>>> /)
      const screen = await s.call("read_output", { name: "repl", screen: true })
      expect((screen.structuredContent as { screen: Array<string> }).screen).toEqual([
        ">>> print(6*7)",
        "42",
        ">>>"
      ])
      expect(textOf(screen)).toBe(">>> print(6*7)\n42\n>>>")
      await s.structured("send_input", { name: "repl", data: "import shutil; shutil.get_terminal_size()\r", cols: 100 })
      expect(
        (await s.structured<Waited>("wait_for_task", { name: "repl", pattern: "columns=100, lines=24", since: 0 }))
          .matched
      ).toBe(true)
      const info = await s.structured<{ terminal: unknown; logFile: string }>("get_task", { name: "repl" })
      expect(info.terminal).toEqual({ cols: 100, rows: 24 })
      // A resize alone says what it did, not "Wrote 0 bytes".
      expect(textOf(await s.call("send_input", { name: "repl", data: "", rows: 30 }))).toBe(
        "Resized the terminal (30 rows) of \"repl\"."
      )
      await s.structured("send_input", { name: "repl", data: "", eof: true })
      const ended = await s.structured<{ status: string }>("wait_for_task", { name: "repl", timeoutMs: 10_000 })
      expect(ended.status).toBe("exited")
      expect(readFileSync(info.logFile, "utf8")).toContain(">>> print(6*7)\r\n42\r\n")
      await until(() => notes.find((n) => n.name === "repl"))
    }))

  it("a wait for the prompt after typing waits for the next prompt, not the one it was shown", () =>
    withServer(async (s) => {
      const started = await s.structured<Waited>("start_task", {
        command: "python3",
        args: ["-i", "-q"],
        name: "prompt",
        terminal: true,
        waitFor: { pattern: ">>> " }
      })
      expect(started.line?.partial).toBe(true)
      await s.structured("send_input", { name: "prompt", data: "import time; time.sleep(1); print('done')\r" })
      // The echo completes the prompt shown above (">>> import time; ..."): that line is no new prompt.
      const next = await s.structured<Waited & { lastLines: Array<string> }>("wait_for_task", {
        name: "prompt",
        pattern: ">>> "
      })
      expect(next.line?.text).toBe(">>> ")
      expect(next.lastLines).toContain("done")
      // And the one after: the answer above showed the lines before its prompt (">>> import time; ...").
      await s.structured("send_input", { name: "prompt", data: "time.sleep(1.5); print('again')\r" })
      const third = await s.structured<Waited & { lastLines: Array<string> }>("wait_for_task", {
        name: "prompt",
        pattern: ">>> "
      })
      expect([third.line?.text, third.lastLines.at(-2)]).toEqual([">>> ", "again"])
      expect(third.elapsedMs).toBeGreaterThan(1_000)
      // At its prompt, waiting for input: said so, rather than that an earlier prompt line matched.
      const idle = await s.structured<Waited>("wait_for_task", { name: "prompt", pattern: ">>> ", timeoutMs: 300 })
      expect(idle.hint).toBe(
        "Its last line has no newline: it may be waiting for input at a prompt (\">>> \", shown before this call); " +
          "send_input answers it."
      )
      // So after a restart: the last run's prompt, ended by the run's end, is no new one either.
      await s.structured("restart_task", { name: "prompt" })
      const again = await s.structured<Waited>("wait_for_task", { name: "prompt", pattern: ">>> " })
      expect([again.matched, again.line?.partial]).toEqual([true, true])
      // The new run's prompt, the last line, after the last run's (a page's first line carries its seq).
      const tail = (await s.structured<{ lines: Array<Line> }>("read_output", { name: "prompt", tail: 1 })).lines
      expect(tail.map((l) => [l.text, l.partial === true])).toEqual([[">>> ", false], [">>> ", true]])
      expect(again.line?.seq).toBe(tail[0]!.seq + 1)
      await s.structured("stop_task", { name: "prompt" })
    }))

  it("a line edited as a person edits it reads as it ran: readline's moves, a wide character, a shell's wrapped command", () =>
    withServer(async (s) => {
      const prompt = { pattern: "^>>> $", timeoutMs: 10_000 }
      await s.structured("start_task", {
        command: "python3",
        args: ["-i", "-q"],
        name: "edit",
        terminal: true,
        cols: 80,
        waitFor: prompt
      })
      // print(1), then 8 left and 7 right (the arrow keys), then "+0": Python runs print(1+0).
      const keys = "print(1)" + "\u001b[D".repeat(8) + "\u001b[C".repeat(7) + "+0\r"
      await s.structured("send_input", { name: "edit", data: keys })
      expect((await s.structured<Waited>("wait_for_task", { name: "edit", ...prompt })).matched).toBe(true)
      // A backspace (DEL, as a terminal sends it) over a double-width character.
      await s.structured("send_input", { name: "edit", data: "print(\"中文\u007f字\")\r" })
      expect((await s.structured<Waited>("wait_for_task", { name: "edit", ...prompt })).matched).toBe(true)
      expect((await linesOf(s, "edit")).map((l) => l.text)).toEqual(
        expect.arrayContaining([">>> print(1+0)", "1", ">>> print(\"中字\")", "中字"])
      )
      // bash at 40 columns: its line editor wraps a longer command with a return at each row's start.
      await s.structured("start_task", {
        command: "bash",
        args: ["--norc", "--noprofile", "-i"],
        env: { PS1: "$ " },
        name: "shell",
        terminal: true,
        cols: 40,
        waitFor: { pattern: "^\\$ $", timeoutMs: 10_000 }
      })
      const words = "aaaa bbbb cccc dddd eeee ffff gggg hhhh iiii jjjj kkkk llll END"
      await s.structured("send_input", { name: "shell", data: `echo ${words}\r` })
      expect((await s.structured<Waited>("wait_for_task", { name: "shell", pattern: `^${words}$` })).matched).toBe(true)
      expect((await linesOf(s, "shell")).map((l) => l.text)).toContain(`$ echo ${words}`)
      await s.structured("stop_task", { name: "edit" })
      await s.structured("stop_task", { name: "shell" })
    }))

  it("a resize leaves the lines printed before it as they read: an edited, wrapped command line stays what ran", () =>
    withServer(async (s) => {
      const prompt = { pattern: "^\\$ $", timeoutMs: 10_000 }
      await s.structured("start_task", {
        command: "bash",
        args: ["--norc", "--noprofile", "-i"],
        env: { PS1: "$ ", HISTFILE: "/dev/null" },
        name: "narrow",
        terminal: true,
        cols: 60,
        waitFor: prompt
      })
      // A command two rows long at 60 columns, then edited from history: up, to its start, five right, a Z.
      await s.structured("send_input", { name: "narrow", data: `echo ${"x".repeat(100)} end\r` })
      await s.structured("wait_for_task", { name: "narrow", ...prompt })
      await s.structured("send_input", { name: "narrow", data: "\u001b[A\u0001" + "\u001b[C".repeat(5) + "Z\r" })
      await s.structured("wait_for_task", { name: "narrow", pattern: "^Zx+ end$", timeoutMs: 10_000 })
      await s.structured("wait_for_task", { name: "narrow", ...prompt })
      const before = (await linesOf(s, "narrow")).map((l) => l.text)
      expect(before).toContain(`$ echo Z${"x".repeat(100)} end`)
      for (const cols of [100, 30]) {
        await s.structured("send_input", { name: "narrow", data: "", cols })
        const after = (await linesOf(s, "narrow")).map((l) => l.text)
        expect(after.slice(0, before.length - 1), `at ${cols} columns`).toEqual(before.slice(0, -1))
      }
      await s.structured("stop_task", { name: "narrow" })
    }))

  it("says where the cursor is on a screen when typing would not land at its text's end, wide characters counted as two cells", () =>
    withServer(async (s) => {
      // A line editor after three presses of Left over CJK: the cursor stands mid-line, at a cell column.
      await s.structured("start_task", {
        command: "python3",
        args: [
          "-c",
          "import sys, time; sys.stdout.write('> 日本語日本語日本語\\x1b[4D'); sys.stdout.flush(); time.sleep(60)"
        ],
        name: "cjk",
        terminal: true,
        waitFor: { pattern: "日本語$" }
      })
      const screen = await s.call("read_output", { name: "cjk", screen: true })
      expect(screen.structuredContent).toMatchObject({ cursor: { row: 0, col: 16 } })
      expect(textOf(screen)).toBe("> 日本語日本語日本語\n(the cursor is at row 1, column 17)")
      await s.structured("stop_task", { name: "cjk" })
    }))

  it("a wait after typing answers what follows the keys, though no answer showed the prompt typed at", () =>
    withServer(async (s) => {
      await s.structured("start_task", { command: "python3", args: ["-i", "-q"], name: "typed", terminal: true })
      // Its prompt comes; nothing has shown it (a look at the screen shows no lines).
      await until(async () => {
        const { screen } = await s.structured<{ screen: Array<string> }>("read_output", { name: "typed", screen: true })
        return screen.at(-1) === ">>>" ? true : undefined
      })
      await s.structured("send_input", { name: "typed", data: "import time; time.sleep(1); print('slept')\r" })
      // Not the prompt just typed at, completed by the echo: the next one, after the second.
      const next = await s.structured<Waited & { lastLines: Array<string> }>("wait_for_task", {
        name: "typed",
        pattern: ">>> "
      })
      expect(next.line?.text).toBe(">>> ")
      expect(next.lastLines).toContain("slept")
      expect(next.elapsedMs).toBeGreaterThan(800)
      await s.structured("stop_task", { name: "typed" })
    }))

  it("an interactive shell, which ignores SIGTERM, is stopped as a closed terminal window stops it: at once, by SIGHUP", () =>
    withServer(async (s) => {
      const started = await s.structured<{ pid: number }>("start_task", {
        command: "bash",
        args: ["--norc", "-i"],
        name: "shell",
        terminal: true
      })
      await until(async () => {
        const { screen } = await s.structured<{ screen: Array<string> }>("read_output", { name: "shell", screen: true })
        return screen.some((row) => /[$#] ?$/.test(row)) ? true : undefined
      })
      // A server the person runs in it, whose SIGTERM handler cleans up: it gets its SIGTERM, not the
      // shell's hang-up first.
      const marker = NodePath.join(mkdtempSync(NodePath.join(os.tmpdir(), "taskmux-graceful-")), "cleaned")
      const graceful = `import signal, sys, time
def stop(*_):
    time.sleep(0.3); open(${JSON.stringify(marker)}, "w").write("cleaned up"); sys.exit(0)
signal.signal(signal.SIGTERM, stop)
print("serving", flush=True)
time.sleep(60)`
      await s.structured("send_input", { name: "shell", data: `python3 -c '${graceful}'\r` })
      await s.structured("wait_for_task", { name: "shell", pattern: "^serving$" })
      const t0 = Date.now()
      const stopped = await s.structured<{ status: string; signal: string | null }>("stop_task", { name: "shell" })
      // Not the grace's SIGKILL, 5 s later.
      expect(Date.now() - t0).toBeLessThan(3_000)
      expect(stopped).toMatchObject({ status: "stopped", signal: "SIGHUP" })
      expect(isAlive(started.pid)).toBe(false)
      expect(readFileSync(marker, "utf8")).toBe("cleaned up")
    }))

  it("a program's cursor query is answered as a terminal answers it (prompt_toolkit's REPLs wait a second for it)", () =>
    withServer(async (s) => {
      // What prompt_toolkit does after each prompt: raw mode, ESC [ 6 n, then a read of ESC [ row ; col R.
      const asks = [
        "import os, select, sys, termios, time, tty",
        "fd = sys.stdin.fileno(); old = termios.tcgetattr(fd); tty.setraw(fd)",
        "sys.stdout.write('\\r\\n\\r\\nabc\\x1b[6n'); sys.stdout.flush(); t0 = time.time()",
        "ready = select.select([fd], [], [], 3)[0]",
        "reply = os.read(fd, 32) if ready else b'none'",
        "termios.tcsetattr(fd, termios.TCSADRAIN, old)",
        "print('\\nreply', repr(reply), 'fast' if time.time() - t0 < 1 else 'slow')"
      ].join("\n")
      const asked = await s.structured<Waited & { lastLines: Array<string> }>("start_task", {
        command: "python3",
        args: ["-c", asks],
        name: "cpr",
        terminal: true,
        waitFor: { exit: true, timeoutMs: 10_000 }
      })
      // Row 3, after "abc": 1-based, as a terminal counts.
      expect(asked.lastLines.at(-1)).toBe("reply b'\\x1b[3;4R' fast")
    }))

  it("an arrow key reaches a curses menu in keypad mode as a terminal sends it (dialog, htop: ESC [ B would be Esc)", () =>
    withServer(async (s) => {
      // What dialog, htop or mc do: curses with keypad(), which switches the cursor keys to application mode
      // (ESC [ ? 1 h) and knows only the keys terminfo names for it (ESC O B for Down on xterm).
      const menu = [
        "import curses",
        "def main(w):",
        "    w.keypad(True)",
        "    items, at = ['apple', 'banana', 'cherry'], 0",
        "    while True:",
        "        for i, item in enumerate(items):",
        "            w.addstr(i, 0, ('> ' if i == at else '  ') + item)",
        "        w.refresh()",
        "        key = w.getch()",
        "        if key == curses.KEY_DOWN: at = min(at + 1, 2)",
        "        elif key == curses.KEY_UP: at = max(at - 1, 0)",
        "        elif key in (10, 13): return items[at]",
        "        else: return 'cancelled by ' + repr(key)",
        "print('chose', curses.wrapper(main))"
      ].join("\n")
      await s.structured("start_task", {
        command: "python3",
        args: ["-c", menu],
        name: "menu",
        terminal: true,
        waitFor: { pattern: "cherry", timeoutMs: 10_000 }
      })
      // Down twice, Up once, as the README writes the keys.
      for (const key of ["\u001b[B", "\u001b[B", "\u001b[A"]) {
        await s.structured("send_input", { name: "menu", data: key })
      }
      await s.structured("send_input", { name: "menu", data: "\r" })
      const ended = await s.structured<Waited & { exitCode: number; lastLines: Array<string> }>("wait_for_task", {
        name: "menu",
        exit: true,
        timeoutMs: 10_000
      })
      expect(ended.exitCode).toBe(0)
      expect(ended.lastLines.at(-1)).toBe("chose banana")
    }))

  it("a task's characters are UTF-8 where the environment names no locale, on a terminal and on pipes; eof after text ends the input", () =>
    withServer(async (s) => {
      // The server's environment, as a client gives it, names no locale: bash would count é's two bytes.
      const counted = await s.structured<Waited & { lastLines: Array<string> }>("start_task", {
        command: `x='é'; echo "$LC_CTYPE \${#x}"`,
        name: "counted",
        terminal: true,
        waitFor: { exit: true }
      })
      expect(counted.lastLines).toEqual(["C.UTF-8 1"])
      // On pipes the same: a command line answers alike in both (dash's ${#x} counts bytes alike).
      const piped = await s.structured<Waited & { lastLines: Array<string> }>("start_task", {
        command: "bash",
        name: "piped",
        args: ["-c", `x='日本語'; echo "$LC_CTYPE \${#x}"; printf 'ÉCOLE\\n' | grep -ci école`],
        waitFor: { exit: true }
      })
      expect(piped.lastLines).toEqual(["C.UTF-8 3", "1"])
      // get_task shows what each run got, the terminal's TERM too (not the client's).
      const env = async (name: string) =>
        (await s.structured<{ envValues: Record<string, string> }>("get_task", { name, envValues: true })).envValues
      expect(await env("piped")).toMatchObject({ LC_CTYPE: "C.UTF-8" })
      expect(await env("counted")).toMatchObject({ LC_CTYPE: "C.UTF-8", TERM: "xterm-256color" })
      // cat reads its terminal line by line: a Ctrl-D after "abc" hands it "abc"; a second ends its input.
      await s.structured("start_task", { command: "cat", name: "cat", terminal: true })
      await s.structured("send_input", { name: "cat", data: "abc", eof: true })
      const ended = await s.structured<Waited & { status: string }>("wait_for_task", {
        name: "cat",
        exit: true,
        timeoutMs: 10_000
      })
      expect(ended.status).toBe("exited")
    }))

  it("a screen cleared by printing newlines, as Vite does on a terminal, reads as one line that says so", () =>
    withServer(async (s) => {
      // Vite's clearScreen: rows - 2 newlines, then the cursor home and the screen below it erased.
      const vite =
        "import sys\nsys.stdout.write('\\n' * 38 + '\\x1b[1;1H\\x1b[0J  VITE v8 ready\\n')\nsys.stdout.flush()"
      await s.structured("start_task", {
        command: "python3",
        args: ["-c", vite],
        name: "vite",
        terminal: true,
        waitFor: { exit: true }
      })
      const read = await s.call("read_output", { name: "vite" })
      expect(textOf(read)).toMatch(/^\(3[78] blank lines\)\n {2}VITE v8 ready\n\[nextCursor \d+/)
      // The lines themselves are all there, and raw text shows them as they are.
      expect((read.structuredContent as { lines: Array<Line> }).lines.length).toBeGreaterThanOrEqual(39)
      expect(textOf(await s.call("read_output", { name: "vite", raw: true }))).not.toContain("blank lines")
    }))

  it("a screen read that also picks lines (tail, since, grep) is refused, not answered as if they were not there", () =>
    withServer(async (s) => {
      await s.structured("start_task", { command: "cat", name: "screen", terminal: true })
      const refused = await s.call("read_output", { name: "screen", screen: true, tail: 5, grep: "x" })
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toBe(
        "Invalid arguments for read_output: screen: true answers the whole screen as it is now; tail, grep pick " +
          "lines: give screen alone, or leave it out to read lines"
      )
      expect((await s.call("read_output", { name: "screen", screen: true })).isError).toBeFalsy()
    }))

  it("cols and rows without terminal are refused, naming what would be right", () =>
    withServer(async (s) => {
      const result = await s.call("start_task", { command: "true", cols: 100 })
      expect(result.isError).toBe(true)
      expect(textOf(result)).toMatch(/cols and rows size a terminal: pass them with terminal: true/)
      const screen = await s.call("start_task", { command: "sleep 30", name: "piped" })
      expect(screen.isError).toBeFalsy()
      const read = await s.call("read_output", { name: "piped", screen: true })
      expect(read.isError).toBe(true)
      expect(textOf(read)).toMatch(/"piped" runs on pipes, not on a terminal.*terminal: true/)
    }))
})

describe("no orphans with terminal tasks", () => {
  /** A stubborn tree, a plain one, and an interactive shell with a stubborn job in a group of its own. */
  const startTerminalTrees = async (s: Connected) => {
    await s.structured("start_task", { command: fixture("ignore-term-hup.sh"), name: "a", terminal: true })
    await s.structured("start_task", { command: fixture("tree.sh"), name: "b", terminal: true })
    await s.structured("start_task", {
      command: "bash",
      args: ["--norc", "--noprofile", "-i"],
      name: "shell",
      terminal: true,
      waitFor: { pattern: "[$#] $" }
    })
    // The job ignores the SIGHUP a dying shell forwards to its jobs: only a sweep of the session reaches it.
    await s.structured("send_input", {
      name: "shell",
      data: "sh -c 'trap \"\" TERM HUP; while :; do sleep 1; done' & echo pid $!\r"
    })
    const pids = [...await pidsOf(s, "a", 3), ...await pidsOf(s, "b", 4), ...await pidsOf(s, "shell", 1)]
    expect(pids.filter(isAlive)).toHaveLength(8)
    return pids
  }

  it("SIGTERM of the server ends every terminal task's tree, and it exits within 2 s", async () => {
    const s = await connect()
    const pids = await startTerminalTrees(s)
    const t0 = Date.now()
    process.kill(s.pid, "SIGTERM")
    await until(() => (isAlive(s.pid) ? undefined : true))
    expect(Date.now() - t0).toBeLessThan(2_000)
    expect(pids.filter(isAlive)).toEqual([])
  })

  it("SIGKILL of the server: the watchdog ends every terminal task's tree and session", async () => {
    const s = await connect()
    const pids = await startTerminalTrees(s)
    process.kill(s.pid, "SIGKILL")
    await until(() => (pids.some(isAlive) ? undefined : true), 5_000)
    expect(pids.filter(isAlive)).toEqual([])
    await s.client.close().catch(() => {})
  })
})
