/**
 * UTF-8 characters where the environment names no locale (an MCP client starts its servers with a short
 * one): without it a shell, grep or an editor takes the C locale, whose characters are bytes, so
 * `${#v}` of "日本語" is 9, `grep -i école` misses "ÉCOLE", and a terminal mangles what is typed beyond
 * ASCII. The same on pipes and on a terminal: a command line answers alike in both. Only the character
 * set (LC_CTYPE), not the order of sorting or the language of messages. macOS calls that locale "UTF-8".
 */
export const withCharacterSet = (env: Readonly<Record<string, string>>): Record<string, string> =>
  env.LC_ALL || env.LC_CTYPE || env.LANG
    ? { ...env }
    : { ...env, LC_CTYPE: process.platform === "darwin" ? "UTF-8" : "C.UTF-8" }
