// Copies the admin UI's static files (CSS, client script) next to the compiled code.
import { cpSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
cpSync(join(root, 'src/server/admin/assets'), join(root, 'dist/server/admin/assets'), { recursive: true })
