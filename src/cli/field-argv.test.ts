import { describe, expect, it } from 'vitest'
import type { Field } from '../task/fields.js'
import { parseFieldArgv, type ReservedOption } from './field-argv.js'

const fields: Field[] = [
  { key: 'format', type: 'string' },
  { key: 'verbose', type: 'bool' },
  { key: 'n', type: 'int' },
  { key: 'tags', type: 'string[]' },
  { key: 'label', type: 'string' },
]
const reserved: ReservedOption[] = [
  { name: 'label', kind: 'string' },
  { name: 'quiet', kind: 'bool', short: 'q' },
]

describe('parseFieldArgv', () => {
  it('separates the command options from field values', () => {
    expect(parseFieldArgv(['--format', 'tar', '--label', 'nightly', '-q', '--n=-3'], fields, reserved)).toEqual({
      options: { label: 'nightly', quiet: true },
      fields: { format: 'tar', n: '-3' },
    })
  })

  it('reads bool flags alone, with a bool word, and negated', () => {
    expect(parseFieldArgv(['--verbose'], fields, reserved).fields).toEqual({ verbose: 'true' })
    expect(parseFieldArgv(['--verbose', 'false', '--format', 'x'], fields, reserved).fields).toEqual({ verbose: 'false', format: 'x' })
    expect(parseFieldArgv(['--no-verbose'], fields, reserved).fields).toEqual({ verbose: 'false' })
    expect(parseFieldArgv(['--verbose', '--n', '1'], fields, reserved).fields).toEqual({ verbose: 'true', n: '1' })
  })

  it('collects repeated flags into a list', () => {
    expect(parseFieldArgv(['--tags', 'a', '--tags', 'b', 'tags=c'], fields, reserved).fields).toEqual({ tags: ['a', 'b', 'c'] })
  })

  it('lets name=value reach a field whose name is a command option', () => {
    expect(parseFieldArgv(['label=field-value', '--label', 'run-label'], fields, reserved)).toEqual({
      options: { label: 'run-label' },
      fields: { label: 'field-value' },
    })
  })

  it('passes unknown flags on as fields, for the field parser to report', () => {
    expect(parseFieldArgv(['--bogus', '1'], fields, reserved).fields).toEqual({ bogus: '1' })
  })

  it('names what it cannot use', () => {
    expect(() => parseFieldArgv(['stray'], fields, reserved)).toThrow('unexpected argument "stray": give field values as --name value or name=value')
    expect(() => parseFieldArgv(['--format'], fields, reserved)).toThrow('--format needs a value')
    expect(() => parseFieldArgv(['--label'], fields, reserved)).toThrow('option --label needs a value')
    expect(() => parseFieldArgv(['-x'], fields, reserved)).toThrow('unknown option "-x"')
    expect(() => parseFieldArgv(['--quiet=yes'], fields, reserved)).toThrow('option --quiet takes no value')
  })

  it('after --, takes only name=value words', () => {
    expect(parseFieldArgv(['--', 'format=--weird'], fields, reserved).fields).toEqual({ format: '--weird' })
    expect(() => parseFieldArgv(['--', '--format'], fields, reserved)).toThrow(/unexpected argument "--format"/)
  })

  it('in lenient mode picks out options and skips what it cannot place', () => {
    const only = [{ name: 'tasks', kind: 'string' }] as const
    expect(parseFieldArgv(['--verbose', '--tasks', 'm.js', 'x=1', 'stray', '--n', '2'], [], only, { lenient: true }).options).toEqual({ tasks: 'm.js' })
  })
})
