/**
 * A fleet's dashboard and the dashboards of its hosts on one real listening port: requests that
 * name hosts (?host=) reach the hosts' own history and stream, others the fleet's; a host set is
 * made when first named, and the least recently named set without a page is stopped past the bound.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createDashboard, hostsNamed, serverLimits, type Dashboard, type ServerLimits } from './app.ts';
import { History, defaultLevels } from './history.ts';
import { HostViews, type HostView } from './hostViews.ts';
import { bundleOf } from './bundle.ts';
import { HeavyAnswers, Turns } from './slicing.ts';
import { ClientSeats } from './ws.ts';
import { accessPolicy } from './security.ts';
import { MAX_HOSTS_LISTED } from '../../shared/protocol.ts';
import { closeAll, column, connect, FakeSource, start, until } from '../../test/dashboard-harness.ts';

afterEach(closeAll);

describe('hostsNamed', () => {
  it.each([
    ['', null],
    ['host=db1', ['db1']],
    ['host=db2,db1&host=db1', ['db1', 'db2']],
    ['host=', { error: '"host" must be host names separated by commas, as the page\'s Hosts filter lists them' }],
    [`host=${Array.from({ length: 65 }, (_, k) => `h${k}`).join(',')}`, { error: '"host" names more than 64 hosts: leave it out for all of them, summed' }],
  ])('%s', (query, expected) => {
    expect(hostsNamed(new URLSearchParams(query))).toEqual(expected);
  });
});

const FLEET = ['db1', 'db2', 'db3'];

/** A fleet dashboard whose host views are real dashboards over fake sources, each holding one column counting its hosts. */
async function fleet(max = 8, limits: ServerLimits = serverLimits()): Promise<{ url: string; views: HostViews; made: string[]; stopped: string[] }> {
  const made: string[] = [];
  const stopped: string[] = [];
  let main: Dashboard | null = null;
  const views = new HostViews(
    () => FLEET,
    (hosts): HostView => {
      const key = hosts.join(',');
      made.push(key);
      const history = new History(100, defaultLevels(1000, 100));
      const dashboard = createDashboard({
        source: new FakeSource(),
        history,
        bundle: bundleOf({ '/index.html': '<!doctype html><title>t</title>' }),
        policy: accessPolicy('127.0.0.1', null),
        listen: '127.0.0.1',
        port: () => main!.port(),
        stream: { host: key, hosts: () => FLEET },
        limits,
      });
      dashboard.sink.column(column(1, 0, hosts.length));
      return {
        dashboard,
        async stop() {
          stopped.push(key);
          await dashboard.close();
        },
      };
    },
    max,
  );
  const started = await start({ hostView: (hosts) => views.view(hosts), stream: { host: 'fleet', hosts: () => FLEET }, limits });
  main = started.dashboard;
  started.dashboard.sink.column(column(1, 0, 10));
  return { url: started.url, views, made, stopped };
}

async function totalOf(url: string): Promise<unknown> {
  const answer = await fetch(url);
  const body = (await answer.json()) as { columns?: { total: number }[]; error?: string };
  return answer.ok ? body.columns!.map((c) => c.total) : { status: answer.status, error: body.error };
}

