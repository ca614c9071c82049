/**
 * Output formats: every GET that returns data answers `?format=json|csv|xml|yaml|debug` (or the
 * `Accept` header), and `download=true` adds `Content-Disposition`. CSV turns lists into one row
 * per item with flat columns.
 */
import { stringify as csvStringify } from 'csv-stringify/sync'
import { XMLBuilder } from 'fast-xml-parser'
import type { Context } from 'hono'
import { inspect } from 'node:util'
import { stringify as yamlStringify } from 'yaml'
import { HttpError } from './http-errors.js'

export const FORMATS = ['json', 'csv', 'xml', 'yaml', 'debug'] as const
export type Format = (typeof FORMATS)[number]

const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  yaml: 'application/yaml; charset=utf-8',
  debug: 'text/plain; charset=utf-8',
}

const ACCEPT: readonly [RegExp, Format][] = [
  [/^application\/json$/, 'json'],
  [/^text\/csv$/, 'csv'],
  [/^(application|text)\/xml$/, 'xml'],
  [/^(application|text)\/(x-)?yaml$/, 'yaml'],
  [/^text\/plain$/, 'debug'],
]

/** The format asked for: `?format=` first, then the first `Accept` type we know, else JSON. */
export function pickFormat(c: Context): Format {
  const asked = c.req.query('format')
  if (asked !== undefined && asked !== '') {
    if (!(FORMATS as readonly string[]).includes(asked)) {
      throw new HttpError(400, 'ERR_VALIDATION', `format: expected one of ${FORMATS.join(', ')}, got "${asked}"`)
    }
    return asked as Format
  }
  for (const part of (c.req.header('accept') ?? '').split(',')) {
    const type = part.split(';')[0]!.trim().toLowerCase()
    for (const [pattern, format] of ACCEPT) if (pattern.test(type)) return format
  }
  return 'json'
}

/** Options of {@link respond}. */
export interface RespondOptions {
  /** Names the download file and the XML root. */
  readonly name: string
  /** The CSV rows; default: the list itself, a page's `data`, or the object as one row. */
  readonly rows?: (data: unknown) => readonly unknown[]
  readonly status?: 200 | 201
  /** Use this format whatever the request asks. */
  readonly format?: Format
  /** Answer as a file download whatever the request asks. */
  readonly download?: boolean
}

/** Answers with `data` in the format the client asked for. */
export function respond(c: Context, data: unknown, options: RespondOptions): Response {
  const format = options.format ?? pickFormat(c)
  const body = serialize(data, format, options)
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPES[format] }
  if (options.download === true || c.req.query('download') === 'true') headers['content-disposition'] = `attachment; filename="${safeFileName(options.name)}.${format === 'debug' ? 'txt' : format}"`
  return c.body(body, options.status ?? 200, headers)
}

/** `data` as text in `format`. */
export function serialize(data: unknown, format: Format, options: RespondOptions): string {
  switch (format) {
    case 'json':
      return JSON.stringify(data)
    case 'yaml':
      return yamlStringify(plain(data), { lineWidth: 0 })
    case 'debug':
      return `${inspect(plain(data), { depth: 8, maxArrayLength: 1000, maxStringLength: 100_000, breakLength: 120 })}\n`
    case 'xml':
      return toXml(data, options.name)
    case 'csv':
      return toCsv((options.rows ?? defaultRows)(data))
  }
}

function defaultRows(data: unknown): readonly unknown[] {
  if (Array.isArray(data)) return data
  if (typeof data === 'object' && data !== null && Array.isArray((data as { data?: unknown }).data)) return (data as { data: unknown[] }).data
  return [data]
}

/** JSON-compatible plain data: Dates → ISO strings, Buffers → base64, undefined dropped. */
export function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value ?? null, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))) as unknown
}

/** Rows with flat columns: nested objects become `a.b` columns, lists of scalars `x; y`, anything deeper JSON. */
export function toCsv(rows: readonly unknown[]): string {
  const flat = rows.map((row) => flatten(plain(row)))
  const columns: string[] = []
  const seen = new Set<string>()
  for (const row of flat) {
    for (const key of Object.keys(row)) {
      if (!seen.has(key)) {
        seen.add(key)
        columns.push(key)
      }
    }
  }
  if (columns.length === 0) return ''
  return csvStringify(
    flat.map((row) => columns.map((c) => defuse(row[c]))),
    { header: true, columns },
  )
}

function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}, depth = 0): Record<string, unknown> {
  if (value === null || typeof value !== 'object') {
    out[prefix === '' ? 'value' : prefix] = value
    return out
  }
  if (Array.isArray(value)) {
    out[prefix === '' ? 'value' : prefix] = value.every((v) => v === null || typeof v !== 'object') ? value.join('; ') : JSON.stringify(value)
    return out
  }
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    const name = prefix === '' ? key : `${prefix}.${key}`
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 2) flatten(v, name, out, depth + 1)
    else if (v !== null && typeof v === 'object') out[name] = Array.isArray(v) && v.every((x) => x === null || typeof x !== 'object') ? v.join('; ') : JSON.stringify(v)
    else out[name] = v
  }
  return out
}

/** Cells a spreadsheet would run as formulas get a leading quote (CSV injection). */
function defuse(cell: unknown): unknown {
  if (typeof cell === 'string' && /^[=+\-@\t\r]/.test(cell)) return `'${cell}`
  return cell ?? ''
}

const xml = new XMLBuilder({ ignoreAttributes: true, format: true, suppressEmptyNode: true })

function toXml(data: unknown, root: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n${String(xml.build({ [xmlName(root)]: xmlValue(plain(data)) }))}`
}

/** Lists become `<item>` children; keys become valid element names. */
function xmlValue(value: unknown): unknown {
  if (Array.isArray(value)) return { item: value.map(xmlValue) }
  if (value === null || typeof value !== 'object') return value
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) out[xmlName(key)] = xmlValue(v)
  return out
}

function xmlName(key: string): string {
  const cleaned = key.replace(/[^A-Za-z0-9_.-]/g, '_')
  return /^[A-Za-z_]/.test(cleaned) && !/^xml/i.test(cleaned) ? cleaned : `_${cleaned}`
}

function safeFileName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 100) || 'data'
}
