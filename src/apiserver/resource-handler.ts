/**
 * @module The handler for resource requests (`/api/v1/...`, `/apis/<g>/<v>/...`): routes a
 * parsed request to the kind's store by verb — get, list, watch, create, update, patch,
 * delete, deletecollection, and the `status` subresource — and writes the answer as JSON or,
 * when kubectl asks for it, as a server-side Table.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { kindByGroupResource, kindByResource, type KindInfo } from "../api/kinds.ts";
import type { KubeObject } from "../api/object.ts";
import { badRequest, methodNotAllowed, StatusError } from "../api/status-error.ts";
import type { Backend } from "../storage/backend.ts";
import { decodeObject, mediaType, readBody } from "./body.ts";
import { listJson, listObjects, parseListQuery, serveWatch } from "./list-watch.ts";
import { pruneUnknownFields } from "./openapi/unknown-fields.ts";
import { applyPatch } from "./patch/apply.ts";
import type { ResourceStore, DeleteRequest, WriteOptions } from "./registry/store.ts";
import { defaultManager } from "./apply/managed-fields.ts";
import { serverSideApply } from "./apply/apply-request.ts";
import type { RequestInfo } from "./request-info.ts";
import { bindPod, evictPod } from "./pod-subresources.ts";
import { toScale, writeScale } from "./scale.ts";
import { tableRenderer, wantsTable } from "./table-output.ts";
import type { CachedObject } from "./watch-cache.ts";
import { cachedObject } from "./registry/codec.ts";

/** Finds the store of a kind; the server owns the stores. */
export type StoreLookup = (info: KindInfo) => ResourceStore;

function sendJson(res: ServerResponse, code: number, body: string, contentType = "application/json"): void {
  res.writeHead(code, { "Content-Type": contentType, "Content-Length": Buffer.byteLength(body) });
  res.end(body);
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  return v === "true" || v === "1";
}

function dryRun(q: URLSearchParams): boolean {
  const values = q.getAll("dryRun");
  for (const v of values)
    if (v !== "All") throw badRequest(`dryRun: Unsupported value: "${v}": supported values: "All"`);
  return values.length > 0;
}

function parseDeleteOptions(
  body: Buffer,
  contentType: string | undefined,
  q: URLSearchParams,
): DeleteRequest {
  const opts: DeleteRequest = {};
  const o = body.length ? decodeObject(body, contentType ?? "application/json") : {};
  const grace =
    o.gracePeriodSeconds ?? (q.has("gracePeriodSeconds") ? Number(q.get("gracePeriodSeconds")) : undefined);
  if (grace !== undefined && grace !== null) {
    if (typeof grace !== "number" || !Number.isFinite(grace))
      throw badRequest("gracePeriodSeconds must be a number");
    opts.gracePeriodSeconds = grace;
  }
  const policy = (o.propagationPolicy ?? q.get("propagationPolicy") ?? undefined) as string | undefined;
  if (policy !== undefined && policy !== null) {
    if (!["Orphan", "Background", "Foreground"].includes(policy)) {
      throw new StatusError(
        422,
        "Invalid",
        `propagationPolicy: Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"`,
      );
    }
    opts.propagationPolicy = policy as DeleteRequest["propagationPolicy"];
  }
  if (typeof o.orphanDependents === "boolean") opts.orphanDependents = o.orphanDependents;
  else if (q.has("orphanDependents")) opts.orphanDependents = boolParam(q, "orphanDependents");
  if (o.preconditions && typeof o.preconditions === "object")
    opts.preconditions = o.preconditions as DeleteRequest["preconditions"];
  const dr = (o.dryRun as string[] | undefined) ?? q.getAll("dryRun");
  if (dr.length) opts.dryRun = true;
  return opts;
}

type FieldValidation = "Ignore" | "Warn" | "Strict";

/** The request's field manager: `?fieldManager=`, else one derived from the User-Agent as upstream. */
function fieldManager(q: URLSearchParams, req: IncomingMessage): string {
  const m = q.get("fieldManager");
  if (m !== null) {
    if (m.length > 128)
      throw new StatusError(422, "Invalid", `fieldManager: Too long: may not be more than 128 bytes`);
    return m;
  }
  return defaultManager(req.headers["user-agent"]);
}

