/**
 * The dashboards of some hosts of a fleet (--source prometheus). The fleet's own dashboard shows
 * the hosts' sum, which Prometheus sums (fast: a host's worth of reading, whatever the fleet); a
 * page that narrows the picture to some hosts (?host=a,b) is served by a dashboard of its own,
 * whose source reads only those hosts, made when a request first names them. So a host's history
 * is read when a page asks for it, and only that host's.
 *
 * At most `max` host sets are kept, each with a history of its own: making one more stops the
 * least recently asked-for set that no page is connected to. When every one has a page, one more
 * is refused (503) rather than cut off a page by another's choice or grow memory without bound.
 * The sets share the server's limits (app.ts ServerLimits): they add no clients and no big answers.
 */
import type { Dashboard, HostRefusal } from './app.ts';

/** A host set's dashboard and how to stop it (its source, then its clients). */
export interface HostView {
  readonly dashboard: Dashboard;
  stop(): Promise<void>;
}

export const MAX_HOST_VIEWS = 8;

export class HostViews {
  /** by host set, least recently asked for first */
  private readonly views = new Map<string, HostView>();
  private closed = false;

  constructor(
    /** the hosts that can be named (the fleet's, as its source has seen them) */
    private readonly known: () => readonly string[],
    private readonly make: (hosts: readonly string[]) => HostView,
    private readonly max = MAX_HOST_VIEWS,
  ) {}

  get size(): number {
    return this.views.size;
  }

  /** The dashboard of `hosts` (sorted, each once), made if need be; or why not: an unknown host, no room. */
  view(hosts: readonly string[]): Dashboard | HostRefusal {
    const known = this.known();
    if (known.length === 0) return { status: 503, error: 'the fleet\'s hosts are still being read from Prometheus: retrying', retry: true };
    const unknown = hosts.filter((host) => !known.includes(host));
    if (unknown.length > 0) {
      return { status: 400, error: `unknown host ${unknown.join(', ').slice(0, 200)}: the hosts are ${known.join(', ').slice(0, 400)}` };
    }
    if (this.closed) return { status: 503, error: 'the dashboard is shutting down' };
    const key = hosts.join('\n');
    let view = this.views.get(key);
    if (view) this.views.delete(key);
    else {
      this.evict();
      if (this.views.size >= this.max) return { status: 503, error: `${this.max} host sets are open, each with a page: close one, or view all hosts` };
      view = this.make(hosts);
    }
    this.views.set(key, view);
    return view.dashboard;
  }

  private evict(): void {
    for (const [key, view] of this.views) {
      if (this.views.size < this.max) return;
      if (view.dashboard.stream.clientCount > 0) continue;
      this.views.delete(key);
      // nobody is connected to it: a failure to stop has no one to be told to
      view.stop().catch(() => {});
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const views = [...this.views.values()];
    this.views.clear();
    await Promise.all(views.map((view) => view.stop()));
  }
}
