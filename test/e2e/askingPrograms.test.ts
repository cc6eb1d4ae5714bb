/**
 * Programs that want a person, or a real terminal, on the other end: a question on stdin, a terminal's
 * answer to what a program asks it, a pager, a password asked on /dev/tty. The assistant learns at once
 * what waits and what to do, not at a wait's timeout (five minutes for an end).
 */
import { spawnSync } from "node:child_process"
import { describe, expect, it } from "vitest"
import { textOf, withServer } from "./client.ts"

interface Waited {
  readonly status: string
  readonly matched?: boolean
  readonly timedOut?: boolean
  readonly exitCode?: number | null
  readonly hint?: string
}

const hasLess = spawnSync("sh", ["-c", "command -v less"]).status === 0

describe("programs that ask", () => {
  it(
    "a question on stdin ends an end's wait within seconds, saying how to answer it; a slow command's partial line does not",
    {
      timeout: 60_000
    },
    () =>
      withServer(async (s) => {
        const t0 = performance.now()
        const asked = await s.structured<Waited>("start_task", {
          command: "python3 -c \"import sys; print('ok' if input('Remove it? [y/N] ') == 'y' else 'kept')\"",
          name: "ask",
          waitFor: { exit: true, timeoutMs: 60_000 }
        })
        // Answered at the prompt, not at the timeout.
        expect(performance.now() - t0).toBeLessThan(30_000)
        expect(asked).toMatchObject({ status: "running", matched: false, timedOut: false })
        expect(asked.hint).toMatch(/It waits for input at a prompt \("Remove it\? \[y\/N\] "\).*send_input answers it/)
        expect(asked.hint).toMatch(/-y, --yes/)
        const answered = await s.structured<Waited>("send_input", { name: "ask", data: "y\n" })
        expect(answered).toBeDefined()
        const ended = await s.structured<Waited>("wait_for_task", { name: "ask", exit: true, timeoutMs: 10_000 })
        expect(ended).toMatchObject({ status: "exited", exitCode: 0 })
        // Quiet after a partial line, but reading nothing: it is not at a prompt, and its end is the answer.
        const slow = await s.structured<Waited>("start_task", {
          command: "printf 'compiling... '; sleep 4; echo done",
          waitFor: { exit: true, timeoutMs: 60_000 }
        })
        expect(slow).toMatchObject({ status: "exited", exitCode: 0 })
      })
  )

  it(
    "a wait for the end given neither pattern nor exit (wait_for_task { name }) answers at a prompt too, not at its timeout",
    { timeout: 60_000 },
    () =>
      withServer(async (s) => {
        await s.structured("start_task", {
          command: "python3 -c \"input('Proceed? [y/N] ')\"",
          name: "asks"
        })
        const t0 = performance.now()
        const waited = await s.structured<Waited>("wait_for_task", { name: "asks", timeoutMs: 30_000 })
        expect(performance.now() - t0).toBeLessThan(15_000)
        expect(waited).toMatchObject({ status: "running", matched: false, timedOut: false })
        expect(waited.hint).toMatch(/It waits for input at a prompt \("Proceed\? \[y\/N\] "\)/)
      })
  )

  it(
    "a prompt read through select or poll (GNU readline's: bash -i, python3's REPL) is seen to wait, as a read(2) is",
    { timeout: 60_000 },
    () =>
      withServer(async (s) => {
        for (
          const [name, start, prompt] of [
            ["shell", { command: "bash", args: ["--norc", "-i"], env: { PS1: "$ " } }, "$ "],
            ["repl", { command: "python3" }, ">>> "]
          ] as const
        ) {
          const t0 = performance.now()
          const waited = await s.structured<Waited>("start_task", {
            ...start,
            name,
            terminal: true,
            waitFor: { exit: true, timeoutMs: 30_000 }
          })
          expect(performance.now() - t0).toBeLessThan(15_000)
          expect(waited).toMatchObject({ status: "running", timedOut: false })
          // A REPL's prompt waits for a command, which its own quit or Ctrl-D ends, not Ctrl-C.
          expect(waited.hint).toContain(`It waits for a command at its prompt (${JSON.stringify(prompt)})`)
          expect(waited.hint).toMatch(/eof: true/)
          expect(waited.hint).not.toMatch(/Ctrl-C|--yes/)
        }
        // A full screen that polls for keys: no line of its drawing is quoted as a prompt.
        const polls = "import os, select, tty\n" +
          "tty.setraw(0)\n" +
          "os.write(1, b'\\x1b[?1049h\\x1b[H~\\r\\n~\\r\\n\\x1b[7m -- MENU -- \\x1b[m')\n" +
          "p = select.poll()\n" +
          "p.register(0, select.POLLIN)\n" +
          "while not p.poll(): pass\n"
        const menu = await s.structured<Waited>("start_task", {
          command: "python3",
          args: ["-c", polls],
          name: "menu",
          terminal: true,
          waitFor: { exit: true, timeoutMs: 30_000 }
        })
        expect(menu).toMatchObject({ status: "running", timedOut: false })
        expect(menu.hint).toMatch(/^It waits for keys.*send_input types them.*It shows a full screen/)
        expect(menu.hint).not.toContain("MENU")
        // One that polls with a timeout does something between looks (top redraws): no prompt, its wait runs on.
        const ticks = "import select, sys\n" +
          "sys.stdout.write('tick> '); sys.stdout.flush()\n" +
          "p = select.poll()\n" +
          "p.register(0, select.POLLIN)\n" +
          "while not p.poll(500): pass\n"
        const ticking = await s.structured<Waited>("start_task", {
          command: "python3",
          args: ["-c", ticks],
          name: "ticks",
          terminal: true,
          waitFor: { exit: true, timeoutMs: 4_000 }
        })
        expect(ticking).toMatchObject({ status: "running", timedOut: true })
      })
  )

  it(
    "a password prompt on a terminal says to ask the user to type it, not for the secret",
    { timeout: 60_000 },
    () =>
      withServer(async (s) => {
        const asked = await s.structured<Waited>("start_task", {
          command: "python3 -c \"import getpass; getpass.getpass('Password for deploy: ')\"",
          name: "secret",
          terminal: true,
          waitFor: { exit: true, timeoutMs: 60_000 }
        })
        expect(asked).toMatchObject({ status: "running", timedOut: false })
        expect(asked.hint).toMatch(/Password for deploy: .*It asks for a secret: ask the user to type it themselves/)
      })
  )

  it(
    "a terminal answers a program's device-attributes query, as programs that wait for it need (fish, crossterm, notcurses)",
    {
      timeout: 60_000
    },
    () =>
      withServer(async (s) => {
        const asks = "import os, sys, tty\n" +
          "tty.setraw(0)\n" +
          "os.write(1, b'\\x1b[c')\n" +
          "reply = os.read(0, 64)\n" +
          "os.write(1, b'\\r\\nDA1 ' + reply.replace(b'\\x1b', b'ESC') + b'\\r\\n')\n"
        const started = await s.structured<Waited>("start_task", {
          command: "python3",
          args: ["-c", asks],
          name: "da1",
          terminal: true,
          waitFor: { pattern: "^DA1 ESC\\[\\?[0-9;]+c$", timeoutMs: 20_000 }
        })
        expect(started).toMatchObject({ matched: true })
      })
  )

  it.skipIf(!hasLess)("a pager on a terminal is said to be one: q quits it, and how to run without one", {
    timeout: 60_000
  }, async () =>
    withServer(async (s) => {
      await s.structured("start_task", { command: "seq 1 500 | less", name: "paged", terminal: true })
      const waited = await s.structured<Waited>("wait_for_task", {
        name: "paged",
        pattern: "never printed",
        timeoutMs: 3_000
      })
      expect(waited.hint).toMatch(/It shows a pager \(":"\).*send_input "q" quits it.*GIT_PAGER=cat/)
      await s.structured("send_input", { name: "paged", data: "q" })
      const ended = await s.structured<Waited>("wait_for_task", { name: "paged", exit: true, timeoutMs: 10_000 })
      expect(ended.status).toBe("exited")
    }))

  it(
    "a full-screen program on a terminal (an editor, a menu) is said to be one, with the screen to read and how to leave it",
    {
      timeout: 60_000
    },
    () =>
      withServer(async (s) => {
        const editor = "import os, sys, tty\n" +
          "tty.setraw(0)\n" +
          "os.write(1, b'\\x1b[?1049h\\x1b[H~\\r\\n~\\r\\n~\\r\\n\\x1b[7m -- INSERT -- \\x1b[m')\n" +
          "while os.read(0, 1) != b'q': pass\n" +
          "os.write(1, b'\\x1b[?1049l')\n"
        await s.structured("start_task", { command: "python3", args: ["-c", editor], name: "editor", terminal: true })
        const waited = await s.structured<Waited>("wait_for_task", {
          name: "editor",
          pattern: "never",
          timeoutMs: 2_000
        })
        expect(waited.hint).toMatch(/It shows a full screen .*read_output \{ screen: true \}/)
        // A read of its lines says so too: they are what it drew, not what a person sees.
        const read = await s.call("read_output", { name: "editor" })
        expect(read.structuredContent).toMatchObject({ fullScreen: true })
        expect(textOf(read)).toMatch(
          /it shows a full screen \(an editor, a pager, a menu\): read_output \{ screen: true \}/
        )
        await s.structured("send_input", { name: "editor", data: "q" })
        const ended = await s.structured<Waited>("wait_for_task", { name: "editor", exit: true, timeoutMs: 10_000 })
        expect(ended.status).toBe("exited")
        expect((await s.call("read_output", { name: "editor" })).structuredContent).not.toHaveProperty("fullScreen")
      })
  )

  it(
    "a program on pipes that wanted to ask a person on /dev/tty is told to use a way that asks nothing, or a terminal",
    {
      timeout: 60_000
    },
    () =>
      withServer(async (s) => {
        const ended = await s.call("start_task", {
          command: "read -r password < /dev/tty",
          waitFor: { exit: true }
        })
        expect(textOf(ended)).toMatch(/\/dev\/tty: No such device or address/)
        expect((ended.structuredContent as { hint?: string }).hint).toMatch(
          /wanted to ask a person on a terminal.*a way that asks nothing.*terminal: true/
        )
      })
  )
})
