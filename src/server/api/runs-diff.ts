/**
 * `GET /runs/diff?a=…&b=…`: two runs, or two attempts, compared (see `run-diff/compare.ts`).
 * Each side is `<run id>` or `<run id>:<attempt>`; the caller's run scope applies to both as to
 * `GET /runs/:id` (another's run is a 404 for an own-runs-only caller).
 */
import type { Hono } from 'hono'
import { readScope, type ServerEnv } from '../caller.js'
import { respond } from '../formats.js'
import { QueryReader } from '../query.js'
import { compareRuns, comparisonJson, parseSides } from '../run-diff/compare.js'
import type { RouteDeps } from './deps.js'

/** Adds the diff route to the runs router (before `/runs/:id`, which would take `diff` for an id). */
export function addDiffRoute(routes: Hono<ServerEnv>, { engine }: RouteDeps): void {
  routes.get('/runs/diff', async (c) => {
    const query = new QueryReader(c)
    const a = query.string('a')
    const b = query.string('b')
    // Unknown and repeated parameters first, then what is wrong with a and b.
    query.done()
    const refs = parseSides(a, b)
    const scope = readScope(c)
    const comparison = await compareRuns(engine, scope, { a: a!, b: b! }, refs)
    return respond(c, comparisonJson(comparison), { name: `diff-${refs.a.runId}-${refs.b.runId}`, formats: ['json', 'yaml'] })
  })
}
