/**
 * @module The `paths` of an OpenAPI v3 group-version document, built from the kinds table as
 * upstream lays them out: per resource a collection path, an item path (`…/{name}`), an
 * all-namespaces list path for namespaced kinds, and one path per subresource, each with the
 * operations its verbs allow. Every `patch` carries `x-kubernetes-group-version-kind` and the
 * `fieldValidation`, `dryRun`, `fieldManager` and `force` query parameters: that is how kubectl
 * learns that the server validates fields itself (it then sends `fieldValidation=Strict`).
 */
import type { KindInfo, SubresourceInfo, Verb } from "../../api/kinds.ts";
import { REF_PREFIX, schemaNameFor } from "./schemas.ts";

type Json = Record<string, unknown>;

/** Subresources that stream or proxy rather than read and write an object. */
const CONNECT_SUBRESOURCES = new Set(["attach", "exec", "portforward", "proxy"]);

const META = "io.k8s.apimachinery.pkg.apis.meta.v1";

function ref(name: string): Json {
  return { $ref: REF_PREFIX + name };
}

function queryParam(name: string, description: string, type: "string" | "boolean" | "integer"): Json {
  return { name, in: "query", description, schema: { type, uniqueItems: true } };
}

function pathParam(name: string, description: string): Json {
  return { name, in: "path", description, required: true, schema: { type: "string", uniqueItems: true } };
}

const P = {
  pretty: queryParam("pretty", "If 'true', the output is indented for reading.", "string"),
  name: pathParam("name", "The name of the object."),
  namespace: pathParam("namespace", "The namespace of the objects, a scope for names."),
  dryRun: queryParam(
    "dryRun",
    "When set to All, the request is processed in full (admission, validation) but nothing is persisted.",
    "string",
  ),
  fieldManager: queryParam(
    "fieldManager",
    "The name of the actor making the change, recorded in managedFields. At most 128 printable characters.",
    "string",
  ),
  fieldValidation: queryParam(
    "fieldValidation",
    "What the server does with fields the schema does not know, or duplicated fields: Ignore drops them " +
      "silently, Warn drops them and returns a warning header per field (the default), Strict rejects the " +
      "request with a BadRequest error naming them.",
    "string",
  ),
  force: queryParam(
    "force",
    "Server-side apply only: take ownership of fields that other managers own instead of failing with a conflict.",
    "boolean",
  ),
  gracePeriodSeconds: queryParam(
    "gracePeriodSeconds",
    "Seconds to wait before the object is deleted; zero deletes at once, unset uses the kind's default.",
    "integer",
  ),
  orphanDependents: queryParam(
    "orphanDependents",
    "Deprecated: use propagationPolicy. Whether dependents are orphaned rather than garbage collected.",
    "boolean",
  ),
  propagationPolicy: queryParam(
    "propagationPolicy",
    "How dependents are garbage collected: Orphan, Background or Foreground.",
    "string",
  ),
  allowWatchBookmarks: queryParam(
    "allowWatchBookmarks",
    "Asks a watch for BOOKMARK events carrying only a resourceVersion.",
    "boolean",
  ),
  continue: queryParam("continue", "The token of the next chunk of a paginated list.", "string"),
  fieldSelector: queryParam("fieldSelector", "Restricts the objects returned by their fields.", "string"),
  labelSelector: queryParam("labelSelector", "Restricts the objects returned by their labels.", "string"),
  limit: queryParam("limit", "The most objects to return in one chunk of a list.", "integer"),
  resourceVersion: queryParam(
    "resourceVersion",
    "Which version of the data the request may be served from, or where a watch starts.",
    "string",
  ),
  resourceVersionMatch: queryParam(
    "resourceVersionMatch",
    "How resourceVersion applies to a list: Exact or NotOlderThan.",
    "string",
  ),
  sendInitialEvents: queryParam(
    "sendInitialEvents",
    "Starts a watch with synthetic ADDED events for the current state, then a bookmark.",
    "boolean",
  ),
  timeoutSeconds: queryParam(
    "timeoutSeconds",
    "Ends a list or watch call after this many seconds.",
    "integer",
  ),
  watch: queryParam("watch", "Streams changes to the described objects instead of listing them.", "boolean"),
} as const;

const LIST_PARAMS = [
  P.allowWatchBookmarks,
  P.continue,
  P.fieldSelector,
  P.labelSelector,
  P.limit,
  P.resourceVersion,
  P.resourceVersionMatch,
  P.sendInitialEvents,
  P.timeoutSeconds,
  P.watch,
];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [...WRITE_PARAMS, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.orphanDependents, P.propagationPolicy];

const PATCH_TYPES = [
  "application/apply-patch+yaml",
  "application/json-patch+json",
  "application/merge-patch+json",
  "application/strategic-merge-patch+json",
];