function fieldValidation(q: URLSearchParams): FieldValidation {
  const v = q.get("fieldValidation") ?? "Warn";
  if (v !== "Ignore" && v !== "Warn" && v !== "Strict") {
    throw badRequest(
      `fieldValidation: Unsupported value: "${v}": supported values: "Ignore", "Strict", "Warn"`,
    );
  }
  return v;
}

/**
 * Drops the fields the kind's schema does not know, as upstream's decoder does, and reports
 * them as the request asked: a 400 (Strict), `Warning` headers (Warn, the default), or not.
 */
function checkUnknownFields(
  info: KindInfo,
  obj: KubeObject,
  mode: FieldValidation,
  res: ServerResponse,
): void {
  const unknown = pruneUnknownFields(info.group, info.version, info.kind, obj);
  if (unknown.length === 0 || mode === "Ignore") return;
  if (mode === "Strict") {
    throw badRequest(
      `${info.kind} in version "${info.version}" cannot be handled as a ${info.kind}: strict decoding error: ${unknown
        .map((f) => `unknown field "${f}"`)
        .join(", ")}`,
    );
  }
  res.setHeader(
    "Warning",
    unknown.map((f) => `299 - ${JSON.stringify(`unknown field "${f}"`)}`),
  );
}

function successStatus(info: KindInfo, obj: KubeObject): string {
  return JSON.stringify({
    kind: "Status",
    apiVersion: "v1",
    metadata: {},
    status: "Success",
    details: { name: obj.metadata.name, group: info.group, kind: info.resource, uid: obj.metadata.uid },
  });
}

/** Resource request handler bound to the server's stores. */
export class ResourceHandler {
  constructor(
    private readonly stores: StoreLookup,
    private readonly backend: Backend,
    private readonly signal: AbortSignal,
  ) {}

  /** GET, PUT and PATCH of `<workload>/scale`. */
  private async scale(
    req: IncomingMessage,
    res: ServerResponse,
    store: ResourceStore,
    ri: RequestInfo,
    q: URLSearchParams,
  ): Promise<void> {
    if (ri.verb === "get") {
      const cur = await store.get(ri.namespace, ri.name);
      sendJson(res, 200, JSON.stringify(toScale(cur.obj, cur.rev)));
      return;
    }
    const body = await readBody(req);
    let edit: (cur: KubeObject) => unknown;
    if (ri.verb === "update") {
      const want = decodeObject(body, req.headers["content-type"]);
      edit = () => want;
    } else if (ri.verb === "patch") {
      const type = mediaType(req.headers["content-type"]);
      const scaleInfo = { ...store.info, group: "autoscaling", version: "v1", kind: "Scale" };
      edit = (cur) => applyPatch(scaleInfo, cur, type, body.toString("utf8"));
    } else {
      throw methodNotAllowed();
    }
    const scale = await writeScale(
      store,
      ri.namespace,
      ri.name,
      (cur) => edit(cur as unknown as KubeObject),
      // As upstream, the writer owns spec.replicas in an entry marked `subresource: scale`.
      { dryRun: dryRun(q), fieldManager: fieldManager(q, req), subresource: "scale" },
    );
    sendJson(res, 200, JSON.stringify(scale));
  }

