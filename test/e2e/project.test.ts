/**
 * Issue 17 over real stdio: a project's task file in a temporary directory, read by the built
 * server. A three-task chain started with one call; a failing dependency; dependents stopped on
 * request; a cycle, a bad file, a Procfile; a file changed between two starts; the start policy.
 */
import type { CallToolResult } from "@modelcontextprotocol/sdk/types.js"
import { mkdirSync, readFileSync, readlinkSync, realpathSync, renameSync, writeFileSync } from "node:fs"
import * as NodePath from "node:path"
import { describe, expect, it } from "vitest"
import { isAlive } from "../helpers.ts"
import { type Connected, freePort, tempDir, textOf, until, withServer } from "./client.ts"

const project = (files: Record<string, string>) => tempDir(files, "taskmux-project-")

const withProject = (dir: string, body: (s: Connected) => Promise<void>, env: Record<string, string> = {}) =>
  withServer(body, { TASKMUX_PROJECT: dir, ...env })

interface Listed {
  readonly tasks: Array<{ name: string; status: string; pid: number | null; command: string }>
  readonly projectError?: string
}

const stack = (port: number) =>
  `# A database, an API that needs it, a front end that needs the API.
tasks:
  db:
    command: node -e "require('net').createServer().listen(${port}, '127.0.0.1')"
    waitFor: { port: ${port} }
  api:
    command: sleep 0.3; echo "api listening on 4000"; sleep 60
    cwd: services
    dependsOn: { db: ready }
    waitFor: { pattern: "listening on", timeoutMs: 10000 }
  web:
    command: echo "web up in $(basename "$PWD")"; sleep 60
    terminal: true
    dependsOn: { api: ready }
  seed:
    command: echo "seeding"; echo "relation users does not exist" >&2; exit 3
  app:
    command: sleep 60
    env: { NODE_OPTIONS: --require ./trace.js }
    dependsOn: { seed: succeeded, db: started }
`

/** The stack above in a project directory of its own, with the api's `services` directory. */
const stackProject = async () => {
  const dir = project({ "taskmux.yaml": stack(await freePort()) })
  mkdirSync(NodePath.join(dir, "services"))
  return dir
}

