/**
 * How the page's effects run: in the supervisor's context, as the page's viewer (`taskmux ui`), so the
 * page sees what the tools see; the read-only page's as a viewer that hides environment values.
 */
import { type Context, Effect } from "effect"
import type { ToolEnv } from "../mcp/Tool.ts"
import type { Notifier } from "../supervisor/Notifier.ts"
import { makeViewer, Viewer } from "../supervisor/Viewer.ts"

/** Runs an effect for the page; `signal` interrupts it (the viewer went away). */
export type PageRunner = <A, E>(
  effect: Effect.Effect<A, E, ToolEnv | Notifier>,
  signal?: AbortSignal,
  readOnly?: boolean
) => Promise<A>

export const pageRunner = (context: Context.Context<ToolEnv | Notifier>): PageRunner => {
  const viewer = makeViewer(() => "taskmux ui")
  // The read-only page's calls: the same viewer, but no environment values in any answer.
  const readOnlyViewer = { ...viewer, hidesEnvValues: true as const }
  return (effect, signal, readOnly = false) =>
    Effect.runPromise(
      effect.pipe(Effect.provideService(Viewer, readOnly ? readOnlyViewer : viewer), Effect.provideContext(context)),
      { signal }
    )
}
