/**
 * `bpfheat` serving the dashboard, in one visible sequence with one cleanup path:
 *   check the address and read the client bundle (fail fast, before touching the kernel)
 *   → start the source (the BPF object is loaded, its maps and links open)
 *   → bind the port → give up root, in the same tick as the bind, before any connection is taken
 *   → print the URL → serve until SIGINT/SIGTERM (or --duration)
 *   → stop the source (its last column still goes out) → close clients and the server.
 */
import { readFileSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { isIP } from 'node:net';
import type { Config } from './config.ts';
import { historyColumns, resolveToken } from './config.ts';
import { UsageError, UserError } from '../base/errors.ts';
import type { Source } from '../sources/source.ts';
import { createDashboard, serverLimits, type Dashboard } from '../dashboard/app.ts';
import { defaultClientDir, loadClientBundle } from '../dashboard/bundle.ts';
import { History, defaultLevels } from '../dashboard/history.ts';
import { HostViews } from '../dashboard/hostViews.ts';
import { currentUser, dropPrivileges, type RunAs } from '../dashboard/privileges.ts';
import { accessPolicy, isWildcard, listenAddressProblem, type AccessPolicy } from '../dashboard/security.ts';

export interface DashboardRuntime {
  /** where the URL line goes (stdout) */
  readonly out?: (line: string) => void;
  /** where warnings go (stderr) */
  readonly warn?: (line: string) => void;
  readonly env?: Readonly<Record<string, string | undefined>>;
}

function listenError(error: NodeJS.ErrnoException, address: string, port: number): UserError {
  switch (error.code) {
    case 'EADDRINUSE':
      return new UserError(`port ${port} on ${address} is in use: stop what runs there or pick another with --port`);
    case 'EADDRNOTAVAIL':
      return new UserError(`${address} is not an address of this machine: use --listen 127.0.0.1 (default), 0.0.0.0, or one of its addresses`);
    case 'EACCES':
      return new UserError(`port ${port} is privileged and bpfheat may not bind it: pick a port above 1023 with --port`);
    case 'EAFNOSUPPORT':
      return new UserError(`${address} is an IPv6 address but IPv6 is off on this machine: use --listen 127.0.0.1`);
    default:
      return new UserError(`cannot listen on ${address} port ${port}: ${error.message}`);
  }
}

function readTokenFile(path: string): { text: string; mode: number } {
  return { text: readFileSync(path, 'utf8'), mode: statSync(path).mode };
}

/**
 * Binds, then gives up root inside the 'listening' event: Node emits it on the next tick after
 * the bind, before the event loop can take a connection, so no request is ever served as root.
 */
function listenThenDrop(dashboard: Dashboard, config: Config, env: Readonly<Record<string, string | undefined>>): Promise<RunAs> {
  const server = dashboard.server;
  return new Promise<RunAs>((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException): void => {
      server.off('listening', onListening);
      reject(listenError(error, config.listen, config.port));
    };
    const onListening = (): void => {
      server.off('error', onError);
      try {
        resolve(dropPrivileges(env));
      } catch (error) {
        server.close();
        reject(error);
      }
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port: config.port, host: config.listen, exclusive: true });
  });
}

/** The URL a person opens: the listening address (the host name for a wildcard), with the token if one is needed. */
export function dashboardUrl(listen: string, port: number, policy: AccessPolicy): string {
  const host = isWildcard(listen) ? hostname() : listen;
  const shown = isIP(host) === 6 ? `[${host}]` : host;
  return `http://${shown}:${port}/${policy.token ? `?token=${policy.token}` : ''}`;
}

