/** The tools taskmux offers, in the order tools/list shows them. */
import type { Tool } from "./Tool.ts"
import { sendInput, waitForTask } from "./tools/interactTools.ts"
import { removeTask, restartTask, signalTask, startTask, stopTask } from "./tools/taskTools.ts"
import { getTask, listTasks, readOutput } from "./tools/viewTools.ts"

export const tools: ReadonlyArray<Tool> = [
  startTask,
  stopTask,
  restartTask,
  listTasks,
  getTask,
  readOutput,
  waitForTask,
  sendInput,
  signalTask,
  removeTask
]
