/** Words for messages a user reads. */

/** "1 column", "2 columns" */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
