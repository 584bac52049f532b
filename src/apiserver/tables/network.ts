/**
 * @module Tables of the service-networking kinds, with upstream's columns and cell values:
 * Service (TYPE, CLUSTER-IP, EXTERNAL-IP with `<none>`/`<pending>`, PORT(S) like
 * `80:30080/TCP`), Endpoints (`10.0.0.1:80,10.0.0.2:80 + 1 more...`) and EndpointSlice.
 */
import type { Endpoints, Service, ServicePort } from "../../api/types/core-v1.ts";
import type { EndpointSlice } from "../../api/types/discovery-v1.ts";
import type { Ingress, IngressClass } from "../../api/types/networking-v1.ts";
import { formatLabels } from "./labels.ts";
import {
  AGE_COLUMN,
  age,
  column,
  columns,
  listWithMore,
  nameColumn,
  printer,
  type TablePrinter,
} from "./table.ts";

/** How many addresses or ports a list cell shows before `+ N more...`. */
const LIST_MAX = 3;

/** `host:port`, bracketing IPv6 hosts (Go's `net.JoinHostPort`). */
function joinHostPort(host: string, port: number): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Load balancer ingress IPs (or hostnames), de-duplicated and sorted, comma-separated. */
function loadBalancerAddresses(svc: Service): string {
  const ingress = svc.status?.loadBalancer?.ingress;
  if (!ingress || ingress.length === 0) return "";
  const set = new Set<string>();
  for (const i of ingress) {
    if (i.ip) set.add(i.ip);
    else if (i.hostname) set.add(i.hostname);
  }
  return [...set].sort().join(",");
}

/** The EXTERNAL-IP cell: external IPs, load balancer addresses, `<pending>`, or `<none>`. */
export function serviceExternalIP(svc: Service): string {
  const externalIPs = svc.spec?.externalIPs;
  const hasExternal = externalIPs !== undefined && externalIPs.length > 0;
  switch (svc.spec?.type) {
    case "ClusterIP":
    case "NodePort":
      return hasExternal ? externalIPs.join(",") : "<none>";
    case "LoadBalancer": {
      const lb = loadBalancerAddresses(svc);
      if (hasExternal) return lb.length > 0 ? `${lb},${externalIPs.join(",")}` : externalIPs.join(",");
      return lb.length > 0 ? lb : "<pending>";
    }
    case "ExternalName":
      return svc.spec.externalName ?? "";
    default:
      return "<unknown>";
  }
}

/** The PORT(S) cell: `80/TCP`, `80:30080/TCP` with a node port, comma-separated; `<none>` if no ports. */
export function servicePorts(ports: readonly ServicePort[] | undefined): string {
  if (!ports || ports.length === 0) return "<none>";
  let out = "";
  for (let i = 0; i < ports.length; i++) {
    const p = ports[i]!;
    if (i > 0) out += ",";
    const protocol = p.protocol ?? "TCP";
    out += p.nodePort && p.nodePort > 0 ? `${p.port}:${p.nodePort}/${protocol}` : `${p.port}/${protocol}`;
  }
  return out;
}

/** Service: NAME TYPE CLUSTER-IP EXTERNAL-IP PORT(S) AGE | SELECTOR. */
export const servicePrinter: TablePrinter = printer<Service>({
  columns: columns(
    nameColumn(),
    column(
      "Type",
      "string",
      "How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.",
    ),
    column("Cluster-IP", "string", "The service's primary cluster IP, or None for a headless service."),
    column("External-IP", "string", "External IPs and load balancer addresses of the service."),
    column("Port(s)", "string", "Service ports, with node ports where allocated."),
    AGE_COLUMN,
    column("Selector", "string", "Labels of the pods the service routes to.", 1),
  ),
  cells(svc, now) {
    const spec = svc.spec;
    return [
      svc.metadata.name ?? "",
      spec?.type ?? "",
      spec?.clusterIPs?.[0] || spec?.clusterIP || "<none>",
      serviceExternalIP(svc),
      servicePorts(spec?.ports),
      age(svc, now),
      formatLabels(spec?.selector),
    ];
  },
});

