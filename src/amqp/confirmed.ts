/** Publishing on a confirm channel and waiting for the broker's confirm. */
import type { ConfirmChannel, Options } from 'amqplib'

/**
 * Publishes one message and resolves when the broker confirmed it (rejects on a nack or when the
 * channel closes first).
 */
export function publishConfirmed(channel: ConfirmChannel, exchange: string, routingKey: string, content: Buffer, options: Options.Publish): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    try {
      channel.publish(exchange, routingKey, content, options, (error: unknown) => {
        if (error === null || error === undefined) resolve()
        else reject(error instanceof Error ? error : new Error('the broker refused the message (nack)'))
      })
    } catch (error) {
      reject(error instanceof Error ? error : new Error(String(error)))
    }
  })
}
