/**
 * OTLP span export, in a module of its own so the HTTP client and exporter are loaded only
 * when `OTEL_EXPORTER_OTLP_ENDPOINT` asks for them (they would cost every start-up ~10%).
 */
import { Layer } from "effect"
import { FetchHttpClient } from "effect/http"
import { OtlpSerialization, OtlpTracer } from "effect/observability"

export const layer = (endpoint: string, version: string): Layer.Layer<never> =>
  OtlpTracer.layer({
    url: `${endpoint.replace(/\/$/, "")}/v1/traces`,
    resource: { serviceName: "taskmux", serviceVersion: version }
  }).pipe(Layer.provide(OtlpSerialization.layerJson), Layer.provide(FetchHttpClient.layer), Layer.orDie)
