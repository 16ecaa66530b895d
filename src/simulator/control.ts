// The /_sim/* control endpoints: drive a simulator running in another process (`mde-forwarder
// simulate`, reliability tests). They are not part of the emulated API, are not recorded in
// `requests`, and have no authentication: bind the simulator to loopback.
import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { ForwarderError } from "../errors.js";
import type { Logger } from "../log.js";
import type { Detection } from "../record.js";
import {
  ALERT_CLASSIFICATIONS,
  ALERT_DETERMINATIONS,
  ALERT_SEVERITIES,
  ALERT_STATUSES,
  EVIDENCE_KINDS,
} from "./alert-model.js";
import { faultSchema, faultTargetSchema } from "./faults.js";
import { INCIDENT_STATUSES } from "./incident-model.js";
import { apiError, BodyTooLargeError, readBody, sendJson } from "./respond.js";
import { ALL_SERVICE_SOURCES } from "./services.js";
import type {
  AddAlertsOptions,
  AddOptions,
  AlertChange,
  AlertInput,
  Fault,
  FaultTarget,
  GenerateOptions,
  IncidentChange,
  SimAlert,
  SimIncident,
  SimulatorStats,
} from "./types.js";

export const CONTROL_PREFIX = "/_sim";

export interface ControlActions {
  add(partials: Array<Record<string, unknown>>, options: AddOptions): Detection[];
  generate(n: number, options: GenerateOptions): Detection[];
  injectFaults(faults: Fault[], target: FaultTarget): void;
  expireTokens(): number;
  stats(): SimulatorStats;
  addAlerts(what: number | readonly AlertInput[], options: AddAlertsOptions): SimAlert[];
  updateAlert(id: string, change: AlertChange): SimAlert;
  updateIncident(id: string, change: IncidentChange): SimIncident;
}

/** ms since the epoch, or an ISO timestamp (handier from curl). */
const instant = z.union([
  z.number().finite(),
  z
    .string()
    .refine((s) => Number.isFinite(Date.parse(s)), "is not a timestamp")
    .transform((s) => Date.parse(s)),
]);

/** "Generate `count` of them", for detections and alerts alike. */
const generateBody = z.strictObject({
  count: z.int().min(0).max(1_000_000),
  tenantId: z.string().optional(),
  from: instant.optional(),
  to: instant.optional(),
  sameTime: z.boolean().optional(),
  visibleAt: instant.optional(),
});

const detectionsBody = z.union([
  generateBody,
  z.strictObject({
    detections: z.array(z.record(z.string(), z.unknown())),
    tenantId: z.string().optional(),
    visibleAt: instant.optional(),
  }),
]);

const status = z.enum(ALERT_STATUSES);
const classification = z.enum(ALERT_CLASSIFICATIONS).nullable();
const determination = z.enum(ALERT_DETERMINATIONS).nullable();
const evidenceKind = z.enum(EVIDENCE_KINDS);
const timestamp = z.string().refine((s) => Number.isFinite(Date.parse(s)), "is not a timestamp");

const alertInput = z.strictObject({
  id: z.string().min(1).optional(),
  title: z.string().optional(),
  description: z.string().optional(),
  category: z.string().optional(),
  severity: z.enum(ALERT_SEVERITIES).optional(),
  status: status.optional(),
  classification: classification.optional(),
  determination: determination.optional(),
  assignedTo: z.string().nullable().optional(),
  lastUpdateTime: timestamp.optional(),
  alertCreationTime: timestamp.optional(),
  evidence: z.array(evidenceKind).optional(),
  serviceSource: z.enum(ALL_SERVICE_SOURCES).optional(),
  detectionSource: z
    .string()
    .regex(/^[a-z][A-Za-z0-9]*$/, "is a Graph enum member (camelCase)")
    .optional(),
});

const alertsBody = z.union([
  generateBody,
  z.strictObject({
    alerts: z.array(alertInput),
    tenantId: z.string().optional(),
    visibleAt: instant.optional(),
  }),
]);

