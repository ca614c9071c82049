/**
 * The package's version, read once from its package.json: the nearest one named `taskengine`
 * above this module (`dist/` when installed, `src/` under the test runner, `dist-bench/src/` in
 * the benchmarks).
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown }
      if (pkg.name === 'taskengine' && typeof pkg.version === 'string') return pkg.version
    } catch {
      // No package.json here (or not ours): look further up.
    }
    const parent = dirname(dir)
    if (parent === dir) return '0.0.0'
    dir = parent
  }
}

/** `version` from taskengine's package.json. */
export const VERSION = findVersion()
