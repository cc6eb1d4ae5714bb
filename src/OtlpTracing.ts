/**
 * OTLP span export, in a module of its own so the HTTP client and exporter are loaded only
 * when `OTEL_EXPORTER_OTLP_ENDPOINT` asks for them (they would cost every start-up ~10%).
 *
 * The OpenTelemetry variables are read here, leniently: a value the exporter cannot use is said in one
 * line on stderr and left out, never the end of the server. A collector that is down, slow or failing
 * costs each export at most EXPORT_TIMEOUT_MS and an exit at most SHUTDOWN_FLUSH_MS, and is said once
 * on stderr (and again once it answers after failing).
 */
import { ConfigProvider, Effect, Layer } from "effect"
import { FetchHttpClient, HttpClient, HttpClientError } from "effect/http"
import { OtlpSerialization, OtlpTracer } from "effect/observability"

/** The OpenTelemetry spec's default for OTEL_EXPORTER_OTLP_TIMEOUT. */
const EXPORT_TIMEOUT_MS = 10_000
/**
 * Exports at once: the exporter starts one per 1,000 spans without waiting for the last, so a collector
 * that takes its time would hold every batch since in memory, and a socket each.
 */
const MAX_IN_FLIGHT = 2
/** What an exit waits for the last spans: within the 2 s a clean exit takes, whatever the collector does. */
const SHUTDOWN_FLUSH_MS = 500

const say = (text: string) => process.stderr.write(`taskmux: ${text}\n`)

const decode = (value: string) => {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/** `k1=v1,k2=v2` (values URI-encoded), as OTEL_RESOURCE_ATTRIBUTES and OTEL_EXPORTER_OTLP_HEADERS take them. */
const pairs = (name: string, text: string | undefined): Record<string, string> => {
  const out: Record<string, string> = {}
  const bad: Array<string> = []
  for (const item of (text ?? "").split(",")) {
    if (item.trim() === "") continue
    const at = item.indexOf("=")
    if (at <= 0) {
      bad.push(item.trim())
      continue
    }
    out[decode(item.slice(0, at).trim())] = decode(item.slice(at + 1).trim())
  }
  if (bad.length > 0) say(`${name}: ${bad.map((b) => JSON.stringify(b)).join(", ")} left out (expected key=value)`)
  return out
}

/** Why a request failed, in a few words: ECONNREFUSED, not "TransportError". */
const reasonOf = (reason: HttpClientError.HttpClientError["reason"]): string => {
  if ("description" in reason && reason.description !== undefined) return reason.description
  const cause = "cause" in reason
    ? reason.cause as { code?: unknown; message?: unknown; cause?: { code?: unknown } }
    : undefined
  const code = cause?.cause?.code ?? cause?.code
  return typeof code === "string" ? code : typeof cause?.message === "string" ? cause.message : reason._tag
}

/** The exporter's HTTP client: each request ends within EXPORT_TIMEOUT_MS, and an outage is said once. */
const client = (url: string) =>
  Layer.effect(
    HttpClient.HttpClient,
    Effect.map(HttpClient.HttpClient, (fetchClient) => {
      let failing = false
      const failed = (why: string) =>
        Effect.sync(() => {
          if (failing) return
          failing = true
          say(`spans to ${url} could not be sent (${why}): dropped until the collector answers`)
        })
      let inFlight = 0
      return HttpClient.transform(fetchClient, (response, request) => {
        if (inFlight >= MAX_IN_FLIGHT) {
          // Not a transient error: the exporter drops this batch (and spans for a minute) without retrying.
          return Effect.fail(
            new HttpClientError.HttpClientError({
              reason: new HttpClientError.EncodeError({
                request,
                description: `the collector has not answered ${MAX_IN_FLIGHT} exports yet`
              })
            })
          )
        }
        inFlight++
        return response.pipe(
          Effect.timeoutOrElse({
            duration: EXPORT_TIMEOUT_MS,
            orElse: () =>
              Effect.fail(
                new HttpClientError.HttpClientError({
                  reason: new HttpClientError.TransportError({
                    request,
                    description: `no answer within ${EXPORT_TIMEOUT_MS / 1000} s`
                  })
                })
              )
          }),
          Effect.tap((answer) =>
            answer.status >= 300 ? failed(`HTTP ${answer.status}`) : Effect.sync(() => {
              if (failing) say(`spans to ${url} are sent again`)
              failing = false
            })
          ),
          Effect.tapError((error) => failed(reasonOf(error.reason))),
          Effect.ensuring(Effect.sync(() => inFlight--))
        )
      })
    })
  ).pipe(Layer.provide(FetchHttpClient.layer))

export const layer = (endpoint: string, version: string): Layer.Layer<never> => {
  const env = process.env
  const url = `${endpoint.replace(/\/$/, "")}/v1/traces`
  const attributes = pairs("OTEL_RESOURCE_ATTRIBUTES", env.OTEL_RESOURCE_ATTRIBUTES)
  return OtlpTracer.layer({
    url,
    resource: {
      serviceName: env.OTEL_SERVICE_NAME || attributes["service.name"] || "taskmux",
      serviceVersion: version,
      attributes
    },
    headers: pairs(
      "OTEL_EXPORTER_OTLP_HEADERS",
      env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS
    ),
    shutdownTimeout: SHUTDOWN_FLUSH_MS
  }).pipe(
    Layer.provide(OtlpSerialization.layerJson),
    Layer.provide(client(url)),
    // The exporter reads OTEL_RESOURCE_ATTRIBUTES itself, strictly (a `%` not encoded ended the server): read above.
    Layer.provide(ConfigProvider.layer(ConfigProvider.fromEnv({ env: {} }))),
    Layer.catchCause((cause) =>
      Layer.effectDiscard(Effect.sync(() => say(`spans are not exported: ${String(cause).split("\n")[0]}`)))
    )
  )
}
