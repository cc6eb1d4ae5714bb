/** The one-time addresses `taskmux ui` gives a browser: once, within their time, for their own page. */
import { describe, expect, it } from "vitest"
import { ticketBook } from "../../src/web/ticketBook.ts"

describe("ticketBook", () => {
  it("takes a ticket once, within its time, for the page it was issued for", () => {
    let now = 1_000
    const book = ticketBook(180_000, () => now)
    const full = book.issue(false)
    const readOnly = book.issue(true)
    expect(full).toMatch(/^[0-9a-f]{32}$/)
    expect(book.take(readOnly)).toBe(true)
    expect(book.take(readOnly)).toBeUndefined()
    expect(book.take("0".repeat(32))).toBeUndefined()
    expect(book.take(null)).toBeUndefined()
    // Past its time, even unused, it is nothing.
    now += 180_001
    expect(book.take(full)).toBeUndefined()
    const fresh = book.issue(false)
    now += 179_999
    expect(book.take(fresh)).toBe(false)
  })
})
