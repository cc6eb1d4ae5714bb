/** "~" and "~/…" as a shell reads them (what a model writes for the user's home); nothing else is expanded. */
import * as NodePath from "node:path"

export const withHome = (cwd: string, home: string) =>
  cwd === "~" || cwd.startsWith("~/") ? NodePath.join(home, cwd.slice(1)) : cwd
