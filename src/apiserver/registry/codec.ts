/**
 * @module How objects of a kind are written to and read from the datastore: JSON without the
 * resourceVersion (which is the datastore's revision, stamped in on read). Kinds stored in
 * another kind's form (events.k8s.io/v1 Event is stored as core/v1 Event) convert here, so
 * every read path — get, paginated list, watch cache — sees the kind it asked for.
 */
import { coreToEventsV1, eventsV1ToCore } from "../../api/conversion/events.ts";
import type { KindInfo } from "../../api/kinds.ts";
import type { KubeObject } from "../../api/object.ts";
import type { KeyValue } from "../../storage/backend.ts";

/** One object as the apiserver holds it: parsed and serialized once, with its revision. */
export interface CachedObject {
  key: string;
  obj: KubeObject;
  /** The object as JSON, resourceVersion included. */
  readonly json: string;
  rev: number;
}

/**
 * A CachedObject whose JSON is written when first asked for (a read-modify-write never needs
 * it); `obj` must not change after this.
 */
export function cachedObject(key: string, obj: KubeObject, rev: number): CachedObject {
  let json: string | undefined;
  return {
    key,
    obj,
    rev,
    get json() {
      return (json ??= JSON.stringify(obj));
    },
  };
}

export interface Codec {
  /** The stored value as an object of the kind, with resourceVersion `rev`. */
  decode(kv: KeyValue, rev?: number): CachedObject;
  /** The value to store for `obj` (its resourceVersion left out). */
  encode(obj: KubeObject): string;
}

function codec(fromStored: (o: KubeObject) => KubeObject, toStored: (o: KubeObject) => KubeObject): Codec {
  return {
    decode(kv, rev = kv.modRevision) {
      const obj = fromStored(JSON.parse(kv.value) as KubeObject);
      obj.metadata ??= {};
      obj.metadata.resourceVersion = String(rev);
      return cachedObject(kv.key, obj, rev);
    },
    encode(obj) {
      const stored = toStored(obj);
      const rv = stored.metadata.resourceVersion;
      delete stored.metadata.resourceVersion;
      const s = JSON.stringify(stored);
      if (rv !== undefined) stored.metadata.resourceVersion = rv;
      return s;
    },
  };
}

const same = (o: KubeObject): KubeObject => o;

/** Plain JSON: what almost every kind uses. */
export const jsonCodec: Codec = codec(same, same);

const eventsV1Codec: Codec = codec(coreToEventsV1, eventsV1ToCore);

/** The codec of a kind. */
export function codecFor(info: KindInfo): Codec {
  return info.storedAs?.group === "" && info.group === "events.k8s.io" ? eventsV1Codec : jsonCodec;
}
