// The mapping (mapping.ts: rules, constants, extra keys) compiled once per encoder for the hot path.
// Each key's text as the encoder writes it (` cs2=`, ` cs2Label=CommandLine`) is built once. Each
// distinct list of detection keys (a "shape": the SIEM API sends every field every time, so one source
// gives one or two) gets, once, the position of each rule's field and the key of every other field.
// Per message, what is left is reading values by position and mapping them.
import { isIPv4, isIPv6 } from "node:net";
import type { Detection } from "../record.js";
import { epochMs } from "./epoch-ms.js";
import {
  decimalValue,
  EXPENDABLE,
  fieldText,
  flagValue,
  integerValue,
  KEEP_WHOLE,
  type MappingProfile,
  SEVERITY_SCORE,
  severityLevel,
} from "./mapping.js";

/** The text an encoder writes around a value: before it (as the first pair, or after another) and after it. */
export interface KeyText {
  readonly first: string;
  readonly next: string;
  /** CEF: the label pair, ` <key>Label=<label>`; empty otherwise. */
  readonly after: string;
}

/** How an encoder writes `key` (and its label, if any) around a value. */
export type KeyWriter = (key: string, label: string | undefined) => KeyText;

/** Where one value goes: its key, its limit, how a message that is too long may cut it, and its text. */
export interface FieldTarget extends KeyText {
  readonly key: string;
  /** Dictionary length of the key, in UTF-8 bytes after escaping. */
  readonly maxBytes: number;
  /** Written as it is (default labels are plain words, configured ones are escaped once at start-up). */
  readonly label: string | undefined;
  /** A configured constant: validated at start-up, never cut to make a message fit. */
  readonly constant: boolean;
  /** Never cut to make a message fit either: the identity a SIEM needs to drop resent duplicates. */
  readonly keep: boolean;
  /** Cut first (to the floor if need be) to make a message fit. */
  readonly expendable: boolean;
}

/**
 * One detection's fields, in order: the rules' (table order), the constants, then every other field
 * (input order). Values are unescaped and never empty. The arrays belong to the plan and are
 * overwritten by its next `map`: read them before mapping another detection.
 */
export interface MappedFields {
  count: number;
  readonly targets: FieldTarget[];
  readonly values: string[];
}

export interface FieldPlan {
  map(detection: Detection): MappedFields;
}

type ValueKind = "text" | "flag" | "integer" | "decimal" | "time" | "ip" | "severity";

interface CompiledRule {
  readonly field: string;
  readonly kind: ValueKind;
  /** Undefined when the rule has no key (an IPv6-only key, or the severity the CEF header carries). */
  readonly target: FieldTarget | undefined;
  readonly ipv6Target: FieldTarget | undefined;
}

interface Shape {
  readonly keys: readonly string[];
  /** Per compiled rule, the position of its field among `keys`; -1 when it is not an own key. */
  readonly ruleAt: readonly number[];
  /** Positions and names of the fields no rule takes, in key order. */
  readonly extraAt: readonly number[];
  readonly extraNames: readonly string[];
  /**
   * Their targets, when no two of them (nor a rule's key) can claim the same key: then whether a value
   * is empty changes nobody else's key. Undefined otherwise: keys are then given per message.
   */
  readonly extraTargets: readonly FieldTarget[] | undefined;
}

/** Shapes kept per plan: a few sources and versions; odd inputs beyond that are mapped all the same. */
const SHAPE_CACHE_LIMIT = 8;
/** Field name -> extra key. Detections share the same few dozen names; bounded against odd ones. */
const EXTRA_KEY_CACHE_LIMIT = 1024;

