/**
 * Where taskmux cannot run, one sentence says so before anything starts: on Windows there is no
 * `/bin/sh`, no process group and no POSIX signal, so a task could be started but never stopped whole.
 */
export const unsupportedPlatform = (platform: NodeJS.Platform): string | undefined =>
  platform === "win32"
    ? "taskmux runs on Linux and macOS, not on Windows: it needs POSIX process groups and signals. " +
      "On Windows, run it in WSL: your client's command `wsl.exe`, its args the absolute paths of Node " +
      "and taskmux inside WSL (`[\"/usr/bin/node\", \"/home/you/taskmux/dist/main.js\"]`)."
    : undefined
