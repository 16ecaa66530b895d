// Injected faults: queued per target, each consumed by exactly one request, in order. They model
// what a client meets in the field: throttling and outages (status), a stalled backend (slow), a
// connection dropped mid-body (cut) and a proxy or gateway answering with a web page (html). Two are not
// faults but events placed between requests: `update` changes alerts or incidents just before the request
// is answered (as an analyst may while a client pages), and `none` lets a request through untouched, so
// that an event can be aimed at the n-th request.
import { STATUS_CODES } from "node:http";
import { z } from "zod";
import type { Fault, FaultTarget } from "./types.js";

export const faultSchema = z.discriminatedUnion("kind", [
  z.strictObject({
    kind: z.literal("status"),
    status: z.int().min(200).max(599),
    retryAfterSeconds: z.int().min(0).optional(),
    body: z.string().optional(),
  }),
  z.strictObject({ kind: z.literal("slow"), delayMs: z.int().min(0).max(3_600_000) }),
  z.strictObject({ kind: z.literal("cut") }),
  z.strictObject({ kind: z.literal("html") }),
  z.strictObject({ kind: z.literal("none") }),
  z
    .strictObject({
      kind: z.literal("update"),
      /** Alert ids: each gets a random plausible change. */
      alerts: z.array(z.string().min(1)).optional(),
      /** Incident ids: likewise. */
      incidents: z.array(z.string().min(1)).optional(),
    })
    .refine(
      (f) => (f.alerts?.length ?? 0) + (f.incidents?.length ?? 0) > 0,
      "names no alert and no incident",
    ),
]);

export const faultTargetSchema = z.enum(["alerts", "token", "alerts-api", "graph", "incidents"]);

export interface FaultQueue {
  push(target: FaultTarget, faults: readonly Fault[]): void;
  /** The fault for this request, if any; removes it from the queue. */
  next(target: FaultTarget): Fault | undefined;
}

export function createFaultQueue(): FaultQueue {
  const queues: Record<FaultTarget, Fault[]> = {
    alerts: [],
    token: [],
    "alerts-api": [],
    graph: [],
    incidents: [],
  };
  return {
    push: (target, faults) => {
      queues[target].push(...faults);
    },
    next: (target) => queues[target].shift(),
  };
}

export interface FaultBody {
  contentType: string;
  body: string;
}

/** The body of a status fault: the caller's if given, else an error in the target's own style. */
export function statusFaultBody(fault: Extract<Fault, { kind: "status" }>, target: FaultTarget): FaultBody {
  if (fault.body !== undefined) {
    return { contentType: looksLikeJson(fault.body) ? "application/json" : "text/plain", body: fault.body };
  }
  const reason = STATUS_CODES[fault.status] ?? "Error";
  if (target === "token") {
    const error =
      fault.status === 401
        ? "invalid_client"
        : fault.status < 429
          ? "invalid_request"
          : "temporarily_unavailable";
    return {
      contentType: "application/json",
      body: JSON.stringify({ error, error_description: `Simulated fault: HTTP ${fault.status} ${reason}.` }),
    };
  }
  return {
    contentType: "application/json",
    body: JSON.stringify({
      error: {
        code: reason.replace(/[^A-Za-z]/g, ""),
        message: `Simulated fault: HTTP ${fault.status} ${reason}.`,
      },
    }),
  };
}

/** What a load balancer or proxy in front of the API sends when the backend is unhealthy. */
export const HTML_ERROR_PAGE = `<!DOCTYPE html>
<html><head><title>Service Unavailable</title></head>
<body><h1>Service Unavailable</h1><p>The service is temporarily unavailable. Please try again later.</p>
<hr><p>Simulated fault</p></body></html>
`;

/** Half of the body, at least one character and always short of the whole: never valid JSON. */
export function cutPrefix(body: string): string {
  return body.slice(0, Math.max(1, Math.min(body.length - 1, Math.floor(body.length / 2))));
}

function looksLikeJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
