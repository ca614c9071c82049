/**
 * `--metrics-port` of the long-running commands (`worker`, `amqp`): Prometheus metrics on
 * loopback, started before the work so that every run is counted.
 */
import type { Engine } from '../engine/engine.js'
import { serveMetrics, type RunningMetrics } from '../server/serve.js'
import { listenFailure } from './failures.js'

/**
 * Serves the engine's metrics on `127.0.0.1:port`. A port it cannot listen on closes the engine,
 * runs `cleanUp` and throws the listen failure naming `--metrics-port` (and `env`, when the port
 * may come from there).
 */
export async function serveMetricsPort(engine: Engine, port: number, err: (text: string) => void, options: { readonly env?: string; readonly cleanUp?: () => void } = {}): Promise<RunningMetrics> {
  try {
    return await serveMetrics(engine, { port, onError: (e) => err(`taskengine metrics: ${e.stack ?? e.message}\n`) })
  } catch (error) {
    await engine.close()
    options.cleanUp?.()
    throw listenFailure(error, { host: '127.0.0.1', port, portOption: { option: '--metrics-port', ...(options.env === undefined ? {} : { env: options.env }) } })
  }
}
