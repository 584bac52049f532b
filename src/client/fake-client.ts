/**
 * @module An in-memory `Client` for unit tests of components (controllers, scheduler, node
 * agent): objects keyed by resource and namespace/name, one revision counter, watches with
 * replay from a revision, generateName, optimistic concurrency, finalizers and the
 * propagation finalizers, the `status`, `binding` and `eviction` subresources, and a log of
 * every write (`actions`) for assertions. It does no defaulting or validation: tests that
 * need the real API machinery start a real server instead.
 */
import { randomUUID } from "node:crypto";
import { allKinds, kindByGroupResource, type KindInfo } from "../api/kinds.ts";
import { parseFieldSelector } from "../api/fields.ts";
import { parseSelector } from "../api/labels.ts";
import { deepEqual, formatTimestamp, generateName } from "../api/meta.ts";
import type { KubeObject } from "../api/object.ts";
import { alreadyExists, badRequest, conflict, notFound } from "../api/status-error.ts";
import { applyJsonPatch } from "../apiserver/patch/json-patch.ts";
import { applyMergePatch } from "../apiserver/patch/merge-patch.ts";
import { applyStrategicMergePatch } from "../apiserver/patch/strategic-merge-patch.ts";
import { patchSchemaFor } from "../apiserver/patch/strategies.ts";
import { EventChannel } from "./event-channel.ts";
import type {
  Client,
  DeleteOptions,
  ListOptions,
  ListResult,
  PatchOptions,
  PatchType,
  ResourceClient,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from "./types.ts";

/** One write the fake saw, in order. */
export interface FakeAction {
  verb: "create" | "update" | "patch" | "delete";
  resource: string;
  namespace: string;
  name: string;
  subresource?: string;
  object?: KubeObject;
}

interface Watcher {
  namespace: string | undefined;
  matches: (obj: KubeObject) => boolean;
  channel: EventChannel<WatchEvent<KubeObject>>;
}

interface Table {
  info: KindInfo;
  objects: Map<string, KubeObject>;
  history: { rev: number; event: WatchEvent<KubeObject> }[];
  watchers: Set<Watcher>;
}

const keyOf = (ns: string, name: string): string => `${ns}/${name}`;

export class FakeClient implements Client {
  readonly userAgent = "fake-client";
  readonly actions: FakeAction[] = [];
  private rev = 0;
  private readonly tables = new Map<string, Table>();
  private readonly clients = new Map<string, FakeResourceClient>();
  /** The clock the fake stamps creation and deletion times with. */
  now: () => Date = () => new Date();

  constructor(objects: KubeObject[] = []) {
    for (const o of objects) this.seed(o);
  }

  /** Adds an object as if it had been created earlier (no action logged). */
  seed(obj: KubeObject): KubeObject {
    const info = infoOfObject(obj);
    const o = structuredClone(obj);
    o.metadata.uid ??= randomUUID();
    o.metadata.creationTimestamp ??= formatTimestamp(this.now());
    o.metadata.resourceVersion = String(++this.rev);
    o.metadata.namespace = info.namespaced ? (o.metadata.namespace ?? "default") : undefined;
    if (!info.namespaced) delete o.metadata.namespace;
    this.table(info).objects.set(keyOf(o.metadata.namespace ?? "", o.metadata.name!), o);
    return o;
  }

  resource<T extends KubeObject = KubeObject>(group: string, resource: string): ResourceClient<T> {
    const id = `${group}/${resource}`;
    let c = this.clients.get(id);
    if (!c) {
      const info = kindByGroupResource(group, resource);
      if (!info) throw notFound({ group, resource }, resource);
      c = new FakeResourceClient(this, info);
      this.clients.set(id, c);
    }
    return c as unknown as ResourceClient<T>;
  }

  /** Every stored object of a resource, for assertions. */
  objects<T extends KubeObject = KubeObject>(group: string, resource: string): T[] {
    const info = kindByGroupResource(group, resource);
    if (!info) return [];
    return [...this.table(info).objects.values()].map((o) => structuredClone(o) as T);
  }

  /** @internal */
  table(info: KindInfo): Table {
    const id = `${info.group}/${info.resource}`;
    let t = this.tables.get(id);
    if (!t) {
      t = { info, objects: new Map(), history: [], watchers: new Set() };
      this.tables.set(id, t);
    }
    return t;
  }

  /** @internal */
  nextRev(): number {
    return ++this.rev;
  }

  /** @internal */
  get currentRev(): number {
    return this.rev;
  }

  /** @internal Records an event and fans it out. */
  emit(t: Table, type: WatchEvent<KubeObject>["type"], obj: KubeObject): void {
    const event = { type, object: obj };
    t.history.push({ rev: Number(obj.metadata.resourceVersion), event });
    for (const w of t.watchers) {
      if (w.namespace !== undefined && obj.metadata.namespace !== w.namespace) continue;
      if (!w.matches(obj)) continue;
      w.channel.push({ type, object: structuredClone(obj) });
    }
  }
}

function infoOfObject(obj: KubeObject): KindInfo {
  const [group, version] = obj.apiVersion.includes("/") ? obj.apiVersion.split("/") : ["", obj.apiVersion];
  const info = allKinds().find((k) => k.group === group && k.version === version && k.kind === obj.kind);
  if (!info) throw badRequest(`no kind "${obj.kind}" is registered for version "${obj.apiVersion}"`);
  return info;
}

class FakeResourceClient implements ResourceClient<KubeObject> {
  constructor(
    private readonly fake: FakeClient,
    readonly info: KindInfo,
  ) {}

  private get t(): Table {
    return this.fake.table(this.info);
  }

  private ns(namespace: string | undefined): string {
    return this.info.namespaced ? (namespace ?? "default") : "";
  }

  private gr() {
    return { group: this.info.group, resource: this.info.resource };
  }

  private stored(namespace: string | undefined, name: string): KubeObject {
    const o = this.t.objects.get(keyOf(this.ns(namespace), name));
    if (!o) throw notFound(this.gr(), name);
    return o;
  }

  async get(namespace: string | undefined, name: string): Promise<KubeObject> {
    return structuredClone(this.stored(namespace, name));
  }

  private matcher(opts: { labelSelector?: string; fieldSelector?: string }): (o: KubeObject) => boolean {
    const labels = opts.labelSelector ? parseSelector(opts.labelSelector) : undefined;
    const fields = opts.fieldSelector ? parseFieldSelector(opts.fieldSelector) : undefined;
    return (o) =>
      (!labels || labels.matches(o.metadata.labels ?? {})) &&
      (!fields || fields.matches(this.info.selectableFields(o)));
  }

  async list(namespace?: string, opts: ListOptions = {}): Promise<ListResult<KubeObject>> {
    const match = this.matcher(opts);
    const items: KubeObject[] = [];
    for (const o of this.t.objects.values()) {
      if (namespace !== undefined && this.info.namespaced && o.metadata.namespace !== namespace) continue;
      if (match(o)) items.push(structuredClone(o));
    }
    items.sort((a, b) =>
      keyOf(a.metadata.namespace ?? "", a.metadata.name!).localeCompare(
        keyOf(b.metadata.namespace ?? "", b.metadata.name!),
      ),
    );
    return { items, resourceVersion: String(this.fake.currentRev) };
  }

  watch(
    namespace: string | undefined,
    opts: WatchOptions,
    signal: AbortSignal,
  ): AsyncIterable<WatchEvent<KubeObject>> {
    const channel = new EventChannel<WatchEvent<KubeObject>>();
    const watcher: Watcher = {
      namespace: this.info.namespaced ? namespace : undefined,
      matches: this.matcher(opts),
      channel,
    };
    const from = opts.resourceVersion ? Number(opts.resourceVersion) : undefined;
    if (from === undefined || from === 0) {
      for (const o of this.t.objects.values()) {
        if (watcher.namespace !== undefined && o.metadata.namespace !== watcher.namespace) continue;
        if (watcher.matches(o)) channel.push({ type: "ADDED", object: structuredClone(o) });
      }
    } else {
      for (const h of this.t.history) {
        if (h.rev <= from) continue;
        const o = h.event.object;
        if (watcher.namespace !== undefined && o.metadata.namespace !== watcher.namespace) continue;
        if (watcher.matches(o)) channel.push({ type: h.event.type, object: structuredClone(o) });
      }
    }
    this.t.watchers.add(watcher);
    const stop = (): void => {
      this.t.watchers.delete(watcher);
      channel.close();
    };
    if (signal.aborted) stop();
    else signal.addEventListener("abort", stop, { once: true });
    return channel;
  }

  private log(a: FakeAction): void {
    this.fake.actions.push(a);
  }

  async create(obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    const o = structuredClone(obj);
    const ns = this.ns(o.metadata.namespace);
    if (!o.metadata.name && o.metadata.generateName) o.metadata.name = generateName(o.metadata.generateName);
    const name = o.metadata.name;
    if (!name) throw badRequest("name or generateName is required");
    if (this.info.namespaced) o.metadata.namespace = ns;
    else delete o.metadata.namespace;
    if (this.t.objects.has(keyOf(ns, name))) throw alreadyExists(this.gr(), name);
    o.apiVersion = this.info.apiVersion;
    o.kind = this.info.kind;
    o.metadata.uid = randomUUID();
    o.metadata.creationTimestamp = formatTimestamp(this.fake.now());
    if (this.info.generation !== "none") o.metadata.generation = 1;
    delete o.metadata.deletionTimestamp;
    if (opts.dryRun) return o;
    o.metadata.resourceVersion = String(this.fake.nextRev());
    this.t.objects.set(keyOf(ns, name), o);
    this.log({
      verb: "create",
      resource: this.info.resource,
      namespace: ns,
      name,
      object: structuredClone(o),
    });
    this.fake.emit(this.t, "ADDED", o);
    return structuredClone(o);
  }

  /** Stores `next` in place of `cur` (checks, generation, finalizer removal). */
  private write(cur: KubeObject, next: KubeObject, subresource: string | undefined): KubeObject {
    const o = structuredClone(next);
    o.apiVersion = this.info.apiVersion;
    o.kind = this.info.kind;
    o.metadata.uid = cur.metadata.uid;
    o.metadata.creationTimestamp = cur.metadata.creationTimestamp;
    o.metadata.namespace = cur.metadata.namespace;
    if (!this.info.namespaced) delete o.metadata.namespace;
    o.metadata.deletionTimestamp = cur.metadata.deletionTimestamp;
    if (!o.metadata.deletionTimestamp) delete o.metadata.deletionTimestamp;
    if (subresource === "status") {
      const status = o.status;
      Object.assign(o, structuredClone(cur), { status });
      o.metadata = { ...structuredClone(cur.metadata) };
    } else if (this.info.hasStatusSubresource) {
      if (cur.status === undefined) delete o.status;
      else o.status = structuredClone(cur.status);
    }
    if (this.info.generation === "spec" || this.info.generation === "spec-or-annotations") {
      const gen = cur.metadata.generation ?? 1;
      o.metadata.generation = deepEqual(o.spec, cur.spec) ? gen : gen + 1;
    }
    const ns = cur.metadata.namespace ?? "";
    const name = cur.metadata.name!;
    o.metadata.resourceVersion = String(this.fake.nextRev());
    if (o.metadata.deletionTimestamp && (o.metadata.finalizers ?? []).length === 0) {
      this.t.objects.delete(keyOf(ns, name));
      this.fake.emit(this.t, "DELETED", o);
    } else {
      this.t.objects.set(keyOf(ns, name), o);
      this.fake.emit(this.t, "MODIFIED", o);
    }
    return structuredClone(o);
  }

  private checkVersion(cur: KubeObject, obj: KubeObject): void {
    const rv = obj.metadata.resourceVersion;
    if (rv && rv !== cur.metadata.resourceVersion) {
      throw conflict(
        this.gr(),
        cur.metadata.name!,
        "the object has been modified; please apply your changes to the latest version and try again",
      );
    }
  }

  async update(obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    return this.put(obj, undefined, opts);
  }

  async updateStatus(obj: KubeObject, opts: WriteOptions = {}): Promise<KubeObject> {
    return this.put(obj, "status", opts);
  }

  async updateSubresource(
    obj: KubeObject,
    subresource: string,
    opts: WriteOptions = {},
  ): Promise<KubeObject> {
    if (subresource !== "finalize") return this.put(obj, subresource, opts);
    // namespaces/finalize: only spec.finalizers changes.
    const cur = this.stored(obj.metadata.namespace, obj.metadata.name!);
    const next = structuredClone(cur);
    next.spec = {
      ...(cur.spec as object),
      finalizers: (obj.spec as { finalizers?: string[] } | undefined)?.finalizers ?? [],
    };
    return this.put(next, undefined, opts);
  }

  private put(obj: KubeObject, subresource: string | undefined, opts: WriteOptions): KubeObject {
    const cur = this.stored(obj.metadata.namespace, obj.metadata.name!);
    this.checkVersion(cur, obj);
    if (opts.dryRun) return structuredClone(obj);
    const out = this.write(cur, obj, subresource);
    this.log({
      verb: "update",
      resource: this.info.resource,
      namespace: cur.metadata.namespace ?? "",
      name: cur.metadata.name!,
      ...(subresource ? { subresource } : {}),
      object: structuredClone(out),
    });
    return out;
  }

  async patch(
    namespace: string | undefined,
    name: string,
    type: PatchType,
    body: unknown,
    opts: PatchOptions = {},
  ): Promise<KubeObject> {
    const cur = this.stored(namespace, name);
    let next: unknown;
    switch (type) {
      case "json":
        next = applyJsonPatch(cur, body);
        break;
      case "strategic":
        next = applyStrategicMergePatch(
          cur,
          body,
          patchSchemaFor(this.info.group, this.info.version, this.info.kind),
        );
        break;
      default:
        // "apply" is approximated by a merge patch: the fake keeps no field ownership.
        next = applyMergePatch(cur, body);
    }
    const obj = next as KubeObject;
    this.checkVersion(cur, obj);
    if (opts.dryRun) return obj;
    const out = this.write(cur, obj, opts.subresource);
    this.log({
      verb: "patch",
      resource: this.info.resource,
      namespace: cur.metadata.namespace ?? "",
      name,
      ...(opts.subresource ? { subresource: opts.subresource } : {}),
      object: structuredClone(out),
    });
    return out;
  }

  async delete(
    namespace: string | undefined,
    name: string,
    opts: DeleteOptions = {},
  ): Promise<KubeObject | undefined> {
    const cur = this.stored(namespace, name);
    const pre = opts.preconditions;
    if (
      (pre?.uid && pre.uid !== cur.metadata.uid) ||
      (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
    ) {
      throw conflict(this.gr(), name, "Precondition failed");
    }
    if (opts.dryRun) return structuredClone(cur);
    const ns = cur.metadata.namespace ?? "";
    this.log({ verb: "delete", resource: this.info.resource, namespace: ns, name });
    const finalizers = [...(cur.metadata.finalizers ?? [])];
    const extra =
      opts.propagationPolicy === "Foreground"
        ? "foregroundDeletion"
        : opts.propagationPolicy === "Orphan"
          ? "orphan"
          : undefined;
    if (extra && !cur.metadata.deletionTimestamp && !finalizers.includes(extra)) finalizers.push(extra);
    if (finalizers.length > 0) {
      if (cur.metadata.deletionTimestamp) return structuredClone(cur);
      const o = structuredClone(cur);
      o.metadata.finalizers = finalizers;
      o.metadata.deletionTimestamp = formatTimestamp(this.fake.now());
      o.metadata.deletionGracePeriodSeconds = 0;
      o.metadata.resourceVersion = String(this.fake.nextRev());
      this.t.objects.set(keyOf(ns, name), o);
      this.fake.emit(this.t, "MODIFIED", o);
      return structuredClone(o);
    }
    this.t.objects.delete(keyOf(ns, name));
    const gone = structuredClone(cur);
    gone.metadata.resourceVersion = String(this.fake.nextRev());
    this.fake.emit(this.t, "DELETED", gone);
    return undefined;
  }

  async createSubresource(
    namespace: string | undefined,
    name: string,
    subresource: string,
    body: unknown,
  ): Promise<unknown> {
    const cur = this.stored(namespace, name);
    if (subresource === "binding") {
      const target = (body as { target?: { name?: string } }).target?.name;
      if (!target) throw badRequest("binding target name is required");
      const spec = cur.spec as { nodeName?: string } | undefined;
      if (spec?.nodeName) {
        throw conflict(this.gr(), name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
      }
      const next = structuredClone(cur);
      (next.spec as { nodeName?: string }).nodeName = target;
      this.write(cur, next, undefined);
      this.log({
        verb: "create",
        resource: this.info.resource,
        namespace: cur.metadata.namespace ?? "",
        name,
        subresource,
        object: structuredClone(body as KubeObject),
      });
      return { kind: "Status", apiVersion: "v1", status: "Success", code: 201 };
    }
    if (subresource === "eviction") {
      await this.delete(namespace, name, (body as { deleteOptions?: DeleteOptions }).deleteOptions ?? {});
      return { kind: "Status", apiVersion: "v1", status: "Success", code: 201 };
    }
    throw notFound(this.gr(), `${name}/${subresource}`);
  }
}
