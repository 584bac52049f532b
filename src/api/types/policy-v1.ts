/**
 * @module policy/v1 kinds: Eviction (the body POSTed to `pods/eviction`, what `kubectl drain`
 * sends) and PodDisruptionBudget (how many of a set of pods may be down at once).
 */
import type * as k8s from "kubernetes-types/policy/v1.js";
import type { ApiObject, List } from "./meta-v1.ts";

export type { PodDisruptionBudgetSpec, PodDisruptionBudgetStatus } from "kubernetes-types/policy/v1.js";

/** An Eviction request for one pod, optionally with DeleteOptions. */
export type Eviction = ApiObject<k8s.Eviction, "policy/v1", "Eviction">;
/** A PodDisruptionBudget. */
export type PodDisruptionBudget = ApiObject<k8s.PodDisruptionBudget, "policy/v1", "PodDisruptionBudget">;
/** A list of PodDisruptionBudgets. */
export type PodDisruptionBudgetList = List<PodDisruptionBudget>;
