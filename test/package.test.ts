/**
 * The packed package, as a user gets it: `npm pack`, the tarball installed into an empty project,
 * then a task run from a plain `.mjs` file, from a `.ts` file through jiti (the loader the README
 * recommends on Node 20), by the `taskengine` binary with a TypeScript tasks module, and the `.ts`
 * file typechecked against the shipped declarations; and, as a backend author would, the store
 * conformance suite run with vitest from `taskengine/store-testing` against a shipped backend.
 *
 * What is reused rather than rebuilt, and why it does not weaken the check:
 * - `npm pack --ignore-scripts` packs the `dist/` that `npm test` has just built: `prepare` would
 *   rebuild `dist/` under the other test files running beside this one.
 * - better-sqlite3's install script (a native build from source, about a minute on two cores) is
 *   skipped; its compiled addon is copied from this checkout's copy of the same version, which the
 *   consumer project pins. Every file of taskengine comes from the tarball, and every other
 *   dependency is resolved and installed by npm from the tarball's package.json (from npm's cache
 *   when it has them).
 */
import { spawn } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const ROOT = join(import.meta.dirname, '..')
const dir = mkdtempSync(join(tmpdir(), 'taskengine-package-'))
const project = join(dir, 'consumer')

interface Exit {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Runs a command to completion (no shell) and collects its output. */
function exec(command: string, args: readonly string[], cwd: string): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: { ...process.env, NO_COLOR: '1', TASKENGINE_TASKS: '' } })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, stdout, stderr }))
  })
}

