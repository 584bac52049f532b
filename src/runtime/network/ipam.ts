/**
 * @module Host-local IP address management for pods: hands out addresses of the node's pod
 * CIDR (skipping the network address, the gateway and broadcast), one per sandbox uid, and
 * persists the allocations in a small JSON file (written atomically) so a restarted agent
 * keeps them. Allocation is round-robin from the last address handed out, as the CNI
 * host-local plugin does, so a released address is not reused at once.
 */
import { mkdir, readFile, rename, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { intToIp, ipToInt, parseCidr, type Cidr } from "./cidr.ts";

interface IpamFile {
  cidr: string;
  last: number;
  /** ip → sandbox uid. */
  allocations: Record<string, string>;
}

/** Address allocator over one CIDR, backed by one JSON file. */
export class Ipam {
  readonly cidr: Cidr;
  private state: IpamFile | undefined;
  private byOwner = new Map<string, string>();
  /** Serialises mutations: each waits for the previous write. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly file: string,
    cidr: string,
  ) {
    this.cidr = parseCidr(cidr);
  }

  private async load(): Promise<IpamFile> {
    if (this.state) return this.state;
    let s: IpamFile = { cidr: "", last: 0, allocations: {} };
    try {
      s = JSON.parse(await readFile(this.file, "utf8")) as IpamFile;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
    this.state = s;
    this.byOwner = new Map(Object.entries(s.allocations).map(([ip, uid]) => [uid, ip]));
    return s;
  }

  private async save(s: IpamFile): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, JSON.stringify(s));
    await rename(tmp, this.file);
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const p = this.chain.then(fn, fn);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** The address of `owner`, allocating one if it has none. Throws when the CIDR is full. */
  allocate(owner: string): Promise<string> {
    return this.serial(async () => {
      const s = await this.load();
      const have = this.byOwner.get(owner);
      if (have) return have;
      const first = this.cidr.network + 2; // .0 network, .1 gateway
      const lastHost = this.cidr.network + this.cidr.size - 2; // broadcast excluded
      const span = lastHost - first + 1;
      const start = s.last >= first && s.last <= lastHost ? s.last - first + 1 : 0;
      for (let i = 0; i < span; i++) {
        const n = first + ((start + i) % span);
        const ip = intToIp(n);
        if (s.allocations[ip] !== undefined) continue;
        s.allocations[ip] = owner;
        s.last = n;
        this.byOwner.set(owner, ip);
        await this.save(s);
        return ip;
      }
      throw new Error(
        `failed to allocate an IP for ${owner}: pod CIDR ${intToIp(this.cidr.network)}/${this.cidr.prefix} is exhausted`,
      );
    });
  }

  /** Releases `owner`'s address; unknown owners are ignored. */
  release(owner: string): Promise<void> {
    return this.serial(async () => {
      const s = await this.load();
      const ip = this.byOwner.get(owner);
      if (!ip) return;
      delete s.allocations[ip];
      this.byOwner.delete(owner);
      await this.save(s);
    });
  }

  /** The address held by `owner`, if any. */
  async get(owner: string): Promise<string | undefined> {
    await this.load();
    return this.byOwner.get(owner);
  }

  /** Whether `ip` lies inside the CIDR. */
  contains(ip: string): boolean {
    const n = ipToInt(ip);
    return n >= this.cidr.network && n < this.cidr.network + this.cidr.size;
  }
}
