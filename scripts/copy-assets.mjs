// Copies the admin UI's static files (the stylesheet) next to the compiled code, replacing what
// an earlier build left there. (The browser script's modules are compiled by tsc -p
// tsconfig.client.json into dist/server/admin/client/.)
import { cpSync, rmSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const target = join(root, 'dist/server/admin/assets')
rmSync(target, { recursive: true, force: true })
cpSync(join(root, 'src/server/admin/assets'), target, { recursive: true })
