// JSON encoder: the detection as received, one compact object per message.
import { ForwarderError } from "../errors.js";
import type { Detection } from "../record.js";
import type { EncodedText } from "./cef.js";

/**
 * `JSON.stringify` already keeps the message on one line: it escapes CR, LF, NUL and every other
 * control character, and (since ES2019) writes lone surrogates as `\udXXX` escapes.
 */
export function encodeJson(detection: Detection): EncodedText {
  let text: string | undefined;
  try {
    text = JSON.stringify(detection);
  } catch (err) {
    throw new ForwarderError("E_FORMAT", "the detection cannot be serialised as JSON", { cause: err });
  }
  if (text === undefined) throw new ForwarderError("E_FORMAT", "the detection serialises to nothing");
  return { text, truncated: 0 };
}
