/** @module The plugin names, spelled as upstream's `names` package. */
export const NODE_NAME = "NodeName";
export const NODE_UNSCHEDULABLE = "NodeUnschedulable";
export const NODE_AFFINITY = "NodeAffinity";
export const TAINT_TOLERATION = "TaintToleration";
export const NODE_PORTS = "NodePorts";
export const NODE_RESOURCES_FIT = "NodeResourcesFit";
export const NODE_RESOURCES_BALANCED_ALLOCATION = "NodeResourcesBalancedAllocation";
export const POD_TOPOLOGY_SPREAD = "PodTopologySpread";
export const INTER_POD_AFFINITY = "InterPodAffinity";
export const DEFAULT_PREEMPTION = "DefaultPreemption";
