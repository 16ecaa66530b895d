// Shared inputs for the format tests: fixture detections, default options, a fixed clock.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { z } from "zod";
import {
  type FormatOptions,
  type FormatOptionsInput,
  formatConfigFrom,
  formatOptionsShape,
} from "../../../src/format/config.js";
import { createFormatter, type Formatter, type FormatterDeps } from "../../../src/format/index.js";
import type { Detection } from "../../../src/record.js";

export const TEST_DIR = fileURLToPath(new URL("../../", import.meta.url));

export function loadDetection(name: string): Detection {
  return JSON.parse(readFileSync(`${TEST_DIR}fixtures/detections/${name}.json`, "utf8")) as Detection;
}

/** The options a destination gets from the schema defaults, with overrides. */
export function formatOptions(overrides: Partial<FormatOptions> = {}): FormatOptions {
  return { ...z.object(formatOptionsShape).parse({}), ...overrides };
}

/** Day 9 on purpose: RFC 3164 pads it with a space (`Oct  9`). */
export const FIXED_TIME = new Date("2026-10-09T07:05:03.004Z");
export const FIXED_HOSTNAME = "siem-fwd.example.com";
export const fixedDeps = { clock: () => FIXED_TIME, hostname: FIXED_HOSTNAME };

/**
 * A formatter for options written as in a destination: checked by the config schema's rules (a problem
 * throws ConfigError), built (buildFormatConfig), then created.
 */
export function makeFormatter(input: FormatOptionsInput, deps?: FormatterDeps): Formatter {
  return createFormatter(formatConfigFrom(input), deps);
}
