/** "~" and "~/…" as a shell reads them (what a model writes for the user's home); nothing else is expanded. */
import * as os from "node:os"
import * as NodePath from "node:path"

/** `~` is `home`; where there is none (a uid without a passwd entry, no HOME), it is left as written. */
export const withHome = (cwd: string, home: string | undefined) =>
  home !== undefined && (cwd === "~" || cwd.startsWith("~/")) ? NodePath.join(home, cwd.slice(1)) : cwd

/** HOME, else the passwd entry's home; none for a uid without one (a container's `--user 12345`). */
export const homeDir = (): string | undefined => {
  try {
    return os.homedir()
  } catch {
    return undefined
  }
}
