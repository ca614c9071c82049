/**
 * Run ids: UUIDv7 (RFC 9562), so ids sort by creation time, which keeps store indexes local.
 * Within one millisecond a 12-bit counter keeps ids from one process strictly increasing.
 */
import { randomFillSync } from 'node:crypto'

const POOL_SIZE = 16 * 512
const pool = Buffer.allocUnsafe(POOL_SIZE)
let poolOffset = POOL_SIZE
let lastMs = -1
let counter = 0
const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

function randomBytes8(): number {
  if (poolOffset + 8 > POOL_SIZE) {
    randomFillSync(pool)
    poolOffset = 0
  }
  const at = poolOffset
  poolOffset += 8
  return at
}

/** A new UUIDv7 string, e.g. `019a5f3c-8e21-7b04-9d3e-0c1f4a2b6e7d`. */
export function newId(): string {
  let ms = Date.now()
  if (ms > lastMs) {
    lastMs = ms
    counter = 0
  } else {
    // Same millisecond (or the clock stepped back): keep order with the counter, borrowing a ms when it wraps.
    counter++
    if (counter > 0xfff) {
      lastMs++
      counter = 0
    }
    ms = lastMs
  }
  const at = randomBytes8()
  const hi = Math.floor(ms / 0x1_0000_0000)
  const lo = ms >>> 0
  return (
    HEX[(hi >>> 8) & 0xff]! +
    HEX[hi & 0xff]! +
    HEX[(lo >>> 24) & 0xff]! +
    HEX[(lo >>> 16) & 0xff]! +
    '-' +
    HEX[(lo >>> 8) & 0xff]! +
    HEX[lo & 0xff]! +
    '-' +
    HEX[0x70 | (counter >>> 8)]! +
    HEX[counter & 0xff]! +
    '-' +
    HEX[0x80 | (pool[at]! & 0x3f)]! +
    HEX[pool[at + 1]!]! +
    '-' +
    HEX[pool[at + 2]!]! +
    HEX[pool[at + 3]!]! +
    HEX[pool[at + 4]!]! +
    HEX[pool[at + 5]!]! +
    HEX[pool[at + 6]!]! +
    HEX[pool[at + 7]!]!
  )
}
