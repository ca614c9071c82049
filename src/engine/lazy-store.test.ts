/**
 * The engine's store opened on first use: a given store, a factory, or the default opener
 * (loaded only then), and what a close does to each, loading included.
 */
import { describe, expect, it, vi } from 'vitest'
import { ConflictError } from '../errors.js'
import type { Store } from '../store/types.js'
import { LazyStore } from './lazy-store.js'

function fakeStore(): Store & { closed: number } {
  const store = {
    closed: 0,
    ready: () => Promise.resolve(),
    close: () => {
      store.closed++
      return Promise.resolve()
    },
  }
  return store as unknown as Store & { closed: number }
}

describe('LazyStore', () => {
  it('without a store or a default, refuses at once with a ConflictError', () => {
    expect(() => new LazyStore(undefined, undefined).ready()).toThrow(ConflictError)
  })

  it('makes a store from its factory on first use, once, and again after a close', async () => {
    const made: Store[] = []
    const lazy = new LazyStore(() => {
      const store = fakeStore()
      made.push(store)
      return store
    }, undefined)
    expect(lazy.current).toBeUndefined()
    const [a, b] = await Promise.all([lazy.ready(), lazy.ready()])
    expect(a).toBe(b)
    expect(made).toEqual([a])
    expect(lazy.current).toBe(a)
    await lazy.close()
    expect((a as ReturnType<typeof fakeStore>).closed).toBe(1)
    expect(lazy.current).toBeUndefined()
    expect(await lazy.ready()).not.toBe(a)
    expect(made).toHaveLength(2)
  })

  it('prefers a given store to the default, which is then never opened', async () => {
    const store = fakeStore()
    const openDefault = vi.fn(() => Promise.resolve(fakeStore()))
    const lazy = new LazyStore(store, openDefault)
    expect(await lazy.ready()).toBe(store)
    expect(openDefault).not.toHaveBeenCalled()
  })

  it('opens the default only at first use; a failed load is tried again at the next', async () => {
    const store = fakeStore()
    const openDefault = vi.fn<() => Promise<Store>>().mockRejectedValueOnce(new Error('cannot load the backend')).mockResolvedValue(store)
    const lazy = new LazyStore(undefined, openDefault)
    expect(openDefault).not.toHaveBeenCalled()
    await expect(lazy.ready()).rejects.toThrow('cannot load the backend')
    expect(await lazy.ready()).toBe(store)
    expect(lazy.current).toBe(store)
    expect(openDefault).toHaveBeenCalledTimes(2)
  })

  it('closes a default store that was still loading when the engine closed', async () => {
    const store = fakeStore()
    let arrive: (store: Store) => void = () => undefined
    const lazy = new LazyStore(undefined, () => new Promise<Store>((resolve) => (arrive = resolve)))
    const ready = lazy.ready()
    const closed = lazy.close()
    arrive(store)
    await closed
    expect(store.closed).toBe(1)
    // It is not the engine's store any more: the next use opens another.
    expect(lazy.current).toBeUndefined()
    await ready
    expect(lazy.current).toBeUndefined()
  })
})
