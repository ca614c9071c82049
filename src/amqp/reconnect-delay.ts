/** How long the bridge waits before its next try to reach the broker: exponential, capped, with jitter. */

/**
 * The delay before try `failures + 1` after `failures` failed tries in a row (from 1): the
 * first delay doubled per failure, at most `maxMs`, then a random point in its upper half, so
 * bridges that lost the broker together do not knock on it together.
 *
 * @example
 * reconnectDelay(1, 100, 30_000) // 50..100 ms
 * reconnectDelay(20, 100, 30_000) // 15..30 s
 */
export function reconnectDelay(failures: number, firstMs: number, maxMs: number, random: () => number = Math.random): number {
  const full = Math.min(maxMs, firstMs * 2 ** Math.min(Math.max(failures - 1, 0), 40))
  return Math.round(full / 2 + (random() * full) / 2)
}
