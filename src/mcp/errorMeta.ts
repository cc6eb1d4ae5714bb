/**
 * What a tool's error answer carries in `_meta` beside its words, for a client that acts on it rather than
 * reads it (the CLI): the error's tag, and a task's log file. Plain, so the CLI loads nothing else for it.
 */
export const ERROR_META = "taskmux/error"
export const LOG_FILE_META = "taskmux/logFile"
