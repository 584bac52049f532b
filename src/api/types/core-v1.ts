/**
 * @module core/v1 kinds (apiVersion `v1`): Namespace, Node, Pod, Service, Endpoints, ConfigMap,
 * Secret, ServiceAccount, Event, ReplicationController, plus Binding (the body of
 * `pods/binding`). Field types come from `kubernetes-types`; the spec/status types callers
 * need are re-exported so nobody imports `kubernetes-types` directly for them.
 */
import type * as k8s from "kubernetes-types/core/v1.js";
import type { ApiObject, List } from "./meta-v1.ts";

export type {
  Affinity,
  AppArmorProfile,
  Capabilities,
  ConfigMapEnvSource,
  ConfigMapKeySelector,
  ConfigMapProjection,
  ConfigMapVolumeSource,
  Container,
  ContainerImage,
  ContainerPort,
  ContainerResizePolicy,
  ContainerState,
  ContainerStateRunning,
  ContainerStateTerminated,
  ContainerStateWaiting,
  ContainerStatus,
  DaemonEndpoint,
  DownwardAPIProjection,
  DownwardAPIVolumeFile,
  DownwardAPIVolumeSource,
  EmptyDirVolumeSource,
  EndpointAddress,
  EndpointPort,
  EndpointSubset,
  EnvFromSource,
  EnvVar,
  EnvVarSource,
  EphemeralContainer,
  EventSeries,
  EventSource,
  ExecAction,
  GRPCAction,
  HTTPGetAction,
  HTTPHeader,
  HostAlias,
  HostIP,
  HostPathVolumeSource,
  KeyToPath,
  Lifecycle,
  LifecycleHandler,
  LoadBalancerIngress,
  LoadBalancerStatus,
  LocalObjectReference,
  NamespaceCondition,
  NamespaceSpec,
  NamespaceStatus,
  NodeAddress,
  NodeAffinity,
  NodeCondition,
  NodeDaemonEndpoints,
  NodeSelector,
  NodeSelectorRequirement,
  NodeSelectorTerm,
  NodeSpec,
  NodeStatus,
  NodeSystemInfo,
  ObjectFieldSelector,
  ObjectReference,
  PersistentVolumeClaim,
  PersistentVolumeClaimSpec,
  PersistentVolumeClaimVolumeSource,
  PodAffinity,
  PodAffinityTerm,
  PodAntiAffinity,
  PodCondition,
  PodDNSConfig,
  PodDNSConfigOption,
  PodIP,
  PodOS,
  PodReadinessGate,
  PodSchedulingGate,
  PodSecurityContext,
  PodSpec,
  PodStatus,
  PodTemplateSpec,
  PortStatus,
  PreferredSchedulingTerm,
  Probe,
  ProjectedVolumeSource,
  ReplicationControllerCondition,
  ReplicationControllerSpec,
  ReplicationControllerStatus,
  ResourceFieldSelector,
  ResourceRequirements,
  SeccompProfile,
  SecretEnvSource,
  SecretKeySelector,
  SecretProjection,
  SecretVolumeSource,
  SecurityContext,
  ServiceAccountTokenProjection,
  ServicePort,
  ServiceSpec,
  ServiceStatus,
  SessionAffinityConfig,
  SleepAction,
  Sysctl,
  TCPSocketAction,
  Taint,
  Toleration,
  TopologySpreadConstraint,
  Volume,
  VolumeDevice,
  VolumeMount,
  VolumeProjection,
  WeightedPodAffinityTerm,
} from "kubernetes-types/core/v1.js";
export type { Quantity } from "kubernetes-types/api/resource.js";

/** A Namespace (cluster-scoped). */
export type Namespace = ApiObject<k8s.Namespace, "v1", "Namespace">;
/** A Node (cluster-scoped). */
export type Node = ApiObject<k8s.Node, "v1", "Node">;
/** A Pod. */
export type Pod = ApiObject<k8s.Pod, "v1", "Pod">;
/** A Service. */
export type Service = ApiObject<k8s.Service, "v1", "Service">;
/** The core/v1 Endpoints of a Service. */
export type Endpoints = ApiObject<k8s.Endpoints, "v1", "Endpoints">;
/** A ConfigMap. */
export type ConfigMap = ApiObject<k8s.ConfigMap, "v1", "ConfigMap">;
/** A Secret; `data` values are base64 on the wire. */
export type Secret = ApiObject<k8s.Secret, "v1", "Secret">;
/** A ServiceAccount. */
export type ServiceAccount = ApiObject<k8s.ServiceAccount, "v1", "ServiceAccount">;
/** A core/v1 Event (see `events-v1.ts` for the events.k8s.io form). */
export type Event = ApiObject<k8s.Event, "v1", "Event">;
/** A ReplicationController. */
export type ReplicationController = ApiObject<k8s.ReplicationController, "v1", "ReplicationController">;
/** The body POSTed to `pods/binding` (and to `bindings`) to bind a pod to a node. */
export type Binding = ApiObject<k8s.Binding, "v1", "Binding">;

/** A list of Namespaces. */
export type NamespaceList = List<Namespace>;
/** A list of Nodes. */
export type NodeList = List<Node>;
/** A list of Pods. */
export type PodList = List<Pod>;
/** A list of Services. */
export type ServiceList = List<Service>;
/** A list of Endpoints. */
export type EndpointsList = List<Endpoints>;
/** A list of ConfigMaps. */
export type ConfigMapList = List<ConfigMap>;
/** A list of Secrets. */
export type SecretList = List<Secret>;
/** A list of ServiceAccounts. */
export type ServiceAccountList = List<ServiceAccount>;
/** A list of core/v1 Events. */
export type EventList = List<Event>;
/** A list of ReplicationControllers. */
export type ReplicationControllerList = List<ReplicationController>;
