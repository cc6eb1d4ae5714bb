/**
 * taskmux as the first process of a PID namespace (a container's entrypoint, `docker run IMAGE taskmux`):
 * the kernel gives it every orphan of its tasks' trees, which Node never reaps (it waits for its own
 * children only), and ends the namespace, every task in it, the moment it exits.
 */

/** Said to the client (stderr and `initialize`'s instructions) when taskmux is PID 1; undefined otherwise. */
export const pidOneNote = (pid = process.pid): string | undefined =>
  pid !== 1 ? undefined : "taskmux runs as PID 1 (a container's first process): it serves this session alone, " +
    "for a shared supervisor could not outlive it (the container's processes end with it), and processes its " +
    "tasks leave behind are never reaped: they stay as zombies, which count against the container's process " +
    "limit. Run the container with --init (docker run --init), or with tini or dumb-init as its entrypoint."