const SEVERITY_TEXT = {
  Informational: String(SEVERITY_SCORE.Informational),
  Low: String(SEVERITY_SCORE.Low),
  Medium: String(SEVERITY_SCORE.Medium),
  High: String(SEVERITY_SCORE.High),
} as const;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function compileFieldPlan(profile: MappingProfile, writer: KeyWriter): FieldPlan {
  // Built property by property, every target with one layout: the encoders' loops stay monomorphic.
  const target = (
    key: string,
    maxBytes: number,
    label: string | undefined,
    flags: { constant?: boolean | undefined; keep?: boolean; expendable?: boolean } = {},
  ): FieldTarget => {
    const text = writer(key, label);
    return {
      first: text.first,
      next: text.next,
      after: text.after,
      key,
      maxBytes,
      label,
      constant: flags.constant === true,
      keep: flags.keep === true,
      expendable: flags.expendable === true,
    };
  };

  const keepWhole = profile.keepWhole ?? KEEP_WHOLE;
  const expendable = profile.expendable ?? EXPENDABLE;
  // Every key a rule or constant can emit, so an extra field never takes one (even when unused).
  const reserved = new Set<string>();
  const reserve = (key: string | undefined, label: string | undefined): void => {
    if (key === undefined) return;
    reserved.add(key);
    if (label !== undefined) reserved.add(`${key}Label`);
  };
  for (const rule of profile.rules) {
    reserve(rule.key, rule.label);
    reserve(rule.ipv6Key, rule.ipv6Label);
  }
  for (const constant of profile.constants ?? []) reserve(constant.key, constant.label);
  // Fields handled by a rule (header and dropped ones included): never repeated as extras.
  const consumed = new Set(profile.rules.map((r) => r.field));

  const rules: CompiledRule[] = [];
  for (const rule of profile.rules) {
    const { kind, field } = rule;
    if (kind === "header" || kind === "drop") continue;
    const maxBytes = rule.maxBytes ?? Number.POSITIVE_INFINITY;
    const flags = kind === "text" ? { keep: keepWhole.has(field), expendable: expendable.has(field) } : {};
    const label = kind === "severity" ? undefined : rule.label;
    rules.push({
      field,
      kind,
      target: rule.key === undefined ? undefined : target(rule.key, maxBytes, label, flags),
      ipv6Target:
        kind === "ip" && rule.ipv6Key !== undefined
          ? target(rule.ipv6Key, maxBytes, rule.ipv6Label)
          : undefined,
    });
  }
  const constantTargets = (profile.constants ?? []).map((c) =>
    target(c.key, c.maxBytes, c.label, { constant: c.constant, keep: c.keep, expendable: c.expendable }),
  );
  const constantValues = (profile.constants ?? []).map((c) => c.value);

  const extraBases = new Map<string, string>();
  const extraBase = (name: string): string => {
    let base = extraBases.get(name);
    if (base === undefined) {
      base = profile.extraKey(name);
      if (extraBases.size >= EXTRA_KEY_CACHE_LIMIT) extraBases.clear();
      extraBases.set(name, base);
    }
    return base;
  };
  // Keyed by key and by whether the field is kept whole or expendable: all a target depends on.
  const extraTargets = new Map<string, FieldTarget>();
  const extraTarget = (key: string, name: string): FieldTarget => {
    const keep = keepWhole.has(name);
    const cutFirst = expendable.has(name);
    const id = `${keep ? 1 : 0}${cutFirst ? 1 : 0}${key}`;
    let t = extraTargets.get(id);
    if (t === undefined) {
      t = target(key, profile.extraMaxBytes, undefined, { keep, expendable: cutFirst });
      if (extraTargets.size >= EXTRA_KEY_CACHE_LIMIT) extraTargets.clear();
      extraTargets.set(id, t);
    }
    return t;
  };

  const shapes: Shape[] = [];
  const shapeOf = (keys: readonly string[]): Shape => {
    for (const shape of shapes) if (sameKeys(shape.keys, keys)) return shape;
    const extraAt: number[] = [];
    const extraNames: string[] = [];
    keys.forEach((name, i) => {
      if (consumed.has(name)) return;
      extraAt.push(i);
      extraNames.push(name);
    });
    const bases = extraNames.map(extraBase);
    const distinct = new Set(bases);
    const fixed = distinct.size === bases.length && bases.every((base) => !reserved.has(base));
    const shape: Shape = {
      keys,
      ruleAt: rules.map((rule) => keys.indexOf(rule.field)),
      extraAt,
      extraNames,
      extraTargets: fixed ? bases.map((base, i) => extraTarget(base, extraNames[i] as string)) : undefined,
    };
    if (shapes.length >= SHAPE_CACHE_LIMIT) shapes.pop();
    shapes.unshift(shape);
    return shape;
  };

  const out: MappedFields = { count: 0, targets: [], values: [] };
  const push = (t: FieldTarget, value: string): void => {
    out.targets[out.count] = t;
    out.values[out.count] = value;
    out.count++;
  };
  // Keys given to extras in this message, when they are given one by one.
  const taken = new Set<string>();
  const extra = (name: string, value: string): void => {
    // Two names can reduce to the same key (`A-B`, `AB`): the later one gets `2`, `3`...
    const base = extraBase(name);
    let key = base;
    for (let n = 2; reserved.has(key) || taken.has(key); n++) key = `${base}${n}`;
    taken.add(key);
    push(extraTarget(key, name), value);
  };

  return {
    map(detection) {
      const keys = Object.keys(detection);
      const shape = shapeOf(keys);
      const values = Object.values(detection);
      out.count = 0;
      if (taken.size > 0) taken.clear();
      let ruleExtras = false;

      for (let r = 0; r < rules.length; r++) {
        const rule = rules[r] as CompiledRule;
        const at = shape.ruleAt[r] ?? -1;
        const raw = at >= 0 ? values[at] : detection[rule.field];
        const key = rule.target;
        let value: string | undefined;
        switch (rule.kind) {
          case "text":
            // Never an extra: a text rule without a key drops the field.
            value = fieldText(raw);
            if (value !== undefined && key !== undefined) push(key, value);
            continue;
          case "severity": {
            const level = severityLevel(raw);
            if (level === undefined) break;
            if (key !== undefined) push(key, SEVERITY_TEXT[level]);
            continue;
          }
          case "ip":
            // An empty address (the API's usual "") is neither kind: no need to ask node:net.
            if (typeof raw === "string" && raw !== "") {
              if (key !== undefined && isIPv4(raw)) {
                push(key, raw);
                continue;
              }
              if (rule.ipv6Target !== undefined && isIPv6(raw)) {
                push(rule.ipv6Target, raw);
                continue;
              }
            }
            break;
          case "time":
            value = epochMs(raw);
            break;
          case "flag":
            value = flagValue(raw);
            break;
          case "integer":
            value = integerValue(raw);
            break;
          case "decimal":
            value = decimalValue(raw);
            break;
        }
        if (value !== undefined && key !== undefined) {
          push(key, value);
          continue;
        }
        // A value the rule cannot map goes out raw under an extra key, in the rule's position.
        const text = fieldText(raw);
        if (text !== undefined) {
          extra(rule.field, text);
          ruleExtras = true;
        }
      }

      for (let c = 0; c < constantTargets.length; c++) {
        push(constantTargets[c] as FieldTarget, constantValues[c] as string);
      }

      const { extraAt, extraNames, extraTargets } = shape;
      for (let e = 0; e < extraAt.length; e++) {
        const value = fieldText(values[extraAt[e] as number]);
        if (value === undefined) continue;
        if (extraTargets !== undefined && !ruleExtras) push(extraTargets[e] as FieldTarget, value);
        else extra(extraNames[e] as string, value);
      }
      return out;
    },
  };
}
