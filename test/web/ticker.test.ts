/** A live stream's pace, on fake timers: marks coalesce into one update a tick, a full socket waits for its drain. */
import { EventEmitter } from "node:events"
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest"
import { MAX_UNSENT, TICK_MS, ticker } from "../../src/web/ticker.ts"

beforeEach(() => {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "performance"] })
  vi.advanceTimersByTime(10_000)
})
afterEach(() => {
  vi.useRealTimers()
})

const socket = () => Object.assign(new EventEmitter(), { writableLength: 0 })

describe("ticker", () => {
  it("updates at once, then once per tick however often it is marked, and not at all unmarked", async () => {
    let updates = 0
    const tick = ticker(socket(), async () => void updates++)
    await vi.advanceTimersByTimeAsync(0)
    expect(updates).toBe(1)
    tick.mark()
    tick.mark()
    tick.mark()
    await vi.advanceTimersByTimeAsync(TICK_MS - 1)
    expect(updates).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(updates).toBe(2)
    await vi.advanceTimersByTimeAsync(10 * TICK_MS)
    expect(updates).toBe(2)
    // Marked after a quiet while: no wait for a tick already past.
    tick.mark()
    await vi.advanceTimersByTimeAsync(0)
    expect(updates).toBe(3)
    tick.stop()
  })

  it("sends nothing more while the socket holds over MAX_UNSENT, and catches up when it drains", async () => {
    let updates = 0
    const response = socket()
    const tick = ticker(response, async () => void updates++)
    await vi.advanceTimersByTimeAsync(0)
    response.writableLength = MAX_UNSENT + 1
    tick.mark()
    await vi.advanceTimersByTimeAsync(10 * TICK_MS)
    expect(updates).toBe(1)
    tick.mark()
    response.writableLength = 0
    response.emit("drain")
    await vi.advanceTimersByTimeAsync(0)
    expect(updates).toBe(2)
    tick.stop()
  })

  it("a failed update is no end: the next mark updates again; stopped, nothing more", async () => {
    let updates = 0
    const tick = ticker(socket(), async () => {
      updates++
      throw new Error("a read failed")
    })
    await vi.advanceTimersByTimeAsync(0)
    tick.mark()
    await vi.advanceTimersByTimeAsync(TICK_MS)
    expect(updates).toBe(2)
    tick.mark()
    tick.stop()
    await vi.advanceTimersByTimeAsync(10 * TICK_MS)
    expect(updates).toBe(2)
  })
})
