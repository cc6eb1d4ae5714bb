/** The last lines of a file (a task's log), read from its last megabyte at most. Throws as `fs` does. */
import * as fs from "node:fs"
import { cleanText } from "./cleanText.ts"

const TAIL_BYTES = 1 << 20

export const lastLinesOfFile = (path: string, count: number): Array<string> => {
  const fd = fs.openSync(path, "r")
  try {
    const size = fs.fstatSync(fd).size
    const length = Math.min(size, TAIL_BYTES)
    const buffer = Buffer.alloc(length)
    fs.readSync(fd, buffer, 0, length, size - length)
    let text = buffer.toString("utf8")
    // Read from within a line: that piece is not one.
    if (length < size) text = text.slice(text.indexOf("\n") + 1)
    if (text === "" || count <= 0) return []
    return text.replace(/\r?\n$/, "").split(/\r?\n/).slice(-count)
  } finally {
    fs.closeSync(fd)
  }
}

/** A past run's last lines as a reader is shown them (clean), from its log file; none where it is gone or unreadable. */
export const cleanLastLines = (logFile: string | null, count: number): Array<string> => {
  if (logFile === null) return []
  try {
    return lastLinesOfFile(logFile, count).map((line) => cleanText(line))
  } catch {
    return []
  }
}
