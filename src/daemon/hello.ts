/**
 * The first line each way on a supervisor's socket, before MCP: which wire protocol each side speaks,
 * so a front never speaks to a supervisor of another build in words it does not know. After it, the
 * connection carries MCP's JSON-RPC, one message per line, as stdio does.
 */
import packageJson from "../../package.json" with { type: "json" }

/**
 * Bumped whenever what goes over the socket changes, or what a side does with it (2: the hello carries the
 * caller's environment; 3: and its working directory; 4: a front's options fence its session, so a front
 * never gives its fence to a supervisor that would ignore it). An option added or dropped is such a change:
 * the supervisor reads the front's (test/daemon/frontOptions.test.ts holds the list).
 */
export const WIRE_PROTOCOL = 4

declare const __TASKMUX_BUILD__: string | undefined

/**
 * Which build this is, made anew by each `npm run build` (scripts/build.mjs): a supervisor started from a
 * build since replaced on disk (a rebuild, an upgrade) cannot load the parts it loads when first needed,
 * whose files have new names. "source" when run from the sources (tests of modules).
 */
export const BUILD: string = typeof __TASKMUX_BUILD__ === "string" ? __TASKMUX_BUILD__ : "source"

/** A caller's greeting. The supervisor checks its shape (isHello.ts): a field added here is added there. */
export interface Hello {
  readonly taskmux: string
  readonly protocol: number
  /** A front serves an MCP client; the CLI is the person at the keyboard. */
  readonly role: "front" | "cli"
  /** A front's command line, for the supervisor to check (the front loads no option parser of its own). */
  readonly args?: ReadonlyArray<string>
  /**
   * The caller's environment: what the tasks its session starts inherit, as they would from a server of
   * their own (the `env` block of the client's config, a person's activated virtualenv), whoever
   * started the supervisor.
   */
  readonly env?: Readonly<Record<string, string>>
  /**
   * Where the caller runs: its session's tasks start there unless given a cwd, as they would under a
   * server of their own (a client started in a subdirectory of the project).
   */
  readonly cwd?: string
  /** The caller's BUILD. */
  readonly build?: string
}

export interface Welcome {
  readonly taskmux: string
  readonly protocol: number
  readonly pid: number
  readonly project: string
  /** Sessions connected now (this one not counted). */
  readonly sessions: number
  /** Tasks running now. */
  readonly running: number
  /** Streams of open pages and MCP-over-HTTP sessions, which keep it too; absent when none. */
  readonly viewers?: number
  /** Another protocol and nothing to lose: the supervisor ends so that the caller can start its own. */
  readonly replacing?: boolean
  /** What is wrong with the front's options: it says so and ends, as the server alone would. */
  readonly refused?: string
  /** The supervisor's shared settings that differ from the front's: said on its stderr. */
  readonly notice?: string
  /** The supervisor's BUILD. */
  readonly build?: string
  /** Its files were replaced on disk since it started (in `notice` too, for a front): what may fail. */
  readonly stale?: string
  /**
   * It answers a terminal task's cursor queries itself: `attach` then keeps them from the person's
   * terminal, which would answer a second time (an older supervisor leaves them to that terminal).
   */
  readonly answersCursor?: boolean
  /** It answers the device attributes, status and mode queries too (see output/cursorQuery.ts). */
  readonly answersQueries?: boolean
}

export const hello = (role: Hello["role"], args?: ReadonlyArray<string>): Hello => ({
  taskmux: packageJson.version,
  protocol: WIRE_PROTOCOL,
  role,
  ...(args !== undefined && { args }),
  env: Object.fromEntries(
    Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined)
  ),
  cwd: process.cwd(),
  build: BUILD
})

/**
 * A supervisor of another wire protocol that has work (it is left alone), as this taskmux says it: who it
 * is and how to end it. `then`: what becomes of the caller (a front serves its session alone).
 */
export const otherProtocol = (project: string, welcome: Welcome, then: string) =>
  `A taskmux ${welcome.taskmux} supervisor (pid ${welcome.pid}, wire protocol ${welcome.protocol}) serves ` +
  `${project} with ${welcome.sessions} session(s) and ${welcome.running} running task(s); this taskmux ` +
  `${packageJson.version} speaks protocol ${WIRE_PROTOCOL}, ${then} End that supervisor once its tasks may ` +
  `stop (kill ${welcome.pid}): the next taskmux starts a current one.`

/** A hello or welcome line, or undefined for anything else. */
export const parseGreeting = <A extends { readonly taskmux: string; readonly protocol: number }>(
  line: string
): A | undefined => {
  try {
    const value = JSON.parse(line) as Partial<A>
    return typeof value === "object" && value !== null && typeof value.taskmux === "string" &&
        typeof value.protocol === "number"
      ? value as A
      : undefined
  } catch {
    return undefined
  }
}

/** The longest greeting line taken: an environment may be large (a variable may hold 128 KiB). */
const MAX_GREETING_BYTES = 4 * 1024 * 1024

/**
 * Reads a socket's first line (a greeting), then leaves the socket paused with what came after it:
 * `then` gets the greeting (undefined for a line that is none, or none within MAX_GREETING_BYTES).
 */
export const readGreeting = <A extends { readonly taskmux: string; readonly protocol: number }>(
  socket: NodeJS.ReadableStream & { pause(): unknown },
  then: (greeting: A | undefined, rest: Buffer) => void
): void => {
  // The chunks are joined once, at the line's end: joined as they came, a large line cost its square.
  const chunks: Array<Buffer> = []
  let before = 0
  const onData = (chunk: Buffer) => {
    chunks.push(chunk)
    const at = chunk.indexOf(0x0a)
    if (at === -1) {
      before += chunk.length
      if (before < MAX_GREETING_BYTES) return
    }
    socket.off("data", onData)
    socket.pause()
    const buffered = Buffer.concat(chunks)
    const end = at === -1 ? -1 : before + at
    then(
      end === -1 ? undefined : parseGreeting<A>(buffered.subarray(0, end).toString("utf8")),
      end === -1 ? Buffer.alloc(0) : buffered.subarray(end + 1)
    )
  }
  socket.on("data", onData)
}
