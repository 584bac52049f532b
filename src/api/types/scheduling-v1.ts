/**
 * @module scheduling.k8s.io/v1 kinds: PriorityClass, which maps a class name to the integer
 * priority the scheduler and preemption use.
 */
import type * as k8s from "kubernetes-types/scheduling/v1.js";
import type { ApiObject, List } from "./meta-v1.ts";

/** A PriorityClass (cluster-scoped). */
export type PriorityClass = ApiObject<k8s.PriorityClass, "scheduling.k8s.io/v1", "PriorityClass">;

/** A list of PriorityClasses. */
export type PriorityClassList = List<PriorityClass>;
