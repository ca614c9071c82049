/** The signal bus (optional): signals reach listeners of their kind, in this process and in the others sharing the store. */
import { describe, expect, it } from 'vitest'
import type { SignalBus, StoreSignal } from '../contract/signals.js'
import type { Store } from '../types.js'
import { storesClosedAfterEach, testRunId } from './fixtures.js'
import type { SuiteContext } from './suite.js'

/** The store's signal bus (the suite checked that it is whole). */
function bus(store: Store): SignalBus {
  return store as Store & SignalBus
}

/** Signals received by one listener. */
interface Receiver {
  readonly messages: StoreSignal[]
  readonly off: () => void
  /** Resolves once `condition` holds of the messages received, checked as each one arrives; rejects after 5 s. */
  until(condition: (messages: readonly StoreSignal[]) => boolean, what: string): Promise<void>
}

/** Listens for signals of one kind. */
function receiver(store: Store, type: StoreSignal['type']): Receiver {
  const messages: StoreSignal[] = []
  const checks = new Set<() => void>()
  const off = bus(store).onSignal(type, (message) => {
    messages.push(message)
    for (const check of [...checks]) check()
  })
  const until = (condition: (messages: readonly StoreSignal[]) => boolean, what: string): Promise<void> => {
    const timedOut = new Error(`timed out after 5000 ms waiting for ${what}`)
    return new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (!condition(messages)) return
        checks.delete(check)
        clearTimeout(timer)
        resolve()
      }
      const timer = setTimeout(() => {
        checks.delete(check)
        reject(timedOut)
      }, 5000)
      checks.add(check)
      check()
    })
  }
  return { messages, off, until }
}

/** The events of the events signals received. */
const eventsOf = (messages: readonly StoreSignal[]): unknown[] => messages.flatMap((m) => (m.type === 'events' ? m.events : []))
/** The run ids of the cancel signals received. */
const idsOf = (messages: readonly StoreSignal[]): string[] => messages.flatMap((m) => (m.type === 'cancel' ? m.ids : []))

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
      await cancels.until((messages) => messages.length > 0, 'the cancel signal')
      expect(cancels.messages).toEqual([cancel])
      await bus(suite.store).signal({ type: 'settings' })
      await settings.until((messages) => messages.length > 0, 'the settings signal')
      expect(settings.messages).toEqual([{ type: 'settings' }])
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
      await events.until((messages) => eventsOf(messages).length >= sent.length, `${sent.length} events`)
      expect(eventsOf(events.messages)).toEqual(sent)
      expect(events.messages.every((m) => m.type === 'events' && m.origin === 'test')).toBe(true)
      const ids = Array.from({ length: 500 }, () => testRunId())
      await bus(suite.store).signal({ type: 'cancel', ids, reason: 'many' })
      await cancels.until((messages) => idsOf(messages).length >= ids.length, `${ids.length} cancelled ids`)
      expect(idsOf(cancels.messages).sort()).toEqual([...ids].sort())
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
      await heard.until((messages) => messages.length > 0, 'the signal from the other store')
      expect(heard.messages).toEqual([{ type: 'observing', origin: 'elsewhere' }])
      heard.off()
    })
  })
}
