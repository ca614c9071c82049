#!/usr/bin/env node
/**
 * The `taskengine` binary.
 */
import { runCli } from './program.js'

let interrupts = 0
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  cwd: process.cwd(),
  env: process.env,
  onInterrupt(handler) {
    const onSignal = (signal: NodeJS.Signals): void => {
      interrupts++
      // The first interrupt cancels gracefully; a second one means "now".
      if (interrupts > 1) process.exit(130)
      handler(signal)
    }
    process.on('SIGINT', onSignal)
    process.on('SIGTERM', onSignal)
    return () => {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
  },
})
