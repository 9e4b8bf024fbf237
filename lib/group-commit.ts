// Group commit: concurrent callers share one flush instead of each paying a database round trip (and lock) of its own.
import "server-only";

/**
 * Batches calls: a call made while no flush is running flushes at once (alone); calls made during a flush wait and go
 * together in the next one, up to `maxBatch` items. A failed flush rejects every call in that batch.
 */
export function groupCommit<T, R>(flush: (items: T[]) => Promise<R[]>, maxBatch = 1000, onIdle?: () => void): (item: T) => Promise<R> {
  const queue: { item: T; resolve: (result: R) => void; reject: (error: unknown) => void }[] = [];
  let flushing = false;

  async function drain(): Promise<void> {
    flushing = true;
    while (queue.length > 0) {
      const batch = queue.splice(0, maxBatch);
      try {
        const results = await flush(batch.map((b) => b.item));
        if (results.length !== batch.length) throw new Error(`group commit: ${results.length} results for ${batch.length} items`);
        batch.forEach((b, i) => b.resolve(results[i] as R));
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    flushing = false;
    onIdle?.();
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!flushing) void drain();
    });
}

/**
 * A groupCommit per key (e.g. a tenant whose audit chain the flush appends to), made on first use and dropped when its
 * queue runs dry, so callers of one key share batches and keys no longer in use hold nothing.
 */
export function groupCommitPerKey<T, R>(flush: (items: T[]) => Promise<R[]>, maxBatch = 1000): KeyedGroupCommit<T, R> {
  const committers = new Map<string, (item: T) => Promise<R>>();
  const commitFor = (key: string, item: T) => {
    let commit = committers.get(key);
    if (!commit) {
      const made = groupCommit(flush, maxBatch, () => {
        if (committers.get(key) === made) committers.delete(key);
      });
      committers.set(key, made);
      commit = made;
    }
    return commit(item);
  };
  return Object.defineProperty(commitFor, "keys", { get: () => committers.size }) as KeyedGroupCommit<T, R>;
}

/** groupCommitPerKey's committer; `keys` counts the keys with a flush running or queued. */
export interface KeyedGroupCommit<T, R> {
  (key: string, item: T): Promise<R>;
  readonly keys: number;
}
