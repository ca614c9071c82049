import { describe, expect, it } from 'vitest'
import { jsonText } from './json-text.js'

describe('jsonText', () => {
  it('writes bigints anywhere in the value as decimal strings', () => {
    expect(jsonText({ n: 2n ** 64n, list: [1, 2n], deep: { m: -3n } })).toBe('{"n":"18446744073709551616","list":[1,"2"],"deep":{"m":"-3"}}')
    expect(jsonText(5n)).toBe('"5"')
  })

  it('writes values without bigints as JSON.stringify does, with the indentation asked for', () => {
    const value = { a: [1, 'x', true, null], b: { c: undefined }, d: new Date(0) }
    expect(jsonText(value)).toBe(JSON.stringify(value))
    expect(jsonText(value, 2)).toBe(JSON.stringify(value, null, 2))
    expect(jsonText({ n: 1n }, 2)).toBe('{\n  "n": "1"\n}')
    expect(jsonText(null)).toBe('null')
    expect(jsonText(undefined)).toBeUndefined()
  })

  it('still refuses what JSON cannot hold', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    expect(() => jsonText(cyclic)).toThrow(/circular/i)
    cyclic.n = 1n
    expect(() => jsonText(cyclic)).toThrow(/circular/i)
  })
})
