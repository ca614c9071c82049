import { describe, expect, it } from 'vitest'
import type { RunResult } from '../../task/context.js'
import { escapeHtml, logHtml, resultHtml } from './html.js'

describe("the registry protocol's html fields", () => {
  it('escape everything that comes from a run', () => {
    expect(escapeHtml(`<img src=x onerror="alert('1')">&`)).toBe('&lt;img src=x onerror=&quot;alert(&#39;1&#39;)&quot;&gt;&amp;')
    expect(logHtml('warn', '<b>careful</b>')).toBe('<div class="log log-warn"><span class="level">warn</span> &lt;b&gt;careful&lt;/b&gt;</div>')
    const failed = { status: 'failed', durationMs: 12, error: { name: 'Error', code: 'E', message: 'a < b' } } as unknown as RunResult
    expect(resultHtml(failed)).toBe('<div class="result result-failed"><strong>failed</strong> in 12 ms<div class="error">a &lt; b</div></div>')
    expect(resultHtml({ status: 'succeeded', durationMs: 3 } as unknown as RunResult)).toBe('<div class="result result-succeeded"><strong>succeeded</strong> in 3 ms</div>')
  })
})