/** Who a set of operations is about: its schema, GVK, and the words of its operationIds. */
interface Subject {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
  /** Schema name of the body, when we have one (connect subresources have none). */
  readonly schema: string | undefined;
}

/** `apps` → `Apps`, `rbac.authorization.k8s.io` → `RbacAuthorization`, core → `Core`. */
function groupWord(group: string): string {
  if (group === "") return "Core";
  return group
    .replace(/\.k8s\.io$/, "")
    .split(".")
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join("");
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function content(schema: string | undefined, types: readonly string[] = ["application/json"]): Json {
  const body: Json = schema ? { schema: ref(schema) } : { schema: { type: "string" } };
  return Object.fromEntries(types.map((t) => [t, body]));
}

function responses(codes: readonly string[], schema: string | undefined): Json {
  const out: Json = {};
  for (const code of codes) {
    out[code] = {
      description: code === "201" ? "Created" : code === "202" ? "Accepted" : "OK",
      content: content(schema),
    };
  }
  out["401"] = { description: "Unauthorized" };
  return out;
}

interface OperationSpec {
  readonly id: string;
  readonly description: string;
  readonly action: string;
  readonly subject: Subject;
  readonly parameters?: readonly Json[];
  readonly requestBody?: Json;
  readonly codes: readonly string[];
  readonly responseSchema: string | undefined;
  readonly tag: string;
}

function operation(o: OperationSpec): Json {
  const op: Json = {
    tags: [o.tag],
    description: o.description,
    operationId: o.id,
  };
  if (o.parameters && o.parameters.length > 0) op.parameters = o.parameters;
  if (o.requestBody) op.requestBody = o.requestBody;
  op.responses = responses(o.codes, o.responseSchema);
  op["x-kubernetes-action"] = o.action;
  op["x-kubernetes-group-version-kind"] = {
    group: o.subject.group,
    version: o.subject.version,
    kind: o.subject.kind,
  };
  return op;
}

/** The object-level operations (`get`/`put`/`patch`/`delete`) a set of verbs allows. */
function objectOperations(verbs: readonly Verb[], s: Subject, ids: IdWords, deleteReturns?: string): Json {
  const ops: Json = {};
  const base = { subject: s, tag: ids.tag, responseSchema: s.schema };
  if (verbs.includes("get")) {
    ops.get = operation({
      ...base,
      id: ids.make("read"),
      description: `Read the specified ${ids.what}.`,
      action: "get",
      codes: ["200"],
    });
  }
  if (verbs.includes("update")) {
    ops.put = operation({
      ...base,
      id: ids.make("replace"),
      description: `Replace the specified ${ids.what}.`,
      action: "put",
      parameters: WRITE_PARAMS,
      requestBody: { content: content(s.schema, ["*/*"]), required: true },
      codes: ["200", "201"],
    });
  }
  if (verbs.includes("delete")) {
    ops.delete = operation({
      ...base,
      id: ids.make("delete"),
      description: `Delete the specified ${ids.what}.`,
      action: "delete",
      parameters: DELETE_PARAMS,
      requestBody: { content: content(`${META}.DeleteOptions`, ["*/*"]) },
      codes: ["200", "202"],
      responseSchema: deleteReturns ?? s.schema,
    });
  }
  if (verbs.includes("patch")) {
    ops.patch = operation({
      ...base,
      id: ids.make("patch"),
      description: `Partially update the specified ${ids.what}.`,
      action: "patch",
      parameters: PATCH_PARAMS,
      requestBody: { content: content(`${META}.Patch`, PATCH_TYPES), required: true },
      codes: ["200", "201"],
    });
  }
  if (verbs.includes("create")) {
    ops.post = operation({
      ...base,
      id: ids.make("create"),
      description: `Create a ${ids.what}.`,
      action: "post",
      parameters: WRITE_PARAMS,
      requestBody: { content: content(s.schema, ["*/*"]), required: true },
      codes: ["200", "201", "202"],
    });
  }
  return ops;
}

/** Builds operationIds: `<verb><Group><Version>[Namespaced]<Kind>[Subresource][suffix]`. */
interface IdWords {
  readonly tag: string;
  /** What the description talks about, e.g. `Pod` or `status of the Pod`. */
  readonly what: string;
  make(verb: string, suffix?: string): string;
}

function idWords(k: KindInfo, sub?: string, namespaced = k.namespaced): IdWords {
  const gv = `${groupWord(k.group)}${capital(k.version)}`;
  const tag = `${k.group === "" ? "core" : groupWord(k.group).toLowerCase()}_${k.version}`;
  const scope = namespaced ? "Namespaced" : "";
  return {
    tag,
    what: sub ? `${sub} of the ${k.kind}` : k.kind,
    make: (verb, suffix = "") => `${verb}${gv}${scope}${k.kind}${sub ? capital(sub) : ""}${suffix}`,
  };
}

function subject(k: KindInfo): Subject {
  return {
    group: k.group,
    version: k.version,
    kind: k.kind,
    schema: schemaNameFor(k.group, k.version, k.kind),
  };
}

function subresourceSubject(k: KindInfo, s: SubresourceInfo): Subject {
  const group = s.group ?? k.group;
  const version = s.version ?? k.version;
  return { group, version, kind: s.kind, schema: schemaNameFor(group, version, s.kind) };
}

function withParams(ops: Json, params: readonly Json[]): Json {
  return Object.keys(ops).length === 0 ? {} : { ...ops, parameters: params };
}

/** Connect-style subresources: `get`/`post`/… returning a stream, no object body. */
function connectOperations(k: KindInfo, s: SubresourceInfo, ids: IdWords): Json {
  const subj: Subject = { ...subresourceSubject(k, s), schema: undefined };
  const methods: [Verb, string][] = [
    ["get", "get"],
    ["create", "post"],
    ["update", "put"],
    ["delete", "delete"],
    ["patch", "patch"],
  ];
  const ops: Json = {};
  for (const [verb, method] of methods) {
    if (!s.verbs.includes(verb)) continue;
    ops[method] = operation({
      id: `connect${ids.make(capital(method))}`,
      description: `Connect ${method.toUpperCase()} requests to ${ids.what}.`,
      action: "connect",
      subject: subj,
      ...(method === "patch" ? { parameters: PATCH_PARAMS } : {}),
      codes: ["200"],
      responseSchema: undefined,
      tag: ids.tag,
    });
  }
  return ops;
}

/** `pods/log`: a plain-text read. */
function logOperation(k: KindInfo, ids: IdWords): Json {
  return operation({
    id: ids.make("read"),
    description: `Read the log of the specified ${k.kind}.`,
    action: "get",
    subject: { ...subject(k), schema: undefined },
    codes: ["200"],
    responseSchema: undefined,
    tag: ids.tag,
  });
}

/** The `paths` entries of one kind, keyed by URL path. */
export function kindPaths(k: KindInfo): Record<string, Json> {
  const root = k.group === "" ? `/api/${k.version}` : `/apis/${k.group}/${k.version}`;
  const scoped = k.namespaced ? `${root}/namespaces/{namespace}/${k.resource}` : `${root}/${k.resource}`;
  const scopeParams = k.namespaced ? [P.namespace, P.pretty] : [P.pretty];
  const subj = subject(k);
  const listSchema = schemaNameFor(k.group, k.version, k.listKind);
  const ids = idWords(k);
  const out: Record<string, Json> = {};

  const collection: Json = {};
  const listOp = (id: string): Json =>
    operation({
      id,
      description: `List or watch ${k.kind} objects.`,
      action: "list",
      subject: subj,
      parameters: LIST_PARAMS,
      codes: ["200"],
      responseSchema: listSchema,
      tag: ids.tag,
    });
  if (k.verbs.includes("list")) collection.get = listOp(ids.make("list"));
  if (k.verbs.includes("create"))
    Object.assign(collection, { post: objectOperations(["create"], subj, ids).post });
  if (k.verbs.includes("deletecollection")) {
    collection.delete = operation({
      id: ids.make("deleteCollection"),
      description: `Delete a collection of ${k.kind} objects.`,
      action: "deletecollection",
      subject: subj,
      parameters: [...DELETE_PARAMS, ...LIST_PARAMS],
      requestBody: { content: content(`${META}.DeleteOptions`, ["*/*"]) },
      codes: ["200"],
      responseSchema: `${META}.Status`,
      tag: ids.tag,
    });
  }
  out[scoped] = withParams(collection, scopeParams);

  const itemVerbs = k.verbs.filter((v) => v !== "create");
  out[`${scoped}/{name}`] = withParams(objectOperations(itemVerbs, subj, ids), [P.name, ...scopeParams]);

  if (k.namespaced && k.verbs.includes("list")) {
    out[`${root}/${k.resource}`] = withParams(
      { get: listOp(idWords(k, undefined, false).make("list", "ForAllNamespaces")) },
      [P.pretty],
    );
  }

  for (const s of k.subresources) {
    const subIds = idWords(k, s.name);
    const subSubject = subresourceSubject(k, s);
    let ops: Json;
    if (s.name === "log") ops = { get: logOperation(k, subIds) };
    else if (CONNECT_SUBRESOURCES.has(s.name) || !subSubject.schema) ops = connectOperations(k, s, subIds);
    else ops = objectOperations(s.verbs, subSubject, subIds);
    out[`${scoped}/{name}/${s.name}`] = withParams(ops, [P.name, ...scopeParams]);
  }
  for (const [p, ops] of Object.entries(out)) if (Object.keys(ops).length === 0) delete out[p];
  return out;
}
