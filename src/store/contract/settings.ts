/** The settings role: runtime settings operators change, shared by every process on the store. */

/** The settings role. Values are JSON values by key; the engine validates them. */
export interface SettingsStore {
  /** The stored runtime settings (JSON values by key). */
  getSettings(): Promise<Record<string, unknown>>
  /** Stores settings (JSON values by key), replacing those keys and keeping the others. */
  saveSettings(values: Readonly<Record<string, unknown>>, now: number): Promise<void>
}
