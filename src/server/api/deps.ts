/**
 * What the API routes need from `createServer`.
 */
import type { Engine } from '../../engine/engine.js'

export interface RouteDeps {
  readonly engine: Engine
  /** Longest a synchronous run over HTTP may take, in ms. */
  readonly syncRunTimeoutMs: number
  /** Reports errors that are the server's fault (500s). */
  readonly report: (error: Error) => void
  /** Where the server is mounted, e.g. `/ops/tasks` (`` at the root). */
  readonly basePath: string
}
