/**
 * @module The authorization seam. Until RBAC lands (its own issue), every authenticated user
 * may do everything: `AllowAuthenticated` says so explicitly, and both the request path and
 * the SelfSubjectAccessReview endpoint ask it, so swapping in RBAC changes one object.
 */

/** Who made a request, as authentication established it. */
export interface UserInfo {
  username: string;
  groups: string[];
}

/** What a request wants to do (upstream's authorizer.Attributes, resource requests only). */
export interface Attributes {
  user: UserInfo;
  verb: string;
  group: string;
  resource: string;
  subresource: string;
  namespace: string;
  name: string;
}

export interface Decision {
  allowed: boolean;
  reason: string;
}

export interface Authorizer {
  authorize(attrs: Attributes): Decision;
}

/** The authorizer of a cluster without RBAC: authenticated users are allowed everything. */
export const AllowAuthenticated: Authorizer = {
  authorize(attrs) {
    return attrs.user.username
      ? { allowed: true, reason: "kites: RBAC is not enabled; authenticated users may do everything" }
      : { allowed: false, reason: "anonymous requests are not allowed" };
  },
};
