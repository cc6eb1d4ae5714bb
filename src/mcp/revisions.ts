/**
 * The MCP revisions taskmux speaks, and how a request says which one it is in. 2024-11-05 to
 * 2025-11-25 are sessions opened by `initialize`; 2026-07-28 has no handshake: every request carries
 * its revision, the client's capabilities and (optionally) its info and log level in `_meta`, and the
 * server infers nothing from earlier requests.
 */
import packageJson from "../../package.json" with { type: "json" }
import { headOf } from "../domain/clipText.ts"
import { isObject, quoteValue } from "./json.ts"
import { ErrorCode, invalidParams, protocolError } from "./protocolError.ts"

/** The stateless revision. */
export const MODERN_VERSION = "2026-07-28"
/** The revisions with an initialize handshake, newest first: an initialize asking for another gets the newest. */
export const LEGACY_VERSIONS = ["2025-11-25", "2025-06-18", "2025-03-26", "2024-11-05", "2024-10-07"]
/** The revision of the tasks utility (`capabilities.tasks`, `params.task`, a tool's `execution`). */
export const TASKS_REVISION = "2025-11-25"
/** Every revision, newest first. */
export const PROTOCOL_VERSIONS = [MODERN_VERSION, ...LEGACY_VERSIONS]

export const PROTOCOL_VERSION_META = "io.modelcontextprotocol/protocolVersion"
export const CLIENT_CAPABILITIES_META = "io.modelcontextprotocol/clientCapabilities"
export const CLIENT_INFO_META = "io.modelcontextprotocol/clientInfo"
export const LOG_LEVEL_META = "io.modelcontextprotocol/logLevel"
export const SERVER_INFO_META = "io.modelcontextprotocol/serverInfo"
export const SUBSCRIPTION_ID_META = "io.modelcontextprotocol/subscriptionId"
/** The Tasks extension: a 2026-07-28 client opts in per request, in its capabilities' `extensions`. */
export const TASKS_EXTENSION = "io.modelcontextprotocol/tasks"

/** MCP Apps: a client that renders server UIs says so in its capabilities' `extensions`. */
export const UI_EXTENSION = "io.modelcontextprotocol/ui"
export const APP_MIME_TYPE = "text/html;profile=mcp-app"

/** The client renders MCP Apps (declared the extension with the apps' MIME type, or with no list of them). */
export const rendersApps = (capabilities: Readonly<Record<string, unknown>> | undefined): boolean => {
  const extensions = capabilities?.extensions
  const ui = isObject(extensions) ? extensions[UI_EXTENSION] : undefined
  if (!isObject(ui)) return false
  return !Array.isArray(ui.mimeTypes) || ui.mimeTypes.includes(APP_MIME_TYPE)
}

export const SERVER_INFO = { name: "taskmux", title: "taskmux", version: packageJson.version }

export const LOG_LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"] as const
export type LogLevel = typeof LOG_LEVELS[number]

/** What a 2026-07-28 request says about itself. */
export interface ModernRequest {
  readonly capabilities: Readonly<Record<string, unknown>>
  readonly clientName: string | undefined
  readonly logLevel: LogLevel | undefined
  /** It opted into the Tasks extension. */
  readonly tasks: boolean
}

/**
 * A request's 2026-07-28 envelope, or undefined for a request of an earlier era (no revision in its
 * `_meta`, or one of the session revisions). An unknown revision is -32022 with the ones taskmux
 * speaks; a missing or malformed capability or level is -32602 naming the key.
 */
export const modernEnvelope = (params: unknown): ModernRequest | undefined => {
  const meta = isObject(params) ? params._meta : undefined
  if (!isObject(meta) || !(PROTOCOL_VERSION_META in meta)) return undefined
  const requested = meta[PROTOCOL_VERSION_META]
  if (typeof requested === "string" && LEGACY_VERSIONS.includes(requested)) return undefined
  if (requested !== MODERN_VERSION) {
    throw protocolError(
      ErrorCode.UnsupportedProtocolVersion,
      `Unsupported protocol version ${quoteValue(requested)}: taskmux speaks ${PROTOCOL_VERSIONS.join(", ")}.`,
      { supported: PROTOCOL_VERSIONS, requested }
    )
  }
  const capabilities = meta[CLIENT_CAPABILITIES_META]
  if (!isObject(capabilities)) {
    throw invalidParams(
      `Invalid params: _meta["${CLIENT_CAPABILITIES_META}"] must be the client's capabilities, an object ({} for none), got ${
        quoteValue(capabilities)
      }.`
    )
  }
  const level = meta[LOG_LEVEL_META]
  if (level !== undefined && !LOG_LEVELS.includes(level as LogLevel)) {
    throw invalidParams(
      `Invalid params: _meta["${LOG_LEVEL_META}"] must be one of ${LOG_LEVELS.join(", ")}, got ${quoteValue(level)}.`
    )
  }
  const info = meta[CLIENT_INFO_META]
  const extensions = capabilities.extensions
  return {
    capabilities,
    clientName: isObject(info) && typeof info.name === "string" ? headOf(info.name, 100) : undefined,
    logLevel: level as LogLevel | undefined,
    tasks: isObject(extensions) && isObject(extensions[TASKS_EXTENSION])
  }
}

/** Methods 2026-07-28 removed, and what a client of it does instead. */
export const REMOVED_IN_MODERN = new Map([
  ["initialize", "send each request with its revision in _meta; server/discover tells what the server offers."],
  ["ping", "any request shows the server is alive; server/discover is the cheapest."],
  [
    "logging/setLevel",
    "nor does taskmux send its clients log messages; a task's end is heard on a subscriptions/listen of " +
    "its output (notifications.resourceSubscriptions: [\"task://NAME/output\"]), or in a wait's answer."
  ],
  ["resources/subscribe", "subscriptions/listen with notifications.resourceSubscriptions: [uri]."],
  ["resources/unsubscribe", "cancel the subscriptions/listen request (notifications/cancelled)."],
  ["tasks/result", "tasks/get answers with the result once the task is completed."],
  ["tasks/list", "the Tasks extension has no list: keep the taskId from the tools/call answer."]
])

/** Methods only a 2026-07-28 request may call. */
export const MODERN_ONLY = new Set(["subscriptions/listen", "tasks/update"])

/** Answers 2026-07-28 lets a client keep for a while: taskmux's change with its tasks, so never. */
export const CACHEABLE = new Set([
  "server/discover",
  "tools/list",
  "prompts/list",
  "resources/list",
  "resources/templates/list",
  "resources/read"
])
