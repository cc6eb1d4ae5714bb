import { randomBytes } from "node:crypto"

/**
 * One-time tickets for a browser the CLI opens (the token itself never goes on a command line): each is
 * good once, within `ttlMs`, for the page it was issued for (read-only or not).
 */
export const ticketBook = (ttlMs: number, now: () => number = () => performance.now()) => {
  const tickets = new Map<string, { readonly readOnly: boolean; readonly until: number }>()
  return {
    issue: (readOnly: boolean): string => {
      const ticket = randomBytes(16).toString("hex")
      tickets.set(ticket, { readOnly, until: now() + ttlMs })
      for (const [old, entry] of tickets) if (entry.until < now()) tickets.delete(old)
      return ticket
    },
    /** Whether the ticket is for the read-only page; undefined for none, one used already or one too old. */
    take: (ticket: string | null): boolean | undefined => {
      const entry = ticket === null ? undefined : tickets.get(ticket)
      if (entry === undefined) return undefined
      tickets.delete(ticket!)
      return entry.until < now() ? undefined : entry.readOnly
    }
  }
}
