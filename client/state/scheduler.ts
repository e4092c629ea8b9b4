/**
 * The one animation-frame scheduler: anything that changes what is on screen calls request();
 * however many requests arrive (a backfill of thousands of columns, a burst of mouse moves),
 * the tasks run once, in the next animation frame.
 */
export type FrameTask = (timeMs: number) => void;

export class FrameScheduler {
  private readonly tasks = new Set<FrameTask>();
  private handle: number | null = null;

  /** Runs the task in every frame from now on; returns its removal. */
  add(task: FrameTask): () => void {
    this.tasks.add(task);
    this.request();
    return () => this.tasks.delete(task);
  }

  request(): void {
    if (this.handle !== null) return;
    this.handle = requestAnimationFrame((timeMs) => {
      this.handle = null;
      for (const task of this.tasks) task(timeMs);
    });
  }

  get pending(): boolean {
    return this.handle !== null;
  }

  dispose(): void {
    if (this.handle !== null) cancelAnimationFrame(this.handle);
    this.handle = null;
    this.tasks.clear();
  }
}
