/**
 * The project's task file, read from `--project DIR` (default: the server's working directory,
 * which most clients set to the workspace): `taskmux.yaml`, `taskmux.yml` or `taskmux.json`, else
 * a `Procfile`. Read again on the next call that needs it once the file changed (its size or
 * modification time), so an edit needs no restart; tasks that run keep their settings until
 * restarted. A bad file leaves the server serving with no project tasks, and says why.
 */
import { Context, Effect, Layer } from "effect"
import { readFileSync, statSync } from "node:fs"
import * as NodePath from "node:path"
import { TaskmuxConfig } from "../Config.ts"
import { goneText, ownFileGone } from "../daemon/ownFiles.ts"
import { parseProcfile, type ProjectFile, ProjectFileError } from "./ProjectFile.ts"
import { refusedTaskFile, TASK_FILE_NAMES } from "./taskFileNames.ts"

export interface ProjectState {
  readonly dir: string
  /** The file read, or undefined when there is none (or it is bad). */
  readonly file: ProjectFile | undefined
  readonly error: ProjectFileError | undefined
}

export class Project extends Context.Service<Project, {
  /** The project as its file says now. */
  readonly current: Effect.Effect<ProjectState>
}>()("taskmux/Project") {
  static readonly layer: Layer.Layer<Project, never, TaskmuxConfig> = Layer.effect(
    Project,
    Effect.gen(function*() {
      const { project: dir } = yield* TaskmuxConfig
      let cached: { readonly key: string; readonly state: ProjectState } | undefined
      const current = Effect.suspend(() => {
        const found = findFile(dir)
        const key = found?.key ?? "none"
        if (cached?.key === key) return Effect.succeed(cached.state)
        return Effect.promise(() =>
          found === undefined ? Promise.resolve({ dir, file: undefined, error: undefined }) : read(dir, found)
        ).pipe(Effect.flatMap((state) => {
          cached = { key, state }
          return state.error === undefined
            ? Effect.as(
              state.file === undefined ?
                Effect.void :
                Effect.logInfo(`project tasks from ${state.file.path}: ${[...state.file.tasks.keys()].join(", ")}`),
              state
            )
            : Effect.as(Effect.logWarning(`no project tasks: ${state.error.message}`), state)
        }))
      })
      // Read at start-up, so a bad file is reported on stderr at once.
      yield* current
      return Project.of({ current })
    })
  )

  /** No project, for tests of everything else. */
  static readonly layerNone: Layer.Layer<Project> = Layer.succeed(
    Project,
    Project.of({ current: Effect.succeed({ dir: process.cwd(), file: undefined, error: undefined }) })
  )
}

/** The project's file as it is now, read once: what `taskmux ps` shows where no supervisor runs. */
export const readProject = (dir: string): Promise<ProjectState> => {
  const found = findFile(dir)
  return found === undefined ? Promise.resolve({ dir, file: undefined, error: undefined }) : read(dir, found)
}

/** The first candidate that is a file, keyed by what changes when it is edited. Asked on every call: no exceptions. */
const findFile = (dir: string) => {
  for (const name of TASK_FILE_NAMES) {
    const path = NodePath.join(dir, name)
    let stat
    try {
      stat = statSync(path, { throwIfNoEntry: false })
    } catch {
      continue // Unreadable: as if it were not there.
    }
    if (stat?.isFile()) {
      return {
        path,
        key: `${path}:${stat.size}:${stat.mtimeMs}:${stat.uid}`,
        refused: refusedTaskFile(path, stat, dir)?.problem
      }
    }
  }
  return undefined
}

const read = async (
  dir: string,
  { path, refused }: { path: string; refused?: string | undefined }
): Promise<ProjectState> => {
  if (refused !== undefined) return { dir, file: undefined, error: new ProjectFileError({ path, problem: refused }) }
  let text: string
  try {
    text = readFileSync(path, "utf8")
  } catch (error) {
    return {
      dir,
      file: undefined,
      error: new ProjectFileError({ path, problem: `cannot be read (${(error as Error).message})` })
    }
  }
  const parsed = NodePath.basename(path) === "Procfile"
    ? parseProcfile(path, text)
    : await import("./parseTaskFile.ts").then(({ parseTaskFile }) => parseTaskFile(path, text), (error: unknown) => {
      if (!ownFileGone(error)) throw error
      return new ProjectFileError({ path, problem: `cannot be read: ${goneText("its parser")}` })
    })
  return parsed instanceof ProjectFileError
    ? { dir, file: undefined, error: parsed }
    : { dir, file: parsed, error: undefined }
}
