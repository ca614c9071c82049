/**
 * Output formats: every GET that returns data answers `?format=json|csv|xml|yaml|toml|debug`
 * (any case; `?t=` is the same parameter) or the `Accept` header (with q-values), and
 * `download=true` adds `Content-Disposition`. CSV turns lists into one row per item with flat
 * columns; TOML leaves nulls out (see `toml-format.ts`).
 */
import { stringify as csvStringify } from 'csv-stringify/sync'
import { XMLBuilder } from 'fast-xml-parser'
import type { Context } from 'hono'
import { inspect } from 'node:util'
import { stringify as yamlStringify } from 'yaml'
import { HttpError } from './http-errors.js'
import { toToml } from './toml-format.js'
import { jsonText } from '../json-text.js'

export const FORMATS = ['json', 'csv', 'xml', 'yaml', 'toml', 'debug'] as const
export type Format = (typeof FORMATS)[number]

const CONTENT_TYPES: Readonly<Record<Format, string>> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
  xml: 'application/xml; charset=utf-8',
  yaml: 'application/yaml; charset=utf-8',
  toml: 'application/toml; charset=utf-8',
  debug: 'text/plain; charset=utf-8',
}

/** The media types each format answers to in an `Accept` header. */
const MEDIA_TYPES: Readonly<Record<Format, readonly string[]>> = {
  json: ['application/json'],
  csv: ['text/csv'],
  xml: ['application/xml', 'text/xml'],
  yaml: ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml'],
  toml: ['application/toml'],
  debug: ['text/plain'],
}

/** The query parameters that name a format: `format`, and its short alias `t`. */
export const FORMAT_PARAMS = ['format', 't'] as const

/**
 * The format named in the query, as given (`?format=`, or its alias `?t=`); `undefined` when
 * neither is (an empty value is none). Both given, naming different formats, is a 400.
 */
export function askedFormat(c: Context): { readonly param: (typeof FORMAT_PARAMS)[number]; readonly value: string } | undefined {
  const format = c.req.query('format')
  const t = c.req.query('t')
  const given = [format === undefined || format === '' ? undefined : { param: 'format' as const, value: format }, t === undefined || t === '' ? undefined : { param: 't' as const, value: t }].filter((x) => x !== undefined)
  if (given.length === 2 && given[0]!.value.toLowerCase() !== given[1]!.value.toLowerCase()) {
    const message = `format and t name the same parameter (t is short for format), got format=${format} and t=${t}`
    throw new HttpError('ERR_VALIDATION', message, [{ key: 't', expected: 'the same format as format, or only one of them', received: `"${t}" (string)`, message }])
  }
  return given[0]
}

/**
 * The format asked for: `?format=` or `?t=` (any case) first, else negotiated from the `Accept`
 * header (see {@link negotiateFormat}), else JSON. `offered` are the formats the route answers
 * in; another is a 400 naming them.
 */
export function pickFormat(c: Context, offered: readonly Format[] = FORMATS): Format {
  const asked = askedFormat(c)
  if (asked !== undefined) {
    const format = asked.value.toLowerCase()
    if (!(offered as readonly string[]).includes(format)) {
      const message = `${asked.param}: expected one of ${offered.join(', ')}, got "${asked.value}"`
      throw new HttpError('ERR_VALIDATION', message, [{ key: asked.param, expected: `one of ${offered.join(', ')}`, received: `"${asked.value}" (string)`, message }])
    }
    return format as Format
  }
  const format = negotiateFormat(c.req.header('accept'), offered)
  if (format === undefined) {
    throw new HttpError('ERR_NOT_ACCEPTABLE', `none of the formats this route answers in (${offered.join(', ')}) is acceptable to the Accept header; ask with ?format=`)
  }
  return format
}

interface MediaRange {
  readonly type: string
  readonly subtype: string
  readonly q: number
  /** Position in the header, for ties. */
  readonly index: number
}

