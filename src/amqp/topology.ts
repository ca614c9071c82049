/**
 * What the bridge declares on the broker, again on every connection (a restarted broker may have
 * lost what was not durable, and declaring what exists changes nothing): the request queue,
 * dead-lettering to a fanout exchange with its queue, and the topic exchange of run events.
 */
import type { Channel } from 'amqplib'

/** The names the bridge declares. */
export interface TopologyNames {
  readonly queue: string
  readonly deadLetterExchange: string
  readonly deadLetterQueue: string
  /** The events exchange; `undefined` when events are off. */
  readonly exchange: string | undefined
}

/**
 * Declares everything, durable. The request queue carries `x-dead-letter-exchange`, so a message
 * the broker itself rejects (or one nacked without requeue) lands with the others; a queue that
 * already exists with other arguments makes the broker refuse (PRECONDITION_FAILED), named in the
 * error.
 */
export async function declareTopology(channel: Channel, names: TopologyNames): Promise<void> {
  await channel.assertExchange(names.deadLetterExchange, 'fanout', { durable: true })
  await channel.assertQueue(names.deadLetterQueue, { durable: true })
  await channel.bindQueue(names.deadLetterQueue, names.deadLetterExchange, '')
  await channel.assertQueue(names.queue, { durable: true, deadLetterExchange: names.deadLetterExchange })
  if (names.exchange !== undefined) await channel.assertExchange(names.exchange, 'topic', { durable: true })
}