  async handle(
    req: IncomingMessage,
    res: ServerResponse,
    ri: RequestInfo,
    q: URLSearchParams,
  ): Promise<void> {
    const info = kindByResource(ri.group, ri.version, ri.resource);
    if (!info) {
      throw new StatusError(404, "NotFound", "the server could not find the requested resource", {});
    }
    if (ri.namespace && !info.namespaced)
      throw new StatusError(404, "NotFound", "the server could not find the requested resource");
    const store = this.stores(info);
    const accept = req.headers.accept;
    const table = wantsTable(accept);
    const render = table ? tableRenderer(info, q) : undefined;
    const contentType = table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json";
    const one = (o: CachedObject, code = 200): void =>
      sendJson(res, code, render ? render.list([o], o.rev, "") : o.json, contentType);
    const sub = ri.subresource;
    if (sub === "scale" && info.subresources.some((s) => s.name === "scale")) {
      await this.scale(req, res, store, ri, q);
      return;
    }
    if (
      info.group === "" &&
      info.kind === "Pod" &&
      ri.verb === "create" &&
      (sub === "binding" || sub === "eviction")
    ) {
      const body = decodeObject(await readBody(req), req.headers["content-type"]);
      const out =
        sub === "binding"
          ? await bindPod(store, ri.namespace, ri.name, body, {
              dryRun: dryRun(q),
              fieldManager: fieldManager(q, req),
              subresource: "binding",
            })
          : await evictPod(store, ri.namespace, ri.name, body, {
              store: this.stores(kindByGroupResource("policy", "poddisruptionbudgets")!),
              backend: this.backend,
            });
      sendJson(res, 201, out);
      return;
    }
    const finalize =
      sub === "finalize" && info.group === "" && info.kind === "Namespace" && ri.verb === "update";
    if (sub && sub !== "status" && !finalize) {
      throw new StatusError(
        404,
        "NotFound",
        `the server could not find the requested resource (${ri.resource}/${sub} is not served yet)`,
      );
    }
    const opts: WriteOptions = {
      dryRun: dryRun(q),
      fieldManager: fieldManager(q, req),
      ...(sub === "status" ? { subresource: "status" as const } : {}),
      ...(finalize ? { subresource: "finalize" as const } : {}),
    };

    switch (ri.verb) {
      case "get": {
        one(await store.get(ri.namespace, ri.name));
        return;
      }
      case "list": {
        const lq = parseListQuery(info, ri.namespace, q);
        const page = await listObjects(store, this.backend, lq);
        sendJson(
          res,
          200,
          render ? render.list(page.items, page.rev, page.continueToken) : listJson(info, page),
          contentType,
        );
        return;
      }
      case "watch": {
        const lq = parseListQuery(info, ri.namespace, q);
        const timeout = Number(q.get("timeoutSeconds") ?? "0");
        await serveWatch(store, res, {
          query: lq,
          timeoutSeconds: timeout > 0 ? timeout : 1800 + Math.floor(Math.random() * 1800),
          allowBookmarks: boolParam(q, "allowWatchBookmarks"),
          ...(render ? { table: render.row } : {}),
          contentType,
          signal: this.signal,
        });
        return;
      }
      case "create": {
        if (ri.name && !sub) throw methodNotAllowed();
        const body = decodeObject(await readBody(req), req.headers["content-type"]) as KubeObject;
        if (sub) throw methodNotAllowed();
        checkUnknownFields(info, body, fieldValidation(q), res);
        const created = await store.create(ri.namespace, body, opts);
        one(created, 201);
        return;
      }
      case "update": {
        const body = decodeObject(await readBody(req), req.headers["content-type"]) as KubeObject;
        checkUnknownFields(info, body, fieldValidation(q), res);
        one(await store.update(ri.namespace, ri.name, body, opts));
        return;
      }
      case "patch": {
        const type = mediaType(req.headers["content-type"]);
        const patch = (await readBody(req)).toString("utf8");
        const mode = fieldValidation(q);
        if (type === "application/apply-patch+yaml") {
          const r = await serverSideApply(store, ri, patch, q, opts, (o) =>
            checkUnknownFields(info, o, mode, res),
          );
          one(r.obj, r.created ? 201 : 200);
          return;
        }
        const updated = await store.guaranteedUpdate(
          ri.namespace,
          ri.name,
          (cur) => {
            const next = applyPatch(info, cur, type, patch);
            checkUnknownFields(info, next, mode, res);
            return next;
          },
          opts,
        );
        one(updated);
        return;
      }
      case "delete": {
        if (sub) throw methodNotAllowed();
        const del = parseDeleteOptions(await readBody(req), req.headers["content-type"], q);
        const r = await store.delete(ri.namespace, ri.name, del);
        // Upstream answers with the object when it is not gone yet (or for pods), else a Status.
        const body =
          !r.deleted || info.kind === "Pod" || info.kind === "Service"
            ? JSON.stringify(r.obj)
            : successStatus(info, r.obj);
        sendJson(res, r.deleted ? 200 : 202, body);
        return;
      }
      case "deletecollection": {
        const del = parseDeleteOptions(await readBody(req), req.headers["content-type"], q);
        const lq = parseListQuery(info, ri.namespace, q);
        const page = await listObjects(store, this.backend, lq);
        const gone: CachedObject[] = [];
        for (const o of page.items) {
          try {
            const r = await store.delete(o.obj.metadata.namespace ?? "", o.obj.metadata.name ?? "", del);
            gone.push(cachedObject(o.key, r.obj, o.rev));
          } catch (e) {
            if (!(e instanceof StatusError && e.code === 404)) throw e;
          }
        }
        sendJson(res, 200, listJson(info, { items: gone, rev: page.rev, continueToken: "" }));
        return;
      }
      default:
        throw methodNotAllowed();
    }
  }
}
