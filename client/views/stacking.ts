/**
 * The note for devices shown together where one is stacked on another (a loop or dm device and
 * the disk under it): each I/O to the upper one is counted again on the lower, so totals and
 * percentiles over both mix two layers of the same I/O.
 */
import type { DeviceInfo } from '../../shared/column.ts';

/** The devices the picture sums: the chosen ones, or every device when none is chosen. */
export function devicesShown(all: readonly DeviceInfo[], chosen: readonly string[]): DeviceInfo[] {
  return chosen.length === 0 ? [...all] : all.filter((d) => chosen.includes(d.name));
}

/** "loop3 is stacked on vda: its I/Os are counted twice here (pick one in Devices)", or null when nothing shown is stacked on something shown. */
export function stackedNote(shown: readonly DeviceInfo[]): string | null {
  const names = new Set(shown.map((d) => d.name));
  const pairs = shown.flatMap((d) => (d.stackedOn ?? []).filter((below) => names.has(below)).map((below) => `${d.name} is stacked on ${below}`));
  if (pairs.length === 0) return null;
  return `${pairs.join(', ')}: ${pairs.length === 1 ? 'its I/Os are' : 'their I/Os are'} counted twice here (pick one in Devices)`;
}