/** Resolves on SIGINT, SIGTERM or the end of --duration; cancel() removes the handlers and the timer. */
function stopSignal(config: Config): { readonly stopped: Promise<string>; cancel(): void } {
  let timer: ReturnType<typeof setTimeout> | null = null;
  let onSignal: (signal: NodeJS.Signals) => void = () => {};
  const cancel = (): void => {
    if (timer) clearTimeout(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
  const stopped = new Promise<string>((resolve) => {
    const finish = (why: string): void => {
      cancel();
      // A second Ctrl-C while shutting down ends the process at once.
      process.once('SIGINT', () => process.exit(130));
      resolve(why);
    };
    onSignal = (signal) => finish(signal);
    timer = config.durationS === null ? null : setTimeout(() => finish('duration'), config.durationS * 1000);
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
  });
  return { stopped, cancel };
}

export async function runDashboard(source: Source, config: Config, runtime: DashboardRuntime = {}): Promise<void> {
  const env = runtime.env ?? process.env;
  const out = runtime.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const warn = runtime.warn ?? ((line: string) => process.stderr.write(`bpfheat: ${line}\n`));
  const problem = listenAddressProblem(config.listen);
  if (problem) throw new UsageError(problem);
  const { token, warnings } = resolveToken(config, { env, readFile: readTokenFile });
  for (const warning of warnings) warn(warning);
  const headless = config.mode === 'exporter';
  const bundle = headless ? null : loadClientBundle(defaultClientDir(env));
  // headless, nobody reads the history: the exporter keeps its own running totals
  const capacity = headless ? 1 : historyColumns(config);
  const history = new History(capacity, defaultLevels(source.intervalMs, capacity));
  const policy = accessPolicy(config.listen, token);
  let runAs = currentUser();
  // the fleet's dashboard and its host views hold to these together: a host view adds no room
  const limits = serverLimits(config.maxClients ?? undefined);
  const hostsOf = source.hosts?.bind(source);
  const forHosts = source.forHosts?.bind(source);
  // a page narrowing a fleet to some hosts is served a dashboard of their own, read when first asked for
  const views =
    hostsOf && forHosts && !config.sumHosts && !headless
      ? new HostViews(hostsOf, (hosts) => {
          const viewSource = forHosts(hosts);
          const view = createDashboard({
            source: viewSource,
            history: new History(capacity, defaultLevels(viewSource.intervalMs, capacity)),
            bundle,
            policy,
            listen: config.listen,
            runAs: () => runAs,
            port: () => dashboard.port(),
            stream: { host: viewSource.host || hostname(), hosts: hostsOf },
            limits,
          });
          viewSource.start(view.sink).catch((error: unknown) => view.sink.problem?.(`reading ${hosts.join(', ')} failed: ${error instanceof Error ? error.message : String(error)}`));
          return {
            dashboard: view,
            async stop() {
              await viewSource.stop();
              await view.close();
            },
          };
        })
      : null;
  const dashboard = createDashboard({
    source,
    history,
    bundle,
    policy,
    listen: config.listen,
    runAs: () => runAs,
    selfStatsRequested: config.selfStats,
    // a replayed or imported trace was made on another machine: clients are told that one's name
    stream: { host: source.host || hostname(), ...(views && hostsOf ? { hosts: hostsOf } : {}) },
    limits,
    ...(views ? { hostView: (hosts: readonly string[]) => views.view(hosts) } : {}),
  });

  // Listen for SIGINT/SIGTERM before anything can be told the URL: a signal that comes at once
  // (a test, a supervisor) must find the handler, or the default action kills the process.
  const signal = stopSignal(config);
  let started = false;
  try {
    await source.start(dashboard.sink);
    started = true;
    runAs = await listenThenDrop(dashboard, config, env);
  } catch (error) {
    signal.cancel();
    if (started) await source.stop();
    await views?.close();
    await dashboard.close();
    throw error;
  }

  const kind = source.kind === 'bpf' ? 'tracing this machine' : `${source.kind.toUpperCase()} data`;
  const url = dashboardUrl(config.listen, dashboard.port(), policy);
  out(headless ? `bpfheat: exporter on ${url.replace(/\/(\?|$)/, '/metrics$1')} (${kind}, running as ${runAs.user})` : `bpfheat: dashboard on ${url} (${kind}, running as ${runAs.user})`);

  await signal.stopped;
  try {
    await source.stop(); // the last, partial column still reaches the history and the clients
  } finally {
    await views?.close();
    await dashboard.close();
  }
}
