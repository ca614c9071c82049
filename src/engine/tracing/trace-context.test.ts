import { describe, expect, it } from 'vitest'
import { checkTracingOption } from './options.js'
import { formatTraceparent, parseTraceparent } from './trace-context.js'

describe('traceparent', () => {
  it('formats a span context and reads it back', () => {
    const text = formatTraceparent('4bf92f3577b34da6a3ce929d0e0e4736', '00f067aa0ba902b7', 1)
    expect(text).toBe('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')
    expect(parseTraceparent(text)).toEqual({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1 })
    expect(parseTraceparent(' 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00 ')?.traceFlags).toBe(0)
  })

  it('refuses malformed ones, version ff, all-zero ids and extra fields in version 00; reads later versions by their first fields', () => {
    for (const bad of [
      '',
      'garbage',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
    ]) {
      expect(parseTraceparent(bad), bad).toBeUndefined()
    }
    expect(parseTraceparent('01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-later')?.spanId).toBe('00f067aa0ba902b7')
  })
})

describe('the tracing option', () => {
  it('takes true (the default), false and { tracer }', () => {
    const tracer = { startSpan: () => undefined }
    expect(checkTracingOption(undefined)).toBe(true)
    expect(checkTracingOption(false)).toBe(false)
    expect(checkTracingOption({ tracer })).toEqual({ tracer })
  })

  it('names what is wrong with anything else', () => {
    expect(() => checkTracingOption('yes')).toThrow('createEngine: tracing: expected true, false or { tracer }, got "yes" (string)')
    expect(() => checkTracingOption({ tracer: {} })).toThrow('createEngine: tracing.tracer: expected an OpenTelemetry tracer (an object with startSpan()), got {} (object)')
    expect(() => checkTracingOption({ tracr: {} })).toThrow(/tracing\.tracr: unknown option \(did you mean tracer\?\)/)
  })
})
