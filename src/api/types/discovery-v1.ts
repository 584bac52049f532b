/**
 * @module discovery.k8s.io/v1 kinds: EndpointSlice, the scalable successor of core/v1
 * Endpoints that kube-proxy and DNS read.
 */
import type * as k8s from "kubernetes-types/discovery/v1.js";
import type { ApiObject, List } from "./meta-v1.ts";

export type {
  Endpoint,
  EndpointConditions,
  EndpointHints,
  EndpointPort,
  ForZone,
} from "kubernetes-types/discovery/v1.js";

/** An EndpointSlice. */
export type EndpointSlice = ApiObject<k8s.EndpointSlice, "discovery.k8s.io/v1", "EndpointSlice">;

/** A list of EndpointSlices. */
export type EndpointSliceList = List<EndpointSlice>;
