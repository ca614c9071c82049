/** The signal bus (optional): signals reach listeners of their kind, in this process and in the others sharing the store. */
import { describe, expect, it, vi } from 'vitest'
import type { SignalBus, StoreSignal } from '../contract/signals.js'
import type { Store } from '../types.js'
import { storesClosedAfterEach, testRunId } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** The store's signal bus (the suite checked that it is whole). */
function bus(store: Store): SignalBus {
  return store as Store & SignalBus
}

/** Signals received by one listener. */
function receiver(store: Store, type: StoreSignal['type']): { readonly messages: StoreSignal[]; readonly off: () => void } {
  const messages: StoreSignal[] = []
  return { messages, off: bus(store).onSignal(type, (message) => messages.push(message)) }
}

/** The signal bus, when the backend declares it. */
export function describeSignals(suite: SuiteContext): void {
  if (suite.options.signals !== true) return
  describe('signals', () => {
    const openStore = storesClosedAfterEach()

    it('delivers a signal to the listeners of its kind, in this process too, and to no other kind', async () => {
      const cancels = receiver(suite.store, 'cancel')
      const settings = receiver(suite.store, 'settings')
      await Promise.all([bus(suite.store).signalsListening('cancel'), bus(suite.store).signalsListening('settings')])
      const cancel: StoreSignal = { type: 'cancel', ids: [testRunId()], reason: 'operator' }
      await bus(suite.store).signal(cancel)
      await vi.waitFor(() => expect(cancels.messages).toEqual([cancel]))
      await bus(suite.store).signal({ type: 'settings' })
      await vi.waitFor(() => expect(settings.messages).toEqual([{ type: 'settings' }]))
      expect(cancels.messages).toEqual([cancel])
      cancels.off()
      settings.off()
    })

    it('delivers every event of a large events signal and every id of a large cancel, split as the backend needs', async () => {
      const events = receiver(suite.store, 'events')
      const cancels = receiver(suite.store, 'cancel')
      await Promise.all([bus(suite.store).signalsListening('events'), bus(suite.store).signalsListening('cancel')])
      const sent = Array.from({ length: 300 }, (_, i) => ({ type: 'log', runId: testRunId(), seq: i, message: 'x'.repeat(200) }))
      await bus(suite.store).signal({ type: 'events', origin: 'test', events: sent })
      await vi.waitFor(() => expect(events.messages.flatMap((m) => (m.type === 'events' ? m.events : []))).toHaveLength(sent.length))
      expect(events.messages.flatMap((m) => (m.type === 'events' ? m.events : []))).toEqual(sent)
      expect(events.messages.every((m) => m.type === 'events' && m.origin === 'test')).toBe(true)
      const ids = Array.from({ length: 500 }, () => testRunId())
      await bus(suite.store).signal({ type: 'cancel', ids, reason: 'many' })
      await vi.waitFor(() => expect(cancels.messages.flatMap((m) => (m.type === 'cancel' ? m.ids : []))).toHaveLength(ids.length))
      expect(cancels.messages.flatMap((m) => (m.type === 'cancel' ? m.ids : [])).sort()).toEqual([...ids].sort())
      events.off()
      cancels.off()
    })

    it('reaches the other stores sharing the place', async (context) => {
      if (suite.options.durable === undefined) return context.skip()
      const open = suite.options.durable()
      const [sender, listener] = await Promise.all([openStore(open), openStore(open)])
      const heard = receiver(listener, 'observing')
      await bus(listener).signalsListening('observing')
      await bus(sender).signal({ type: 'observing', origin: 'elsewhere' })
      await vi.waitFor(() => expect(heard.messages).toEqual([{ type: 'observing', origin: 'elsewhere' }]))
      heard.off()
    })
  })
}
