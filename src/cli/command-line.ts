// Reads the command line against the command table: which command, which of its options, every mistake
// said in our words with a "did you mean" (never node:util's raw parseArgs text).
import { parseArgs } from "node:util";
import { didYouMean } from "../did-you-mean.js";
import { type CliValues, OPTIONS, type OptionName } from "./args.js";
import { COMMANDS, type CommandSpec, groups, optionsOf } from "./commands.js";

export type CommandLine =
  /** `--help`, `help`, `<command> --help`, `help <command>`; `group` for `state --help`. */
  | { kind: "help"; command?: CommandSpec; group?: string }
  | { kind: "run"; command: CommandSpec; values: CliValues }
  /** A usage error (exit 2): the message, the command whose help to point at, whether to print that help. */
  | { kind: "error"; message: string; command?: CommandSpec; group?: string; showHelp?: boolean };

type Token = NonNullable<ReturnType<typeof parseArgs>["tokens"]>[number];

export function readCommandLine(argv: readonly string[]): CommandLine {
  // A first, lenient pass over every known option finds the words (command, sub-command) and the options.
  const { tokens } = parseArgs({
    args: [...argv],
    options: OPTIONS,
    allowPositionals: true,
    strict: false,
    tokens: true,
  });
  const words = tokens.flatMap((t) => (t.kind === "positional" ? [t.value] : []));
  const options = tokens.filter((t): t is Extract<Token, { kind: "option" }> => t.kind === "option");
  const wantsHelp = options.some((t) => t.name === "help") || words[0] === "help";
  const named = words[0] === "help" ? words.slice(1) : words;

  const found = findCommand(named);
  if (wantsHelp) {
    // Help for what could be identified; a typo in the command name is still an error.
    if (found.kind === "error" && named.length > 0) return found;
    if (found.kind === "group") return { kind: "help", group: found.group };
    return found.kind === "command" ? { kind: "help", command: found.command } : { kind: "help" };
  }
  const unknown = options.find((t) => !Object.hasOwn(OPTIONS, t.name));
  if (unknown !== undefined) {
    const command = found.kind === "command" ? found.command : undefined;
    const known = command ? optionsOf(command) : (Object.keys(OPTIONS) as OptionName[]);
    return {
      kind: "error",
      command,
      message: `unknown option ${unknown.rawName}${didYouMean(bare(unknown.rawName), known.map(longName), "")}`,
    };
  }
  if (found.kind === "group") {
    return { kind: "error", group: found.group, message: `${found.group}: which one?`, showHelp: true };
  }
  if (found.kind === "error") return found;
  if (found.kind === "none") return { kind: "error", message: "no command given", showHelp: true };
  const { command, extra } = found;
  if (extra !== undefined) {
    return { kind: "error", command, message: `${command.name}: unexpected argument "${extra}"` };
  }
  const accepted = optionsOf(command);
  for (const t of options) {
    const name = t.name as OptionName;
    if (!accepted.includes(name)) {
      const takers = COMMANDS.filter((c) => optionsOf(c).includes(name)).map((c) => c.name);
      return {
        kind: "error",
        command,
        message: `${command.name} does not take ${t.rawName}${didYouMean(bare(t.rawName), accepted.map(longName), "")}${
          takers.length > 0 ? ` (${t.rawName} is an option of ${takers.join(", ")})` : ""
        }`,
      };
    }
    const spec = OPTIONS[name];
    if (spec.type === "string" && (t.value === undefined || (!t.inlineValue && t.value.startsWith("-")))) {
      return {
        kind: "error",
        command,
        message: `${t.rawName} needs a value: --${name} ${placeholder(name)}`,
      };
    }
    if (spec.type === "boolean" && t.value !== undefined) {
      return { kind: "error", command, message: `${t.rawName} takes no value` };
    }
    if (
      spec.type === "string" &&
      !("multiple" in spec) &&
      options.filter((o) => o.name === name).length > 1
    ) {
      return { kind: "error", command, message: `--${name} is given more than once` };
    }
  }
  // Every check the strict parse makes has been made above: it cannot fail now.
  const { values } = parseArgs({
    args: [...argv],
    options: Object.fromEntries(accepted.map((n) => [n, OPTIONS[n]])),
    allowPositionals: true,
    strict: true,
  });
  return { kind: "run", command, values: values as CliValues };
}

type Found =
  | { kind: "command"; command: CommandSpec; extra?: string }
  | { kind: "group"; group: string }
  | { kind: "none" }
  | { kind: "error"; message: string; command?: CommandSpec; group?: string };

function findCommand(words: readonly string[]): Found {
  const [first, second, third] = words;
  if (first === undefined) return { kind: "none" };
  if (groups().includes(first)) {
    const members = COMMANDS.filter((c) => c.name.startsWith(`${first} `));
    if (second === undefined) return { kind: "group", group: first };
    const command = members.find((c) => c.name === `${first} ${second}`);
    if (command === undefined) {
      const subs = members.map((c) => c.name.slice(first.length + 1));
      return {
        kind: "error",
        group: first,
        message: `unknown ${first} command "${second}"${didYouMean(second, subs)} (${first} commands: ${subs.join(", ")})`,
      };
    }
    return { kind: "command", command, extra: third };
  }
  const command = COMMANDS.find((c) => c.name === first);
  if (command === undefined) {
    const names = [...COMMANDS.filter((c) => !c.name.includes(" ")).map((c) => c.name), ...groups()];
    return { kind: "error", message: `unknown command "${first}"${didYouMean(first, names)}` };
  }
  return { kind: "command", command, extra: second };
}

function longName(name: OptionName): string {
  return `--${name}`;
}

/** `--confg=x` -> `--confg`, so the suggestion compares names only. */
function bare(rawName: string): string {
  return rawName.split("=")[0] ?? rawName;
}

function placeholder(name: OptionName): string {
  const spec = OPTIONS[name];
  return "value" in spec ? spec.value : "";
}
