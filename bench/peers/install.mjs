// Installs the benchmarks' comparison peers (package.json and package-lock.json beside this file)
// when they are missing or older than the lock, then links them where the compiled suites look
// for packages. `npm run bench`, `bench:pg` and `bench:admin` run it before building.
//
// The peers are not in the root package: graphile-worker 0.18 and pg-boss 12 declare Node >= 22,
// so every `npm ci` of taskengine (Node >= 20.19) would warn. They run on Node 20 all the same;
// the install is told not to enforce or print engine warnings for them.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const modules = join(here, 'node_modules')
// npm writes node_modules/.package-lock.json at the end of every successful install.
const installed = join(modules, '.package-lock.json')
const mtime = (path) => statSync(path).mtimeMs

if (!existsSync(installed) || mtime(installed) < Math.max(mtime(join(here, 'package.json')), mtime(join(here, 'package-lock.json')))) {
  console.error('bench: installing the comparison peers into bench/peers/node_modules …')
  const npm = spawnSync('npm', ['ci', '--engine-strict=false', '--loglevel=error', '--no-audit', '--no-fund'], {
    cwd: here,
    stdio: ['ignore', 'ignore', 'inherit'],
    shell: process.platform === 'win32',
  })
  if (npm.status !== 0) {
    console.error(`bench: installing the peers failed (npm ci in ${here} exited with ${npm.status ?? npm.signal}); the command above shows why`)
    process.exit(1)
  }
}

// The compiled suites live in dist-bench/bench/peers/ (tsconfig.bench.json), where Node would not
// find bench/peers/node_modules. A link there serves them alone: compiled src/ resolves its own
// dependencies (pg among them) from the root node_modules, as before.
const link = join(here, '..', '..', 'dist-bench', 'bench', 'peers', 'node_modules')
if (!existsSync(join(link, '.package-lock.json'))) {
  rmSync(link, { force: true }) // a stale link, if any
  mkdirSync(dirname(link), { recursive: true })
  symlinkSync(relative(dirname(link), modules), link, 'junction')
}
