#!/usr/bin/env node
// mde-forwarder: the composition root. Reads the command line against the command table (commands.ts)
// and hands over to one command file.
import "./heap.js";
import { EXIT } from "../errors.js";
import { readCommandLine } from "./command-line.js";
import { commandHelp, globalHelp, groupHelp } from "./help.js";

async function main(argv: string[]): Promise<number> {
  const line = readCommandLine(argv);
  switch (line.kind) {
    case "help":
      process.stdout.write(
        line.command ? commandHelp(line.command) : line.group ? groupHelp(line.group) : globalHelp(),
      );
      return EXIT.OK;
    case "error": {
      if (line.showHelp) {
        process.stderr.write(
          `mde-forwarder: ${line.message}\n\n${line.group ? groupHelp(line.group) : globalHelp()}`,
        );
        return EXIT.USAGE;
      }
      const help = line.command
        ? `mde-forwarder ${line.command.name} --help`
        : line.group
          ? `mde-forwarder ${line.group} --help`
          : "mde-forwarder --help";
      process.stderr.write(`mde-forwarder: ${line.message}\nSee ${help} for the usage.\n`);
      return EXIT.USAGE;
    }
    case "run":
      return line.command.run(line.values);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mde-forwarder: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.FAILED;
  },
);
