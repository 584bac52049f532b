/**
 * @module The matching rules of networking.k8s.io/v1 Ingress, as plain string functions used on
 * every request: the host of a request (Host header without port, lower case), its path
 * (without the query), Prefix paths compared element by element on "/" (`/foo` matches
 * `/foo` and `/foo/bar`, never `/foobar`; a trailing slash in the rule is ignored), and
 * wildcard hosts (`*.foo.com` covers exactly one more label: `bar.foo.com`, not
 * `foo.com` nor `baz.bar.foo.com`).
 */

/**
 * A Prefix rule's path in the form `prefixMatches` compares: without trailing slashes,
 * "/" for the root.
 */
export function normalizePrefix(path: string): string {
  let end = path.length;
  while (end > 1 && path.charCodeAt(end - 1) === 47 /* / */) end--;
  const p = end === path.length ? path : path.slice(0, end);
  return p === "" ? "/" : p;
}

/** Whether the request path `path` falls under the normalized Prefix rule `prefix`. */
export function prefixMatches(prefix: string, path: string): boolean {
  if (prefix.length === 1) return true; // "/" matches every path
  if (!path.startsWith(prefix)) return false;
  return path.length === prefix.length || path.charCodeAt(prefix.length) === 47;
}

/**
 * The host a request is for: the Host header (or `:authority`) without the port, lower
 * case, without a trailing dot; IPv6 literals keep their brackets. "" when absent.
 */
export function requestHost(header: string | undefined): string {
  if (!header) return "";
  let end = header.length;
  if (header.charCodeAt(0) === 91 /* [ */) {
    const close = header.indexOf("]");
    end = close < 0 ? end : close + 1;
  } else {
    const colon = header.indexOf(":");
    if (colon >= 0) end = colon;
  }
  if (end > 0 && header.charCodeAt(end - 1) === 46 /* . */) end--;
  const h = end === header.length ? header : header.slice(0, end);
  return hasUpper(h) ? h.toLowerCase() : h;
}

function hasUpper(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return true;
  }
  return false;
}

/**
 * The path of a request target: origin form (`/a/b?q`) up to the query; absolute form
 * (`http://host/a?q`) its path; anything else (`*`, authority form) "/".
 */
export function requestPath(url: string | undefined): string {
  if (!url) return "/";
  let start = 0;
  if (url.charCodeAt(0) !== 47) {
    const scheme = url.indexOf("://");
    if (scheme < 0) return "/";
    start = url.indexOf("/", scheme + 3);
    if (start < 0) return "/";
  }
  let end = url.indexOf("?", start);
  const hash = url.indexOf("#", start);
  if (hash >= 0 && (end < 0 || hash < end)) end = hash;
  if (start === 0 && end < 0) return url;
  return url.slice(start, end < 0 ? undefined : end);
}

/**
 * The key under which a wildcard rule host (`*.foo.com`) is stored: its suffix from the
 * first dot (`.foo.com`). Undefined when `host` is not a wildcard.
 */
export function wildcardSuffix(host: string): string | undefined {
  return host.startsWith("*.") ? host.slice(1) : undefined;
}

/**
 * The wildcard suffix a request host would match (`bar.foo.com` → `.foo.com`), or
 * undefined when the host has no dot after a non-empty first label.
 */
export function hostSuffix(host: string): string | undefined {
  const dot = host.indexOf(".");
  return dot > 0 ? host.slice(dot) : undefined;
}