const updateBody = z.strictObject({
  status: status.optional(),
  classification: classification.optional(),
  determination: determination.optional(),
  assignedTo: z.string().nullable().optional(),
  addEvidence: z.union([evidenceKind, z.literal(true)]).optional(),
  comment: z.string().optional(),
  tenantId: z.string().optional(),
  visibleAt: instant.optional(),
});

const incidentUpdateBody = z.strictObject({
  status: z.enum(INCIDENT_STATUSES).optional(),
  classification: classification.optional(),
  determination: determination.optional(),
  assignedTo: z.string().nullable().optional(),
  addTag: z.string().min(1).optional(),
  comment: z.string().optional(),
  tenantId: z.string().optional(),
  visibleAt: instant.optional(),
});

/** `/alerts/{id}/update`: alert ids are URL path segments, percent-encoded by the caller if need be. */
const UPDATE_ACTION = /^\/alerts\/([^/]+)\/update$/;
/** `/incidents/{id}/update`. */
const INCIDENT_UPDATE_ACTION = /^\/incidents\/([^/]+)\/update$/;

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
      "/alerts": "POST",
    };
    const updateMatch = UPDATE_ACTION.exec(action);
    const incidentMatch = INCIDENT_UPDATE_ACTION.exec(action);
    const allowed = updateMatch || incidentMatch ? "POST" : expected[action];
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
      if (updateMatch) {
        const text = await readBody(req, BODY_LIMIT);
        // An empty body asks for a random update.
        const body = updateBody.parse(text.trim() === "" ? {} : parseJson(text));
        const id = decodeURIComponent(updateMatch[1] ?? "");
        try {
          const updated = actions.updateAlert(id, body);
          sendJson(res, 200, summary(updated));
        } catch (err) {
          if (!(err instanceof ForwarderError && err.details.notFound === true)) throw err;
          sendJson(res, 404, apiError("NotFound", err.message));
        }
        return;
      }
      if (incidentMatch) {
        const text = await readBody(req, BODY_LIMIT);
        const body = incidentUpdateBody.parse(text.trim() === "" ? {} : parseJson(text));
        const id = decodeURIComponent(incidentMatch[1] ?? "");
        try {
          const updated = actions.updateIncident(id, body);
          sendJson(res, 200, {
            id: updated.id,
            tenantId: updated.tenantId,
            lastUpdateTime: updated.lastUpdateTime,
            status: updated.status,
            version: updated.version,
            alertIds: updated.alertIds,
          });
        } catch (err) {
          if (!(err instanceof ForwarderError && err.details.notFound === true)) throw err;
          sendJson(res, 404, apiError("NotFound", err.message));
        }
        return;
      }
      const json = await readJson(req);
      if (action === "/alerts") {
        const body = alertsBody.parse(json);
        const added =
          "count" in body
            ? actions.addAlerts(body.count, {
                tenantId: body.tenantId,
                from: body.from,
                to: body.to,
                sameTime: body.sameTime,
                visibleAt: body.visibleAt,
              })
            : actions.addAlerts(body.alerts, { tenantId: body.tenantId, visibleAt: body.visibleAt });
        sendJson(res, 200, {
          added: added.length,
          ids: added.map((a) => a.id),
          lastUpdateTimes: added.map((a) => a.lastUpdateTime),
        });
        return;
      }
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
  return parseJson(await readBody(req, BODY_LIMIT));
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error("body is not JSON");
  }
}

function summary(alert: SimAlert) {
  return {
    id: alert.id,
    tenantId: alert.tenantId,
    lastUpdateTime: alert.lastUpdateTime,
    status: alert.status,
    version: alert.version,
  };
}

function describe(err: unknown): string {
  if (err instanceof z.ZodError) {
    return err.issues.map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`).join("; ");
  }
  if (err instanceof Error) return err.message;
  return String(err);
}
