/**
 * A JSON-RPC error answer whose message is the sentence alone: the SDK's McpError puts "MCP error
 * -32602:" before it. The protocol layer answers any thrown error that has a numeric code with that
 * code and its message.
 */
import { ErrorCode } from "@modelcontextprotocol/sdk/types.js"

export const protocolError = (code: number, message: string): Error => Object.assign(new Error(message), { code })

/** The client's request does not fit: -32602. */
export const invalidParams = (message: string): Error => protocolError(ErrorCode.InvalidParams, message)
