/**
 * Everything the page knows of taskmux comes through a Backend: the HTTP page uses `httpBackend`
 * (SSE + fetch), an MCP App would use tool calls through its host. The components never do I/O.
 */

/** A task's status as list_tasks shows it ("defined": a project task not yet run). */
export type TaskStatus =
  | "running"
  | "restarting"
  | "exited"
  | "crashed"
  | "stopped"
  | "failed"
  | "defined"
  | "lost"

/** One entry of list_tasks' structuredContent.tasks. */
export interface ListedTask {
  readonly name: string
  readonly status: TaskStatus
  readonly pid: number | null
  readonly exitCode: number | null
  readonly signal: string | null
  readonly command: string
  readonly startedAt: string | null
  readonly endedAt: string | null
  readonly ports: ReadonlyArray<number> | null
  readonly memoryBytes: number | null
  /** Stopped by SIGSTOP or Ctrl-Z until SIGCONT: it runs, and does nothing. */
  readonly paused?: true
  readonly owner?: "you" | "other" | "kept"
  /** The client of the session that owns it (its initialize's clientInfo.name). */
  readonly client?: string
  readonly since?: string
  readonly reason?: string
  readonly logFile?: string | null
  // The page's own figures (list_tasks leaves them to get_task): absent in the MCP App.
  readonly restarts?: number
  readonly cpuPercent?: number | null
  /** Its last run's most telling line of output, once it ended. */
  readonly exitHeadline?: string | null
}

/** The `tasks` event: every task, and the project file's dependency graph (name → what it needs). */
export interface TasksSnapshot {
  readonly tasks: ReadonlyArray<ListedTask>
  readonly projectError?: string
  readonly graph?: Readonly<Record<string, ReadonlyArray<string>>>
}

/** A line as read_output shows it: `seq` may be left out when it is the previous line's + 1. */
export interface OutputLine {
  readonly seq?: number
  readonly text: string
  readonly stream?: "stdout" | "stderr" | "terminal"
  readonly time?: string
  readonly partial?: boolean
  /** The first line of a run after the first (a restart): its number. */
  readonly run?: number
}

/**
 * What a terminal task's screen shows: its rows as text and where the cursor is, 0-based, when known
 * (read_output { screen: true }: the MCP App's), or what redraws it on a terminal emulator, escape
 * sequences and all, so its colours, modes (bracketed paste, application keys, mouse) and cursor come
 * with it (the page's).
 */
export type ScreenContent =
  | { readonly text: ReadonlyArray<string>; readonly cursor?: { readonly row: number; readonly col: number } }
  | { readonly redraw: string }

export type OutputEvent =
  | {
    readonly type: "lines"
    readonly lines: ReadonlyArray<OutputLine>
    readonly nextCursor: number
    /** Lines left out before these (a flood, or dropped from the ring). */
    readonly skipped: number
  }
  | {
    readonly type: "screen"
    readonly screen: ScreenContent
    readonly cols: number
    readonly rows: number
  }
  /** The task was started anew under its name: the lines that follow are a new output, from its start. */
  | { readonly type: "reset" }
  /** The task was removed: no more events come. */
  | { readonly type: "gone" }

export interface ToolContent {
  readonly type: string
  readonly text?: string
}

/** What MCP tools/call answers. */
export interface CallToolResult {
  readonly content: ReadonlyArray<ToolContent>
  readonly structuredContent?: Record<string, unknown>
  readonly isError?: boolean
}

export interface Backend {
  /** No control may change anything: every button is disabled. */
  readonly readOnly: boolean
  /** Calls a taskmux tool. Never rejects: a failure of the transport comes back as an isError result. */
  call(tool: string, args: Record<string, unknown>): Promise<CallToolResult>
  /** Every task, now (the latest snapshot at once, if any) and at each change. Returns the unsubscribe. */
  onTasks(listener: (snapshot: TasksSnapshot) => void): () => void
  /** One task's output after cursor `since` (0: what the server still holds), then as it comes. */
  onOutput(name: string, since: number, listener: (event: OutputEvent) => void): () => void
  /**
   * Whether the live updates are flowing (false: show "disconnected", or `why` they will not come back);
   * told at once and on each change.
   */
  onConnection(listener: (connected: boolean, why?: string) => void): () => void
}

/** The text of a tool's answer (its first text content). */
export const resultText = (result: CallToolResult): string => {
  const first = result.content.find((c) => c.type === "text" && typeof c.text === "string")
  return first?.text ?? (result.isError === true ? "The call failed." : "Done.")
}

/** An isError answer made on this side (a network failure, an HTTP error). */
export const errorResult = (text: string): CallToolResult => ({ content: [{ type: "text", text }], isError: true })

/**
 * Whether a backend reaches taskmux, for `Backend.onConnection`: told to each listener at once (once
 * known) and on each change.
 */
export const connectionState = () => {
  const listeners = new Set<(up: boolean, why?: string) => void>()
  let current: boolean | undefined
  let reason: string | undefined
  return {
    current: () => current,
    listeners: () => listeners.size,
    set: (up: boolean, why?: string) => {
      if (current === up && reason === why) return
      current = up
      reason = why
      for (const l of listeners) l(up, why)
    },
    /** Not known again (the stream behind it closed). */
    forget: () => {
      current = undefined
    },
    onConnection: (listener: (up: boolean, why?: string) => void) => {
      listeners.add(listener)
      if (current !== undefined) listener(current, reason)
      return () => {
        listeners.delete(listener)
      }
    }
  }
}
