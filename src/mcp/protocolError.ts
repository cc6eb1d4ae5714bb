/**
 * JSON-RPC error answers. A handler throws a ProtocolError; the session answers with its code, its
 * message (the sentence alone) and its data. Anything else thrown is an internal error.
 */
import { Schema } from "effect"

/** JSON-RPC's own codes, and MCP's: a resource that is not there (before 2026-07-28), and 2026-07-28's own. */
export const ErrorCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
  ResourceNotFound: -32002,
  MissingRequiredClientCapability: -32021,
  UnsupportedProtocolVersion: -32022
} as const

export class ProtocolError extends Schema.TaggedError<ProtocolError>()("ProtocolError", {
  code: Schema.Number,
  message: Schema.String,
  /** The error's `data`, for a client to act on without reading the words. */
  data: Schema.optionalKey(Schema.Unknown)
}) {}

export const protocolError = (code: number, message: string, data?: unknown): ProtocolError =>
  new ProtocolError({ code, message, ...(data !== undefined && { data }) })

/** The client's request does not fit: -32602. */
export const invalidParams = (message: string): ProtocolError => protocolError(ErrorCode.InvalidParams, message)
