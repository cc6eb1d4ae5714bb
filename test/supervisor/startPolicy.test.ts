import { describe, expect, it } from "vitest"
import { TASK_NAME } from "../../src/domain/Task.ts"
import { isGeneratedName, uniqueName } from "../../src/supervisor/startPolicy.ts"

describe("a made-up name comes from the program a command runs", () => {
  it.each([
    ["npm run dev", "npm-1"],
    ["./node_modules/.bin/vite --port 3000", "vite-1"],
    ["FOO=1 NODE_ENV=test ./node_modules/.bin/vite --port 3000", "vite-1"],
    ["cd /tmp && python3 -m http.server 0", "python3-1"],
    ["cd web; exec npm start", "npm-1"],
    ["env DEBUG=1 node server.js", "node-1"],
    ["cd", "cd-1"],
    ["日本語 --x", "task-1"],
    // What is left of a program's name once its other characters go may start with what no name starts with.
    ["./日本.sh", "sh-1"],
    ["./_dev.sh --watch", "dev.sh-1"],
    ["./.hidden", "hidden-1"],
    ["./-x", "x-1"]
  ])("%s: %s", (command, name) => {
    expect(uniqueName(command, new Map())).toBe(name)
    expect(TASK_NAME.test(uniqueName(command, new Map()))).toBe(true)
  })

  it("takes the next number free", () => {
    expect(uniqueName("npm run dev", new Map([["npm-1", 1], ["npm-2", 2]]))).toBe("npm-3")
    expect(isGeneratedName("npm-3", "npm run dev")).toBe(true)
    expect(isGeneratedName("npm-dev", "npm run dev")).toBe(false)
    expect(isGeneratedName("npm-0", "npm run dev")).toBe(false)
    expect(isGeneratedName("vite-1", "npm run dev")).toBe(false)
  })
})
