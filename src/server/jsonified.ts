/**
 * `Jsonified<T>`: what a value of type `T` becomes on the other side of `JSON.stringify` and
 * `JSON.parse`. The socket protocols are written in the engine's own types (runs, events and
 * log lines carry `Date`s); a browser reading a message gets this type, with times as ISO 8601
 * text. `unknown` (a run's data) stays `unknown`.
 *
 * @example
 * type Wire = Jsonified<{ at: Date; tags: readonly string[] }> // { at: string; tags: string[] }
 */
export type Jsonified<T> = unknown extends T
  ? unknown
  : T extends Date
    ? string
    : T extends string | number | boolean | null | undefined
      ? T
      : T extends readonly (infer Item)[]
        ? Jsonified<Item>[]
        : T extends object
          ? { [K in keyof T]: Jsonified<T[K]> }
          : never
