/**
 * @module Every controller the controller manager runs, by the name upstream's
 * kube-controller-manager gives it (`--controllers`). Add a controller here and nowhere else.
 */
import type { ControllerStarter } from "./context.ts";
import { startCronJobController } from "./cronjob/index.ts";
import { startDaemonSetController } from "./daemonset/index.ts";
import { startDeploymentController } from "./deployment/index.ts";
import { startDisruptionController } from "./disruption/index.ts";
import { startEndpointsController } from "./endpoints/index.ts";
import { startEndpointSliceController } from "./endpointslice/index.ts";
import { startGarbageCollectorController } from "./garbage-collector/index.ts";
import { startJobController, startTtlAfterFinishedController } from "./job/index.ts";
import { startNamespaceController } from "./namespace/index.ts";
import { startNodeLifecycleController } from "./node-lifecycle/index.ts";
import { startPodGCController } from "./podgc/index.ts";
import { startReplicaSetController, startReplicationControllerController } from "./replicaset/index.ts";
import { startRootCaPublisher } from "./root-ca-publisher/index.ts";
import { startServiceAccountController } from "./serviceaccount/index.ts";
import { startStatefulSetController } from "./statefulset/index.ts";

export const controllerStarters: Readonly<Record<string, ControllerStarter>> = {
  "garbage-collector-controller": startGarbageCollectorController,
  "namespace-controller": startNamespaceController,
  "serviceaccount-controller": startServiceAccountController,
  "root-ca-certificate-publisher-controller": startRootCaPublisher,
  "replicaset-controller": startReplicaSetController,
  "replicationcontroller-controller": startReplicationControllerController,
  "deployment-controller": startDeploymentController,
  "statefulset-controller": startStatefulSetController,
  "daemonset-controller": startDaemonSetController,
  "disruption-controller": startDisruptionController,
  "job-controller": startJobController,
  "ttl-after-finished-controller": startTtlAfterFinishedController,
  "cronjob-controller": startCronJobController,
  "endpoints-controller": startEndpointsController,
  "endpointslice-controller": startEndpointSliceController,
  "pod-garbage-collector-controller": startPodGCController,
  "node-lifecycle-controller": startNodeLifecycleController,
};
