// What the configuration reference says about each key, kept beside the key in its module's schema:
// `docs/configuration.md` and `config/forwarder.reference.yaml` are generated from it (src/config/docs.ts),
// and the secret keys and the duration keys are read from it too (schema.ts, check-config.ts).
import { z } from "zod";
import type { SourceKind } from "../record.js";

export interface KeyDoc {
  /** One short sentence (at most about 90 characters): the table cell and the YAML comment. */
  readonly description: string;
  /** What does not fit in one sentence: Markdown paragraphs under the section's table. */
  readonly details?: string;
  /** The default in words, when it depends on other keys or on the environment. */
  readonly default?: string;
  /** A value for the reference YAML, for a key without a static default. */
  readonly example?: unknown;
  /** A secret: never logged, masked by check-config, also accepted as `<key>_file` (a file holding it). */
  readonly secret?: true;
  /** The tenant sources the key applies to (a key of another source is an error); absent: every source. */
  readonly sources?: readonly SourceKind[];
  /** How the reference YAML shows the key: set (to its default or example) or commented out. */
  readonly reference?: "set" | "commented";
}

/** Every documented key: the schema at the key's position in its object's shape. */
export const keyDocs = z.registry<KeyDoc>();

export interface ValueType {
  readonly type: "duration" | "size" | "integer" | "boolean" | "name" | "url" | "text";
  readonly min?: number;
  readonly max?: number;
}

/** The kind of value of the building blocks in types.ts, which zod alone cannot tell (a duration is a union). */
export const valueTypes = z.registry<ValueType>();
