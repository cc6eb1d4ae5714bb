/** The command line for the person at the keyboard: being built; until then each command says so. */
export const runCli = (argv: ReadonlyArray<string>): Promise<number> => {
  process.stderr.write(`taskmux ${argv[0]}: not available yet in this build\n`)
  return Promise.resolve(2)
}
