/**
 * The page's device ids. A server numbers devices in the order it first sees them complete an
 * I/O, so a restarted server (or another one behind the same address) can give a device another
 * id. The page keeps what it drew across servers, so its ids are its own: one per device name,
 * for the page's life. Each server's ids are translated on the way in (columns, exemplars) and on
 * the way out (the region watched).
 */
import type { Column, DeviceInfo } from '../../shared/column.ts';
import type { Exemplar } from '../../shared/exemplar.ts';

export class DeviceTable {
  /** the page's table, ascending by id */
  private table: DeviceInfo[] = [];
  /** the current server's id → the page's id, and back */
  private toPage = new Map<number, number>();
  private toServer = new Map<number, number>();
  /** every server id is the page's id: columns pass unchanged */
  private identity = true;

  get devices(): readonly DeviceInfo[] {
    return this.table;
  }

  /**
   * A server's table (in hello: a new server; in `devices`: it grew). Known names keep their page id; a new one takes the server's id when the
   * page has not used it, else the next free one. A device's other facts (what it is stacked on)
   * are the latest server's.
   */
  setServer(devices: readonly DeviceInfo[]): void {
    const byName = new Map(this.table.map((d) => [d.name, d]));
    const used = new Set(this.table.map((d) => d.id));
    const toPage = new Map<number, number>();
    for (const device of devices) {
      let id = byName.get(device.name)?.id;
      if (id === undefined) {
        id = used.has(device.id) ? Math.max(...used) + 1 : device.id;
        used.add(id);
      }
      byName.set(device.name, { ...device, id });
      toPage.set(device.id, id);
    }
    this.table = [...byName.values()].sort((a, b) => a.id - b.id);
    this.toPage = toPage;
    this.toServer = new Map([...toPage].map(([server, page]) => [page, server]));
    this.identity = [...toPage].every(([server, page]) => server === page);
  }

  /** A server id as the page's; an id the server never announced is kept (it names no device either way). */
  private pageId(serverId: number): number {
    return this.toPage.get(serverId) ?? serverId;
  }

  column(column: Column): Column {
    if (this.identity) return column;
    return {
      ...column,
      series: column.series.map((s) => ({ ...s, device: this.pageId(s.device) })),
      ...(column.droppedExemplars ? { droppedExemplars: column.droppedExemplars.map((d) => ({ ...d, device: this.pageId(d.device) })) } : {}),
    };
  }

  exemplars(exemplars: readonly Exemplar[]): readonly Exemplar[] {
    if (this.identity) return exemplars;
    return exemplars.map((e) => ({ ...e, device: this.pageId(e.device) }));
  }

  /** Page ids as the current server's; -1 for a device that server has not seen (it matches nothing there). */
  serverIds(pageIds: readonly number[]): number[] {
    return pageIds.map((id) => (id < 0 ? id : (this.toServer.get(id) ?? -1)));
  }
}
