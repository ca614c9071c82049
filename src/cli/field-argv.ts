/**
 * Parses the words after a task name on the command line into the command's own options and
 * the task's field values:
 *
 * - `--field value`, `--field=value`; a bool field alone (`--verbose`) is true, `--no-verbose`
 *   false; repeating a flag gives a list (`--tags a --tags b`).
 * - `field=value` always sets a field, also one whose name is one of the command's options.
 * - The command's options (`reserved`) win over fields of the same name in `--name` form.
 */
import { ValidationError } from '../errors.js'
import type { Field } from '../task/fields.js'

/** One of the command's own options. */
export interface ReservedOption {
  readonly name: string
  /** `bool` options take no value; `string` options take the next word. */
  readonly kind: 'string' | 'bool'
  /** One-letter alias, e.g. `q` for `-q`. */
  readonly short?: string
}

/** The result of {@link parseFieldArgv}. */
export interface FieldArgv {
  /** Values of the command's own options, by name. */
  readonly options: Readonly<Record<string, string | boolean>>
  /** Field values as text (a list when repeated), ready for `parseArgs`. */
  readonly fields: Readonly<Record<string, string | string[]>>
}

const BOOL_WORDS = new Set(['true', 'false', 'yes', 'no', 'on', 'off', '1', '0'])
const ASSIGNMENT = /^([A-Za-z_][A-Za-z0-9_-]*)=(.*)$/s

/**
 * Splits `words` into options and field values; an unusable word is a `ValidationError` naming
 * it. `lenient` skips what it cannot place instead (to pick out a few options before the
 * task, and so its fields, is known).
 */
export function parseFieldArgv(
  words: readonly string[],
  fields: readonly Field[],
  reserved: readonly ReservedOption[],
  { lenient = false }: { readonly lenient?: boolean } = {},
): FieldArgv {
  const options: Record<string, string | boolean> = {}
  const values: Record<string, string | string[]> = {}
  const fieldByKey = new Map(fields.map((f) => [f.key, f]))
  const reservedByName = new Map<string, ReservedOption>()
  for (const option of reserved) {
    reservedByName.set(option.name, option)
    if (option.short !== undefined) reservedByName.set(option.short, option)
  }
  const setField = (key: string, value: string): void => {
    const previous = values[key]
    values[key] = previous === undefined ? value : Array.isArray(previous) ? [...previous, value] : [previous, value]
  }
  let onlyAssignments = false
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!
    if (onlyAssignments || !word.startsWith('-') || word === '-') {
      const match = ASSIGNMENT.exec(word)
      if (match === null) {
        if (lenient) continue
        throw new ValidationError(`unexpected argument "${word}": give field values as --name value or name=value`)
      }
      setField(match[1]!, match[2]!)
      continue
    }
    if (word === '--') {
      onlyAssignments = true
      continue
    }
    const isShort = !word.startsWith('--')
    const body = word.slice(isShort ? 1 : 2)
    const eq = body.indexOf('=')
    const name = eq === -1 ? body : body.slice(0, eq)
    const inline = eq === -1 ? undefined : body.slice(eq + 1)
    const option = reservedByName.get(name)
    if (option !== undefined) {
      if (option.kind === 'bool') {
        if (inline !== undefined) throw new ValidationError(`option --${option.name} takes no value`)
        options[option.name] = true
      } else {
        const value = inline ?? words[++i]
        if (value === undefined) throw new ValidationError(`option --${option.name} needs a value`)
        options[option.name] = value
      }
      continue
    }
    if (isShort) {
      if (lenient) continue
      throw new ValidationError(`unknown option "${word}"`)
    }
    const negated = name.startsWith('no-') ? fieldByKey.get(name.slice(3)) : undefined
    if (negated?.type === 'bool' && inline === undefined) {
      setField(negated.key, 'false')
      continue
    }
    const field = fieldByKey.get(name)
    if (inline !== undefined) {
      setField(name, inline)
    } else if (field?.type === 'bool') {
      const next = words[i + 1]
      if (next !== undefined && BOOL_WORDS.has(next.toLowerCase())) {
        setField(name, next)
        i++
      } else {
        setField(name, 'true')
      }
    } else {
      // A value may start with "-" (negative numbers), so the next word is taken; when the
      // field is not known yet (lenient), a word that looks like an option is left alone.
      if (lenient && (field === undefined || words[i + 1]?.startsWith('--') === true)) {
        if (words[i + 1]?.startsWith('--') === false) i++
        continue
      }
      const value = words[++i]
      if (value === undefined) throw new ValidationError(`--${name} needs a value`)
      setField(name, value)
    }
  }
  return { options, fields: values }
}
