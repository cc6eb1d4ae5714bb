/** Small helpers for JSON values as clients send them. */
import { shortJson } from "../domain/argumentIssues.ts"

/** A JSON object: what params, arguments and `_meta` must be. */
export const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value)

/** Any JSON value, as a protocol error quotes it: JSON, cut short (a string of a message: errors.ts's quote). */
export const quoteValue = (value: unknown): string => value === undefined ? "nothing" : shortJson(value)