describe("project tasks", () => {
  it("a task whose directory was replaced under it (a new checkout at its path) is not taken for the run asked for", async () => {
    const dir = project({ "taskmux.yaml": "tasks:\n  dev:\n    command: sleep 60\n    cwd: app\n" })
    const app = NodePath.join(dir, "app")
    mkdirSync(app)
    await withProject(dir, async (s) => {
      await s.structured("start_task", { name: "dev" })
      renameSync(app, `${app}-old`)
      mkdirSync(app)
      const again = await s.call("start_task", { name: "dev" })
      expect(again.isError).toBe(true)
      expect(textOf(again)).toContain(
        "in the directory that was at that path when it started, since removed or replaced (a new checkout there is " +
          "not what it runs)"
      )
      // A restart runs it in the directory there now.
      const { pid } = await s.structured<{ pid: number }>("restart_task", { name: "dev" })
      expect(readlinkSync(`/proc/${pid}/cwd`)).toBe(realpathSync(app))
      await s.call("stop_task", { name: "dev" })
    })
  })

  it("a project directory moved while the server runs is said in projectError, not taken for one with no file", async () => {
    const dir = project({ "taskmux.yaml": "tasks:\n  dev:\n    command: sleep 60\n" })
    await withProject(dir, async (s) => {
      expect((await s.structured<Listed>("list_tasks")).tasks.map((t) => t.status)).toEqual(["defined"])
      renameSync(dir, `${dir}-moved`)
      const listed = await s.structured<Listed>("list_tasks")
      expect(listed.projectError).toMatch(/the project directory (was moved to .*-moved|no longer exists)/)
    })
  })

  it("lists what the project offers, starts a chain in one call, in order, each waited for", async () => {
    const dir = await stackProject()
    await withProject(dir, async (s) => {
      const listed = await s.structured<Listed>("list_tasks")
      expect(listed.tasks.map((t) => [t.name, t.status])).toEqual([
        ["db", "defined"],
        ["api", "defined"],
        ["web", "defined"],
        ["seed", "defined"],
        ["app", "defined"]
      ])
      expect(textOf(await s.call("list_tasks"))).toMatch(
        /^db\tdefined \(project task; start_task \{ name \}\)\tnode -e/
      )
      // An unknown name is told the names there are, defined ones too.
      expect(textOf(await s.call("get_task", { name: "nope" }))).toBe(
        "No task named \"nope\". Known tasks: db, api, web, seed, app."
      )
      // A name list_tasks shows as defined is not unknown to the other tools: they say how to run it.
      const notRun = await s.call("stop_task", { name: "seed" })
      expect([notRun.isError, textOf(notRun)]).toEqual([
        true,
        "Task \"seed\" is a project task that has not run yet, or not since it was removed (list_tasks shows it as " +
        "defined): " +
        "start_task { name: \"seed\" } runs it after its dependencies. Its file gives: " +
        `${JSON.stringify("echo \"seeding\"; echo \"relation users does not exist\" >&2; exit 3")} in ${
          realpathSync(dir)
        }.`
      ])
      // The answer says which error it is beside its words, for a client (the CLI) to act on.
      expect(notRun._meta).toEqual({ "taskmux/error": "ProjectTaskNotRun" })
      expect((await s.call("get_task", { name: "nope" }))._meta).toEqual({ "taskmux/error": "TaskNotFound" })
      // What a start would run, before it runs: the environment and the needs a file adds too (a cloned
      // repository's NODE_OPTIONS), not only the command list_tasks shows.
      expect(textOf(await s.call("get_task", { name: "app" }))).toMatch(
        /Its file gives: "sleep 60" in .*, env NODE_OPTIONS=--require \.\/trace\.js, after seed \(succeeded\), db \(started\)\.$/
      )
      const progress: Array<string> = []
      const result = await s.client.callTool({ name: "start_task", arguments: { name: "web" } }, undefined, {
        onprogress: (p) => void progress.push(p.message ?? "")
      }) as CallToolResult
      expect(result.isError, textOf(result)).toBeFalsy()
      // Progress says what the chain waits for, from its first moment.
      expect(progress.filter((m) => m.startsWith("waiting for"))).toEqual([
        "waiting for \"db\" to become ready",
        "waiting for \"api\" to become ready"
      ])
      const started = result.structuredContent as {
        name: string
        status: string
        tasks: Array<{ name: string; status: string }>
      }
      expect(started.tasks.map((t) => [t.name, t.status])).toEqual([["db", "running"], ["api", "running"], [
        "web",
        "running"
      ]])
      expect(textOf(result)).toMatch(
        /^Project chain: db \(running, pid \d+\) → api \(running, pid \d+\) → web \(running, pid \d+\)\./
      )
      // Each after what it needs: the API started once the database listened, with its cwd from the file.
      const info = async (name: string) =>
        s.structured<{ startedAt: string; cwd: string; terminal: unknown }>("get_task", { name })
      const [db, api, web] = [await info("db"), await info("api"), await info("web")]
      expect(api.cwd).toBe(NodePath.join(dir, "services"))
      expect(Date.parse(api.startedAt)).toBeGreaterThanOrEqual(Date.parse(db.startedAt))
      expect(Date.parse(web.startedAt) - Date.parse(api.startedAt)).toBeGreaterThanOrEqual(250)
      expect(web.terminal).toEqual({ cols: 120, rows: 40 })
      // Starting it again is done already; nothing runs again. Another command under its name is refused.
      const again = await s.call("start_task", { name: "web" })
      expect(again.isError).toBeFalsy()
      expect(textOf(again)).toMatch(/^Task "web" \(pid \d+\) was already running as the project file says/)
      const taken = await s.call("start_task", { name: "web", command: "sleep 5" })
      expect(taken.isError).toBe(true)
      expect(textOf(taken)).toMatch(/^A task named "web" is already running \(pid \d+\)\. Stop it with stop_task/)
      const listed2 = await s.structured<Listed>("list_tasks")
      expect(listed2.tasks.filter((t) => t.status === "running").map((t) => t.pid).sort()).toEqual(
        (started.tasks as unknown as Array<{ pid: number }>).map((t) => t.pid).sort()
      )
    })
  })

  it("a chain through a dependency that must succeed: shown ended; a second start runs nothing again; a ready task's answer says it matched", async () => {
    const dir = project({
      "taskmux.yaml": `tasks:
  migrate:
    command: echo migrating >> runs.txt; echo migrated
  web:
    command: echo "web ready"; sleep 60
    dependsOn: { migrate: succeeded }
    waitFor: { pattern: "ready" }
  oops:
    command: echo "no such table" >&2; exit 3
`
    })
    await withProject(dir, async (s) => {
      const first = await s.call("start_task", { name: "web" })
      expect(first.isError, textOf(first)).toBeFalsy()
      expect(textOf(first)).toMatch(
        /^Project chain: migrate \(exited, pid \d+\) → web \(running, pid \d+\)\.\nStarted task "web" \(pid \d+\)\. "web" matched after [\d.]+ s: web ready/
      )
      // Started again: done already, as compose's up says; its answer is the run, ready by its file's waitFor.
      const again = await s.call("start_task", { name: "web" })
      expect(again.isError, textOf(again)).toBeFalsy()
      expect(again.structuredContent).toMatchObject({ already: true, matched: true, status: "running" })
      expect((again.structuredContent as { pid: number }).pid).toBe((first.structuredContent as { pid: number }).pid)
      expect(textOf(again)).toMatch(
        /^Task "web" \(pid \d+\) was already running as the project file says: nothing was started\. "web" matched after [\d.]+ s: web ready/
      )
      expect(readFileSync(NodePath.join(dir, "runs.txt"), "utf8")).toBe("migrating\n")
      // A project task that fails at once says so in its answer, as an ad-hoc start does ("at once" on a
      // loaded machine: this server's start looks 5 s for an immediate end, 100 ms by default).
      const oops = await s.call("start_task", { name: "oops" })
      expect(oops.structuredContent).toMatchObject({ status: "crashed", exitCode: 3 })
      expect(textOf(oops)).toMatch(/"oops" ended \(crashed, exit code 3\).*no such table/s)
    }, { TASKMUX_EARLY_END_MS: "5000" })
  })

  it("a dependency that runs is used as it runs: its own dependencies do not run again, and one that runs another command is refused at once", async () => {
    const dir = project({
      "taskmux.yaml": `tasks:
  migrate:
    command: echo migrating >> runs.txt
  api:
    command: echo "api up"; sleep 60
    dependsOn: { migrate: succeeded }
    waitFor: { pattern: "api up" }
  web:
    command: sleep 60
    dependsOn: { api: ready }
`
    })
    await withProject(dir, async (s) => {
      await s.structured("start_task", { name: "api" })
      await s.structured("start_task", { name: "web" })
      await s.structured("stop_task", { name: "web" })
      await s.structured("start_task", { name: "web" })
      // api met its need when it started: the migration ran once, not at each start of web.
      expect(readFileSync(NodePath.join(dir, "runs.txt"), "utf8")).toBe("migrating\n")
      await s.structured("stop_task", { name: "web" })
      await s.structured("remove_task", { name: "api" })
      // "api" taken by another command: it would never print the file's ready line.
      await s.structured("start_task", { name: "api", command: "sleep 60" })
      const t0 = Date.now()
      const refused = await s.call("start_task", { name: "web", waitFor: { pattern: "never", timeoutMs: 20_000 } })
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toBe(
        "\"web\" was not started: its dependency \"api\" runs \"sleep 60\", not the project file's " +
          "\"echo \\\"api up\\\"; sleep 60\". Stop that one (stop_task), or start it under another name, then start " +
          "\"web\" again."
      )
      expect(Date.now() - t0).toBeLessThan(5_000)
      const listed = await s.structured<Listed>("list_tasks")
      expect(listed.tasks.find((t) => t.name === "web")?.status).toBe("stopped")
    })
  })

  it("start_task { name } takes keep and waitFor (what its answer waits for), and names any other field it refuses", async () => {
    const dir = project({
      "taskmux.yaml": `tasks:
  worker:
    command: echo "booting"; sleep 0.3; echo "worker ready on queue jobs"; sleep 60
`
    })
    await withProject(dir, async (s) => {
      const refused = await s.call("start_task", { name: "worker", env: { A: "1" }, terminal: true })
      expect(refused.isError).toBe(true)
      expect(textOf(refused)).toMatch(
        /^Invalid arguments for start_task: env, terminal cannot be given without a command: a task started by its name alone .* only keep and waitFor go with it/
      )
      const started = await s.call("start_task", { name: "worker", waitFor: { pattern: "ready on queue (\\w+)" } })
      expect(started.isError, textOf(started)).toBeFalsy()
      expect(started.structuredContent).toMatchObject({ matched: true, line: { text: "worker ready on queue jobs" } })
    })
  })

  it("a dependency restarted is ready when its new run says so, not by its last run's line", async () => {
    const dir = project({
      "taskmux.yaml": `tasks:
  api:
    command: sleep 0.8; echo "api listening $(date +%s%N)"; sleep 60
    waitFor: { pattern: "listening" }
  web:
    command: sleep 60
    dependsOn: { api: ready }
`
    })
    await withProject(dir, async (s) => {
      const api = await s.call("start_task", { name: "api" })
      expect(textOf(api)).toMatch(/"api" matched/)
      await s.structured("restart_task", { name: "api" })
      const web = await s.call("start_task", { name: "web" })
      expect(web.isError, textOf(web)).toBeFalsy()
      // web started after api's second ready line, not at once on its first.
      const lines = (await s.structured<{ lines: Array<{ text: string }> }>("read_output", { name: "api", since: 0 }))
        .lines.filter((l) => l.text.startsWith("api listening"))
      expect(lines).toHaveLength(2)
      const webStarted = Date.parse((await s.structured<{ startedAt: string }>("get_task", { name: "web" })).startedAt)
      const secondReady = Number(BigInt(lines[1]!.text.split(" ")[2]!) / 1_000_000n)
      expect(webStarted).toBeGreaterThanOrEqual(secondReady - 5)
    })
  })

  it("two starts of the same project task at once (two assistants, one api): one runs it, the other answers with that run, ready", async () => {
    const dir = await stackProject()
    await withProject(dir, async (s) => {
      const [a, b] = await Promise.all([
        s.call("start_task", { name: "api" }),
        s.call("start_task", { name: "api" })
      ])
      expect([a.isError, b.isError], textOf(a) + textOf(b)).toEqual([undefined, undefined])
      const answers = [a.structuredContent, b.structuredContent] as Array<
        { already?: boolean; matched?: boolean; pid: number }
      >
      expect(answers.filter((x) => x.already === true)).toHaveLength(1)
      // Both when it is ready, both with its one run.
      expect(answers.map((x) => x.matched)).toEqual([true, true])
      expect(answers[0]!.pid).toBe(answers[1]!.pid)
    })
  })

  it("a second start of a chain under way uses the migration the first has just run, rather than running it again", async () => {
    const dir = project({
      "taskmux.yaml": `tasks:
  db:
    command: sleep 1.5; echo "db ready"; sleep 60
    waitFor: { pattern: "ready" }
  migrate:
    command: echo migrating >> runs.txt
  web:
    command: echo "web up"; sleep 60
    dependsOn: { db: ready, migrate: succeeded }
`
    })
    await withProject(dir, async (s) => {
      const first = s.call("start_task", { name: "web" })
      // The migration has run; the first chain still waits for the database.
      await new Promise((resolve) => setTimeout(resolve, 800))
      const second = await s.call("start_task", { name: "web" })
      const answers = [await first, second]
      for (const answer of answers) expect(answer.isError, textOf(answer)).toBeFalsy()
      expect(readFileSync(NodePath.join(dir, "runs.txt"), "utf8")).toBe("migrating\n")
      const pids = answers.map((answer) => (answer.structuredContent as { pid: number }).pid)
      expect(pids[0]).toBe(pids[1])
    })
  })

  it("a start while another chain is under way runs again a dependency of that chain that has crashed since", async () => {
    const dir = project({
      "taskmux.yaml": `tasks:
  db:
    command: echo "db ready"; sleep 1; exit 1
    waitFor: { pattern: "db ready" }
  web:
    command: sleep 60
    dependsOn: { db: ready }
    waitFor: { pattern: "never printed", timeoutMs: 30000 }
  api:
    command: sleep 60
    dependsOn: { db: ready }
`
    })
    await withProject(dir, async (s) => {
      // web's chain waits on for web; its db crashes meanwhile.
      const first = s.call("start_task", { name: "web" })
      await until(async () => {
        const { tasks } = await s.structured<Listed>("list_tasks")
        return tasks.find((t) => t.name === "db")?.status === "crashed" || undefined
      }, 15_000)
      const api = await s.call("start_task", { name: "api" })
      expect(api.isError, textOf(api)).toBeFalsy()
      expect(textOf(api)).toMatch(/^Project chain: db \(running, pid \d+\) → api \(running/)
      await s.call("stop_task", { name: "web" })
      await first
    })
  })

  it("stop_task { dependents: true } with the project file broken since says it could not know what needs the task", async () => {
    const dir = await stackProject()
    await withProject(dir, async (s) => {
      await s.structured("start_task", { name: "api" })
      writeFileSync(NodePath.join(dir, "taskmux.yaml"), "tasks:\n  db:\n    command: [\n")
      const stopped = await s.structured<{ hint?: string; dependents?: Array<string> }>("stop_task", {
        name: "db",
        dependents: true
      })
      expect(stopped.dependents).toEqual([])
      expect(stopped.hint).toMatch(/^The project file is not usable now \(.*\): what needs "db" could not be known\.$/)
      await s.structured("stop_task", { name: "api" })
    })
  })

  it("a chain's answer shows each dependency as it is after the target's look: one whose command was not found is not running", async () => {
    const dir = project({
      "taskmux.yaml":
        "tasks:\n  missing:\n    command: /nonexistent/bin/thing\n  app:\n    command: sleep 60\n    dependsOn: { missing: started }\n"
    })
    await withProject(dir, async (s) => {
      expect(textOf(await s.call("start_task", { name: "app" }))).toMatch(
        /^Project chain: missing \(crashed, pid \d+\) → app \(running, pid \d+\)\.\nStarted task "app"/
      )
    })
  })

  it("a failing dependency stops the chain, naming it and showing its last lines", async () => {
    const port = await freePort()
    await withProject(project({ "taskmux.yaml": stack(port) }), async (s) => {
      const result = await s.call("start_task", { name: "app" })
      expect(result.isError).toBe(true)
      expect(textOf(result)).toMatch(
        /^"app" was not started: its dependency "seed" did not succeed: crashed, exit code 3\..*\nLast lines of "seed":\nseeding\nrelation users does not exist/s
      )
      expect(textOf(result)).not.toMatch(/left running: [^.]*seed/)
      const listed = await s.structured<Listed>("list_tasks")
      expect(listed.tasks.find((t) => t.name === "app")?.status).toBe("defined")
    })
  })

  it("stop_task { dependents: true } stops what depends on it first; without it, only the task", async () => {
    const dir = await stackProject()
    await withProject(dir, async (s) => {
      await s.structured("start_task", { name: "web" })
      const stopped = await s.structured<{ dependents: Array<string> }>("stop_task", { name: "db", dependents: true })
      expect(stopped.dependents).toEqual(["web", "api"])
      const listed = await s.structured<Listed>("list_tasks")
      expect(listed.tasks.filter((t) => t.status === "running")).toEqual([])
      await s.structured("start_task", { name: "web" })
      const alone = await s.call("stop_task", { name: "db" })
      // A restart of what needs it says it does not run; and when the restarted run is ready, the call that waits.
      expect(textOf(await s.call("restart_task", { name: "api" }))).toMatch(
        /It needs db, which does not run now \(start_task \{ name: "db" \} starts it\)\. Its file says when it is ready: wait_for_task \{"name":"api","pattern":"listening on"\} waits for this run to be\.$/
      )
      expect(await s.structured("wait_for_task", { name: "api", pattern: "listening on" })).toMatchObject({
        matched: true
      })
      // What still runs and needs it is named.
      expect(textOf(alone)).toMatch(
        /^Task "db": stopped, killed by SIGTERM\. Still running, and they need it: web, api \(dependents: true stops them first\)\.$/
      )
      const after = await s.structured<Listed>("list_tasks")
      expect(after.tasks.filter((t) => t.status === "running").map((t) => t.name).sort()).toEqual(["api", "web"])
      // Stopped again: it had ended, and nothing happened now.
      expect(textOf(await s.call("stop_task", { name: "db" }))).toMatch(
        /^Task "db": stopped, killed by SIGTERM\. It had already ended \(at \d{4}-\d\d-\d\dT[\d:.]+Z\): nothing was stopped\./
      )
      // With what needs it: they were stopped, and the answer does not say nothing was.
      expect(textOf(await s.call("stop_task", { name: "db", dependents: true }))).toMatch(
        /^Task "db": stopped, killed by SIGTERM\. Stopped first: (web, api|api, web)\. It had already ended \(at [^)]+\): only what needed it was stopped\.$/
      )
    })
  })

  it("a cycle or a bad file leaves the server serving with no project tasks, and says why, with the line", async () => {
    const cycle = project({
      "taskmux.yaml":
        "tasks:\n  a:\n    command: sleep 1\n    dependsOn: { b: started }\n  b:\n    command: sleep 1\n    dependsOn: { a: ready }\n"
    })
    await withProject(cycle, async (s) => {
      const listed = await s.structured<Listed>("list_tasks")
      expect(listed.tasks).toEqual([])
      expect(listed.projectError).toMatch(/taskmux\.yaml:4 task "a", dependsOn\.b: a cycle: a → b → a/)
      expect(s.stderr()).toMatch(/no project tasks: .*a cycle/)
      const start = await s.call("start_task", { name: "a" })
      expect(textOf(start)).toMatch(
        /^The project file is not usable, so "a" cannot be started by name: .*a cycle.*Fix the file, or pass a command\.$/
      )
      expect((await s.call("start_task", { command: "echo still serving" })).isError).toBeFalsy()
      // A name the file may hold is not "no tasks": the file is said to be unreadable, and why.
      expect(textOf(await s.call("stop_task", { name: "b" }))).toMatch(
        /^No task named "b"\. Known tasks: [\w-]+\. The project file cannot be read, so its tasks are unknown: .*a cycle/
      )
    })
    const bad = project({
      "taskmux.yaml": "tasks:\n  db:\n    command: postgres\n    waitFor:\n      port: soon\n"
    })
    await withProject(bad, async (s) => {
      const listed = await s.structured<Listed>("list_tasks")
      expect(listed.projectError).toMatch(/taskmux\.yaml:5 task "db", waitFor\.port: /)
    })
    const typo = project({ "taskmux.yaml": "tasks:\n  api:\n    command: npm run dev\n    dependOn: { db: ready }\n" })
    await withProject(typo, async (s) => {
      expect((await s.structured<Listed>("list_tasks")).projectError).toMatch(
        /taskmux\.yaml:4 task "api", dependOn: not a field of a task \(did you mean "dependsOn"\?\); its fields are command, args, cwd, env, waitFor, dependsOn,/
      )
    })
    const syntax = project({ "taskmux.yaml": "tasks:\n  db:\n    command: [unclosed\n" })
    await withProject(syntax, async (s) => {
      expect((await s.structured<Listed>("list_tasks")).projectError).toMatch(/taskmux\.yaml:\d+: /)
    })
  })

  it("a Procfile: each line a task", async () => {
    await withProject(
      project({ Procfile: "# processes\nweb: echo hello from web; sleep 30\nworker: sleep 30\n" }),
      async (s) => {
        const listed = await s.structured<Listed>("list_tasks")
        expect(listed.tasks.map((t) => [t.name, t.status])).toEqual([["web", "defined"], ["worker", "defined"]])
        await s.structured("start_task", { name: "web" })
        const waited = await s.structured<{ matched: boolean }>("wait_for_task", {
          name: "web",
          pattern: "hello",
          since: 0
        })
        expect(waited.matched).toBe(true)
      }
    )
  })

  it("a Procfile that defines no task (comments only) is named as the file that defines none", async () => {
    const dir = project({ Procfile: "# web: npm start\n\n" })
    await withProject(dir, async (s) => {
      expect(textOf(await s.call("start_task", { name: "web" }))).toBe(
        `start_task needs a command: "web" is not a project task, and ${NodePath.join(dir, "Procfile")} defines none.`
      )
    })
  })

  it("a command started under a project task's name says that it runs instead of the file's task", async () => {
    const dir = project({
      "taskmux.json": JSON.stringify({ tasks: { repl: { command: "python3 -q", terminal: true } } })
    })
    await withProject(dir, async (s) => {
      const started = await s.call("start_task", { command: "sleep 30", name: "repl" })
      expect(textOf(started)).toMatch(
        /^Started task "repl" \(pid \d+\)\. "repl" is also a project task's name: this command runs under it, and list_tasks shows it instead of the file's task until it is removed \(remove_task\)\.$/
      )
      expect((await s.call("start_task", { command: "sleep 30", name: "other" })).structuredContent).not.toHaveProperty(
        "hint"
      )
    })
  })

  it("a file changed between two starts is read again; a running task keeps its settings", async () => {
    const dir = project({
      "taskmux.json": JSON.stringify({ tasks: { job: { command: "echo version one; sleep 30" } } })
    })
    await withProject(dir, async (s) => {
      await s.structured("start_task", { name: "job" })
      expect(
        (await s.structured<{ matched: boolean }>("wait_for_task", { name: "job", pattern: "version one", since: 0 }))
          .matched
      )
        .toBe(true)
      writeFileSync(
        NodePath.join(dir, "taskmux.json"),
        JSON.stringify({ tasks: { job: { command: "echo version two; sleep 30" } } })
      )
      // Still the first: it runs, and a restart runs the same again (as compose's restart does).
      expect(textOf(await s.call("start_task", { name: "job" }))).toMatch(
        /^Project task "job" is already running \(pid \d+, started by this session\) as "echo version one; sleep 30", but the project file gives it another command, "echo version two; sleep 30"\. stop_task, then start_task \{ name: "job" \}, runs what the file says; restart_task runs it as it is\.$/
      )
      // The restart says so: what the file now says is not what runs.
      expect(textOf(await s.call("restart_task", { name: "job" }))).toMatch(
        /^Restarted task "job" \(pid \d+\)\. The project file gives "job" another command than this run was started with, and a restart runs it as it was: stop_task, then start_task \{ name: "job" \}, runs what the file says\.$/
      )
      expect(
        (await s.structured<{ matched: boolean }>("wait_for_task", { name: "job", pattern: "version", since: 0 }))
          .matched
      ).toBe(true)
      expect(textOf(await s.call("read_output", { name: "job" }))).not.toMatch(/version two/)
      await s.structured("stop_task", { name: "job" })
      await s.structured("start_task", { name: "job" })
      expect(
        (await s.structured<{ matched: boolean }>("wait_for_task", { name: "job", pattern: "version two", since: 0 }))
          .matched
      )
        .toBe(true)
    })
  })

  it("a task the file no longer gives, or gives in a file broken since, is not said to be one started with a command", async () => {
    const dir = project({ "taskmux.yaml": "tasks:\n  job:\n    command: sleep 30\n  other:\n    command: sleep 30\n" })
    await withProject(dir, async (s) => {
      await s.structured("start_task", { name: "job" })
      // Broken since: the file is what to fix, said first, then how the run is.
      writeFileSync(
        NodePath.join(dir, "taskmux.yaml"),
        "tasks:\n  job:\n    command: sleep 30\n    depends_on: { other: started }\n"
      )
      expect(textOf(await s.call("start_task", { name: "job" }))).toMatch(
        /^The project file is not usable, so "job" cannot be started by name: \S+taskmux\.yaml:4 task "job", depends_on: not a field of a task \(did you mean "dependsOn"\?\).*\. Fix the file, or pass a command\. The task "job" is running \(pid \d+\). restart_task runs it again; read_output shows what it printed\.$/
      )
      // Removed from the file since it started: not in it now, and how the run is.
      writeFileSync(NodePath.join(dir, "taskmux.yaml"), "tasks:\n  other:\n    command: sleep 30\n")
      expect(textOf(await s.call("start_task", { name: "job" }))).toBe(
        `"job" is not a task of the project file now (its tasks: other): the task "job" is running (pid ${
          (await s.structured<Listed>("list_tasks")).tasks.find((t) => t.name === "job")?.pid
        }). restart_task runs it again; read_output shows what it printed.`
      )
      await s.structured("stop_task", { name: "job" })
      expect(textOf(await s.call("start_task", { name: "job" }))).toMatch(
        /^"job" is not a task of the project file now \(its tasks: other\): the task "job" is stopped\. restart_task \{ name: "job" \} runs it again with its command\.$/
      )
    })
  })

  it("a chain beyond --max-tasks says how many tasks it needs, how many run, and the limit", async () => {
    const dir = await stackProject()
    await withProject(dir, async (s) => {
      await s.structured("start_task", { name: "other", command: "sleep 60" })
      const result = await s.call("start_task", { name: "web" })
      expect([result.isError, textOf(result)]).toEqual([
        true,
        "Project task \"web\" was not started: it needs 3 tasks started (db, api, web); 1 runs already and the " +
        "limit is 3 (--max-tasks). Stop or remove 1 first, or start taskmux with a higher --max-tasks."
      ])
      const listed = await s.structured<Listed>("list_tasks")
      expect(listed.tasks.filter((t) => t.status !== "defined").map((t) => t.name)).toEqual(["other"])
    }, { TASKMUX_MAX_TASKS: "3" })
  })

  it("a chain's task whose cwd is outside --cwd-root or missing is named, with the file that gives it, before any starts", async () => {
    const dir = realpathSync(project({
      "taskmux.yaml": `tasks:
  tool:
    command: pwd
    cwd: ..
  app:
    command: sleep 60
    dependsOn: { tool: succeeded }
  nodir:
    command: pwd
    cwd: nope
  app2:
    command: sleep 60
    dependsOn: { nodir: succeeded }
`
    }))
    const file = NodePath.join(dir, "taskmux.yaml")
    await withProject(dir, async (s) => {
      const outside = await s.call("start_task", { name: "app" })
      expect([outside.isError, textOf(outside)]).toEqual([
        true,
        `Project task "app" was not started: it needs "tool", whose working directory "${NodePath.dirname(dir)}" ` +
        `(the cwd of task "tool" in ${file}) is outside "${dir}", the only place tasks may run (--cwd-root). ` +
        "Change that cwd in the file to one inside it."
      ])
      const missing = await s.call("start_task", { name: "app2" })
      expect([missing.isError, textOf(missing)]).toEqual([
        true,
        `Project task "app2" was not started: it needs "nodir", whose working directory "${dir}/nope" ` +
        `(the cwd of task "nodir" in ${file}) does not exist. Change that cwd in the file, or create the directory.`
      ])
      expect(textOf(await s.call("start_task", { name: "nodir" }))).toMatch(
        /^Project task "nodir" was not started: its working directory ".*\/nope" \(the cwd of task "nodir" in /
      )
      const listed = await s.structured<Listed>("list_tasks")
      expect(listed.tasks.every((t) => t.status === "defined")).toBe(true)
    }, { TASKMUX_CWD_ROOT: dir })
  })

  it("the start policy applies to every task of the chain before any starts", async () => {
    const port = await freePort()
    const dir = project({ "taskmux.yaml": stack(port) })
    await withProject(dir, async (s) => {
      const result = await s.call("start_task", { name: "web" })
      expect(result.isError).toBe(true)
      // Which task of the chain was refused, and why: not only a command the user never typed.
      expect(textOf(result)).toMatch(
        /^Project task "web" was not started: it needs "db", whose command "node -e .*" is refused by this server's policy: it matches --deny \^node \./
      )
      expect(textOf(await s.call("start_task", { name: "db" }))).toMatch(
        /^Project task "db" was not started: its command "node -e .*" is refused/
      )
      const listed = await s.structured<Listed>("list_tasks")
      expect(listed.tasks.every((t) => t.status === "defined")).toBe(true)
      expect(listed.tasks.filter((t) => t.pid !== null && isAlive(t.pid))).toEqual([])
    }, { TASKMUX_DENY: "^node " })
  })
})
