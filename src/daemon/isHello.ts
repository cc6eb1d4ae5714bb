/**
 * Whether a greeting of this wire protocol has the shape a Hello has, field by field. Any process of the
 * user may connect to the socket, and a greeting is acted on in a socket's callback, outside every
 * fiber: one whose `args` was not a list threw there and ended the supervisor, every task of the project
 * with it. The supervisor's side only: the front and the CLI load no Schema.
 */
import { Schema } from "effect"
import type { Hello } from "./hello.ts"

const HelloShape = Schema.Struct({
  taskmux: Schema.String,
  protocol: Schema.Number,
  role: Schema.Literals(["front", "cli"]),
  args: Schema.optionalKey(Schema.Array(Schema.String)),
  env: Schema.optionalKey(Schema.Record(Schema.String, Schema.String)),
  cwd: Schema.optionalKey(Schema.String),
  build: Schema.optionalKey(Schema.String)
})

export const isHello: (greeting: unknown) => greeting is Hello = Schema.is(HelloShape)
