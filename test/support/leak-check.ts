// Loaded into every test process (see test/run.mjs). When a test file is done, the process must exit by
// itself; if a socket, server, timer or child process is still open it cannot, and after a grace period
// this reports the open handles and fails the file.
import { after } from "node:test";

const GRACE_MS = 5_000;

after(() => {
  // Unref'd: it fires only if something else keeps the process alive, i.e. a leaked handle. The file's
  // own after-hooks (which close servers) run after this one and have the grace period to finish.
  setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== "TTYWrap" && r !== "PipeWrap");
    process.stderr.write(
      `leak-check: handles still open after the last test: ${open.join(", ") || "unknown"}\n`,
    );
    process.exit(1);
  }, GRACE_MS).unref();
});
