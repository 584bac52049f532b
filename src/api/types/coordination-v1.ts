/**
 * @module coordination.k8s.io/v1 kinds: Lease, used for node heartbeats (kube-node-lease) and
 * leader election.
 */
import type * as k8s from "kubernetes-types/coordination/v1.js";
import type { ApiObject, List } from "./meta-v1.ts";

export type { LeaseSpec } from "kubernetes-types/coordination/v1.js";

/** A Lease. */
export type Lease = ApiObject<k8s.Lease, "coordination.k8s.io/v1", "Lease">;

/** A list of Leases. */
export type LeaseList = List<Lease>;