describe('a request naming hosts', () => {
  it('is answered from those hosts\' own history, made once; others from the fleet\'s', async () => {
    const { url, views, made } = await fleet();
    const range = 'from=1000&to=2000';
    expect(await totalOf(`${url}/api/columns?${range}`)).toEqual([10]);
    expect(await totalOf(`${url}/api/columns?${range}&host=db2`)).toEqual([1]);
    expect(await totalOf(`${url}/api/columns?${range}&host=db3,db1`)).toEqual([2]);
    expect(await totalOf(`${url}/api/columns?${range}&host=db1&host=db3`)).toEqual([2]);
    expect(made).toEqual(['db2', 'db1,db3']);
    expect(await totalOf(`${url}/api/columns?${range}&host=db9`)).toEqual({ status: 400, error: 'unknown host db9: the hosts are db1, db2, db3' });
    expect(await totalOf(`${url}/API/columns?${range}&host=db9`)).toEqual({ status: 400, error: 'unknown host db9: the hosts are db1, db2, db3' });
    expect(await totalOf(`${url}/Api/Columns?${range}&host=db2`)).toEqual([1]);
    // the page is the same for any hosts: it loads, and asks its data of /api and /ws
    const page = await fetch(`${url}/?host=db9`);
    expect([page.status, await page.text()]).toEqual([200, '<!doctype html><title>t</title>']);
    expect(made).toEqual(['db2', 'db1,db3']);
    await views.close();
  });

  it('on the WebSocket gets the hosts\' hello and columns, with the fleet\'s host list', async () => {
    const { url, views } = await fleet();
    const client = await connect(url, {}, '?host=db2');
    await until(() => client.messages.some((m) => m.type === 'live'));
    expect(client.messages[0]).toMatchObject({ type: 'hello', host: 'db2', hosts: FLEET });
    expect(client.messages[1]).toMatchObject({ type: 'column', column: { seq: 1, series: [{ counts: [1] }] } });
    const whole = await connect(url);
    await until(() => whole.messages.some((m) => m.type === 'live'));
    expect(whole.messages[0]).toMatchObject({ type: 'hello', host: 'fleet', hosts: FLEET });
    expect(whole.messages[1]).toMatchObject({ type: 'column', column: { seq: 1, series: [{ counts: [10] }] } });
    client.ws.close();
    whole.ws.close();
    await views.close();
  });

  it('is refused with a line where the source has no hosts apart', async () => {
    const { url } = await start();
    expect(await totalOf(`${url}/api/columns?host=db1`)).toEqual({
      status: 400,
      error: '"host" narrows a source of several hosts (--source prometheus without --sum-hosts): this one has no hosts apart',
    });
    const page = await connect(url, {}, '?host=db1');
    await until(() => page.closed !== null);
    expect([page.closed, page.messages]).toEqual([
      4400,
      [{ type: 'error', message: '"host" narrows a source of several hosts (--source prometheus without --sum-hosts): this one has no hosts apart' }],
    ]);
  });

  it('on the WebSocket, naming an unknown host, is told the line and closed for good (4400), and makes no host view', async () => {
    const { url, views, made } = await fleet();
    const page = await connect(url, {}, '?host=nobody:1');
    await until(() => page.closed !== null);
    expect([page.closed, page.messages]).toEqual([4400, [{ type: 'error', message: 'unknown host nobody:1: the hosts are db1, db2, db3' }]]);
    expect(made).toEqual([]);
    await views.close();
  });
});

describe('a request naming hosts before the fleet\'s read has seen any', () => {
  it('is refused for now: 503 over HTTP, and on the WebSocket the line then a close that asks to try again later (1013)', async () => {
    const made: string[] = [];
    const views = new HostViews(
      () => [],
      (hosts) => {
        made.push(hosts.join(','));
        throw new Error('no host view may be made');
      },
    );
    const { url } = await start({ hostView: (hosts) => views.view(hosts), stream: { hosts: () => [] } });
    const line = 'the fleet\'s hosts are still being read from Prometheus: retrying';
    expect(await totalOf(`${url}/api/columns?host=db1`)).toEqual({ status: 503, error: line });
    const page = await connect(url, {}, '?host=db1');
    await until(() => page.closed !== null);
    expect([page.closed, page.messages]).toEqual([1013, [{ type: 'error', message: line }]]);
    expect(made).toEqual([]);
  });
});

describe('the hosts a page can name', () => {
  it('reach every page with the device table when the fleet grows', async () => {
    const hosts = ['db1'];
    const { dashboard, url } = await start({ hostView: () => ({ status: 400, error: 'not in this test' }), stream: { hosts: () => hosts } });
    const client = await connect(url);
    await until(() => client.messages.length > 0);
    expect(client.messages[0]).toMatchObject({ type: 'hello', hosts: ['db1'] });
    hosts.push('db2');
    dashboard.sink.devices?.([{ id: 0, name: 'sda' }]);
    await until(() => client.messages.some((m) => m.type === 'devices'));
    expect(client.messages.find((m) => m.type === 'devices')).toEqual({ type: 'devices', devices: [{ id: 0, name: 'sda' }], hosts: ['db1', 'db2'] });
    client.ws.close();
  });
});

describe('a fleet of more hosts than a message lists', () => {
  it('is told as its first MAX_HOSTS_LISTED hosts, in hello and devices, and a line saying how to narrow it', async () => {
    const hosts = Array.from({ length: MAX_HOSTS_LISTED + 1 }, (_, k) => `h${String(k).padStart(5, '0')}`);
    const { dashboard, url } = await start({ hostView: () => ({ status: 400, error: 'not in this test' }), stream: { hosts: () => hosts } });
    const client = await connect(url);
    await until(() => client.messages.some((m) => m.type === 'problem'));
    const line = `${MAX_HOSTS_LISTED + 1} hosts: the Hosts filter lists the first ${MAX_HOSTS_LISTED} (the picture sums them all); narrow the fleet with --match, e.g. {job="db"}`;
    expect(client.messages[0]).toMatchObject({ type: 'hello', hosts: hosts.slice(0, MAX_HOSTS_LISTED) });
    expect(client.messages[1]).toEqual({ type: 'problem', message: line });
    dashboard.sink.devices?.([{ id: 0, name: 'sda' }]);
    await until(() => client.messages.filter((m) => m.type === 'problem').length === 2);
    expect(client.messages.slice(-2)).toEqual([
      { type: 'devices', devices: [{ id: 0, name: 'sda' }], hosts: hosts.slice(0, MAX_HOSTS_LISTED) },
      { type: 'problem', message: line },
    ]);
    client.ws.close();
  });
});

