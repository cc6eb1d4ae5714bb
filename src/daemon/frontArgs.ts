/**
 * Whether this run is a front, and for which project, read from the command line and the environment
 * without loading anything: a front starts the supervisor first and checks its options meanwhile.
 * Undefined: not a front (--help, --version, --isolated, or the supervisor itself).
 */
export const frontProject = (argv: ReadonlyArray<string>, env: NodeJS.ProcessEnv): string | undefined => {
  if (argv[0] === "supervise") return undefined
  let project = env.TASKMUX_PROJECT || undefined
  let isolated = /^(true|1|yes|on)$/i.test(env.TASKMUX_ISOLATED ?? "")
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (["--help", "-h", "--version", "-v"].includes(arg)) return undefined
    if (arg === "--isolated") isolated = true
    else if (arg === "--project") project = argv[++i]
    else if (arg.startsWith("--project=")) project = arg.slice("--project=".length)
  }
  return isolated ? undefined : project ?? process.cwd()
}
