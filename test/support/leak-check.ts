// Loaded into every test process (see test/run.mjs). After the last test of a file, any socket,
// server, timer or child process still alive is a leaked handle: the file fails and says which.
import { after } from "node:test";

const LEAKY = new Set([
  "TCPSocketWrap",
  "TCPServerWrap",
  "TCPWrap",
  "UDPWrap",
  "Timeout",
  "ProcessWrap",
  "TLSWrap",
]);

after(async () => {
  // Give close callbacks one turn of the loop to run.
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 20));
  const leaked = process.getActiveResourcesInfo().filter((r) => LEAKY.has(r));
  if (leaked.length > 0) {
    process.stderr.write(`leak-check: handles still open after the last test: ${leaked.join(", ")}\n`);
    process.exitCode = 1;
    // Without this the file would hang on the leaked handle until the runner's timeout.
    setTimeout(() => process.exit(1), 100).unref();
  }
});
