/**
 * @module The self-review endpoints kubectl uses: `auth can-i` posts a
 * SelfSubjectAccessReview (authorization.k8s.io/v1) and `auth whoami` a SelfSubjectReview
 * (authentication.k8s.io/v1). Neither is stored; each is answered from the request's user and
 * the authorizer. Their discovery entries are in `reviewResources`.
 */
import { badRequest } from "../../api/status-error.ts";
import type { Authorizer, UserInfo } from "./authorizer.ts";

/** Discovery of the review resources: group, version, resource, kind (create-only, cluster-scoped). */
export const reviewResources = [
  {
    group: "authorization.k8s.io",
    version: "v1",
    resource: "selfsubjectaccessreviews",
    kind: "SelfSubjectAccessReview",
  },
  {
    group: "authentication.k8s.io",
    version: "v1",
    resource: "selfsubjectreviews",
    kind: "SelfSubjectReview",
  },
] as const;

/** Answers a review POST, or returns undefined when the path is not a review. */
export function answerReview(
  path: string,
  body: Record<string, unknown>,
  user: UserInfo,
  authorizer: Authorizer,
): Record<string, unknown> | undefined {
  if (path === "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews") {
    const spec = (body.spec ?? {}) as Record<string, unknown>;
    const ra = spec.resourceAttributes as Record<string, string> | undefined;
    const nra = spec.nonResourceAttributes as Record<string, string> | undefined;
    if (!ra && !nra) {
      throw badRequest(
        "spec.resourceAttributes: Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified",
      );
    }
    const d = authorizer.authorize({
      user,
      verb: ra?.verb ?? nra?.verb ?? "",
      group: ra?.group ?? "",
      resource: ra?.resource ?? "",
      subresource: ra?.subresource ?? "",
      namespace: ra?.namespace ?? "",
      name: ra?.name ?? "",
    });
    return {
      kind: "SelfSubjectAccessReview",
      apiVersion: "authorization.k8s.io/v1",
      metadata: { creationTimestamp: null },
      spec,
      status: { allowed: d.allowed, reason: d.reason },
    };
  }
  if (path === "/apis/authentication.k8s.io/v1/selfsubjectreviews") {
    return {
      kind: "SelfSubjectReview",
      apiVersion: "authentication.k8s.io/v1",
      metadata: { creationTimestamp: null },
      status: { userInfo: { username: user.username, groups: [...user.groups, "system:authenticated"] } },
    };
  }
  return undefined;
}
