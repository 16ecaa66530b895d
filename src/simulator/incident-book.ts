// One tenant's incidents, kept in step with its alerts: an alert that is added or updated makes a new
// version of the incident it belongs to (by incidentId), and an analyst's change (status, classification,
// assignment, a tag, a comment) makes one too. Versions live in the same kind of store as the alerts, so
// Graph serves them with the same OData filters, ordering and paging.
import { type Ticks, ticksFromMs } from "../timestamp.js";
import { ANALYSTS, COMMENTS, DETERMINATIONS } from "./alert-catalog.js";
import { coarseStamp, fullStamp } from "./alert-generator.js";
import type { AlertModel, Stamp } from "./alert-model.js";
import { type AlertStore, createAlertStore, type StoredVersion } from "./alert-store.js";
import { highestSeverity, type IncidentModel, incidentName } from "./incident-model.js";
import type { Random } from "./random.js";
import type { IncidentChange } from "./types.js";

const TAGS = ["Demo", "Ransomware", "VIP", "Phishing campaign", "Pen test"] as const;

export interface IncidentBook {
  readonly store: AlertStore<IncidentModel>;
  /** The incident of `alert` after the alert was added or changed (a new incident for a new id). */
  onAlert(alert: AlertModel, visibleAt: number): StoredVersion<IncidentModel>;
  /** An analyst's change at `nowMs`; undefined for an unknown id. An empty change is a random plausible one. */
  update(id: string, change: IncidentChange, nowMs: number): StoredVersion<IncidentModel> | undefined;
}

export function createIncidentBook(tenantId: string, rng: Random, domain: () => string): IncidentBook {
  const store = createAlertStore<IncidentModel>();

  /** After `previous`, never before it: a client that read the previous version must see this one. */
  function after(previous: Stamp, wanted: Stamp): Stamp {
    return wanted.ticks > previous.ticks ? wanted : fullStamp(previous.ticks + 1n);
  }

  function onAlert(alert: AlertModel, visibleAt: number): StoredVersion<IncidentModel> {
    const id = String(alert.incidentId);
    const latest = store.latest(id)?.alert;
    if (latest === undefined) {
      const incident: IncidentModel = {
        tenantId,
        id,
        displayName: incidentName([alert]),
        description: null,
        created: alert.created,
        lastUpdate: alert.lastUpdate,
        status:
          alert.status === "Resolved" ? "resolved" : alert.status === "InProgress" ? "inProgress" : "active",
        severity: alert.severity,
        classification: null,
        determination: null,
        assignedTo: alert.assignedTo,
        customTags: rng.chance(0.3) ? [rng.pick(TAGS)] : [],
        systemTags: [],
        comments: [],
        redirectIncidentId: null,
        alerts: [alert],
      };
      return store.add(incident, visibleAt);
    }
    const known = latest.alerts.some((a) => a.id === alert.id);
    const alerts = known
      ? latest.alerts.map((a) => (a.id === alert.id ? alert : a))
      : [...latest.alerts, alert];
    const allResolved = alerts.every((a) => a.status === "Resolved");
    // A new alert reopens a resolved incident; one whose alerts are all resolved is resolved.
    const status = allResolved ? "resolved" : latest.status === "resolved" ? "active" : latest.status;
    return store.update(
      {
        ...latest,
        alerts,
        displayName: incidentName(alerts),
        severity: highestSeverity(alerts),
        status,
        lastUpdate: after(latest.lastUpdate, alert.lastUpdate),
      },
      visibleAt,
    );
  }

  function randomChange(incident: IncidentModel): IncidentChange {
    const roll = rng.next();
    if (incident.assignedTo === null) return { assignedTo: `${rng.pick(ANALYSTS)}@${domain()}` };
    if (incident.status === "active" && roll < 0.5) return { status: "inProgress" };
    if (roll < 0.3) return { addTag: rng.pick(TAGS) };
    if (roll < 0.6) return { comment: rng.pick(COMMENTS) };
    return {
      status: "resolved",
      classification: "TruePositive",
      determination: rng.pick(DETERMINATIONS.TruePositive),
    };
  }

  function update(
    id: string,
    requested: IncidentChange,
    nowMs: number,
  ): StoredVersion<IncidentModel> | undefined {
    const latest = store.latest(id)?.alert;
    if (latest === undefined) return undefined;
    const effective =
      requested.status !== undefined ||
      requested.classification !== undefined ||
      requested.determination !== undefined ||
      requested.assignedTo !== undefined ||
      requested.addTag !== undefined ||
      requested.comment !== undefined;
    const change = effective ? requested : randomChange(latest);
    const now: Ticks = ticksFromMs(nowMs);
    const lastUpdate = after(latest.lastUpdate, coarseStamp(now, 7));
    const assignedTo = change.assignedTo !== undefined ? change.assignedTo : latest.assignedTo;
    return store.update(
      {
        ...latest,
        status: change.status ?? latest.status,
        classification: change.classification !== undefined ? change.classification : latest.classification,
        determination: change.determination !== undefined ? change.determination : latest.determination,
        assignedTo,
        customTags:
          change.addTag === undefined || latest.customTags.includes(change.addTag)
            ? latest.customTags
            : [...latest.customTags, change.addTag],
        comments:
          change.comment === undefined
            ? latest.comments
            : [
                ...latest.comments,
                { comment: change.comment, createdBy: assignedTo ?? "soc.analyst", created: lastUpdate.text },
              ],
        lastUpdate,
      },
      change.visibleAt ?? Number.NEGATIVE_INFINITY,
    );
  }

  return { store, onAlert, update };
}
