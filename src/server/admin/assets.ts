/**
 * The admin UI's static files (`/admin/assets/<file>`): the stylesheet and the browser script.
 * They need no identity (the sign-in page uses the stylesheet).
 */
import type { Handler } from 'hono'
import { readFile } from 'node:fs/promises'
import { extname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ServerEnv } from '../caller.js'
import { notFound } from '../http-errors.js'

const ASSETS = join(fileURLToPath(new URL('.', import.meta.url)), 'assets')
const ASSET_TYPES: Readonly<Record<string, string>> = { '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8' }

export const serveAsset: Handler<ServerEnv> = async (c) => {
  const file = c.req.param('file') ?? ''
  const type = ASSET_TYPES[extname(file)]
  if (type === undefined || file.includes('/') || file.startsWith('.')) throw notFound(`no asset "${file}"`)
  try {
    return c.body(await readFile(join(ASSETS, file)), 200, { 'content-type': type, 'cache-control': 'no-cache' })
  } catch {
    throw notFound(`no asset "${file}"`)
  }
}
