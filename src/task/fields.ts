/**
 * Typed input fields: the single source for a task's argument type (inferred), runtime
 * validation and coercion, the API's description and the admin form.
 *
 * One parser, {@link parseArgs}, accepts both text (query strings, CLI flags, form posts:
 * `"true"`, `"3"`, `"a,b"`, ISO times) and JSON values, fills defaults, validates, and reports
 * every bad field at once.
 */
import { TaskDefinitionError, ValidationError, describeValue, type FieldIssue } from '../errors.js'

/** The value types a field can have. */
export type FieldType = 'string' | 'int' | 'float' | 'bool' | 'string[]' | 'time' | 'int64'

/** The field types, in display order. */
export const FIELD_TYPES: readonly FieldType[] = ['string', 'int', 'float', 'bool', 'string[]', 'time', 'int64']

/** Other names a field's type may be given by: `number` is `int`, `boolean` is `bool`, `bigint` is `int64`. */
export type FieldTypeAlias = 'number' | 'boolean' | 'bigint'

/** What each alias stands for (a task's fields hold the type it stands for). */
export const FIELD_TYPE_ALIASES: Readonly<Record<FieldTypeAlias, FieldType>> = Object.freeze({ number: 'int', boolean: 'bool', bigint: 'int64' })

/** The type a field's `type` (a type or an alias) stands for; `undefined` for neither. */
export function canonicalType(type: unknown): FieldType | undefined {
  if (typeof type !== 'string') return undefined
  if (Object.hasOwn(FIELD_TYPE_ALIASES, type)) return FIELD_TYPE_ALIASES[type as FieldTypeAlias]
  return (FIELD_TYPES as readonly string[]).includes(type) ? (type as FieldType) : undefined
}

/** The smallest and largest `int64` values (a signed 64-bit integer). */
export const INT64_MIN = -(2n ** 63n)
export const INT64_MAX = 2n ** 63n - 1n

interface FieldBase {
  /** Argument name; letters, digits, `_` and `-`, starting with a letter or `_`. */
  readonly key: string
  /** Label in forms. Default: the key in title case. */
  readonly title?: string
  /** Help text shown beside the input. */
  readonly description?: string
  /** Must be given (an empty string counts as not given). Default: `false`. */
  readonly required?: boolean
}

/** A text field. `choices` restricts it to a fixed set (a select in forms). */
export interface StringField extends FieldBase {
  readonly type: 'string'
  readonly default?: string
  readonly choices?: readonly string[]
}

/** A whole number (a safe integer). `number` is another name of the type. */
export interface IntField extends FieldBase {
  readonly type: 'int' | 'number'
  readonly default?: number
  readonly choices?: readonly number[]
  /** Smallest accepted value (inclusive). */
  readonly min?: number
  /** Largest accepted value (inclusive). */
  readonly max?: number
}

/** A finite floating-point number. */
export interface FloatField extends FieldBase {
  readonly type: 'float'
  readonly default?: number
  readonly choices?: readonly number[]
  /** Smallest accepted value (inclusive). */
  readonly min?: number
  /** Largest accepted value (inclusive). */
  readonly max?: number
}

/**
 * A flag (`boolean` is another name of the type). Absent means `false` unless a default says otherwise (an unchecked checkbox sends
 * nothing), so a bool argument always has a value.
 */
export interface BoolField extends FieldBase {
  readonly type: 'bool' | 'boolean'
  readonly default?: boolean
}

/** A list of strings: a JSON array, repeated parameters, or one comma-separated string. */
export interface StringListField extends FieldBase {
  readonly type: 'string[]'
  readonly default?: readonly string[]
  /** When set, every element must be one of these. */
  readonly choices?: readonly string[]
}

/**
 * A point in time, parsed to a `Date`: a `Date`, epoch milliseconds, or an ISO 8601 string
 * (`2026-11-23`, `2026-11-23T10:30`, `2026-11-23T10:30:00.000+01:00`). A string without a zone
 * is read as UTC.
 */
export interface TimeField extends FieldBase {
  readonly type: 'time'
  readonly default?: Date | string
}

/**
 * A signed 64-bit integer kept exact beyond 2^53 (`bigint` is another name of the type): the
 * handler gets a `bigint`. Accepted as a `bigint`, a JSON number that is a safe integer, or a
 * decimal string (the only way to send one beyond 2^53 in JSON). Stored, and shown in JSON
 * (a run's `args`, the API), as its decimal string.
 */
