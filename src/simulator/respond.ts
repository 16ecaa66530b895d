// Small node:http helpers shared by the emulated API and the control endpoints.
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from "node:http";

export class BodyTooLargeError extends Error {}

/** The request body as text; rejects past `limit` bytes so a runaway client cannot exhaust memory. */
export function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new BodyTooLargeError(`request body over ${limit} bytes`));
        req.resume();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}

/** Writes a complete response; false when the client is already gone. */
export function send(
  res: ServerResponse,
  status: number,
  contentType: string,
  body: string,
  headers: OutgoingHttpHeaders = {},
): boolean {
  if (res.headersSent || res.destroyed) return false;
  res.writeHead(status, {
    ...headers,
    "content-type": contentType,
    "content-length": Buffer.byteLength(body),
  });
  res.end(body);
  return true;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: OutgoingHttpHeaders = {},
): void {
  send(res, status, "application/json; charset=utf-8", JSON.stringify(value), headers);
}

/** The error body of the emulated API and the control endpoints (the real API's is undocumented). */
export function apiError(code: string, message: string): { error: { code: string; message: string } } {
  return { error: { code, message } };
}

/** What an endpoint answers when no fault is injected. */
export interface Outcome {
  status: number;
  contentType: string;
  body: string;
  headers?: Record<string, string>;
  /** Items delivered (detections or alerts), for the request log. */
  count?: number;
  /** SIEM detections delivered, for the `served` set. */
  detections?: readonly Record<string, unknown>[];
}

export function jsonOutcome(status: number, value: unknown, headers?: Record<string, string>): Outcome {
  return { status, contentType: "application/json; charset=utf-8", body: JSON.stringify(value), headers };
}
