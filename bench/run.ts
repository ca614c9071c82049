/**
 * `npm run bench`: runs the benchmark suites and prints their tables.
 * Pick suites with arguments: `npm run bench -- core`.
 */
import { benchCore } from './core.js'

const suites: Record<string, () => Promise<void>> = { core: benchCore }
const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'))
const selected = wanted.length > 0 ? wanted : Object.keys(suites)
for (const name of selected) {
  const suite = suites[name]
  if (suite === undefined) {
    console.error(`unknown suite "${name}"; known: ${Object.keys(suites).join(', ')}`)
    process.exit(2)
  }
}
console.log(`node ${process.version}, ${new Date().toISOString()}`)
for (const name of selected) await suites[name]!()
