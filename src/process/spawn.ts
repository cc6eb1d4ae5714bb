/** The one place that chooses how a run is spawned: on a pseudo-terminal when it asks for one, else on pipes. */
import type { Effect, Scope } from "effect"
import type { SpawnFailed, TerminalUnavailable } from "../domain/errors.ts"
import * as PipeProcess from "./PipeProcess.ts"
import type { OutputSink, SpawnSpec, TaskProcess } from "./TaskProcess.ts"
import * as TerminalProcess from "./TerminalProcess.ts"

/** Spawns as the spec says; the scope's end ends everything the process started. */
export const spawn = (
  spec: SpawnSpec,
  output: OutputSink
): Effect.Effect<TaskProcess, SpawnFailed | TerminalUnavailable, Scope.Scope> =>
  spec.terminal === undefined ? PipeProcess.spawn(spec, output) : TerminalProcess.spawn(spec, spec.terminal, output)
