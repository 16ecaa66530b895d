// Issue 14, findings 3 and 8: every command answers --help with every option its parser accepts, from the one
// command table; mistyped commands and options get "did you mean" in our words, never parseArgs' own text.
import assert from "node:assert/strict";
import { test } from "node:test";
import { OPTIONS, type OptionName } from "../../../src/cli/args.js";
import { readCommandLine } from "../../../src/cli/command-line.js";
import { COMMANDS, optionsOf } from "../../../src/cli/commands.js";
import { commandHelp, globalHelp } from "../../../src/cli/help.js";
import { closest, editDistance } from "../../../src/did-you-mean.js";

/** A command line setting `option` for `command`, with a value when it takes one. */
function withOption(command: string, option: OptionName): string[] {
  const spec = OPTIONS[option];
  const value = spec.type === "string" ? ["x"] : [];
  return [...command.split(" "), `--${option}`, ...value];
}

test("finding 3: every command's help lists every option its parser accepts, each with a description", () => {
  for (const command of COMMANDS) {
    const help = commandHelp(command);
    assert.match(help, new RegExp(`^Usage: mde-forwarder ${command.name} `), command.name);
    for (const option of optionsOf(command)) {
      // The option's line: its name, then a description on the same line.
      const line = help.split("\n").find((l) => new RegExp(`--${option}\\b`).test(l) && /^\s+-/.test(l));
      assert.ok(line, `${command.name} --help lists --${option}`);
      assert.match(line, new RegExp(`--${option}(\\s[A-Z]+)?\\s{2,}\\S`), `--${option} has a description`);
      // ...and the parser accepts it for this command.
      const parsed = readCommandLine(withOption(command.name, option));
      assert.notEqual(parsed.kind, "error", `${command.name} --${option}: ${JSON.stringify(parsed)}`);
    }
    // Every other option is refused for this command, naming the commands that take it.
    for (const option of Object.keys(OPTIONS) as OptionName[]) {
      if (optionsOf(command).includes(option)) continue;
      const parsed = readCommandLine(withOption(command.name, option));
      assert.equal(parsed.kind, "error", `${command.name} must refuse --${option}`);
      if (parsed.kind === "error") assert.match(parsed.message, new RegExp(`does not take --${option}`));
    }
    for (const line of help.split("\n")) assert.ok(line.length <= 100, `fits 100 columns: ${line}`);
  }
});

test("finding 3: the options the issue names are in the help; simulate says what it serves", () => {
  const help = (name: string) => {
    const command = COMMANDS.find((c) => c.name === name);
    assert.ok(command, name);
    return commandHelp(command);
  };
  for (const option of [
    "--host",
    "--log-level",
    "--alert-rate",
    "--update-rate",
    "--token-lifetime",
    "--seed",
  ]) {
    assert.ok(help("simulate").includes(option), option);
  }
  assert.ok(!globalHelp().includes("MDE SIEM API simulator"));
  assert.match(
    globalHelp(),
    /simulate\s+the bundled simulator: SIEM API, Alerts API, Graph alerts_v2 and incidents/,
  );
  for (const command of COMMANDS) assert.ok(globalHelp().includes(`  ${command.name} `), command.name);
  // `help <command>`, `<command> --help` and `-h` all give the command's help.
  for (const argv of [
    ["help", "simulate"],
    ["simulate", "--help"],
    ["simulate", "-h"],
  ]) {
    const parsed = readCommandLine(argv);
    assert.equal(parsed.kind === "help" && parsed.command?.name, "simulate", argv.join(" "));
  }
  const sub = readCommandLine(["help", "state", "export-outbox"]);
  assert.equal(sub.kind === "help" && sub.command?.name, "state export-outbox");
  const group = readCommandLine(["state", "--help"]);
  assert.equal(group.kind === "help" && group.group, "state");
});

test("finding 8: a mistyped command or option gets a suggestion in our words", () => {
  const message = (argv: string[]) => {
    const parsed = readCommandLine(argv);
    assert.equal(parsed.kind, "error", argv.join(" "));
    return parsed.kind === "error" ? parsed.message : "";
  };
  assert.equal(message(["chek-config"]), 'unknown command "chek-config"; did you mean "check-config"?');
  assert.equal(message(["--confg", "x", "check-config"]), "unknown option --confg; did you mean --config?");
  assert.equal(message(["check-config", "--confg", "x"]), "unknown option --confg; did you mean --config?");
  assert.equal(message(["status", "--jsno"]), "unknown option --jsno; did you mean --json?");
  assert.match(message(["state", "reset"]), /did you mean "reset-checkpoint"\?/);
  assert.match(message(["state", "export-outbx"]), /did you mean "export-outbox"\?/);
  assert.match(
    message(["run", "--destination", "a"]),
    /run does not take --destination \(--destination is an option of send-test, state export-outbox\)/,
  );
  assert.equal(message(["check-config", "-c"]), "-c needs a value: --config FILE");
  assert.equal(message(["status", "--json=yes"]), "--json takes no value");
  assert.equal(message(["run", "extra"]), 'run: unexpected argument "extra"');
  assert.equal(message(["frobnicate"]), 'unknown command "frobnicate"');
  for (const argv of [["--confg"], ["run", "--nope"], ["-x"]]) {
    assert.doesNotMatch(message(argv), /To specify a positional argument|Unknown option '/);
  }
  const ok = readCommandLine([
    "-c",
    "f.yaml",
    "state",
    "reset-checkpoint",
    "--tenant",
    "t",
    "--to",
    "none",
    "--forget-seen",
  ]);
  assert.equal(ok.kind, "run");
  if (ok.kind === "run") {
    assert.equal(ok.command.name, "state reset-checkpoint");
    assert.deepEqual({ ...ok.values }, { config: "f.yaml", tenant: "t", to: "none", "forget-seen": true });
  }
});

test("finding 8: edit distance counts a swap as one edit, and only near words are suggested", () => {
  assert.equal(editDistance("confg", "config"), 1);
  assert.equal(editDistance("porT", "port"), 1);
  assert.equal(editDistance("ragion", "region"), 1);
  assert.equal(editDistance("regoin", "region"), 1);
  assert.equal(closest("protocl", ["name", "protocol", "port"]), "protocol");
  assert.equal(closest("xyz", ["name", "protocol", "port"]), undefined);
  assert.equal(closest("expor", ["export-outbox", "reset-checkpoint"]), "export-outbox");
});
