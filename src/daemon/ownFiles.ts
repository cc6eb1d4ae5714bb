/**
 * taskmux's own files, loaded when first needed (the page, MCP over HTTP, a YAML project file's parser):
 * an upgrade or a rebuild under a running supervisor removes them, with new names for the new ones. What
 * then cannot be loaded says so, and how to get a current taskmux, rather than a module's path.
 */

/** Whether a failed `import()` is of a file no longer there. */
export const ownFileGone = (error: unknown): boolean =>
  typeof error === "object" && error !== null && (error as { code?: unknown }).code === "ERR_MODULE_NOT_FOUND"

const said = new Set<string>()

/** What cannot be loaded (`what`), why and what to do; said once on stderr (a supervisor's log) too. */
export const goneText = (what: string): string => {
  const text = `This taskmux (pid ${process.pid}) cannot load ${what}: its files were replaced on disk since it ` +
    `started (an upgrade or a rebuild). End it when its tasks may stop (kill ${process.pid}): the next taskmux ` +
    "starts a current one."
  if (!said.has(what)) {
    said.add(what)
    process.stderr.write(`taskmux: ${text}\n`)
  }
  return text
}
