// A second process for the lock tests (not a test file itself):
//   hold <state path>  takes the lock, prints "locked", releases it when stdin closes and prints "released"
//   try <state path>   tries to take it once and prints the outcome as one JSON line
import { ForwarderError } from "../../../src/errors.js";
import { acquireStateLock } from "../../../src/state/lock.js";

const [mode, statePath = ""] = process.argv.slice(2);

if (mode === "hold") {
  const lock = acquireStateLock(statePath);
  process.stdout.write("locked\n");
  process.stdin.resume();
  process.stdin.on("end", () => {
    lock.release();
    process.stdout.write("released\n");
  });
} else {
  try {
    acquireStateLock(statePath).release();
    process.stdout.write(`${JSON.stringify({ ok: true })}\n`);
  } catch (err) {
    const code = err instanceof ForwarderError ? err.code : "not a ForwarderError";
    const message = err instanceof Error ? err.message : String(err);
    process.stdout.write(`${JSON.stringify({ ok: false, code, message })}\n`);
  }
}
