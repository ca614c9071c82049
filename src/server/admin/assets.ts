/**
 * The admin UI's static files, which need no identity (the sign-in page uses the stylesheet):
 *
 * - `/admin/assets/<file>.css`: `assets/`, copied beside the compiled code by the build;
 * - `/admin/assets/client/<module>.js`: the browser script's ES modules, compiled from
 *   `client/*.ts` by the build (`tsconfig.client.json`);
 * - `/admin/assets/shared/<module>.js`: the modules the script shares with the views.
 *
 * Run from the TypeScript sources (the tests, development), the modules have no compiled file
 * beside them yet: each is transpiled on request with the build's own compiler options.
 */
import type { Handler } from 'hono'
import type { CompilerOptions } from 'typescript'
import { readFile, stat } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { ServerEnv } from '../caller.js'
import { notFound } from '../http-errors.js'

const STYLESHEET = /^[a-z][a-z0-9-]*\.css$/
const MODULE = /^([a-z][a-z0-9-]*)\.js$/
/** The folders (beside this file) whose modules browsers load. */
const MODULE_DIRS = ['client', 'shared'] as const

/** `GET /assets/:file`: a stylesheet. */
export const serveStylesheet: Handler<ServerEnv> = async (c) => {
  const file = c.req.param('file') ?? ''
  if (!STYLESHEET.test(file)) throw notFound(`no asset "${file}"`)
  try {
    return c.body(await readFile(new URL(`./assets/${file}`, import.meta.url)), 200, { 'content-type': 'text/css; charset=utf-8', 'cache-control': 'no-cache' })
  } catch {
    throw notFound(`no asset "${file}"`)
  }
}

/** `GET /assets/:dir/:file`: a module of the browser script. */
export const serveModule: Handler<ServerEnv> = async (c) => {
  const dir = c.req.param('dir') ?? ''
  const file = c.req.param('file') ?? ''
  const name = MODULE.exec(file)?.[1]
  if (name === undefined || !(MODULE_DIRS as readonly string[]).includes(dir)) throw notFound(`no asset "${dir}/${file}"`)
  const code = await moduleCode(new URL(`./${dir}/${name}`, import.meta.url))
  if (code === undefined) throw notFound(`no asset "${dir}/${file}"`)
  return c.body(code, 200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-cache' })
}

/** The compiled module (`<path>.js`), else its source transpiled (`<path>.ts`), else `undefined`. */
async function moduleCode(path: URL): Promise<string | undefined> {
  const compiled = await readIfThere(new URL(`${path.href}.js`))
  if (compiled !== undefined) return compiled
  const source = new URL(`${path.href}.ts`)
  let modified: number
  try {
    modified = (await stat(source)).mtimeMs
  } catch {
    return undefined
  }
  const cached = transpiled.get(source.href)
  if (cached?.modified === modified) return cached.code
  const code = await transpile(await readFile(source, 'utf8'), fileURLToPath(source))
  transpiled.set(source.href, { modified, code })
  return code
}

async function readIfThere(path: URL): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw error
  }
}

/** Modules transpiled from source, by file URL, while their file is unchanged. */
const transpiled = new Map<string, { readonly modified: number; readonly code: string }>()
let compilerOptions: CompilerOptions | undefined

/**
 * One module transpiled as the build compiles it (TypeScript is a development dependency: only
 * a server run from its sources gets here).
 */
async function transpile(source: string, fileName: string): Promise<string> {
  const ts = (await import('typescript')).default
  if (compilerOptions === undefined) {
    const root = fileURLToPath(new URL('../../../', import.meta.url))
    const configPath = `${root}tsconfig.client.json`
    const read = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path))
    if (read.error !== undefined) throw new Error(`cannot read ${configPath}: ${ts.flattenDiagnosticMessageText(read.error.messageText, '\n')}`)
    const config: unknown = read.config
    const options = ts.parseJsonConfigFileContent(config, ts.sys, root).options
    // Each module on its own, as an ES module (what NodeNext makes of it in this "type": "module"
    // package), with no source map file to point to.
    compilerOptions = { ...options, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler, sourceMap: false, inlineSourceMap: false, declaration: false }
  }
  return ts.transpileModule(source, { fileName, compilerOptions }).outputText
}
