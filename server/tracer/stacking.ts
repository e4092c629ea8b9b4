/**
 * Which block devices a device sends its I/O on to, read from sysfs: a dm or md device's
 * `slaves`, and a loop device's backing file's disk. An I/O to the upper device is traced once
 * there and again below, so a picture of both counts it twice; the page says so.
 *
 * Partitions are named as their disk (bpfheat counts a partition as its disk). A loop device's
 * backing file is found by stat(2), which needs root where the file's directory is private:
 * stackingTable() reads every device once while the process is still root, and a device seen
 * only later is looked up then (without root its loop relation may stay unknown).
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname } from 'node:path';

const SYS = '/sys';

/** The disk of a block device name: the parent of a partition, else the name itself. */
function diskOf(name: string): string {
  const node = `${SYS}/class/block/${name}`;
  if (!existsSync(`${node}/partition`)) return name;
  return basename(dirname(realpathSync(node)));
}

function slaves(name: string): string[] {
  try {
    return readdirSync(`${SYS}/block/${name}/slaves`);
  } catch {
    return [];
  }
}

/** The disk holding a loop device's backing file, or none (not a loop device, a file on no block device, no permission). */
function loopBacking(name: string): string[] {
  try {
    const file = readFileSync(`${SYS}/block/${name}/loop/backing_file`, 'utf8').trim();
    const dev = statSync(file).dev;
    // Linux's dev_t: major in bits 8–19, minor in bits 0–7 and 20–31.
    const major = (dev >>> 8) & 0xfff;
    const minor = (dev & 0xff) | ((dev >>> 12) & 0xfff00);
    return [basename(readlinkSync(`${SYS}/dev/block/${major}:${minor}`))];
  } catch {
    return [];
  }
}

/** The disks a device is stacked on, by name, without repeats; empty when none. */
export function stackedOn(name: string): string[] {
  return [...new Set([...slaves(name), ...loopBacking(name)].map(diskOf))].filter((disk) => disk !== name);
}

/** stackedOn of every block device of the machine, read now. */
export function stackingTable(): Map<string, string[]> {
  let names: string[] = [];
  try {
    names = readdirSync(`${SYS}/block`);
  } catch {
    // no sysfs: nothing is known to be stacked
  }
  return new Map(names.map((name) => [name, stackedOn(name)]));
}