describe('a request naming hosts without the token', () => {
  it('is refused as any other, and makes no host view', async () => {
    const made: string[] = [];
    const views = new HostViews(
      () => FLEET,
      (hosts) => {
        made.push(hosts.join(','));
        throw new Error('no host view may be made');
      },
    );
    const { url } = await start({ policy: accessPolicy('0.0.0.0', 'secret-token-0123456789'), hostView: (hosts) => views.view(hosts), stream: { hosts: () => FLEET } });
    const answer = await fetch(`${url}/api/columns?host=db1`, { headers: { Host: '127.0.0.1' } });
    expect(answer.status).toBe(401);
    await expect(connect(url, { headers: { Host: '127.0.0.1' } }, '?host=db1')).rejects.toThrow('401');
    expect(made).toEqual([]);
  });
});

describe('the host sets kept', () => {
  it('stop the least recently named one without a page, past the bound, and keep one a page is on', async () => {
    const { url, views, stopped } = await fleet(2);
    const onDb1 = await connect(url, {}, '?host=db1');
    await until(() => onDb1.messages.some((m) => m.type === 'live'));
    await fetch(`${url}/api/columns?host=db2`);
    await fetch(`${url}/api/columns?host=db3`);
    expect(stopped).toEqual(['db2']);
    expect(views.size).toBe(2);
    onDb1.ws.close();
    await until(() => onDb1.closed !== null);
    await views.close();
    expect(stopped.sort()).toEqual(['db1', 'db2', 'db3']);
    expect(await totalOf(`${url}/api/columns?host=db1`)).toEqual({ status: 503, error: 'the dashboard is shutting down' });
  });

  it('refuse one more set when every one has a page (503 and a line), and make it once one is closed', async () => {
    const { url, views, made } = await fleet(2);
    const pages = [await connect(url, {}, '?host=db1'), await connect(url, {}, '?host=db2')];
    await until(() => pages.every((page) => page.messages.some((m) => m.type === 'live')));
    expect(await totalOf(`${url}/api/columns?from=1000&to=2000&host=db3`)).toEqual({ status: 503, error: '2 host sets are open, each with a page: close one, or view all hosts' });
    expect(made).toEqual(['db1', 'db2']);
    pages[0]!.ws.close();
    await until(() => views.size === 2 && pages[0]!.closed !== null);
    expect(await totalOf(`${url}/api/columns?from=1000&to=2000&host=db3`)).toEqual([1]);
    expect(made).toEqual(['db1', 'db2', 'db3']);
    pages[1]!.ws.close();
    await views.close();
  });
});

describe('the limits of the server', () => {
  it('hold across the fleet and its host views: --max-clients WebSockets in all, counted in the fleet\'s /api/meta', async () => {
    const { url, views } = await fleet(8, serverLimits(2));
    const onFleet = await connect(url);
    const onDb1 = await connect(url, {}, '?host=db1');
    await until(() => [onFleet, onDb1].every((page) => page.messages.some((m) => m.type === 'live')));
    await expect(connect(url, {}, '?host=db2')).rejects.toThrow('503');
    await expect(connect(url)).rejects.toThrow('503');
    const meta = (await (await fetch(`${url}/api/meta`)).json()) as { clients: { clients: number; allClients: number; maxClients: number } };
    expect(meta.clients).toMatchObject({ clients: 1, allClients: 2, maxClients: 2 });
    onDb1.ws.close();
    await until(() => onDb1.closed !== null);
    const onDb2 = await connect(url, {}, '?host=db2');
    await until(() => onDb2.messages.some((m) => m.type === 'hello'));
    onFleet.ws.close();
    onDb2.ws.close();
    await views.close();
  });

  it('hold the big answers of host views to the server\'s: one being built anywhere makes a host view\'s wait, and past the queue 429', async () => {
    const heavy = new HeavyAnswers(1, 0);
    const { url, views } = await fleet(8, { seats: new ClientSeats(), turns: new Turns(), heavy });
    expect(await heavy.enter()).toBe(true);
    const answer = await fetch(`${url}/api/columns?from=1000&to=2000&host=db1`);
    expect([answer.status, ((await answer.json()) as { error: string }).error]).toEqual([429, '1 large answers are being built and 0 wait: retry in 1 s']);
    heavy.leave();
    expect(await totalOf(`${url}/api/columns?from=1000&to=2000&host=db1`)).toEqual([1]);
    await views.close();
  });
});
