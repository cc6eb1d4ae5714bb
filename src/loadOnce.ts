/**
 * `load` run at the first call and kept once it succeeds. A failure is not kept: one for a passing reason
 * (too many files open, the process limit) works at a later call once it has passed, as Node's own
 * `import()` does, instead of failing for the life of the server.
 */
/** A part loaded when first needed that is not there: taskmux's files replaced under it (an update, a rebuild). */
export const goneSinceStart = (error: unknown): boolean =>
  (error as { code?: unknown } | null)?.code === "ERR_MODULE_NOT_FOUND" ||
  /^Cannot find module /.test(error instanceof Error ? error.message : String(error))

export const loadOnce = <A>(load: () => Promise<A>): () => Promise<A> => {
  let loaded: Promise<A> | undefined
  return () =>
    loaded ??= load().catch((error: unknown) => {
      loaded = undefined
      throw error
    })
}
