// Reads the config schema as data: each key with its documentation (key-doc.ts), its kind of value, and
// whether it is optional or has a default. Used to generate the reference and to find the secret and the
// duration keys, so that none of them is a hand list.
import type { z } from "zod";
import { type KeyDoc, keyDocs, type ValueType, valueTypes } from "./key-doc.js";

type Schema = z.core.$ZodType;

export interface Unwrapped {
  /** The schema under the optional/default/pipe layers: an object, array, enum, record, string... */
  readonly core: Schema;
  /** A building block of types.ts (duration, integer...), when the key is one. */
  readonly valueType: ValueType | undefined;
  readonly optional: boolean;
  /** `.default(v)`: the key may be left out, and `v` is used. */
  readonly hasDefault: boolean;
  readonly defaultValue: unknown;
  /** `.prefault({})`: an object that may be left out (its keys' defaults apply). */
  readonly prefault: boolean;
}

export function unwrap(schema: Schema): Unwrapped {
  let node = schema;
  let optional = false;
  let hasDefault = false;
  let defaultValue: unknown;
  let prefault = false;
  for (;;) {
    const valueType = valueTypes.get(node);
    if (valueType !== undefined)
      return { core: node, valueType, optional, hasDefault, defaultValue, prefault };
    const def: z.core.$ZodTypeDef = node._zod.def;
    switch (def.type) {
      case "default":
        if (!hasDefault) defaultValue = (def as z.core.$ZodDefaultDef).defaultValue;
        hasDefault = true;
        node = (def as z.core.$ZodDefaultDef).innerType;
        break;
      case "prefault":
        prefault = true;
        node = (def as z.core.$ZodPrefaultDef).innerType;
        break;
      case "optional":
        optional = true;
        node = (def as z.core.$ZodOptionalDef).innerType;
        break;
      case "nullable":
      case "readonly":
        node = (def as z.core.$ZodNullableDef).innerType;
        break;
      case "pipe":
        // `.transform()` and `.pipe()`: what the user writes is the input side.
        node = (def as z.core.$ZodPipeDef).in;
        break;
      default:
        return { core: node, valueType: undefined, optional, hasDefault, defaultValue, prefault };
    }
  }
}

/** The keys of an object schema (under its layers), in order; [] when it is not an object. */
export function shapeOf(schema: Schema): Array<[string, Schema]> {
  const { core } = unwrap(schema);
  const def: z.core.$ZodTypeDef = core._zod.def;
  if (def.type !== "object") return [];
  return Object.entries((def as z.core.$ZodObjectDef).shape);
}

/** The element of an array schema (under its layers); undefined when it is not an array. */
export function elementOf(schema: Schema): Schema | undefined {
  const def: z.core.$ZodTypeDef = unwrap(schema).core._zod.def;
  return def.type === "array" ? (def as z.core.$ZodArrayDef).element : undefined;
}

export interface KeyEntry {
  /** `destinations[].tls.ca_file` as ["destinations", "[]", "tls", "ca_file"]. */
  readonly path: readonly string[];
  readonly key: string;
  readonly schema: Schema;
  readonly doc: KeyDoc | undefined;
}

/** Every key of the schema, depth first in schema order (a list's items as `[]`). */
export function allKeys(schema: Schema, path: readonly string[] = []): KeyEntry[] {
  const out: KeyEntry[] = [];
  for (const [key, child] of shapeOf(schema)) {
    out.push({ path: [...path, key], key, schema: child, doc: keyDocs.get(child) });
    const element = elementOf(child);
    if (element !== undefined) out.push(...allKeys(element, [...path, key, "[]"]));
    else out.push(...allKeys(child, [...path, key]));
  }
  return out;
}
