/** Which of a leaving session's tasks others need: the dependencies of their running tasks, handed to them. */
import { describe, expect, it } from "vitest"
import { neededByOthers } from "../../src/project/endSessionTasks.ts"
import type { RecordedTask } from "../../src/supervisor/TaskRegistry.ts"

const task = (name: string, session: string | null, status = "running") =>
  ({ name, session, client: session === null ? null : `${session}-client`, status }) as unknown as RecordedTask

const defined = new Map([
  ["db", {}],
  ["api", { dependsOn: { db: "ready" as const } }],
  ["web", { dependsOn: { api: "ready" as const } }],
  ["worker", { dependsOn: { db: "started" as const } }]
])

describe("neededByOthers", () => {
  it("hands a dependency, and what it needs in turn, to the owner of the task that needs them", () => {
    const tasks = [task("db", "bob"), task("api", "bob"), task("web", "alice")]
    expect(neededByOthers("bob", tasks, defined)).toEqual(
      new Map([["api", { session: "alice", client: "alice-client" }], ["db", {
        session: "alice",
        client: "alice-client"
      }]])
    )
  })

  it("keeps one a kept task needs, whoever else needs it", () => {
    const tasks = [task("db", "bob"), task("web", "alice"), task("api", "carol"), task("worker", null)]
    expect(neededByOthers("bob", tasks, defined)).toEqual(new Map([["db", { session: null, client: null }]]))
  })

  it("hands over what a chain another session is starting waits for (its dependents not running yet)", () => {
    const tasks = [task("db", "bob")]
    const alice = { owner: { session: "alice", client: "alice-client" }, needs: new Set(["db", "api"]) }
    expect(neededByOthers("bob", tasks, defined, [alice])).toEqual(new Map([["db", alice.owner]]))
    const kept = { owner: { session: null, client: null }, needs: new Set(["db"]) }
    expect(neededByOthers("bob", tasks, defined, [alice, kept])).toEqual(new Map([["db", kept.owner]]))
    expect(neededByOthers("bob", tasks, defined, [{ ...alice, owner: { session: "bob", client: null } }]).size).toBe(0)
  })

  it("hands a run another session was told runs already to it, with what that run needs in turn", () => {
    const tasks = [task("db", "bob"), task("api", "bob")]
    const alice = { owner: { session: "alice", client: "alice-client" }, needs: new Set(["api"]) }
    expect(neededByOthers("bob", tasks, defined, [alice])).toEqual(new Map([["api", alice.owner], ["db", alice.owner]]))
    // Ended since: it needs nothing now.
    expect(neededByOthers("bob", [task("db", "bob"), task("api", "bob", "exited")], defined, [alice]).size).toBe(0)
  })

  it("leaves what nobody else running needs: its own chain, ended dependents, others' tasks", () => {
    expect(neededByOthers("bob", [task("db", "bob"), task("api", "bob")], defined).size).toBe(0)
    expect(neededByOthers("bob", [task("db", "bob"), task("api", "alice", "crashed")], defined).size).toBe(0)
    expect(neededByOthers("bob", [task("db", "carol"), task("api", "alice")], defined).size).toBe(0)
  })

  it("hands nothing to a session that is ending: its tasks still run while they stop, but need nothing", () => {
    const tasks = [task("db", "bob"), task("api", "alice"), task("worker", "carol")]
    expect(neededByOthers("bob", tasks, defined, [], new Set(["alice"]))).toEqual(
      new Map([["db", { session: "carol", client: "carol-client" }]])
    )
    expect(neededByOthers("bob", tasks, defined, [], new Set(["alice", "carol"])).size).toBe(0)
    const chain = { owner: { session: "alice", client: "alice-client" }, needs: new Set(["db"]) }
    expect(neededByOthers("bob", [task("db", "bob")], defined, [chain], new Set(["alice"])).size).toBe(0)
  })
})
