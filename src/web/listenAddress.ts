/**
 * `--listen ADDR[:PORT]` as the listener takes it: loopback, and a port of the system's choosing, unless
 * given; `[::1]:8080` for IPv6. Pure: the CLI checks it before it asks the supervisor, which checks again.
 */
export interface ListenAddress {
  readonly host: string
  readonly port: number
}

/** The address, or what is wrong with it, naming what would be right. */
export const listenAddress = (listen: unknown): ListenAddress | string => {
  if (listen === undefined) return { host: "127.0.0.1", port: 0 }
  // A port alone (8080, :8080) is a port on loopback, not a host named "8080".
  const portOnly = typeof listen === "string" ? /^:?(\d+)$/.exec(listen) : null
  const match = typeof listen === "string" && portOnly === null
    ? /^(?:\[([^\]]+)\]|([^:[\]]+))(?::(\d{1,5}))?$/.exec(listen)
    : null
  if (portOnly === null && match === null) {
    return `--listen takes an address and an optional port, such as 127.0.0.1:8080 or [::1]:8080, got ${
      JSON.stringify(listen)
    }.`
  }
  const port = Number(portOnly?.[1] ?? match?.[3] ?? 0)
  if (port > 65535) return `--listen ${JSON.stringify(listen)}: a port is 1 to 65535 (or 0, the system's choice).`
  return { host: match?.[1] ?? match?.[2] ?? "127.0.0.1", port }
}
