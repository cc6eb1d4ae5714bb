/**
 * JSON-RPC error answers. The session answers any thrown error that has a numeric `code` with that
 * code and its message, the sentence alone.
 */

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

export const protocolError = (code: number, message: string): Error => Object.assign(new Error(message), { code })

/** The client's request does not fit: -32602. */
export const invalidParams = (message: string): Error => protocolError(ErrorCode.InvalidParams, message)
