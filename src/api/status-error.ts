/**
 * @module The one error type of the API: a `StatusError` carries the Kubernetes `Status`
 * (code, reason, message, details) that the apiserver sends back verbatim. Build with the
 * helpers below (`notFound`, `alreadyExists`, `conflict`, `invalid`, …) and test with the
 * `is*` predicates; never throw strings.
 */
import { errorBody, formatFieldErrors, type FieldError } from "./field-errors.ts";

/** `metav1.StatusReason` values we use. */
export type StatusReason =
  | "NotFound"
  | "AlreadyExists"
  | "Conflict"
  | "Invalid"
  | "BadRequest"
  | "Forbidden"
  | "Unauthorized"
  | "MethodNotAllowed"
  | "NotAcceptable"
  | "UnsupportedMediaType"
  | "RequestEntityTooLarge"
  | "Gone"
  | "Expired"
  | "Timeout"
  | "TooManyRequests"
  | "ServiceUnavailable"
  | "InternalError"
  | "Unknown";

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** The `Status` object (`kind: Status, apiVersion: v1`) as sent on the wire. */
export interface Status {
  kind: "Status";
  apiVersion: "v1";
  metadata: Record<string, never>;
  status: "Failure" | "Success";
  message: string;
  reason: StatusReason | "";
  details?: StatusDetails;
  code: number;
}

/** An error that is answered as a Kubernetes `Status`. */
export class StatusError extends Error {
  readonly status: Status;
  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.name = "StatusError";
    this.status = {
      kind: "Status",
      apiVersion: "v1",
      metadata: {},
      status: "Failure",
      message,
      reason,
      code,
    };
    if (details) this.status.details = details;
  }
  get code(): number {
    return this.status.code;
  }
  get reason(): StatusReason | "" {
    return this.status.reason;
  }
}

/** Identifies a resource in messages: `pods`, or `deployments.apps` for a named group. */
export interface GroupResource {
  group: string;
  resource: string;
}

function qualified(gr: GroupResource): string {
  return gr.group ? `${gr.resource}.${gr.group}` : gr.resource;
}

/** 404 `pods "x" not found`. */
export function notFound(gr: GroupResource, name: string): StatusError {
  return new StatusError(404, "NotFound", `${qualified(gr)} "${name}" not found`, {
    name,
    group: gr.group,
    kind: gr.resource,
  });
}

/** 409 `pods "x" already exists`. */
export function alreadyExists(gr: GroupResource, name: string): StatusError {
  return new StatusError(409, "AlreadyExists", `${qualified(gr)} "${name}" already exists`, {
    name,
    group: gr.group,
    kind: gr.resource,
  });
}

/** 409 `Operation cannot be fulfilled on pods "x": <detail>`. */
export function conflict(
  gr: GroupResource,
  name: string,
  detail = "the object has been modified; please apply your changes to the latest version and try again",
): StatusError {
  return new StatusError(
    409,
    "Conflict",
    `Operation cannot be fulfilled on ${qualified(gr)} "${name}": ${detail}`,
    {
      name,
      group: gr.group,
      kind: gr.resource,
    },
  );
}

/** 422 `Pod "x" is invalid: spec.containers[0].image: Required value`, with one cause per error. */
export function invalid(kind: string, group: string, name: string, errs: readonly FieldError[]): StatusError {
  const qualifiedKind = group ? `${kind}.${group}` : kind;
  return new StatusError(
    422,
    "Invalid",
    `${qualifiedKind} "${name}" is invalid: ${formatFieldErrors(errs)}`,
    {
      name,
      group,
      kind,
      causes: errs.map((e) => ({ reason: e.type, message: errorBody(e), field: e.field })),
    },
  );
}

export function badRequest(message: string): StatusError {
  return new StatusError(400, "BadRequest", message);
}

export function forbidden(gr: GroupResource, name: string, detail: string): StatusError {
  const what = name ? `${qualified(gr)} "${name}"` : qualified(gr);
  return new StatusError(403, "Forbidden", `${what} is forbidden: ${detail}`, {
    name,
    group: gr.group,
    kind: gr.resource,
  });
}

export function unauthorized(message = "Unauthorized"): StatusError {
  return new StatusError(401, "Unauthorized", message);
}

export function methodNotAllowed(
  message = "the server does not allow this method on the requested resource",
): StatusError {
  return new StatusError(405, "MethodNotAllowed", message);
}

export function unsupportedMediaType(contentType: string): StatusError {
  return new StatusError(
    415,
    "UnsupportedMediaType",
    `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got ${contentType})`,
  );
}

export function tooLarge(message = "Request entity too large: limit is 3145728"): StatusError {
  return new StatusError(413, "RequestEntityTooLarge", message);
}

/** 410 Expired: a watch or list asked for a revision that compaction removed. */
export function expired(message: string): StatusError {
  return new StatusError(410, "Expired", message);
}

export function gone(message: string): StatusError {
  return new StatusError(410, "Gone", message);
}

export function internalError(message: string): StatusError {
  return new StatusError(500, "InternalError", `Internal error occurred: ${message}`, {
    causes: [{ message }],
  });
}

export function serviceUnavailable(message: string): StatusError {
  return new StatusError(503, "ServiceUnavailable", message);
}

export function timeout(message: string, retryAfterSeconds = 1): StatusError {
  return new StatusError(504, "Timeout", message, { retryAfterSeconds });
}

const reasonOf = (err: unknown): string | undefined => (err instanceof StatusError ? err.reason : undefined);
export const isNotFound = (err: unknown): boolean => reasonOf(err) === "NotFound";
export const isAlreadyExists = (err: unknown): boolean => reasonOf(err) === "AlreadyExists";
export const isConflict = (err: unknown): boolean => reasonOf(err) === "Conflict";
export const isInvalid = (err: unknown): boolean => reasonOf(err) === "Invalid";
export const isForbidden = (err: unknown): boolean => reasonOf(err) === "Forbidden";
export const isGone = (err: unknown): boolean => reasonOf(err) === "Gone" || reasonOf(err) === "Expired";
