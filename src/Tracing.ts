/**
 * Tracing, off by default and free when off. `--trace` prints every span (tool calls,
 * and each task's spawn, run, backoff and kill) to stderr as it ends, indented under its
 * parent; with `OTEL_EXPORTER_OTLP_ENDPOINT` set, spans go to an OpenTelemetry collector
 * through Effect's own OTLP exporter instead.
 */
import { Cause, Effect, Exit, Layer, Option, References, Tracer } from "effect"
import packageJson from "../package.json" with { type: "json" }
import { clipText, firstLineOf } from "./domain/clipText.ts"

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
  // A failure says why, in its first line: "task.spawn failed (Command "x" was not found. …)".
  const outcome = Exit.isSuccess(exit)
    ? "ok"
    : Exit.hasInterrupts(exit)
    ? "interrupted"
    : `failed (${clipText(firstLineOf(Cause.squash(exit.cause)), 201)})`
  const attributes = [...span.attributes].filter(([, value]) => value !== null && value !== undefined).map((
    [key, value]
  ) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`)
  return `taskmux trace ${"  ".repeat(depth(span))}${span.name} ${ms.toFixed(1)}ms ${outcome}${
    attributes.length ? ` ${attributes.join(" ")}` : ""
  }\n`
}

export const stderrTracer: Tracer.Tracer = Tracer.make({
  span: (options) => {
    // A native span that also prints one line when it ends.
    const span = Tracer.nativeTracer.span(options)
    const end = span.end.bind(span)
    return Object.assign(span, {
      end: (endTime: bigint, exit: Exit.Exit<unknown, unknown>) => {
        end(endTime, exit)
        process.stderr.write(formatSpan(span, endTime, exit))
      }
    })
  }
})

/** The tracer the options ask for, or none: spans are then not even made (a few µs a call). */
export const TracingLayer = (
  options: { readonly trace: boolean; readonly otlpEndpoint: string | undefined }
): Layer.Layer<never> => {
  const endpoint = options.otlpEndpoint
  if (endpoint !== undefined) {
    return Layer.unwrap(
      Effect.map(Effect.promise(() => import("./OtlpTracing.ts")), (otlp) => otlp.layer(endpoint, packageJson.version))
    )
  }
  return options.trace ? Layer.succeed(Tracer.Tracer, stderrTracer) : Layer.succeed(References.TracerEnabled, false)
}