export interface Int64Field extends FieldBase {
  readonly type: 'int64' | 'bigint'
  readonly default?: bigint | number | string
  /** Smallest accepted value (inclusive). */
  readonly min?: bigint | number
  /** Largest accepted value (inclusive). */
  readonly max?: bigint | number
}

/** One typed input of a task. */
export type Field = StringField | IntField | FloatField | BoolField | StringListField | TimeField | Int64Field

type ChoiceOf<F, Fallback> = F extends { readonly choices: readonly (infer C)[] } ? C : Fallback

/** The parsed value type of one field. */
export type FieldValue<F extends Field> = F extends { readonly type: 'string' }
  ? ChoiceOf<F, string>
  : F extends { readonly type: 'int' | 'number' | 'float' }
    ? ChoiceOf<F, number>
    : F extends { readonly type: 'bool' | 'boolean' }
      ? boolean
      : F extends { readonly type: 'string[]' }
        ? ChoiceOf<F, string>[]
        : F extends { readonly type: 'time' }
          ? Date
          : F extends { readonly type: 'int64' | 'bigint' }
            ? bigint
            : never

/** Whether a parsed field always has a value: required, defaulted, or a bool. */
type AlwaysPresent<F> = F extends { readonly required: true }
  ? true
  : F extends { readonly default: unknown }
    ? true
    : F extends { readonly type: 'bool' | 'boolean' }
      ? true
      : false

type Simplify<T> = { [K in keyof T]: T[K] } & {}

/**
 * The argument object type a list of fields produces. Required, defaulted and bool fields are
 * always present; the others are optional. Fields not known at compile time give
 * `Record<string, unknown>`.
 */
export type ArgsOf<Fs extends readonly Field[]> = string extends Fs[number]['key']
  ? Record<string, unknown>
  : Simplify<
      { -readonly [F in Fs[number] as AlwaysPresent<F> extends true ? F['key'] : never]: FieldValue<F> } & {
        -readonly [F in Fs[number] as AlwaysPresent<F> extends true ? never : F['key']]?: FieldValue<F>
      }
    >

/** Arguments as given from outside: a plain object (JSON, parsed form) or URL search params. */
export type ArgsInput = Readonly<Record<string, unknown>> | URLSearchParams | null | undefined

/** Options of {@link parseArgs}. */
export interface ParseArgsOptions {
  /**
   * What to do with keys that are not fields: `'error'` reports each as a bad field,
   * `'ignore'` drops them (for query strings that carry other parameters). Default: `'error'`.
   */
  readonly unknownKeys?: 'error' | 'ignore'
}

const FIELD_KEY = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/

/**
 * Checks a list of field definitions: keys well-formed and unique, types known, choices and
 * defaults of the right type, defaults among the choices. Throws a {@link TaskDefinitionError}
 * naming the task and field.
 */