/**
 * Content negotiation with q-values. JSON, the API's default, is the answer unless the
 * client's most preferred media type (highest q) names another format explicitly: a browser's
 * `text/html, …, application/xml;q=0.9` (anything else at 0.8) prefers a page, not XML, and gets JSON;
 * `application/json;q=0.1, text/csv;q=0.9` gets CSV. Among formats named at the same q the
 * first listed wins. When JSON is refused (`q=0`), the best other acceptable format is used;
 * `undefined` when none is.
 */
export function negotiateFormat(accept: string | undefined, offered: readonly Format[] = FORMATS): Format | undefined {
  const fallback: Format = offered.includes('json') ? 'json' : offered[0]!
  const ranges = parseAccept(accept ?? '')
  if (ranges.length === 0) return fallback
  const top = Math.max(...ranges.map((r) => r.q))
  if (top > 0) {
    let best: { format: Format; index: number } | undefined
    for (const format of offered) {
      for (const range of ranges) {
        if (range.q === top && MEDIA_TYPES[format].includes(`${range.type}/${range.subtype}`) && (best === undefined || range.index < best.index)) best = { format, index: range.index }
      }
    }
    if (best !== undefined) return best.format
  }
  if (quality(fallback, ranges) !== 0) return fallback
  // The default is refused: the most acceptable of the others, wildcards included.
  let other: { format: Format; q: number } | undefined
  for (const format of offered) {
    const q = quality(format, ranges) ?? 0
    if (q > 0 && (other === undefined || q > other.q)) other = { format, q }
  }
  return other?.format
}

/** A format's q from the most specific range matching it (RFC 9110, 12.5.1); `undefined` when none does. */
function quality(format: Format, ranges: readonly MediaRange[]): number | undefined {
  let found: { q: number; specificity: number } | undefined
  for (const range of ranges) {
    for (const media of MEDIA_TYPES[format]) {
      const [type, subtype] = media.split('/') as [string, string]
      const specificity = range.type === type && range.subtype === subtype ? 2 : range.type === type && range.subtype === '*' ? 1 : range.type === '*' && range.subtype === '*' ? 0 : -1
      if (specificity >= 0 && (found === undefined || specificity > found.specificity)) found = { q: range.q, specificity }
    }
  }
  return found?.q
}

function parseAccept(header: string): MediaRange[] {
  const ranges: MediaRange[] = []
  header.split(',').forEach((part, index) => {
    const [media, ...params] = part.split(';')
    const [type, subtype] = (media ?? '').trim().toLowerCase().split('/')
    if (type === undefined || type === '' || subtype === undefined || subtype === '') return
    let q = 1
    for (const param of params) {
      const [name, value] = param.split('=').map((x) => x.trim())
      if (name?.toLowerCase() === 'q') {
        const n = Number(value)
        // A malformed q is read as the default rather than refusing the request.
        q = Number.isFinite(n) && n >= 0 && n <= 1 ? n : 1
      }
    }
    ranges.push({ type, subtype, q, index })
  })
  return ranges
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
  /** The formats this route answers in. Default: all of {@link FORMATS}. */
  readonly formats?: readonly Format[]
  /** CSV columns, first and in this order: the header row even of an empty list. */
  readonly columns?: readonly string[]
  /** Answer as a file download whatever the request asks. */
  readonly download?: boolean
}

/** Answers with `data` in the format the client asked for. */
export function respond(c: Context, data: unknown, options: RespondOptions): Response {
  const format = options.format ?? pickFormat(c, options.formats)
  const body = serialize(data, format, options)
  const headers: Record<string, string> = { 'content-type': CONTENT_TYPES[format] }
  if (options.download === true || c.req.query('download') === 'true') headers['content-disposition'] = `attachment; filename="${safeFileName(options.name)}.${format === 'debug' ? 'txt' : format}"`
  return c.body(body, options.status ?? 200, headers)
}

