/**
 * The settings every process sharing a store uses, as this engine last read them. Read on first
 * need and again at each worker heartbeat (or at once, where the store pushes a `settings`
 * signal); an update is checked in full, saved, re-read and signalled to the other processes.
 */
import { coerceError } from '../../errors.js'
import type { Store } from '../../store/types.js'
import type { LogBackendRegistry } from './log-backend-registry.js'
import { SETTING_KEYS, checkSettingsPatch, defaultSettings, describeSettings, mergeSettings, type SettingInfo, type Settings } from './settings.js'

/** What shared settings need from the engine. */
export interface SettingsHost {
  store(): Promise<Store>
  now(): number
  readonly defaultMaxAttempts: number
  readonly logBackends: LogBackendRegistry
  /** The settings were read and `workerConcurrency` differs from before (the worker applies it). */
  concurrencyChanged(settings: Settings): void
  onError(error: Error): void
}

export class SharedSettings {
  readonly #host: SettingsHost
  /** As last read from the store (undefined until first needed). */
  #current: Settings | undefined
  /** Every stored value as last read, known settings or not (flow control keeps its own there). */
  #stored: Readonly<Record<string, unknown>> | undefined
  #loading: Promise<Settings> | undefined

  constructor(host: SettingsHost) {
    this.#host = host
  }

  /** Every stored value by key as last read (`undefined` before the first read). */
  get stored(): Readonly<Record<string, unknown>> | undefined {
    return this.#stored
  }

  /** The settings as last read, without a store round trip (`undefined` before the first read). */
  get current(): Settings | undefined {
    return this.#current
  }

  /** The settings: cached, or read from the store (`fresh`); a changed worker concurrency is applied. */
  load(fresh = false): Promise<Settings> {
    if (!fresh && this.#current !== undefined) return Promise.resolve(this.#current)
    this.#loading ??= (async () => {
      const host = this.#host
      const store = await host.store()
      const stored = await store.getSettings()
      const settings = mergeSettings(this.defaults(), stored, host.logBackends.names())
      this.#stored = stored
      const before = this.#current
      this.#current = settings
      if (before?.workerConcurrency !== settings.workerConcurrency) host.concurrencyChanged(settings)
      return settings
    })().finally(() => {
      this.#loading = undefined
    })
    return this.#loading
  }

  /** Changes some settings; unknown keys and bad values are a `ValidationError` naming each, and change nothing. */
  async update(patch: Partial<Settings>): Promise<Settings> {
    const host = this.#host
    const change = checkSettingsPatch(patch, host.logBackends.names())
    const store = await host.store()
    await store.saveSettings(change, host.now())
    const settings = await this.load(true)
    await store.signal?.({ type: 'settings' }).catch((error: unknown) => host.onError(coerceError(error)))
    return settings
  }

  /**
   * Stores values the caller checked (keys outside the settings, such as flow control's), re-reads
   * and tells the other processes, as {@link update} does.
   */
  async save(values: Readonly<Record<string, unknown>>): Promise<void> {
    const host = this.#host
    const store = await host.store()
    await store.saveSettings(values, host.now())
    await this.load(true)
    await store.signal?.({ type: 'settings' }).catch((error: unknown) => host.onError(coerceError(error)))
  }

  /** Every setting with its title, description, constraints, default and value (for forms). */
  async describe(): Promise<SettingInfo[]> {
    return describeSettings(await this.load(true), this.defaults(), this.#host.logBackends.infos())
  }

  /** The setting keys. */
  keys(): readonly string[] {
    return SETTING_KEYS
  }

  defaults(): Settings {
    return defaultSettings(this.#host.defaultMaxAttempts)
  }
}

/** `engine.settings`: the runtime settings every process on the store shares. */
export interface EngineSettings {
  /** The current settings (read from the store). */
  get(): Promise<Settings>
  /** Changes some settings; unknown keys and bad values are a `ValidationError` naming each, and change nothing. */
  update(patch: Partial<Settings>): Promise<Settings>
  /** Every setting with its title, description, constraints, default and value (for forms). */
  describe(): Promise<SettingInfo[]>
  /** The setting keys. */
  keys(): readonly string[]
}

/** The engine's settings API over its shared settings (`shared` is read when called, after the engine made it). */
export function settingsFacade(shared: () => SharedSettings): EngineSettings {
  return {
    get: () => shared().load(true),
    update: (patch) => shared().update(patch),
    describe: () => shared().describe(),
    keys: () => shared().keys(),
  }
}
