/**
 * `taskengine/amqp`: the AMQP 0-9-1 bridge (RabbitMQ). Task requests consumed from a queue become
 * durable runs (deduplicated by message id, invalid ones dead-lettered with their reason, replies
 * to `replyTo`); every run event is published to a topic exchange as `runs.<task>.<event>.<runId>`.
 * Needs the `amqplib` package (an optional peer dependency).
 */
export { startAmqpBridge } from './bridge.js'
export type { AmqpBridge, AmqpBridgeStats } from './bridge.js'
export { AMQP_BRIDGE_OPTION_KEYS, DEFAULT_BUFFER_LIMIT, DEFAULT_PREFETCH } from './options.js'
export type { AmqpBridgeOptions } from './options.js'
export { ERROR_CODE_HEADER, ERROR_HEADER } from './ingress.js'
export { registerAmqpMetrics } from './metrics.js'
export { routingKeyOf, taskWord } from './event-message.js'
export { REQUEST_KEYS, REQUEST_OPTION_KEYS, parseTaskRequest, requestIdOf } from './request-message.js'
export type { ParsedRequest, RequestFailure, TaskRequest } from './request-message.js'
