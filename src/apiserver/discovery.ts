/**
 * @module API discovery, built once from the kinds table: `/version`, `/api`, `/apis`,
 * `/apis/<group>`, the per group-version `APIResourceList`s, and aggregated discovery
 * (`apidiscovery.k8s.io` v2 and v2beta1) that kubectl asks for first, plus the built-in
 * `metrics.k8s.io` group.
 */
import { allKinds, type KindInfo } from "../api/kinds.ts";
import { reviewResources } from "./auth/reviews.ts";

/** What discovery needs of a resource; every KindInfo is one. */
type Resource = Pick<
  KindInfo,
  | "group"
  | "version"
  | "kind"
  | "resource"
  | "singularName"
  | "namespaced"
  | "verbs"
  | "shortNames"
  | "categories"
  | "subresources"
>;

/** The served kinds plus the create-only review resources that are answered, not stored. */
function allResources(): Resource[] {
  const reviews: Resource[] = reviewResources.map((r) => ({
    ...r,
    singularName: r.resource.replace(/s$/, ""),
    namespaced: false,
    verbs: ["create"],
    shortNames: [],
    categories: [],
    subresources: [],
  }));
  return [...allKinds(), ...reviews, ...metricsResources];
}

/** `metrics.k8s.io/v1beta1`, served built in (upstream: metrics-server, aggregated). */
const metricsResources: Resource[] = [
  { kind: "NodeMetrics", resource: "nodes", singularName: "", namespaced: false },
  { kind: "PodMetrics", resource: "pods", singularName: "", namespaced: true },
].map((r) => ({
  ...r,
  group: "metrics.k8s.io",
  version: "v1beta1",
  verbs: ["get", "list"],
  shortNames: [],
  categories: [],
  subresources: [],
}));

/** The Kubernetes release whose API we follow (kubectl picks its version by `minor`). */
export const KUBE_MAJOR = "1";
export const KUBE_MINOR = "33";

export function versionInfo(): Record<string, string> {
  return {
    major: KUBE_MAJOR,
    minor: KUBE_MINOR,
    gitVersion: `v${KUBE_MAJOR}.${KUBE_MINOR}.0+kites`,
    gitCommit: "kites",
    gitTreeState: "clean",
    buildDate: "2026-11-22T00:00:00Z",
    goVersion: "none (kites runs on Node.js " + process.version + ")",
    compiler: "tsx",
    platform: `${process.platform}/${process.arch === "x64" ? "amd64" : process.arch}`,
  };
}

interface GroupVersions {
  group: string;
  versions: Map<string, Resource[]>;
}

function groups(): GroupVersions[] {
  const out = new Map<string, GroupVersions>();
  for (const k of allResources()) {
    let g = out.get(k.group);
    if (!g) out.set(k.group, (g = { group: k.group, versions: new Map() }));
    let v = g.versions.get(k.version);
    if (!v) g.versions.set(k.version, (v = []));
    v.push(k);
  }
  return [...out.values()];
}

function resourceList(group: string, version: string, kinds: Resource[]): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const k of kinds) {
    const r: Record<string, unknown> = {
      name: k.resource,
      singularName: k.singularName,
      namespaced: k.namespaced,
      kind: k.kind,
      verbs: k.verbs,
    };
    if (k.shortNames.length) r.shortNames = k.shortNames;
    if (k.categories.length) r.categories = k.categories;
    resources.push(r);
    for (const s of k.subresources) {
      const sr: Record<string, unknown> = {
        name: `${k.resource}/${s.name}`,
        singularName: "",
        namespaced: k.namespaced,
        kind: s.kind,
        verbs: s.verbs,
      };
      if (s.group !== undefined) sr.group = s.group;
      if (s.version !== undefined) sr.version = s.version;
      resources.push(sr);
    }
  }
  return {
    kind: "APIResourceList",
    apiVersion: "v1",
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}

function apiGroup(g: GroupVersions): Record<string, unknown> {
  const versions = [...g.versions.keys()].map((v) => ({ groupVersion: `${g.group}/${v}`, version: v }));
  return { name: g.group, versions, preferredVersion: versions[0] };
}

function aggregated(gs: GroupVersions[], apiVersion: string): Record<string, unknown> {
  return {
    kind: "APIGroupDiscoveryList",
    apiVersion,
    metadata: {},
    items: gs.map((g) => ({
      metadata: { name: g.group, creationTimestamp: null },
      versions: [...g.versions].map(([version, kinds]) => ({
        version,
        freshness: "Current",
        resources: kinds.map((k) => {
          const r: Record<string, unknown> = {
            resource: k.resource,
            responseKind: { group: k.group, version: k.version, kind: k.kind },
            scope: k.namespaced ? "Namespaced" : "Cluster",
            singularResource: k.singularName,
            verbs: k.verbs,
          };
          if (k.shortNames.length) r.shortNames = k.shortNames;
          if (k.categories.length) r.categories = k.categories;
          if (k.subresources.length) {
            r.subresources = k.subresources.map((s) => ({
              subresource: s.name,
              responseKind: { group: s.group ?? k.group, version: s.version ?? k.version, kind: s.kind },
              verbs: s.verbs,
            }));
          }
          return r;
        }),
      })),
    })),
  };
}

/** Every discovery document, serialized once. */
export class Discovery {
  readonly byPath = new Map<string, string>();
  /** Aggregated documents for `/api` and `/apis`, by apidiscovery version. */
  readonly aggregated = new Map<string, string>();

  constructor() {
    const gs = groups();
    const core = gs.filter((g) => g.group === "");
    const named = gs.filter((g) => g.group !== "");
    this.byPath.set("/version", JSON.stringify(versionInfo()));
    this.byPath.set(
      "/api",
      JSON.stringify({
        kind: "APIVersions",
        versions: core.flatMap((g) => [...g.versions.keys()]),
        serverAddressByClientCIDRs: [{ clientCIDR: "0.0.0.0/0", serverAddress: "" }],
      }),
    );
    this.byPath.set(
      "/apis",
      JSON.stringify({ kind: "APIGroupList", apiVersion: "v1", groups: named.map(apiGroup) }),
    );
    for (const g of gs) {
      if (g.group) {
        this.byPath.set(
          `/apis/${g.group}`,
          JSON.stringify({ kind: "APIGroup", apiVersion: "v1", ...apiGroup(g) }),
        );
      }
      for (const [v, kinds] of g.versions) {
        const path = g.group ? `/apis/${g.group}/${v}` : `/api/${v}`;
        this.byPath.set(path, JSON.stringify(resourceList(g.group, v, kinds)));
      }
    }
    for (const av of ["v2", "v2beta1"]) {
      this.aggregated.set(`/api:${av}`, JSON.stringify(aggregated(core, `apidiscovery.k8s.io/${av}`)));
      this.aggregated.set(`/apis:${av}`, JSON.stringify(aggregated(named, `apidiscovery.k8s.io/${av}`)));
    }
  }

  /**
   * The aggregated-discovery version an Accept header asks for (`v2` preferred), or
   * undefined when it asks for the plain documents.
   */
  static aggregatedVersion(accept: string | undefined): string | undefined {
    if (!accept || !accept.includes("apidiscovery.k8s.io")) return undefined;
    for (const part of accept.split(",")) {
      if (!part.includes("g=apidiscovery.k8s.io") || !part.includes("as=APIGroupDiscoveryList")) continue;
      const v = /;v=(v2beta1|v2)(;|$)/.exec(part.replace(/\s+/g, ""));
      if (v) return v[1];
    }
    return undefined;
  }
}
