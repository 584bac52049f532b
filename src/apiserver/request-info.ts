/**
 * @module Parses a request path into what it addresses, as upstream's RequestInfoFactory:
 * `/api/v1/namespaces/ns/pods/name/status` → group "", version v1, namespace ns,
 * resource pods, name, subresource status; and the verb from the method and query.
 */

export interface RequestInfo {
  /** False for non-resource paths (`/version`, `/healthz`, discovery roots). */
  isResource: boolean;
  verb: string;
  group: string;
  version: string;
  namespace: string;
  resource: string;
  name: string;
  subresource: string;
}

const METHOD_VERB: Record<string, string> = {
  POST: "create",
  GET: "get",
  HEAD: "get",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/** Returns the RequestInfo of a path, or a non-resource info when it names no resource. */
export function parseRequestInfo(method: string, path: string, query: URLSearchParams): RequestInfo {
  const info: RequestInfo = {
    isResource: false,
    verb: (METHOD_VERB[method] ?? method).toLowerCase(),
    group: "",
    version: "",
    namespace: "",
    resource: "",
    name: "",
    subresource: "",
  };
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  let i: number;
  if (parts[0] === "api" && parts.length >= 2) {
    info.version = parts[1]!;
    i = 2;
  } else if (parts[0] === "apis" && parts.length >= 3) {
    info.group = parts[1]!;
    info.version = parts[2]!;
    i = 3;
  } else {
    return info;
  }
  let rest = parts.slice(i);
  if (rest.length === 0) return info;
  info.isResource = true;
  if (rest[0] === "namespaces") {
    if (rest.length >= 3) {
      info.namespace = rest[1]!;
      rest = rest.slice(2);
    } else {
      // `/api/v1/namespaces` and `/api/v1/namespaces/x` address namespaces themselves.
      info.resource = "namespaces";
      if (rest.length === 2) info.name = rest[1]!;
      return finish(info, method, query);
    }
  }
  info.resource = rest[0] ?? "";
  if (rest.length >= 2) info.name = rest[1]!;
  if (rest.length >= 3) info.subresource = rest.slice(2).join("/");
  // `/api/v1/namespaces/x/status|finalize` are subresources of the namespace itself.
  if (info.namespace && (info.resource === "status" || info.resource === "finalize") && !info.name) {
    info.name = info.namespace;
    info.namespace = "";
    info.subresource = info.resource;
    info.resource = "namespaces";
  }
  return finish(info, method, query);
}

function finish(info: RequestInfo, method: string, query: URLSearchParams): RequestInfo {
  if (method === "GET" || method === "HEAD") {
    if (!info.name)
      info.verb = query.get("watch") === "true" || query.get("watch") === "1" ? "watch" : "list";
  } else if (method === "DELETE" && !info.name) {
    info.verb = "deletecollection";
  }
  return info;
}
