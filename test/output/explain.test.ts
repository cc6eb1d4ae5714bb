/** The summary that explains an end: the cause above the last lines, within its budget. */
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import { BUDGET_BYTES, explain, headline, looksLikeError, type SummaryLine } from "../../src/output/explain.ts"

const lines = (texts: ReadonlyArray<string | [string, "stderr"]>): Array<SummaryLine> =>
  texts.map((t, i) =>
    typeof t === "string" ? { seq: i + 1, stream: "stdout", text: t } : { seq: i + 1, stream: t[1], text: t[0] }
  )

const bytesOf = (e: ReturnType<typeof explain>) =>
  Buffer.byteLength([...e.errorLines.map((l) => l.text), ...e.lastLines].join("\n"))

describe("explain", () => {
  it("puts the message of a stack trace above its frames", () => {
    const trace = lines([
      "  VITE v8.3.8",
      ["error when starting dev server:", "stderr"],
      ["Error: Port 5173 is already in use", "stderr"],
      ...Array.from({ length: 30 }, (_, i): [string, "stderr"] => [`    at frame${i} (file:///x.js:${i}:1)`, "stderr"])
    ])
    const e = explain(trace)
    expect(e.errorLines.map((l) => [l.seq, l.text])).toEqual([
      [2, "error when starting dev server:"],
      [3, "Error: Port 5173 is already in use"]
    ])
    expect(e.lastLines).toHaveLength(8)
    expect(e.lastLines.at(-1)).toBe("    at frame29 (file:///x.js:29:1)")
  })

  it("takes stderr first, then the earliest, each text once", () => {
    const e = explain(lines([
      ...Array.from({ length: 20 }, (_, i) => `src/a${i}.ts(1,1): error TS2322: Type 'string' is not assignable`),
      ["npm ERR! code 2", "stderr"],
      ["npm ERR! code 2", "stderr"],
      ...Array.from({ length: 8 }, (_, i) => `tail ${i}`)
    ]))
    expect(e.errorLines[0]!.text).toBe("src/a0.ts(1,1): error TS2322: Type 'string' is not assignable")
    expect(e.errorLines.filter((l) => l.text === "npm ERR! code 2")).toHaveLength(1)
    expect(e.errorLines.map((l) => l.seq)).toEqual([...e.errorLines.map((l) => l.seq)].sort((a, b) => a - b))
  })

  it("takes a bundler's error and its place over the frames below it, whatever their files are called (Vite 8)", () => {
    // Vite 8 with a syntax error in vite.config.js, as it prints it (on stderr).
    const vite = lines([
      "failed to load config from /tmp/app/vite.config.js",
      "error when starting dev server:",
      "Error: Build failed with 1 error:",
      "",
      "[PARSE_ERROR] Unexpected token",
      "   ╭─[ vite.config.js:4:1 ]",
      "   │",
      " 4 │ }",
      "   │ ┬  ",
      "   │ ╰── ",
      "───╯",
      "",
      "    at aggregateBindingErrorsIntoJsError (file:///app/node_modules/rolldown/dist/shared/error-z4CTM_u3.mjs:110:18)",
      "    at unwrapBindingResult (file:///app/node_modules/rolldown/dist/shared/error-z4CTM_u3.mjs:78:128)",
      "    at #build (file:///app/node_modules/rolldown/dist/shared/rolldown-CiTwiklC.mjs:121:26)",
      "    at async bundleConfigFile (file:///app/node_modules/vite/dist/node/chunks/node.js:38928:12)",
      "    at async bundleAndLoadConfigFile (file:///app/node_modules/vite/dist/node/chunks/node.js:38824:18)",
      "    at async loadConfigFromFile (file:///app/node_modules/vite/dist/node/chunks/node.js:38785:42)",
      "    at async resolveConfig (file:///app/node_modules/vite/dist/node/chunks/node.js:38384:22)",
      "    at async _createServer (file:///app/node_modules/vite/dist/node/chunks/node.js:25953:65)",
      "    at async CAC.<anonymous> (file:///app/node_modules/vite/dist/node/cli.js:962:18) {",
      "  errors: [Getter/Setter]",
      "}"
    ].map((text): [string, "stderr"] => [text, "stderr"]))
    expect(explain(vite).errorLines.map((l) => l.text)).toEqual([
      "failed to load config from /tmp/app/vite.config.js",
      "error when starting dev server:",
      "Error: Build failed with 1 error:",
      "[PARSE_ERROR] Unexpected token",
      "╭─[ vite.config.js:4:1 ]"
    ])
  })

  it("takes a failing test's expected and received values (Jest, Vitest) and pytest's E lines", () => {
    const jest = lines([
      " FAIL  src/cart.test.js",
      "  ● cart › total",
      "",
      "    expect(received).toBe(expected) // Object.is equality",
      "",
      "    Expected: 30",
      "    Received: 25",
      "",
      "      3 | test('total', () => {",
      "      4 |   const total = 25",
      "    > 5 |   expect(total).toBe(30)",
      "        |                 ^",
      "      6 | })",
      "",
      ...Array.from({ length: 12 }, (_, i) => `      at Object.<anonymous> (src/cart.test.js:${i + 5}:17)`),
      "",
      "Test Suites: 1 failed, 1 total",
      "Tests:       1 failed, 1 total"
    ])
    expect(explain(jest).errorLines.map((l) => l.text)).toEqual([
      "FAIL  src/cart.test.js",
      "● cart › total",
      "Expected: 30",
      "Received: 25"
    ])
    // TAP, as node --test prints it on a pipe: the failing test's own line.
    for (const line of ["E       assert 25 == 30", "E       AssertionError: total", "not ok 2 - compares objects"]) {
      expect(looksLikeError(line), line).toBe(true)
    }
    for (
      const frame of ["    at Object.<anonymous> (/app/error.js:3:9)", "  File \"/app/errors.py\", line 3, in <module>"]
    ) {
      expect(looksLikeError(frame), frame).toBe(false)
    }
  })

  it("does not take success for failure", () => {
    for (const ok of ["Found 0 errors. Watching for file changes.", "0 failed, 12 passed", "no errors found"]) {
      expect(looksLikeError(ok), ok).toBe(false)
    }
    for (
      const bad of [
        "Traceback (most recent call last):",
        "sh: 1: nope: not found",
        "Error: listen EADDRINUSE: address already in use :::3000",
        "panic: runtime error: index out of range",
        "FAILED (failures=1)",
        "json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes",
        "src/x.ts(3,7): error TS2322: Type 'string' is not assignable to type 'number'."
      ]
    ) expect(looksLikeError(bad), bad).toBe(true)
  })

  it("keeps within its budget, ends with the last lines, and picks error lines only from before them", () => {
    const text = fc.oneof(fc.string({ maxLength: 400 }), fc.constantFrom("Error: boom", "ok", "", "warning: x"))
    fc.assert(fc.property(
      fc.array(fc.tuple(text, fc.constantFrom<"stdout" | "stderr">("stdout", "stderr")), { maxLength: 300 }),
      (raw) => {
        const input = raw.map(([t, stream], i) => ({ seq: i + 1, stream, text: t }))
        const e = explain(input)
        expect(bytesOf(e)).toBeLessThanOrEqual(BUDGET_BYTES)
        const nonBlank = input.filter((l) => l.text.trim() !== "")
        if (nonBlank.length > 0) expect(e.lastLines.length).toBeGreaterThan(0)
        const firstShown = input.length - e.lastLines.length
        for (const l of e.errorLines) {
          // An error, or where the error above it is.
          const above = input[l.seq - 2]
          expect(looksLikeError(l.text) || above !== undefined && looksLikeError(above.text)).toBe(true)
          expect(l.seq).toBeLessThanOrEqual(firstShown)
        }
        expect(new Set(e.errorLines.map((l) => l.text)).size).toBe(e.errorLines.length)
      }
    ))
  })

  it("offers as the cause Node's message, not the source line it echoes above a caret", () => {
    const e = explain(lines([
      ["/tmp/x.js:1", "stderr"],
      ["setTimeout(()=>{throw new TypeError(\"x is undefined\")},10)", "stderr"],
      ["                ^", "stderr"],
      ["", "stderr"],
      ["TypeError: x is undefined", "stderr"],
      ...Array.from({ length: 8 }, (_, i): [string, "stderr"] => [`    at f${i} (node:internal/x:${i}:1)`, "stderr"]),
      ["", "stderr"],
      ["Node.js v24.11.0", "stderr"]
    ]))
    expect(e.errorLines.map((l) => l.text)).toEqual(["TypeError: x is undefined"])
    // A compiler's message above its echo is still offered.
    const tsc = explain(lines([
      "src/a.ts:1:7 - error TS2322: Type 'string' is not assignable to type 'number'.",
      "1 const n: number = \"x\"",
      "        ~",
      ...Array.from({ length: 8 }, (_, i) => `tail ${i}`)
    ]))
    expect(tsc.errorLines.map((l) => l.seq)).toEqual([1])
  })

  describe("headline: the one line a table shows", () => {
    it("is the cause above a stack trace's frames", () => {
      const e = explain(lines([
        ["Error: Port 5173 is already in use", "stderr"],
        ...Array.from({ length: 30 }, (_, i): [string, "stderr"] => [`    at frame${i} (x.js:${i}:1)`, "stderr"])
      ]))
      expect(headline(e)).toBe("Error: Port 5173 is already in use")
    })

    it("is a traceback's last line, not its first", () => {
      const e = explain(lines([
        "Traceback (most recent call last):",
        ...Array.from({ length: 8 }, (_, i) => `  File "/usr/lib/python3/json/f${i}.py", line ${i}, in f${i}`),
        "json.decoder.JSONDecodeError: Expecting property name enclosed in double quotes: line 1 column 2 (char 1)"
      ]))
      expect(headline(e)).toMatch(/^json\.decoder\.JSONDecodeError: /)
      // The header says a traceback came, not why: the cause it offers is not that line.
      expect(e.errorLines.map((l) => l.text)).toEqual([])
    })

    it("is an uncaught error's message, not the line that threw it, above frames and Node's version", () => {
      const e = explain(lines([
        "/app/server.js:3",
        "  throw new Error(\"no DATABASE_URL\")",
        "  ^",
        "",
        "Error: no DATABASE_URL",
        ...Array.from({ length: 8 }, (_, i) => `    at f${i} (node:internal/x:${i}:1)`),
        "",
        "Node.js v24.11.0"
      ]))
      expect(headline(e)).toBe("Error: no DATABASE_URL")
    })

    it("is the last line when nothing looks like an error, and nothing without output", () => {
      expect(headline(explain(lines(["building", "Done in 2.1s", "  "])))).toBe("Done in 2.1s")
      expect(headline(explain([]))).toBeNull()
    })
  })
})
