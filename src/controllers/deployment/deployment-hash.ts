/**
 * @module The pod-template-hash, as upstream's `controller.ComputeHash`: FNV-1a (32-bit) over
 * a stable rendering of the pod template, followed by the collision count as 8 little-endian
 * bytes when set, printed in decimal and re-encoded with the safe alphabet
 * `bcdfghjklmnpqrstvwxz2456789` (no vowels, no 0/1/3: no words, no look-alikes). Upstream
 * renders the Go struct with spew; we render the JSON object with sorted keys (objects
 * holding `undefined` drop the key), which is as stable and as collision-prone.
 */
import type { PodTemplateSpec } from "../../api/types/core-v1.ts";

const ALPHABET = "bcdfghjklmnpqrstvwxz2456789";
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** JSON with object keys sorted at every level; `undefined` members are left out. */
export function stableStringify(v: unknown): string {
  if (v === null || typeof v !== "object") return JSON.stringify(v) ?? "null";
  if (Array.isArray(v)) return `[${v.map((x) => (x === undefined ? "null" : stableStringify(x))).join(",")}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${stableStringify(o[k])}`).join(",")}}`;
}

/** FNV-1a over UTF-8 bytes, continuing from `h`. */
function fnv1a(bytes: Uint8Array, h: number): number {
  for (let i = 0; i < bytes.length; i++) {
    h ^= bytes[i]!;
    h = Math.imul(h, FNV_PRIME) >>> 0;
  }
  return h;
}

/** Upstream's `rand.SafeEncodeString`: each character mapped into the safe alphabet. */
export function safeEncode(s: string): string {
  let out = "";
  for (let i = 0; i < s.length; i++) out += ALPHABET[s.charCodeAt(i) % ALPHABET.length];
  return out;
}

/** The pod-template-hash of a template and a Deployment's collisionCount. */
export function computeHash(template: PodTemplateSpec | undefined, collisionCount?: number): string {
  let h = fnv1a(new TextEncoder().encode(stableStringify(template ?? {})), FNV_OFFSET);
  if (collisionCount !== undefined && collisionCount !== null) {
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    h = fnv1a(bytes, h);
  }
  return safeEncode(String(h >>> 0));
}
