/**
 * Whether a connection may be served, by its peer's uid as /proc shows it (procfs.peerUid): this user's;
 * anyone where there is no /proc to ask (null); one from elsewhere (not in this machine's tables). One from
 * loopback whose socket cannot be found is not let in unknown.
 */
export const peerAllowed = (peer: number | null | undefined, self: number, remoteAddress: string | undefined) =>
  peer === self || peer === null || peer === undefined && !/^(127\.|::1$|::ffff:127\.)/.test(remoteAddress ?? "")
