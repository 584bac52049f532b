/**
 * @module DefaultPreemption (PostFilter): when no node fits, look for a node where evicting
 * pods of lower priority lets the pod fit. Per candidate node: remove every lower-priority
 * pod, check the filters, then add victims back most important first while the pod still
 * fits (the reprieve); pick the node by upstream's order (lowest highest-victim priority,
 * lowest priority sum, fewest victims, latest start of the top victims). Honours
 * `preemptionPolicy: Never`. The caller deletes the victims and records the nomination.
 * PodDisruptionBudgets are not considered.
 */
import type { NodeInfo } from "../framework/node-info.ts";
import type { PodInfo } from "../framework/pod-info.ts";
import type { Framework } from "../framework/runtime.ts";
import type { Snapshot } from "../framework/snapshot.ts";
import { FitError } from "../framework/fit-error.ts";
import { unresolvable, unschedulable, type Status } from "../framework/status.ts";
import type { CycleState, PostFilterPlugin, PostFilterResult } from "../framework/types.ts";
import { DEFAULT_PREEMPTION } from "./names.ts";

/** Upstream's texts. */
export const NOT_HELPFUL = "Preemption is not helpful for scheduling";
export const NOT_ELIGIBLE_NEVER = "not eligible due to preemptionPolicy=Never.";
export const NOT_ELIGIBLE_TERMINATING = "not eligible due to a terminating pod on the nominated node.";
export const NO_VICTIMS_REASON = "No preemption victims found for incoming pod";
const NO_VICTIMS = unresolvable(NO_VICTIMS_REASON);
/** Upstream's minCandidateNodesPercentage and minCandidateNodesAbsolute. */
const MIN_CANDIDATE_PERCENT = 10;
const MIN_CANDIDATE_ABSOLUTE = 100;

/** A node and the pods to evict there. */
export interface Candidate {
  node: string;
  victims: PodInfo[];
}

function startMs(p: PodInfo): number {
  const s = p.pod.status?.startTime;
  return s ? Date.parse(s) || p.createdMs : p.createdMs;
}

/** Upstream's `MoreImportantPod`: higher priority, then earlier start. */
function moreImportant(a: PodInfo, b: PodInfo): number {
  if (a.priority !== b.priority) return b.priority - a.priority;
  return startMs(a) - startMs(b);
}

export class DefaultPreemption implements PostFilterPlugin {
  readonly name = DEFAULT_PREEMPTION;

  constructor(
    private readonly fw: () => Framework,
    private readonly snapshot: Snapshot,
    private readonly random: () => number = Math.random,
  ) {}

  postFilter(
    state: CycleState,
    pod: PodInfo,
    statuses: ReadonlyMap<string, Status>,
  ): { result: PostFilterResult | null; status: Status | null; victims?: PodInfo[] } {
    const wrap = (msg: string): Status => unschedulable(`preemption: ${msg}`);
    const why = this.notEligible(pod, statuses);
    if (why) return { result: null, status: wrap(why) };
    const snap = this.snapshot;
    const potential: NodeInfo[] = [];
    const nodeStatuses = new Map<string, Status>();
    const notHelpful = unresolvable(NOT_HELPFUL);
    for (const n of snap.nodes) {
      if (statuses.get(n.name)?.code === "UnschedulableAndUnresolvable") nodeStatuses.set(n.name, notHelpful);
      else potential.push(n);
    }
    const candidates: Candidate[] = [];
    if (potential.length) {
      let want = Math.floor((potential.length * MIN_CANDIDATE_PERCENT) / 100);
      if (want < MIN_CANDIDATE_ABSOLUTE) want = MIN_CANDIDATE_ABSOLUTE;
      if (want > potential.length) want = potential.length;
      const offset = Math.floor(this.random() * potential.length);
      for (let i = 0; i < potential.length && candidates.length < want; i++) {
        const n = potential[(offset + i) % potential.length]!;
        const r = this.selectVictimsOnNode(state, pod, n);
        if (r.status) nodeStatuses.set(n.name, r.status);
        else if (r.victims.length) candidates.push({ node: n.name, victims: r.victims });
      }
    }
    if (candidates.length === 0) {
      const fe = new FitError(snap.numNodes, nodeStatuses, notHelpful);
      return { result: { nominatedNodeName: "" }, status: wrap(fe.message()) };
    }
    const best = pickOneNodeForPreemption(candidates);
    return { result: { nominatedNodeName: best.node }, status: null, victims: best.victims };
  }

  /** Upstream's `PodEligibleToPreemptOthers`; returns the reason it is not, or "". */
  private notEligible(pod: PodInfo, statuses: ReadonlyMap<string, Status>): string {
    if (pod.pod.spec?.preemptionPolicy === "Never") return NOT_ELIGIBLE_NEVER;
    const nominated = pod.pod.status?.nominatedNodeName;
    if (nominated) {
      if (statuses.get(nominated)?.code === "UnschedulableAndUnresolvable") return "";
      const n = this.snapshot.node(nominated);
      if (n) {
        for (const p of n.pods)
          if (p.terminating && p.priority < pod.priority) return NOT_ELIGIBLE_TERMINATING;
      }
    }
    return "";
  }

  /** Victims on one node (most important first), or the filter status when even evicting all lower pods fails. */
  selectVictimsOnNode(
    state: CycleState,
    pod: PodInfo,
    node: NodeInfo,
  ): { victims: PodInfo[]; status: Status | null } {
    const fw = this.fw();
    const s = state.clone();
    const n = node.clone();
    const lower: PodInfo[] = [];
    for (const p of [...n.pods]) {
      if (p.priority < pod.priority) {
        lower.push(p);
        n.removePod(p.uid);
        for (const pf of fw.preFilters) pf.preFilterExtensions?.removePod(s, pod, p, n);
      }
    }
    if (lower.length === 0) return { victims: [], status: NO_VICTIMS };
    const st = fw.runFilter(s, pod, n);
    if (st) return { victims: [], status: st };
    lower.sort(moreImportant);
    const victims: PodInfo[] = [];
    for (const p of lower) {
      n.addPod(p);
      for (const pf of fw.preFilters) pf.preFilterExtensions?.addPod(s, pod, p, n);
      if (fw.runFilter(s, pod, n)) {
        n.removePod(p.uid);
        for (const pf of fw.preFilters) pf.preFilterExtensions?.removePod(s, pod, p, n);
        victims.push(p);
      }
    }
    return { victims, status: null };
  }
}

/** Upstream's `pickOneNodeForPreemption` (without PDBs). Victims are most important first. */
export function pickOneNodeForPreemption(cands: readonly Candidate[]): Candidate {
  let best = [...cands];
  const keepMin = (f: (c: Candidate) => number): void => {
    let min = Infinity;
    for (const c of best) min = Math.min(min, f(c));
    best = best.filter((c) => f(c) === min);
  };
  keepMin((c) => c.victims[0]?.priority ?? -Infinity);
  if (best.length > 1) keepMin((c) => c.victims.reduce((s, v) => s + v.priority + 2 ** 31, 0));
  if (best.length > 1) keepMin((c) => c.victims.length);
  if (best.length > 1) {
    // Latest start time among each node's highest-priority victims.
    keepMin((c) => {
      const top = c.victims[0]!.priority;
      let earliest = Infinity;
      for (const v of c.victims) if (v.priority === top) earliest = Math.min(earliest, startMs(v));
      return -earliest;
    });
  }
  return best[0]!;
}
