/** What was given is wrong (exit 2, as every usage error): bad options, or a --project that is no directory. */
export class UsageError extends Error {}
