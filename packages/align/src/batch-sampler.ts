import { seededRandom } from './seeded-random';

/**
 * Draws batches by walking seeded shuffles of `items` (epoch after epoch), so every item is
 * used once per epoch and the same seed gives the same batches.
 */
export function createBatchSampler<T>(items: readonly T[], batchSize: number, seed: number): () => T[] {
  if (items.length === 0) throw new RangeError('cannot sample batches from an empty data set');
  const random = seededRandom(seed);
  let order = random.shuffle(items);
  let cursor = 0;
  return () => {
    const batch: T[] = [];
    while (batch.length < batchSize) {
      if (cursor === order.length) {
        order = random.shuffle(items);
        cursor = 0;
      }
      batch.push(order[cursor++]);
    }
    return batch;
  };
}
