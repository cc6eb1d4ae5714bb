/**
 * Text from elsewhere (a caller's pattern, the command line a process gave itself) as a message quotes
 * it. A terminal obeys control characters, the 8-bit (C1) ones too: quoted as they are, they could
 * retitle the terminal of whoever reads the message, set its clipboard (OSC 52) or clear its screen.
 * Pure.
 */

// eslint-disable-next-line no-control-regex -- they are what it finds
const CONTROLS = /[\u0000-\u001f\u007f-\u009f]/g

/** Every control character as `\xNN`, as a shell's `$'…'` writes it. */
export const escapeControls = (text: string): string =>
  text.replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)

/** JSON, with DEL and the C1 controls escaped as `\u00NN` too (JSON.stringify escapes only C0): the same value. */
export const jsonEscapingControls = (value: unknown, indent?: number): string =>
  JSON.stringify(value, null, indent).replace(
    /[\u007f-\u009f]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`
  )
