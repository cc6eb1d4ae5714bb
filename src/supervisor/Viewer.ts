/**
 * Who is asking: the MCP session a call comes from. Tasks belong to the session that started them
 * (unless kept), and what is per session stays per session: where a wait starts (the last line an
 * answer showed this session), whose ends are announced quietly. With no session (the registry's own
 * tests), calls come from one anonymous viewer.
 */
import { Context } from "effect"
import type { TaskmuxOptions } from "../Config.ts"

export interface ViewerShape {
  /** Unique among the supervisor's sessions, for its life. */
  readonly id: string
  /** The client's name from its initialize (`clientInfo.name`), once it said it. */
  readonly client: () => string | undefined
  /**
   * A 2026-07-28 request: nothing is remembered between requests, so a wait without a cursor starts
   * at the current run's first line instead of after the last line shown.
   */
  readonly stateless?: true
  /** The environment its front or CLI had, which the tasks it starts inherit; absent: the server's own. */
  readonly env?: Readonly<Record<string, string>>
  /** Where its front or CLI runs: where the tasks it starts run unless given a cwd; absent: the server's. */
  readonly cwd?: string
  /**
   * What its front's own options allow it to start (--allow, --deny, --cwd-root, --no-inherit-env):
   * a client's fence holds on a supervisor someone else started; absent: the server's own.
   */
  readonly policy?: StartPolicy
  /**
   * A read-only page: no environment values reach it (they may hold secrets, and its link may travel
   * further than the full one), not even a project file's, which an unknown name's answer quotes.
   */
  readonly hidesEnvValues?: true
}

/** The options that fence what a session may start and what its tasks inherit. */
export type StartPolicy = Pick<TaskmuxOptions, "allow" | "deny" | "cwdRoot" | "inheritEnv" | "envAllow">

/**
 * Whether a session is fenced: marked as less trusted than the person, it may not use another's task to
 * run what it could not start (typing into its shell), nor read another's environment values.
 */
export const isFenced = (policy: StartPolicy | undefined): policy is StartPolicy =>
  policy !== undefined && (policy.allow.length > 0 || policy.deny.length > 0 || policy.cwdRoot !== undefined ||
    !policy.inheritEnv || policy.envAllow.length > 0)

/** A session's front or CLI, as its hello describes it. */
export interface Caller {
  readonly env?: Readonly<Record<string, string>> | undefined
  readonly cwd?: string | undefined
  readonly policy?: StartPolicy | undefined
}

export const Viewer = Context.Reference<ViewerShape>("taskmux/Viewer", {
  defaultValue: () => ({ id: "local", client: () => undefined })
})

let sessions = 0

/** A new session's viewer. */
export const makeViewer = (client: () => string | undefined, caller: Caller = {}): ViewerShape => ({
  id: `s${++sessions}`,
  client,
  ...(caller.env !== undefined && { env: caller.env }),
  ...(caller.cwd !== undefined && { cwd: caller.cwd }),
  ...(caller.policy !== undefined && { policy: caller.policy })
})

/** A 2026-07-28 request of a session's client: the session's tasks, no memory of earlier requests. */
export const statelessViewer = (viewer: ViewerShape, client: string | undefined): ViewerShape => ({
  ...viewer,
  client: () => client ?? viewer.client(),
  stateless: true
})

/** Who owns a task, as `viewer` sees it. */
export const ownerAs = (viewer: ViewerShape, session: string | null): "you" | "other" | "kept" =>
  session === null ? "kept" : session === viewer.id ? "you" : "other"
