/** Small helpers for JSON values as clients send them. */

/** A JSON object: what params, arguments and `_meta` must be. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** A value, as an error message quotes it: JSON, cut short. */
export const quote = (value: unknown): string => {
  if (value === undefined) return "nothing"
  const text = JSON.stringify(value) ?? String(value)
  return text.length > 60 ? `${text.slice(0, 59)}…` : text
}
