/**
 * @module The API server's Prometheus metrics, named as upstream's: request counts by verb,
 * resource and code, request latency histograms by verb and resource, and open watches by
 * resource. Served at `/metrics` in the text exposition format.
 */

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 5, 10, 30, 60];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

function label(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

/** The metrics of one API server. */
export class ApiMetrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, Histogram>();
  private readonly watches = new Map<string, number>();

  /** Records one finished request (watches are not timed: they are long-running). */
  request(verb: string, resource: string, code: number, seconds: number): void {
    const rk = `${verb}\u0000${resource}\u0000${code}`;
    this.requests.set(rk, (this.requests.get(rk) ?? 0) + 1);
    if (verb === "WATCH") return;
    const hk = `${verb}\u0000${resource}`;
    let h = this.latency.get(hk);
    if (!h)
      this.latency.set(hk, (h = { counts: new Array<number>(BUCKETS.length).fill(0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  /** Counts a watch in (+1) or out (-1). */
  watch(resource: string, delta: 1 | -1): void {
    this.watches.set(resource, (this.watches.get(resource) ?? 0) + delta);
  }

  /** The text exposition of every metric. */
  render(): string {
    const out: string[] = [];
    out.push(
      "# HELP apiserver_request_total Counter of apiserver requests broken out by verb, resource and HTTP response code.",
    );
    out.push("# TYPE apiserver_request_total counter");
    for (const [k, n] of this.requests) {
      const [verb, resource, code] = k.split("\u0000");
      out.push(`apiserver_request_total{code="${code}",resource="${label(resource!)}",verb="${verb}"} ${n}`);
    }
    out.push(
      "# HELP apiserver_request_duration_seconds Response latency distribution in seconds for each verb and resource.",
    );
    out.push("# TYPE apiserver_request_duration_seconds histogram");
    for (const [k, h] of this.latency) {
      const [verb, resource] = k.split("\u0000");
      const l = `resource="${label(resource!)}",verb="${verb}"`;
      for (let i = 0; i < BUCKETS.length; i++) {
        out.push(`apiserver_request_duration_seconds_bucket{${l},le="${BUCKETS[i]}"} ${h.counts[i]}`);
      }
      out.push(`apiserver_request_duration_seconds_bucket{${l},le="+Inf"} ${h.count}`);
      out.push(`apiserver_request_duration_seconds_sum{${l}} ${h.sum}`);
      out.push(`apiserver_request_duration_seconds_count{${l}} ${h.count}`);
    }
    out.push("# HELP apiserver_longrunning_requests Number of open watch requests by resource.");
    out.push("# TYPE apiserver_longrunning_requests gauge");
    for (const [resource, n] of this.watches) {
      out.push(`apiserver_longrunning_requests{resource="${label(resource)}",verb="WATCH"} ${n}`);
    }
    return out.join("\n") + "\n";
  }
}
