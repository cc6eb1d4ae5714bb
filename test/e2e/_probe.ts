import { connect } from "./client.ts"
import { readFileSync } from "node:fs"
const c = await connect()
const rss = () => { const s = readFileSync(`/proc/${c.pid}/status`, "utf8"); return [/VmRSS:\s+(\d+)/.exec(s)![1], /VmHWM:\s+(\d+)/.exec(s)![1]] }
console.log("idle", rss())
const t0 = Date.now()
await c.call("start_task", { command: "yes | head -c 1000000000", name: "f" })
for (;;) {
  await new Promise(r => setTimeout(r, 200))
  const g = await c.call("get_task", { name: "f" })
  if ((g.structuredContent as any).status !== "running") { console.log(Date.now() - t0, "ms", rss()); break }
}
await c.client.close()
