/**
 * @module Resolves a container user (`uid[:gid]`, `name[:group]`, or "" for root) to the
 * numeric ids runc needs, against the image's `/etc/passwd` and `/etc/group` contents.
 * Pure: the caller reads the files. Follows runc/containerd's rules: a numeric uid without a
 * gid takes the passwd entry's gid when there is one, else 0; supplementary groups are the
 * groups that list the user's name.
 */
import type { ResolvedUser } from "./spec.ts";

interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

interface GroupEntry {
  name: string;
  gid: number;
  members: string[];
}

function parsePasswd(text: string): PasswdEntry[] {
  const out: PasswdEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 4 || line.startsWith("#")) continue;
    const uid = Number(f[2]);
    const gid = Number(f[3]);
    if (Number.isInteger(uid) && Number.isInteger(gid)) out.push({ name: f[0] ?? "", uid, gid });
  }
  return out;
}

function parseGroup(text: string): GroupEntry[] {
  const out: GroupEntry[] = [];
  for (const line of text.split("\n")) {
    const f = line.split(":");
    if (f.length < 3 || line.startsWith("#")) continue;
    const gid = Number(f[2]);
    if (!Number.isInteger(gid)) continue;
    const members = (f[3] ?? "").split(",").filter((m) => m !== "");
    out.push({ name: f[0] ?? "", gid, members });
  }
  return out;
}

const NUMERIC = /^\d+$/;

/**
 * Resolves `user` (`""`, `uid`, `uid:gid`, `name`, `name:group`) to numeric ids. Throws an
 * Error naming the user when a name is not in the image's files (runc's message wording).
 */
export function resolveUser(user: string, passwdText = "", groupText = ""): ResolvedUser {
  const [u = "", g] = user.split(":", 2);
  const passwd = parsePasswd(passwdText);
  const groups = parseGroup(groupText);
  let uid = 0;
  let gid = 0;
  let name: string | undefined;
  if (u === "") {
    name = passwd.find((p) => p.uid === 0)?.name ?? "root";
  } else if (NUMERIC.test(u)) {
    uid = Number(u);
    const entry = passwd.find((p) => p.uid === uid);
    if (entry) {
      gid = entry.gid;
      name = entry.name;
    }
  } else {
    const entry = passwd.find((p) => p.name === u);
    if (!entry) throw new Error(`unable to find user ${u}: no matching entries in passwd file`);
    uid = entry.uid;
    gid = entry.gid;
    name = entry.name;
  }
  if (g !== undefined && g !== "") {
    if (NUMERIC.test(g)) gid = Number(g);
    else {
      const entry = groups.find((e) => e.name === g);
      if (!entry) throw new Error(`unable to find group ${g}: no matching entries in group file`);
      gid = entry.gid;
    }
  }
  const additional = name
    ? groups.filter((e) => e.members.includes(name) && e.gid !== gid).map((e) => e.gid)
    : [];
  return additional.length > 0 ? { uid, gid, additionalGids: additional } : { uid, gid };
}