/** The ENDPOINTS cell: up to three `ip:port` pairs (or bare IPs for port-less subsets), then `+ N more...`. */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets;
  if (!subsets || subsets.length === 0) return "<none>";
  const list: string[] = [];
  let count = 0;
  for (const ss of subsets) {
    const addresses = ss.addresses ?? [];
    const ports = ss.ports;
    if (!ports || ports.length === 0) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === LIST_MAX) break;
        list.push(a.ip);
      }
      continue;
    }
    for (const port of ports) {
      count += addresses.length;
      for (const a of addresses) {
        if (list.length === LIST_MAX) break;
        list.push(joinHostPort(a.ip, port.port));
      }
    }
  }
  const joined = list.join(",");
  return count > LIST_MAX ? `${joined} + ${count - LIST_MAX} more...` : joined;
}

/** Endpoints: NAME ENDPOINTS AGE. */
export const endpointsPrinter: TablePrinter = printer<Endpoints>({
  columns: columns(
    nameColumn(),
    column("Endpoints", "string", "Ready addresses and ports of the service."),
    AGE_COLUMN,
  ),
  cells: (ep, now) => [ep.metadata.name ?? "", formatEndpoints(ep), age(ep, now)],
});

function slicePorts(slice: EndpointSlice): string {
  const ports = slice.ports ?? [];
  const list: string[] = [];
  for (const p of ports) {
    if (list.length === LIST_MAX) break;
    list.push(p.port !== undefined && p.port !== null ? String(p.port) : (p.name ?? "*"));
  }
  return listWithMore(list, ports.length, LIST_MAX);
}

function sliceEndpoints(slice: EndpointSlice): string {
  const list: string[] = [];
  let count = 0;
  for (const ep of slice.endpoints ?? []) {
    for (const address of ep.addresses) {
      if (list.length < LIST_MAX) list.push(address);
      count++;
    }
  }
  return listWithMore(list, count, LIST_MAX);
}

/** EndpointSlice: NAME ADDRESSTYPE PORTS ENDPOINTS AGE. */
export const endpointSlicePrinter: TablePrinter = printer<EndpointSlice>({
  columns: columns(
    nameColumn(),
    column("AddressType", "string", "Type of the addresses in the slice: IPv4, IPv6 or FQDN."),
    column("Ports", "string", "Ports of the slice's endpoints."),
    column("Endpoints", "string", "Addresses of the slice's endpoints."),
    AGE_COLUMN,
  ),
  cells: (s, now) => [
    s.metadata.name ?? "",
    s.addressType ?? "",
    slicePorts(s),
    sliceEndpoints(s),
    age(s, now),
  ],
});

function ingressHosts(ing: Ingress): string {
  const rules = ing.spec?.rules ?? [];
  const list: string[] = [];
  for (const r of rules) {
    if (list.length === LIST_MAX) break;
    list.push(r.host || "*");
  }
  return rules.length ? listWithMore(list, rules.length, LIST_MAX) : "*";
}

function ingressAddress(ing: Ingress): string {
  const out: string[] = [];
  for (const i of ing.status?.loadBalancer?.ingress ?? []) {
    if (i.ip) out.push(i.ip);
    else if (i.hostname) out.push(i.hostname);
  }
  return out.join(",");
}

/** Ingress: NAME CLASS HOSTS ADDRESS PORTS AGE (PORTS is `80, 443` when TLS is set, as upstream). */
export const ingressPrinter: TablePrinter = printer<Ingress>({
  columns: columns(
    nameColumn(),
    column(
      "Class",
      "string",
      "The name of the IngressClass resource that should be used for additional configuration",
    ),
    column("Hosts", "string", "Hosts that incoming requests are matched against before the ingress rule"),
    column("Address", "string", "Address is a list containing ingress points for the load-balancer"),
    column("Ports", "string", "Ports of TLS configurations that open"),
    AGE_COLUMN,
  ),
  cells: (ing, now) => [
    ing.metadata.name ?? "",
    ing.spec?.ingressClassName ?? "<none>",
    ingressHosts(ing),
    ingressAddress(ing),
    ing.spec?.tls?.length ? "80, 443" : "80",
    age(ing, now),
  ],
});

/** IngressClass: NAME CONTROLLER PARAMETERS AGE. */
export const ingressClassPrinter: TablePrinter = printer<IngressClass>({
  columns: columns(
    nameColumn(),
    column("Controller", "string", "Controller that is responsible for handling this class"),
    column("Parameters", "string", "A reference to a resource with additional parameters"),
    AGE_COLUMN,
  ),
  cells: (ic, now) => {
    const p = ic.spec?.parameters;
    const params = p ? `${p.apiGroup ? `${p.apiGroup}/` : ""}${p.kind}/${p.name}` : "<none>";
    return [ic.metadata.name ?? "", ic.spec?.controller ?? "", params, age(ic, now)];
  },
});
