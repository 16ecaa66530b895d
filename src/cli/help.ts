// Help texts, all made from the command table: the list of commands, and each command's own options.
import { OPTIONS, type OptionName } from "./args.js";
import { COMMANDS, CONFIG_HELP, type CommandSpec, HELP_HELP, optionsOf } from "./commands.js";

const BIN = "mde-forwarder";
/** Help lines fit a 100-column terminal. */
const MAX_WIDTH = 100;

/** `mde-forwarder --help`: every command with one line, and how to get a command's own help. */
export function globalHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length)) + 2;
  return [
    `Usage: ${BIN} <command> [options]`,
    `       ${BIN} <command> --help      (or: ${BIN} help <command>) for a command's options`,
    "",
    "Commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    "Options of every command that reads the config:",
    ...optionLines(["config", "help"], { config: CONFIG_HELP, help: HELP_HELP }),
    "",
    "Exit codes: 0 done, 1 failed, 2 usage error, 78 invalid config. New here? docs/simulator.md has a",
    "recipe that needs no tenant, and `send-test` checks a SIEM receiver without one.",
    "",
  ].join("\n");
}

/** `state --help`: the commands of a group. */
export function groupHelp(group: string): string {
  const members = COMMANDS.filter((c) => c.name.startsWith(`${group} `));
  const width = Math.max(...members.map((c) => c.name.length)) + 2;
  return [
    `Usage: ${BIN} ${group} <command> [options]`,
    "",
    "Commands:",
    ...members.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    "",
    `${BIN} ${group} <command> --help for its options.`,
    "",
  ].join("\n");
}

/** `<command> --help`: usage, what it does, and every option its parser accepts. */
export function commandHelp(command: CommandSpec): string {
  const descriptions: Partial<Record<OptionName, string>> = {
    ...command.options,
    config: CONFIG_HELP,
    help: HELP_HELP,
  };
  return [
    `Usage: ${BIN} ${command.name} ${command.usage ?? "[options]"}`,
    "",
    `${capitalise(command.summary)}.`,
    ...(command.details ?? []),
    "",
    "Options:",
    ...optionLines(optionsOf(command), descriptions),
    "",
  ].join("\n");
}

function optionLines(names: readonly OptionName[], descriptions: Partial<Record<OptionName, string>>) {
  const left = names.map((name) => {
    const spec = OPTIONS[name];
    const short = "short" in spec ? `-${spec.short}, ` : "    ";
    const value = "value" in spec ? ` ${spec.value}` : "";
    return `${short}--${name}${value}`;
  });
  const width = Math.max(...left.map((l) => l.length)) + 2;
  return names.flatMap((name, i) => {
    const [first = "", ...rest] = wrap(descriptions[name] ?? "", Math.max(40, MAX_WIDTH - 2 - width));
    return [`  ${(left[i] ?? "").padEnd(width)}${first}`, ...rest.map((r) => `  ${" ".repeat(width)}${r}`)];
  });
}

/** Words into lines of at most `width` characters (a longer word gets a line of its own). */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
