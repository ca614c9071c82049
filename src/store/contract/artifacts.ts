/** The artifacts role: named files a run's handler produces, stored with the run. */

/** An artifact to store (fenced by the lease token of the attempt writing it). */
export interface ArtifactWrite {
  /** The run. */
  readonly runId: string
  /** The lease token of the attempt writing it. */
  readonly token: string
  /** Its name, unique per run (a second write replaces the first). */
  readonly name: string
  /** Its media type. */
  readonly contentType: string
  /** Its bytes. */
  readonly data: Buffer
  /** When, epoch ms. */
  readonly now: number
}

/** A stored artifact. */
export interface Artifact {
  /** The run it belongs to. */
  readonly runId: string
  /** Its name. */
  readonly name: string
  /** Its media type. */
  readonly contentType: string
  /** Its size in bytes. */
  readonly size: number
  /** When it was (last) written. */
  readonly createdAt: Date
}

/** A stored artifact with its bytes. */
export interface ArtifactContent extends Artifact {
  /** Its bytes. */
  readonly data: Buffer
}

/** The artifacts role. */
export interface ArtifactStore {
  /**
   * Stores (or replaces) an artifact of a run, fenced like every worker write: only while
   * `token` is the run's lease token. Resolves to `false`, writing nothing, when it is not (the
   * run was rescued, retried, finished or deleted meanwhile).
   */
  putArtifact(artifact: ArtifactWrite): Promise<boolean>
  /** An artifact with its bytes. */
  getArtifact(runId: string, name: string): Promise<ArtifactContent | undefined>
  /** A run's artifacts (without bytes), by name. */
  listArtifacts(runId: string): Promise<Artifact[]>
}
