/**
 * Builds `dist/` when it is missing or older than the sources, so end-to-end tests that spawn
 * the real binary never run stale code (`npm test` builds first anyway).
 */
import { execFileSync } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'

const root = join(import.meta.dirname, '..')

function newestMtime(dir: string): number {
  let newest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    newest = Math.max(newest, entry.isDirectory() ? newestMtime(path) : statSync(path).mtimeMs)
  }
  return newest
}

export default function setup(): void {
  // Tests that do not spawn the binary can run while the tree does not build (TASKENGINE_SKIP_BUILD=1).
  if (process.env.TASKENGINE_SKIP_BUILD === '1') return
  let built: number
  try {
    built = statSync(join(root, 'dist', 'cli', 'main.js')).mtimeMs
  } catch {
    built = 0
  }
  if (built < newestMtime(join(root, 'src'))) {
    // The same steps as `npm run build`: the server, the admin UI's browser modules, its static files.
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.client.json'], { cwd: root, stdio: 'inherit' })
    execFileSync(process.execPath, [join(root, 'scripts', 'copy-assets.mjs')], { cwd: root, stdio: 'inherit' })
  }
}
