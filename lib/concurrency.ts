// Bounded parallelism: Azure throttles per subscription and principal, so fan-out stays capped.
import "server-only";

/** Map `items` with at most `limit` calls in flight; results keep input order. */
export async function mapBounded<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  async function worker() {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T, index);
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * Map `items` grouped by `groupOf` (Azure throttles per subscription): every group at once, at most `limitPerGroup`
 * in flight within each. Every call settles before the first failure (in input order) is thrown; results keep input order.
 */
export async function mapPerGroupSettled<T, R>(
  items: readonly T[],
  groupOf: (item: T) => string,
  limitPerGroup: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const key = groupOf(item).toLowerCase();
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const settled = new Array<{ ok: true; value: R } | { ok: false; error: unknown }>(items.length);
  await Promise.all(
    [...groups.values()].map((indexes) =>
      mapBounded(indexes, limitPerGroup, async (i) => {
        try {
          settled[i] = { ok: true, value: await fn(items[i] as T, i) };
        } catch (error) {
          settled[i] = { ok: false, error };
        }
      }),
    ),
  );
  return settled.map((s) => {
    if (!s.ok) throw s.error;
    return s.value;
  });
}
