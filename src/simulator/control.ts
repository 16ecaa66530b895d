// The /_sim/* control endpoints: drive a simulator running in another process (`mde-forwarder
// simulate`, reliability tests). They are not part of the emulated API, are not recorded in
// `requests`, and have no authentication: bind the simulator to loopback.
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import type { Logger } from "../log.js";
import type { Detection } from "../record.js";
import { faultSchema, faultTargetSchema } from "./faults.js";
import { apiError, BodyTooLargeError, readBody, sendJson } from "./respond.js";
import type { AddOptions, Fault, FaultTarget, GenerateOptions, SimulatorStats } from "./types.js";

export const CONTROL_PREFIX = "/_sim";

export interface ControlActions {
  add(partials: Array<Record<string, unknown>>, options: AddOptions): Detection[];
  generate(n: number, options: GenerateOptions): Detection[];
  injectFaults(faults: Fault[], target: FaultTarget): void;
  expireTokens(): number;
  stats(): SimulatorStats;
}

/** ms since the epoch, or an ISO timestamp (handier from curl). */
const instant = z.union([
  z.number().finite(),
  z
    .string()
    .refine((s) => Number.isFinite(Date.parse(s)), "is not a timestamp")
    .transform((s) => Date.parse(s)),
]);

const detectionsBody = z.union([
  z.strictObject({
    count: z.int().min(0).max(1_000_000),
    tenantId: z.string().optional(),
    from: instant.optional(),
    to: instant.optional(),
    sameTime: z.boolean().optional(),
    visibleAt: instant.optional(),
  }),
  z.strictObject({
    detections: z.array(z.record(z.string(), z.unknown())),
    tenantId: z.string().optional(),
    visibleAt: instant.optional(),
  }),
]);

const faultsBody = z.strictObject({
  target: faultTargetSchema.default("alerts"),
  faults: z.array(faultSchema),
});

const BODY_LIMIT = 64 * 1024 * 1024;

export function createControlHandler(actions: ControlActions, log: Logger) {
  return async function handleControl(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
  ): Promise<void> {
    const action = path.slice(CONTROL_PREFIX.length);
    const method = req.method ?? "GET";
    const expected: Record<string, string> = {
      "/detections": "POST",
      "/faults": "POST",
      "/expire-tokens": "POST",
      "/stats": "GET",
    };
    const allowed = expected[action];
    if (allowed === undefined) {
      req.resume();
      sendJson(res, 404, apiError("NotFound", `no control endpoint ${path}`));
      return;
    }
    if (method !== allowed) {
      req.resume();
      sendJson(res, 405, apiError("MethodNotAllowed", `${path} takes ${allowed}`), { allow: allowed });
      return;
    }
    try {
      if (action === "/stats") {
        req.resume();
        sendJson(res, 200, actions.stats());
        return;
      }
      if (action === "/expire-tokens") {
        req.resume();
        sendJson(res, 200, { expired: actions.expireTokens() });
        return;
      }
      const json = await readJson(req);
      if (action === "/faults") {
        const body = faultsBody.parse(json);
        actions.injectFaults(body.faults, body.target);
        log.info({ target: body.target, faults: body.faults.length }, "Faults queued.");
        sendJson(res, 200, { queued: body.faults.length, target: body.target });
        return;
      }
      const body = detectionsBody.parse(json);
      const added =
        "count" in body
          ? actions.generate(body.count, {
              tenantId: body.tenantId,
              from: body.from,
              to: body.to,
              sameTime: body.sameTime,
              visibleAt: body.visibleAt,
            })
          : actions.add(body.detections, { tenantId: body.tenantId, visibleAt: body.visibleAt });
      sendJson(res, 200, { added: added.length, fullIds: added.map((d) => d.FullId ?? null) });
    } catch (err) {
      sendJson(res, err instanceof BodyTooLargeError ? 413 : 400, apiError("BadRequest", describe(err)));
    }
  };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req, BODY_LIMIT);
  try {
    return JSON.parse(text);
  } catch {
    throw new Error("body is not JSON");
  }
}

function describe(err: unknown): string {
  if (err instanceof z.ZodError) {
    return err.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
