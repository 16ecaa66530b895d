// The OData envelope both newer APIs answer with: `{"value": [...], "@odata.nextLink"?: "..."}`.
import { type Detection, isDetection } from "../record.js";
import { badResponse } from "./api-call.js";

export interface ODataPage {
  value: Detection[] | undefined;
  nextLink: string | undefined;
}

export function odataValues(json: unknown, api: string, tenant: string): ODataPage {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw badResponse(api, tenant, "JSON that is not an OData object");
  }
  const body = json as Record<string, unknown>;
  const value = body.value;
  if (value !== undefined && !Array.isArray(value))
    throw badResponse(api, tenant, "a `value` that is not an array");
  const bad = Array.isArray(value) ? value.findIndex((item) => !isDetection(item)) : -1;
  if (bad !== -1) throw badResponse(api, tenant, `a \`value\` whose element ${bad} is not an object`);
  const next = body["@odata.nextLink"];
  if (next !== undefined && next !== null && typeof next !== "string") {
    throw badResponse(api, tenant, "an @odata.nextLink that is not a string");
  }
  return { value: value as Detection[] | undefined, nextLink: typeof next === "string" ? next : undefined };
}