export function checkFields(taskKey: string, fields: readonly Field[]): void {
  if (!Array.isArray(fields)) {
    throw new TaskDefinitionError(`task "${taskKey}": fields must be an array, got ${describeValue(fields)}`)
  }
  const seen = new Set<string>()
  for (const candidate of fields as readonly unknown[]) {
    if (typeof candidate !== 'object' || candidate === null || Array.isArray(candidate)) {
      throw new TaskDefinitionError(`task "${taskKey}": each field must be an object, got ${describeValue(candidate)}`)
    }
    const given = candidate as Field
    const where = `task "${taskKey}", field ${describeValue(given.key)}`
    const type = canonicalType(given.type)
    if (type === undefined) {
      throw new TaskDefinitionError(
        `${where}: unknown type ${describeValue(given.type)}; expected one of ${FIELD_TYPES.join(', ')} (or ${Object.keys(FIELD_TYPE_ALIASES).join(', ')})`,
      )
    }
    const field = (type === given.type ? given : { ...given, type }) as Field
    if (typeof field.key !== 'string' || !FIELD_KEY.test(field.key)) {
      throw new TaskDefinitionError(
        `${where}: a field key must start with a letter or "_" and hold only letters, digits, "_" and "-" (at most 64)`,
      )
    }
    if (seen.has(field.key)) throw new TaskDefinitionError(`${where}: duplicate field key`)
    seen.add(field.key)
    if (field.type === 'int64' && 'choices' in field) throw new TaskDefinitionError(`${where}: an int64 field takes no choices`)
    if ('choices' in field && field.choices !== undefined) {
      if (!Array.isArray(field.choices) || field.choices.length === 0) {
        throw new TaskDefinitionError(`${where}: choices must be a non-empty array`)
      }
      const itemType = field.type === 'string[]' ? 'string' : field.type
      for (const choice of field.choices) {
        const issue = coerceOne({ key: field.key, type: itemType }, choice)
        if (!issue.ok || issue.value !== choice) {
          throw new TaskDefinitionError(`${where}: choice ${describeValue(choice)} is not a ${itemType}`)
        }
      }
    }
    if (field.type === 'int64') {
      for (const bound of ['min', 'max'] as const) {
        const value = field[bound]
        if (value !== undefined && !(typeof value === 'bigint' ? value >= INT64_MIN && value <= INT64_MAX : Number.isSafeInteger(value))) {
          throw new TaskDefinitionError(`${where}: ${bound} must be a bigint in the int64 range or a safe integer, got ${describeValue(value)}`)
        }
      }
    }
    if ((field.type === 'int' || field.type === 'float' || field.type === 'int64') && field.min !== undefined && field.max !== undefined && field.min > field.max) {
      throw new TaskDefinitionError(`${where}: min ${field.min} is greater than max ${field.max}`)
    }
    if (field.default !== undefined) {
      const parsed = parseField(field, field.default)
      if (!parsed.ok) throw new TaskDefinitionError(`${where}: default ${describeValue(field.default)} is invalid: ${parsed.expected}`)
    }
  }
}

/**
 * Coerces and validates input against fields. Returns the typed argument object: every field
 * that has a value (given, defaulted, or a bool), and no other key. Throws a
 * {@link ValidationError} listing every bad field (missing required, wrong type, not a choice,
 * out of range, unknown key) when anything is wrong.
 *
 * @example
 * parseArgs([{ key: 'n', type: 'int', default: 1 }], { n: '3' }) // → { n: 3 }
 */
export function parseArgs<const Fs extends readonly Field[]>(given: Fs, input: ArgsInput, options?: ParseArgsOptions): ArgsOf<Fs> {
  const fields = resolveAliases(given)
  const source = normalizeInput(input)
  const out: Record<string, unknown> = {}
  let issues: FieldIssue[] | undefined
  for (const field of fields) {
    const raw = Object.hasOwn(source, field.key) ? source[field.key] : undefined
    const parsed = parseField(field, raw)
    if (parsed.ok) {
      if (parsed.value !== undefined) out[field.key] = parsed.value
    } else {
      ;(issues ??= []).push(issueFor(field.key, parsed.expected, shownValue(field, raw)))
    }
  }
  if (options?.unknownKeys !== 'ignore') {
    for (const key of Object.keys(source)) {
      if (!fields.some((f) => f.key === key)) {
        const known = fields.length > 0 ? fields.map((f) => f.key).join(', ') : 'none'
        ;(issues ??= []).push({
          key,
          expected: `a known field (${known})`,
          received: describeValue(source[key]),
          message: `${key}: unknown field (known fields: ${known})`,
        })
      }
    }
  }
  if (issues !== undefined) throw new ValidationError('invalid arguments', issues)
  return out as ArgsOf<Fs>
}

/**
 * The fields with every type alias replaced by the type it stands for (the same list when none
 * is aliased, as in a task's own fields). Types that are neither are left for the parser to refuse.
 */
export function resolveAliases(fields: readonly Field[]): readonly Field[] {
  if (!fields.some((f) => Object.hasOwn(FIELD_TYPE_ALIASES, f.type))) return fields
  return fields.map((f) => (Object.hasOwn(FIELD_TYPE_ALIASES, f.type) ? ({ ...f, type: FIELD_TYPE_ALIASES[f.type as FieldTypeAlias] } as Field) : f))
}

/**
 * A bad value as its issue shows it: a number typed as text (a form, a query string) as the
 * number it reads as, so `500` out of range reads `got 500 (number)`, not `got "500" (string)`.
 */
