// Reads the .cpuprofile files node's --cpu-prof wrote into a directory and tabulates the functions with the
// most self time (sampled time spent in the function itself, callees excluded).
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { num, table } from "./report.js";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export function summariseCpuProfile(dir: string, top: number): string {
  const self = new Map<string, number>();
  let total = 0;
  for (const file of readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"))) {
    const profile = JSON.parse(readFileSync(path.join(dir, file), "utf8")) as CpuProfile;
    const names = new Map(profile.nodes.map((n) => [n.id, label(n)]));
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      const name = names.get(id) ?? "?";
      self.set(name, (self.get(name) ?? 0) + us);
      total += us;
    });
  }
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  return table(
    ["function (file:line)", "self ms", "share"],
    rows.map(([name, us]) => [name, num(us / 1000), `${((100 * us) / total).toFixed(1)}%`]),
  );
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName === "" ? "(anonymous)" : functionName;
  if (url === "") return name;
  const short = url.replace(/^file:\/\//, "").replace(/^.*\/(dist|node_modules)\//, "$1/");
  return `${name} (${short}:${lineNumber + 1})`;
}
