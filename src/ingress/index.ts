/**
 * @module The Ingress controller's public face: what `kites server`/`kites agent` call to run
 * it (`startIngressController`) and the names it answers to.
 */
export {
  startIngressController,
  type IngressController,
  type IngressControllerOptions,
} from "./ingress-controller.ts";
export { KITES_INGRESS_CLASS, KITES_INGRESS_CONTROLLER } from "./ingress-types.ts";