function shownValue(field: Field, raw: unknown): unknown {
  if (field.type !== 'int' && field.type !== 'float') return raw
  const value = Array.isArray(raw) && raw.length === 1 ? (raw[0] as unknown) : raw
  if (typeof value !== 'string') return raw
  const text = value.trim()
  return FLOAT_TEXT.test(text) && Number.isFinite(Number(text)) ? Number(text) : raw
}

/** Builds the issue record for one bad value. */
export function issueFor(key: string, expected: string, raw: unknown): FieldIssue {
  const received = isMissing(raw) ? undefined : describeValue(raw)
  const message = received === undefined ? `${key}: required (${expected})` : `${key}: expected ${expected}, got ${received}`
  return { key, expected, received, message }
}

type Parsed = { ok: true; value: unknown } | { ok: false; expected: string }

/** Parses one field's raw value: missing → default (or absent), else coerced and checked. */
function parseField(field: Field, raw: unknown): Parsed {
  if (isMissing(raw)) {
    if (field.default !== undefined) {
      const value = field.default
      if (field.type === 'time' || field.type === 'int64') return coerceOne(field, value)
      return { ok: true, value: Array.isArray(value) ? [...(value as readonly string[])] : value }
    }
    if (field.required === true) return { ok: false, expected: expectation(field) }
    if (field.type === 'bool') return { ok: true, value: false }
    return { ok: true, value: undefined }
  }
  return coerceOne(field, raw)
}

/** `undefined`, `null` and `""` mean "not given" for every field type (empty form inputs). */
function isMissing(raw: unknown): boolean {
  return raw === undefined || raw === null || raw === ''
}

function expectation(field: Field): string {
  const choices = 'choices' in field ? field.choices : undefined
  const base = describeType(field)
  if (choices !== undefined) {
    const list = choices.map((c) => JSON.stringify(c)).join(', ')
    return field.type === 'string[]' ? `a list of ${list}` : `one of ${list}`
  }
  return base
}

function describeType(field: Field): string {
  if (field.type === 'int64') {
    const { min, max } = field
    const range = min !== undefined && max !== undefined ? `from ${min} to ${max}` : min !== undefined ? `>= ${min}` : max !== undefined ? `<= ${max}` : 'from -2^63 to 2^63-1'
    return `int64 ${range} (beyond 2^53 as a decimal string)`
  }
  if (field.type === 'int' || field.type === 'float') {
    const { min, max } = field
    if (min !== undefined && max !== undefined) return `${field.type} from ${min} to ${max}`
    if (min !== undefined) return `${field.type} >= ${min}`
    if (max !== undefined) return `${field.type} <= ${max}`
  }
  if (field.type === 'time') return 'time (ISO 8601 or epoch ms)'
  if (field.type === 'bool') return 'bool (true/false)'
  return field.type
}

const INT_TEXT = /^[+-]?\d+$/
const FLOAT_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/
const TRUE_TEXT = new Set(['true', '1', 'yes', 'on', 'y', 't'])
const FALSE_TEXT = new Set(['false', '0', 'no', 'off', 'n', 'f'])
// Date, optional time (minutes, seconds, fraction), optional zone.
const ISO_TIME = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?)?$/i

