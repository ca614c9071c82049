/** The durable-runs suite on PostgreSQL: every engine on a schema of its own, or sharing one. */
import { describePostgres } from '../helpers/postgres.js'
import { describeDurable } from '../durable/index.js'

await describePostgres('durable runs on postgres', ({ open, newSchema }) => {
  describeDurable({
    store: () => open(),
    database: () => {
      const schema = newSchema()
      return () => open({ schema })
    },
  })
})
