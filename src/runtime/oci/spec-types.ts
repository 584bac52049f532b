/**
 * @module The part of the OCI runtime specification (`config.json`, runtime-spec 1.0.2) that
 * kites writes, as TypeScript types. Field names follow the specification exactly so the
 * object serialises straight to what runc reads.
 */

/** A mount in `config.json`. */
export interface OciMount {
  destination: string;
  type?: string;
  source?: string;
  options?: string[];
}

/** `process.rlimits[]`. */
export interface OciRlimit {
  type: string;
  hard: number;
  soft: number;
}

/** `process.capabilities`. */
export interface OciCapabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
  inheritable?: string[];
  ambient?: string[];
}

/** `process`: what runs in the container. */
export interface OciProcess {
  terminal: boolean;
  user: { uid: number; gid: number; additionalGids?: number[] };
  args: string[];
  env: string[];
  cwd: string;
  capabilities: OciCapabilities;
  rlimits: OciRlimit[];
  noNewPrivileges: boolean;
  oomScoreAdj?: number;
}

/** `linux.namespaces[]`: a new namespace when `path` is absent, else the one at `path`. */
export interface OciNamespace {
  type: "pid" | "network" | "mount" | "ipc" | "uts" | "user" | "cgroup";
  path?: string;
}

/** `linux.resources`. */
export interface OciResources {
  devices: { allow: boolean; access?: string; type?: string; major?: number; minor?: number }[];
  memory?: { limit?: number; swap?: number };
  cpu?: { shares?: number; quota?: number; period?: number };
  pids?: { limit: number };
}

/** The whole `config.json`. */
export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: { path: string; readonly: boolean };
  hostname?: string;
  mounts: OciMount[];
  annotations?: Record<string, string>;
  linux: {
    namespaces: OciNamespace[];
    resources: OciResources;
    cgroupsPath: string;
    maskedPaths: string[];
    readonlyPaths: string[];
  };
}