function coerceOne(field: Field, raw: unknown): Parsed {
  const fail: Parsed = { ok: false, expected: expectation(field) }
  // A single-element array (a repeated-parameter parser's output) stands for its element.
  const value = field.type !== 'string[]' && Array.isArray(raw) && raw.length === 1 ? (raw[0] as unknown) : raw
  switch (field.type) {
    case 'string': {
      if (typeof value !== 'string') return fail
      return inChoices(field.choices, value) ? { ok: true, value } : fail
    }
    case 'int64':
    case 'bigint': {
      let n: bigint
      if (typeof value === 'bigint') n = value
      else if (typeof value === 'number') {
        // A number beyond 2^53 has already lost digits: such values come as decimal strings.
        if (!Number.isSafeInteger(value)) return fail
        n = BigInt(value)
      } else if (typeof value === 'string') {
        const text = value.trim()
        if (!INT_TEXT.test(text)) return fail
        n = BigInt(text)
      } else return fail
      if (n < INT64_MIN || n > INT64_MAX) return fail
      if (field.min !== undefined && n < BigInt(field.min)) return fail
      if (field.max !== undefined && n > BigInt(field.max)) return fail
      return { ok: true, value: n }
    }
    case 'int':
    case 'number':
    case 'float': {
      const integer = field.type !== 'float'
      let n: number
      if (typeof value === 'number') n = value
      else if (typeof value === 'string') {
        const text = value.trim()
        if (!(integer ? INT_TEXT : FLOAT_TEXT).test(text)) return fail
        n = Number(text)
      } else return fail
      if (!Number.isFinite(n)) return fail
      if (integer && !Number.isSafeInteger(n)) return fail
      if (field.min !== undefined && n < field.min) return fail
      if (field.max !== undefined && n > field.max) return fail
      return inChoices(field.choices, n) ? { ok: true, value: n } : fail
    }
    case 'bool':
    case 'boolean': {
      if (typeof value === 'boolean') return { ok: true, value }
      if (value === 1 || value === 0) return { ok: true, value: value === 1 }
      if (typeof value === 'string') {
        const text = value.trim().toLowerCase()
        if (TRUE_TEXT.has(text)) return { ok: true, value: true }
        if (FALSE_TEXT.has(text)) return { ok: true, value: false }
      }
      return fail
    }
    case 'string[]': {
      let items: unknown[]
      if (typeof value === 'string') items = splitList(value)
      else if (Array.isArray(value)) items = value
      else return fail
      if (!items.every((item): item is string => typeof item === 'string')) return fail
      if (field.choices !== undefined && !items.every((item) => inChoices(field.choices, item))) return fail
      return { ok: true, value: [...items] }
    }
    case 'time': {
      let date: Date
      if (value instanceof Date) date = new Date(value.getTime())
      else if (typeof value === 'number') date = new Date(value)
      else if (typeof value === 'string') {
        const text = value.trim()
        const match = ISO_TIME.exec(text)
        if (match === null || !isRealDate(text)) return fail
        // No zone: read as UTC, so a server and its clients agree whatever the host's zone.
        let normalized = text.replace(' ', 'T')
        const zone = match[1]
        if (zone === undefined) {
          if (normalized.includes('T')) normalized += 'Z'
        } else if (/^[+-]\d{4}$/.test(zone)) {
          normalized = `${normalized.slice(0, -2)}:${normalized.slice(-2)}`
        }
        date = new Date(normalized)
      } else return fail
      return Number.isNaN(date.getTime()) ? fail : { ok: true, value: date }
    }
  }
}

/** Whether the `YYYY-MM-DD` a text starts with exists (Date would roll 02-31 over to March). */
function isRealDate(text: string): boolean {
  const year = Number(text.slice(0, 4))
  const month = Number(text.slice(5, 7))
  const day = Number(text.slice(8, 10))
  return month >= 1 && month <= 12 && day >= 1 && day <= new Date(Date.UTC(year, month, 0)).getUTCDate()
}

function inChoices(choices: readonly unknown[] | undefined, value: unknown): boolean {
  return choices === undefined || choices.includes(value)
}

/** Splits `"a, b,c"` or lines into trimmed, non-empty items. */
function splitList(text: string): string[] {
  return text
    .split(/[,\n]/)
    .map((s) => s.trim())
    .filter((s) => s !== '')
}

function normalizeInput(input: ArgsInput): Readonly<Record<string, unknown>> {
  if (input === undefined || input === null) return {}
  if (input instanceof URLSearchParams) {
    const out: Record<string, unknown> = {}
    for (const key of new Set(input.keys())) {
      const all = input.getAll(key)
      out[key] = all.length === 1 ? all[0] : all
    }
    return out
  }
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError(`invalid arguments: expected an object of field values, got ${describeValue(input)}`)
  }
  return input
}

/**
 * Parsed arguments as they are stored and shown as JSON: an int64's `bigint` becomes its decimal
 * string (JSON has no bigint; the field parses the string back to the same `bigint`), other
 * values stay as they are. The same object when there is no `bigint` in it.
 */
export function storedArgs(args: Readonly<Record<string, unknown>>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined
  for (const key in args) {
    const value = args[key]
    if (typeof value === 'bigint') (out ??= { ...args })[key] = value.toString()
  }
  return out ?? args
}

/** Default field title: the key in title case (`max_items` → `Max Items`). */
export function titleCase(key: string): string {
  return key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .split(/[\s._:-]+/)
    .filter((w) => w !== '')
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ')
}
