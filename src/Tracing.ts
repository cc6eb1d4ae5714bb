/**
 * Tracing, off by default and free when off. `--trace` prints every span (tool calls,
 * and each task's spawn, run, backoff and kill) to stderr as it ends, indented under its
 * parent; with `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans go to an OpenTelemetry collector
 * through Effect's own OTLP exporter instead.
 */
import { Effect, Exit, Layer, Option, Tracer } from "effect"
import packageJson from "../package.json" with { type: "json" }

/** Wraps a native span to print one line when it ends. */
class StderrSpan implements Tracer.Span {
  readonly _tag = "Span"
  readonly span: Tracer.Span
  constructor(span: Tracer.Span) {
    this.span = span
  }
  get name() {
    return this.span.name
  }
  get spanId() {
    return this.span.spanId
  }
  get traceId() {
    return this.span.traceId
  }
  get parent() {
    return this.span.parent
  }
  get annotations() {
    return this.span.annotations
  }
  get status() {
    return this.span.status
  }
  get attributes() {
    return this.span.attributes
  }
  get links() {
    return this.span.links
  }
  get sampled() {
    return this.span.sampled
  }
  get kind() {
    return this.span.kind
  }
  attribute(key: string, value: unknown) {
    this.span.attribute(key, value)
  }
  event(name: string, startTime: bigint, attributes?: Record<string, unknown>) {
    this.span.event(name, startTime, attributes)
  }
  addLinks(links: ReadonlyArray<Tracer.SpanLink>) {
    this.span.addLinks(links)
  }
  end(endTime: bigint, exit: Exit.Exit<unknown, unknown>) {
    this.span.end(endTime, exit)
    process.stderr.write(formatSpan(this.span, endTime, exit))
  }
}

const depth = (span: Tracer.Span): number => {
  let n = 0
  let parent: Option.Option<Tracer.AnySpan> = span.parent
  while (Option.isSome(parent)) {
    n++
    parent = parent.value._tag === "Span" ? parent.value.parent : Option.none()
  }
  return n
}

/** `taskmux trace   task.spawn 3.1ms ok task=web command=npm run dev` */
export const formatSpan = (span: Tracer.Span, endTime: bigint, exit: Exit.Exit<unknown, unknown>): string => {
  const ms = Number(endTime - span.status.startTime) / 1e6
  const outcome = Exit.isSuccess(exit) ? "ok" : Exit.hasInterrupts(exit) ? "interrupted" : "failed"
  const attributes = [...span.attributes].map(([key, value]) =>
    `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`
  )
  return `taskmux trace ${"  ".repeat(depth(span))}${span.name} ${ms.toFixed(1)}ms ${outcome}${
    attributes.length ? ` ${attributes.join(" ")}` : ""
  }\n`
}

export const stderrTracer: Tracer.Tracer = Tracer.make({
  span: (options) => new StderrSpan(Tracer.nativeTracer.span(options))
})

/** The tracer the options ask for, or nothing at all. */
export const TracingLayer = (
  options: { readonly trace: boolean; readonly otlpEndpoint: string | undefined }
): Layer.Layer<never> => {
  const endpoint = options.otlpEndpoint
  if (endpoint !== undefined) {
    return Layer.unwrap(
      Effect.map(Effect.promise(() => import("./OtlpTracing.ts")), (otlp) => otlp.layer(endpoint, packageJson.version))
    )
  }
  return options.trace ? Layer.succeed(Tracer.Tracer, stderrTracer) : Layer.empty
}
