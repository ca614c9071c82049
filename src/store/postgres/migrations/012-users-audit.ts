/** PostgreSQL migration 12: users, their API tokens and sessions, and the audit trail. Released: never edit it; add the next number. */
import type { Migration } from '../../sql/migration.js'

export const migration012: Migration = {
  version: 12,
  name: 'users, tokens, sessions, audit log',
  sql: `
-- People who sign in. Secrets never reach the store: password_hash is an scrypt hash, NULL when
-- the user has tokens only. disabled_at set: every session and token of the user stops working.
CREATE TABLE users (
  name TEXT COLLATE "C" PRIMARY KEY,
  role TEXT NOT NULL,
  password_hash TEXT,
  disabled_at BIGINT,
  created_at BIGINT NOT NULL,
  updated_at BIGINT NOT NULL,
  created_by TEXT
);

-- API tokens: hash is the SHA-256 of the token's secret part; id (public, part of the token text)
-- finds it. A name is unique per user among live tokens, so a revoked name can be used again.
CREATE TABLE user_tokens (
  id TEXT COLLATE "C" PRIMARY KEY,
  user_name TEXT COLLATE "C" NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  name TEXT NOT NULL,
  hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT,
  last_used_at BIGINT,
  revoked_at BIGINT,
  created_by TEXT
);
CREATE UNIQUE INDEX user_tokens_live_name ON user_tokens (user_name, name) WHERE revoked_at IS NULL;
-- A user's tokens newest first (and the cascade from users).
CREATE INDEX user_tokens_user ON user_tokens (user_name, created_at);

-- Sign-in sessions: hash is the SHA-256 of the cookie's secret part; expires_at slides with use.
CREATE TABLE sessions (
  id TEXT COLLATE "C" PRIMARY KEY,
  user_name TEXT COLLATE "C" NOT NULL REFERENCES users (name) ON DELETE CASCADE,
  hash TEXT NOT NULL,
  created_at BIGINT NOT NULL,
  expires_at BIGINT NOT NULL,
  last_seen_at BIGINT NOT NULL,
  revoked_at BIGINT,
  address TEXT,
  user_agent TEXT
);
-- A user's sessions newest first (revoking them all on sign-out everywhere or disable).
CREATE INDEX sessions_user ON sessions (user_name, created_at);
-- Purge: sessions that expired, or were revoked, before a time.
CREATE INDEX sessions_expires ON sessions (expires_at);
CREATE INDEX sessions_revoked ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- Who did what: appended, never updated; the oldest deleted for retention. id is a UUIDv7, so
-- the primary key pages newest first. before/after/details hold JSON (NULL: none). Names and
-- actions compare bytewise (COLLATE "C", as SQLite does): an action prefix is a range of the index.
CREATE TABLE audit_log (
  id TEXT COLLATE "C" PRIMARY KEY,
  at BIGINT NOT NULL,
  actor TEXT COLLATE "C" NOT NULL,
  actor_kind TEXT NOT NULL,
  token_name TEXT,
  via TEXT NOT NULL,
  address TEXT,
  user_agent TEXT,
  action TEXT COLLATE "C" NOT NULL,
  target TEXT COLLATE "C",
  before_json json,
  after_json json,
  details_json json
);
-- Lists filtered by who, what (exact, or a prefix as a range) or target, newest first.
CREATE INDEX audit_log_actor ON audit_log (actor, id);
CREATE INDEX audit_log_action ON audit_log (action, id);
CREATE INDEX audit_log_target ON audit_log (target, id) WHERE target IS NOT NULL;
-- Sign-in throttling counts recent failures per target (user name) and per address.
CREATE INDEX audit_log_action_target ON audit_log (action, target, at);
CREATE INDEX audit_log_action_address ON audit_log (action, address, at);
-- Time ranges and retention (oldest first).
CREATE INDEX audit_log_at ON audit_log (at);
`,
}
