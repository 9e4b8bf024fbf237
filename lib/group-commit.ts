// Group commit: concurrent callers share one flush instead of each paying a database round trip (and lock) of its own.
import "server-only";

/**
 * Batches calls: a call made while no flush is running flushes at once (alone); calls made during a flush wait and go
 * together in the next one, up to `maxBatch` items. A failed flush rejects every call in that batch.
 */
export function groupCommit<T, R>(flush: (items: T[]) => Promise<R[]>, maxBatch = 1000): (item: T) => Promise<R> {
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
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!flushing) void drain();
    });
}