/** Like {@link exec}, but a non-zero exit is an error that shows the command's output. */
async function mustExec(command: string, args: readonly string[], cwd: string): Promise<Exit> {
  const result = await exec(command, args, cwd)
  if (result.code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${result.code}\n${result.stderr}\n${result.stdout}`)
  return result
}

const installedVersion = (name: string): string =>
  (JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version

/**
 * The application: one task, run in-process, then enqueued on a SQLite file and executed by a
 * worker; the stored run is read back by a second engine on the same file. The `.ts` variant adds
 * types, and `@ts-expect-error` lines that fail the typecheck if the declarations degrade to `any`.
 */
function application(typed: boolean): string {
  const ts = (code: string): string => (typed ? code : '')
  return `import { createEngine, defineTask${ts(', type RunEvent')} } from 'taskengine'
import { sqliteStore } from 'taskengine/sqlite'
import { postgresStore } from 'taskengine/postgres'
import { createServer } from 'taskengine/server'

const greet = defineTask({
  key: 'greet',
  fields: [{ key: 'name', type: 'string', required: true }],
  run(ctx) {
${ts('    // @ts-expect-error: greet has no field "age"\n    void ctx.args.age\n')}    return { greeting: 'Hello, ' + ctx.args.name + '!' }
  },
})

const engine = createEngine({ tasks: [greet], store: sqliteStore('app.db') })
const inProcess = await engine.run(greet, { name: 'Ada' })
${ts("// @ts-expect-error: the result has no \"farewell\"\nvoid inProcess.data?.farewell\n")}
const queued = await engine.enqueue(greet, { name: 'Grace' })
const settled = new Promise${ts('<void>')}((resolve) => {
  const off = engine.subscribe((event${ts(': RunEvent')}) => {
    if (event.type === 'succeeded' || event.type === 'failed' || event.type === 'cancelled') {
      off()
      resolve()
    }
  }, { runId: queued.id })
})
await engine.start()
await settled
await engine.close()

const reopened = createEngine({ tasks: [greet], store: sqliteStore('app.db') })
const stored = await reopened.getRun(queued.id)
await reopened.close()

console.log(JSON.stringify({
  inProcess: { status: inProcess.status, data: inProcess.data },
  durable: { status: stored${ts('!')}.status, data: stored${ts('!')}.data },
  subpaths: [typeof postgresStore, typeof createServer],
}))
`
}

const TASKS_MODULE = `import { defineTask } from 'taskengine'

export const greet = defineTask({
  key: 'greet',
  fields: [{ key: 'name', type: 'string', required: true }],
  run: (ctx) => ({ greeting: \`Hello, \${ctx.args.name}!\` }),
})
`

/** A backend author's test file: the conformance suite from the package, against a shipped store. */
const CONFORMANCE_TEST = `import { describeStoreConformance } from 'taskengine/store-testing'
import { sqliteStore } from 'taskengine/sqlite'

describeStoreConformance('sqlite from the package', async () => sqliteStore(':memory:'), { signals: false, leader: false })
`

/** The contract's types come from taskengine/store, not from the root entry. */
const CONTRACT_TYPES = `import type { ClaimRequest, QueueStore, Store, WriteBatch } from 'taskengine/store'
import { attemptsLeftAfter } from 'taskengine/store'
// @ts-expect-error: the store contract is not part of the root entry
import type { ClaimRequest as FromRoot } from 'taskengine'
import type { Run } from 'taskengine'

export type Contract = [ClaimRequest, QueueStore, Store, WriteBatch, FromRoot, Run]
export const left: boolean = attemptsLeftAfter({ attempt: 1, attemptBase: 0, maxAttempts: 3 })
`

const EXPECTED = {
  inProcess: { status: 'succeeded', data: { greeting: 'Hello, Ada!' } },
  durable: { status: 'succeeded', data: { greeting: 'Hello, Grace!' } },
  subpaths: ['function', 'function'],
}

beforeAll(async () => {
  const packed = await mustExec('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)
  const [{ filename }] = JSON.parse(packed.stdout) as [{ filename: string }]
  mkdirSync(project)
  const sqlite = installedVersion('better-sqlite3')
  writeFileSync(
    join(project, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module', overrides: { 'better-sqlite3': sqlite } }, null, 2),
  )
  await mustExec(
    'npm',
    [
      'install',
      '--ignore-scripts',
      '--prefer-offline',
      '--no-audit',
      '--no-fund',
      join(dir, filename),
      `jiti@${installedVersion('jiti')}`,
      `@types/node@${installedVersion('@types/node')}`,
      `vitest@${installedVersion('vitest')}`,
    ],
    project,
  )
  const addon = join('node_modules', 'better-sqlite3', 'build', 'Release')
  mkdirSync(join(project, addon), { recursive: true })
  copyFileSync(join(ROOT, addon, 'better_sqlite3.node'), join(project, addon, 'better_sqlite3.node'))

  writeFileSync(join(project, 'app.mjs'), application(false))
  writeFileSync(join(project, 'app.ts'), application(true))
  writeFileSync(join(project, 'tasks.ts'), TASKS_MODULE)
  writeFileSync(join(project, 'conformance.test.mjs'), CONFORMANCE_TEST)
  writeFileSync(join(project, 'contract.ts'), CONTRACT_TYPES)
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', target: 'es2023', types: ['node'], noEmit: true }, files: ['app.ts', 'tasks.ts', 'contract.ts'] }),
  )
}, 300_000)

afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('the packed package in an empty project', () => {
  it('runs a task in-process and durably on SQLite from a plain .mjs file', async () => {
    const result = await mustExec(process.execPath, ['app.mjs'], project)
    expect(JSON.parse(result.stdout)).toEqual(EXPECTED)
  }, 60_000)

  it('runs the same from a .ts file with node --import jiti/register', async () => {
    rmSync(join(project, 'app.db'), { force: true })
    const result = await mustExec(process.execPath, ['--import', 'jiti/register', 'app.ts'], project)
    expect(JSON.parse(result.stdout)).toEqual(EXPECTED)
  }, 60_000)

  it('typechecks against the shipped declarations', async () => {
    const result = await exec(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], project)
    expect(result.stdout).toBe('')
    expect(result.code).toBe(0)
  }, 60_000)

  it("ships the admin UI's static files, which the build copies beside the compiled code", () => {
    const packed = join(project, 'node_modules', 'taskengine', 'dist', 'server', 'admin', 'assets')
    const sources = readdirSync(join(ROOT, 'src', 'server', 'admin', 'assets')).sort()
    expect(existsSync(packed) ? readdirSync(packed).sort() : []).toEqual(sources)
  })

  it("ships the admin UI's browser modules and the formatting they share with the views", () => {
    const dist = join(project, 'node_modules', 'taskengine', 'dist', 'server', 'admin')
    const modules = (folder: string): string[] => readdirSync(join(ROOT, 'src', 'server', 'admin', folder)).filter((f) => f.endsWith('.ts') && !f.includes('.test.')).map((f) => f.replace(/\.ts$/, '.js')).sort()
    for (const folder of ['client', 'shared']) {
      const shipped = existsSync(join(dist, folder)) ? readdirSync(join(dist, folder)).filter((f) => f.endsWith('.js')).sort() : []
      expect(shipped, folder).toEqual(modules(folder))
    }
  })

  it('runs the store conformance suite from taskengine/store-testing against a shipped backend, with vitest', async () => {
    const result = await exec(join(project, 'node_modules', '.bin', 'vitest'), ['run', '--reporter=json', '--outputFile=conformance.json', 'conformance.test.mjs'], project)
    const report = existsSync(join(project, 'conformance.json'))
      ? (JSON.parse(readFileSync(join(project, 'conformance.json'), 'utf8')) as { numPassedTests: number; numFailedTests: number; numPendingTests: number })
      : undefined
    expect(report, result.stderr + result.stdout).toBeDefined()
    expect(report!.numFailedTests, result.stdout).toBe(0)
    expect(report!.numPassedTests).toBeGreaterThan(40)
    expect(result.code).toBe(0)
  }, 120_000)

  it('runs a task from a TypeScript tasks module with the taskengine binary', async () => {
    const result = await mustExec(join(project, 'node_modules', '.bin', 'taskengine'), ['run', 'greet', '--tasks', 'tasks.ts', '--name', 'Ada'], project)
    expect(JSON.parse(result.stdout)).toMatchObject({ task: 'greet', status: 'succeeded', data: { greeting: 'Hello, Ada!' } })
  }, 60_000)
})
