/**
 * The project's task file, read from `--project DIR` (default: the server's working directory,
 * which most clients set to the workspace): `taskmux.yaml`, `taskmux.yml` or `taskmux.json`, else
 * a `Procfile`. Read again on the next call that needs it once the file changed (its size or
 * modification time), so an edit needs no restart; tasks that run keep their settings until
 * restarted. A bad file leaves the server serving with no project tasks, and says why.
 */
import { Context, Effect, Layer } from "effect"
import { readFileSync, readlinkSync, statSync } from "node:fs"
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
      const identity = identityOf(dir)
      let cached: { readonly key: string; readonly state: ProjectState } | undefined
      const current = Effect.suspend(() => {
        const found = findFile(dir)
        // The directory itself moved (renamed) or went (a worktree removed) since the start: said, not taken
        // for a project with no task file.
        const gone = found === undefined ? goneProblem(dir, identity) : undefined
        const key = found?.key ?? (gone === undefined ? "none" : `gone:${gone}`)
        if (cached?.key === key) return Effect.succeed(cached.state)
        return Effect.promise(() =>
          found === undefined
            ? Promise.resolve({
              dir,
              file: undefined,
              error: gone === undefined ? undefined : new ProjectFileError({ path: dir, problem: gone })
            })
            : read(dir, found)
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

const identityOf = (path: string) => {
  try {
    const { dev, ino } = statSync(path)
    return `${dev}:${ino}`
  } catch {
    return undefined
  }
}

/**
 * Why the project directory is not the one this server started for: gone from its path, or another
 * directory there now. Where it went, when this process runs in it (a supervisor runs in its project, and
 * Linux's /proc/self/cwd follows a rename).
 */
const goneProblem = (dir: string, identity: string | undefined): string | undefined => {
  if (identity === undefined) return undefined
  const now = identityOf(dir)
  if (now === identity) return undefined
  let movedTo: string | undefined
  try {
    const cwd = readlinkSync("/proc/self/cwd")
    if (!cwd.endsWith(" (deleted)") && identityOf(cwd) === identity && cwd !== dir) movedTo = cwd
  } catch {
    // No /proc (macOS): where it went cannot be told.
  }
  const what = movedTo !== undefined
    ? `was moved to ${movedTo} since this taskmux (pid ${process.pid}) started`
    : now === undefined
    ? `no longer exists (removed or moved since this taskmux, pid ${process.pid}, started)`
    : `is another directory than when this taskmux (pid ${process.pid}) started (removed and made again)`
  return `the project directory ${what}: its tasks run on where they started, and no project task starts here. ` +
    `A client in the directory there now has a supervisor of its own; stop these tasks (taskmux stop NAME ` +
    `--project ${dir}) to run them there.`
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