/** `data` as text in `format`. */
export function serialize(data: unknown, format: Format, options: RespondOptions): string {
  switch (format) {
    case 'json':
      return jsonText(data)
    case 'yaml':
      return yamlStringify(plain(data), { lineWidth: 0 })
    case 'debug':
      return `${inspect(plain(data), { depth: 8, maxArrayLength: 1000, maxStringLength: 100_000, breakLength: 120 })}\n`
    case 'xml':
      return toXml(data, options.name)
    case 'toml':
      return toToml(data, options.name)
    case 'csv':
      return toCsv((options.rows ?? defaultRows)(data), options.columns)
  }
}

function defaultRows(data: unknown): readonly unknown[] {
  if (Array.isArray(data)) return data
  if (typeof data === 'object' && data !== null && Array.isArray((data as { data?: unknown }).data)) return (data as { data: unknown[] }).data
  return [data]
}

/** JSON-compatible plain data: Dates → ISO strings, Buffers → base64, undefined dropped. */
export function plain(value: unknown): unknown {
  return JSON.parse(jsonText(value ?? null)) as unknown
}

/**
 * Rows with flat columns: nested objects become `a.b` columns, lists of scalars `x; y`, anything
 * deeper JSON. `columns` come first, in order, and make the header of an empty list; other
 * keys found in the rows follow. Without either, an empty list is an empty text.
 */
export function toCsv(rows: readonly unknown[], columns: readonly string[] = []): string {
  const flat = rows.map((row) => flatten(jsonValue(row)))
  const header: string[] = [...columns]
  const seen = new Set<string>(columns)
  for (const row of flat) {
    for (const key of Object.keys(row)) {
      if (!seen.has(key)) {
        seen.add(key)
        header.push(key)
      }
    }
  }
  if (header.length === 0) return ''
  // csv-stringify writes no header for no records.
  if (flat.length === 0) return csvStringify([header])
  return csvStringify(
    flat.map((row) => header.map((c) => defuse(row[c]))),
    { header: true, columns: header },
  )
}

/**
 * One value as JSON.stringify would see it (its `toJSON`, e.g. a Date's ISO string; a bigint as
 * text), without serializing the whole row: CSV exports of 100,000 runs spent most of their time
 * turning each row into JSON text and back.
 */
function jsonValue(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString()
  if (value !== null && typeof value === 'object' && typeof (value as { toJSON?: unknown }).toJSON === 'function') return (value as { toJSON(): unknown }).toJSON()
  return value
}

/** Whether a value becomes a cell of its own: not an object, or left out as JSON leaves it out. */
const isScalar = (v: unknown): boolean => v === null || typeof v !== 'object'
const isDropped = (v: unknown): boolean => v === undefined || typeof v === 'function' || typeof v === 'symbol'

/** A list as one cell: scalars joined with `; `, anything else as JSON. */
function listCell(list: readonly unknown[]): string {
  const items = list.map(jsonValue)
  return items.every(isScalar) ? items.map((x) => (isDropped(x) ? null : x)).join('; ') : JSON.stringify(list)
}

function flatten(value: unknown, prefix = '', out: Record<string, unknown> = {}, depth = 0): Record<string, unknown> {
  if (isScalar(value)) {
    out[prefix === '' ? 'value' : prefix] = isDropped(value) ? null : value
    return out
  }
  if (Array.isArray(value)) {
    out[prefix === '' ? 'value' : prefix] = listCell(value)
    return out
  }
  for (const [key, raw] of Object.entries(value as Record<string, unknown>)) {
    const v = jsonValue(raw)
    if (isDropped(v)) continue
    const name = prefix === '' ? key : `${prefix}.${key}`
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && depth < 2) flatten(v, name, out, depth + 1)
    else if (Array.isArray(v)) out[name] = listCell(v)
    else if (v !== null && typeof v === 'object') out[name] = JSON.stringify(v)
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
