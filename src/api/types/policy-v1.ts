/**
 * @module policy/v1 Eviction: the body POSTed to `pods/eviction` (what `kubectl drain` sends).
 */
import type * as k8s from "kubernetes-types/policy/v1.js";
import type { ApiObject } from "./meta-v1.ts";

/** An Eviction request for one pod, optionally with DeleteOptions. */
export type Eviction = ApiObject<k8s.Eviction, "policy/v1", "Eviction">;
