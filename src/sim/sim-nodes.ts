/**
 * @module The work of `kites sim nodes`: brings the number of simulated nodes (named
 * `<prefix><n>`) to exactly N against a running server — registers the missing ones (lowest
 * free numbers first, each with a pod CIDR no other node holds) or deletes the surplus
 * (highest numbers first, with their heartbeat Leases). Requests run concurrently over the
 * client's keep-alive connections, so thousands of nodes take seconds.
 */
import type { Lease } from "../api/types/coordination-v1.ts";
import type { Node } from "../api/types/core-v1.ts";
import type { Client } from "../client/types.ts";
import { PodCidrAllocator } from "./ip.ts";
import { NODE_LEASE_NAMESPACE } from "./node-heartbeat.ts";
import {
  buildSimNode,
  isSimNode,
  planNodeCount,
  simNodeIndex,
  simNodeName,
  simZone,
  type SimCapacity,
} from "./sim-node.ts";

export interface SimNodesOptions {
  /** How many simulated nodes with this prefix should exist. */
  count: number;
  /** Zones to spread new nodes over (`zone-0` … `zone-<Z-1>`); default 1. */
  zones?: number;
  /** Name prefix (default `kites-sim-`). */
  prefix: string;
  capacity: SimCapacity;
  /** Requests in flight (default 32). */
  concurrency?: number;
}

export interface SimNodesResult {
  created: string[];
  deleted: string[];
  /** Simulated nodes with this prefix that existed and were kept. */
  unchanged: number;
}

/** Runs `fn` over `items` with at most `limit` calls in flight; `fn` must not throw. */
export async function forEachConcurrent<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(Math.max(1, limit), items.length) }, worker));
}

/** Every Node, read page by page. */
async function listAllNodes(client: Client): Promise<Node[]> {
  const nodes = client.resource<Node>("", "nodes");
  const out: Node[] = [];
  let cont: string | undefined;
  do {
    const page = await nodes.list(undefined, { limit: 500, ...(cont ? { continue: cont } : {}) });
    out.push(...page.items);
    cont = page.continue || undefined;
  } while (cont);
  return out;
}

function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/**
 * Creates or deletes simulated nodes until exactly `opts.count` named `<prefix><n>` exist.
 * `log` gets one line per change (`node/kites-sim-3 created`). Every request is attempted;
 * if any failed, throws an Error listing the failures after the others are done.
 */
export async function syncSimNodes(
  client: Client,
  opts: SimNodesOptions,
  log: (line: string) => void,
): Promise<SimNodesResult> {
  if (!Number.isInteger(opts.count) || opts.count < 0)
    throw new Error(`--count must be a whole number ≥ 0, not ${opts.count}`);
  const zones = opts.zones ?? 1;
  if (!Number.isInteger(zones) || zones < 1)
    throw new Error(`--zones must be a whole number ≥ 1, not ${zones}`);
  const nodeClient = client.resource<Node>("", "nodes");
  const leaseClient = client.resource<Lease>("coordination.k8s.io", "leases");
  const concurrency = opts.concurrency ?? 32;

  const all = await listAllNodes(client);
  const mine: number[] = [];
  const blocked: number[] = [];
  const cidrs: string[] = [];
  for (const n of all) {
    const idx = simNodeIndex(opts.prefix, n.metadata.name ?? "");
    if (idx !== undefined) (isSimNode(n) ? mine : blocked).push(idx);
    for (const c of n.spec?.podCIDRs ?? []) cidrs.push(c);
    if (n.spec?.podCIDR) cidrs.push(n.spec.podCIDR);
  }
  const plan = planNodeCount(mine, opts.count, blocked);
  const result: SimNodesResult = { created: [], deleted: [], unchanged: mine.length - plan.delete.length };
  const failures: string[] = [];

  if (plan.create.length > 0) {
    const allocator = new PodCidrAllocator(cidrs);
    const nodes = plan.create.map((i) => {
      const name = simNodeName(opts.prefix, i);
      const addr = allocator.next();
      return buildSimNode({ name, zone: simZone(i, zones), ...addr, capacity: opts.capacity });
    });
    await forEachConcurrent(nodes, concurrency, async (node) => {
      const name = node.metadata.name ?? "";
      try {
        const created = await nodeClient.create(node);
        // A server that drops status on create (unlike upstream's) gets it through the
        // status subresource, as a kubelet's first status update would.
        if (!created.status?.capacity) await nodeClient.updateStatus({ ...created, status: node.status });
        result.created.push(name);
        log(`node/${name} created`);
      } catch (e) {
        failures.push(`node/${name}: ${errorText(e)}`);
      }
    });
  }

  await forEachConcurrent(plan.delete, concurrency, async (i) => {
    const name = simNodeName(opts.prefix, i);
    try {
      await nodeClient.delete(undefined, name);
    } catch (e) {
      if ((e as { code?: number }).code !== 404) {
        failures.push(`node/${name}: ${errorText(e)}`);
        return;
      }
    }
    try {
      await leaseClient.delete(NODE_LEASE_NAMESPACE, name);
    } catch (e) {
      if ((e as { code?: number }).code !== 404) failures.push(`lease/${name}: ${errorText(e)}`);
    }
    result.deleted.push(name);
    log(`node/${name} deleted`);
  });

  if (failures.length > 0) {
    const shown = failures.slice(0, 20).join("\n  ");
    const more = failures.length > 20 ? `\n  … and ${failures.length - 20} more` : "";
    throw new Error(`${failures.length} request(s) failed:\n  ${shown}${more}`);
  }
  return result;
}
