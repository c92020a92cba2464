-- Administration: second transfer target, opening hours, admin tokens, audit
-- log and recent calls. SQLite flavour; keep in step with
-- ../postgres/0002_admin.sql (same tables, columns, names and constraints).
-- Instants are milliseconds since the Unix epoch (UTC) in an INTEGER column.

-- Second target, tried when the first is busy or does not answer.
ALTER TABLE entries ADD COLUMN fallback_kind  TEXT CHECK (fallback_kind IN ('extension', 'uri'));
ALTER TABLE entries ADD COLUMN fallback_value TEXT;

-- A store's opening hours, holidays and after-hours route (directory::hours::OpeningHours
-- as JSON text). No row: always open.
CREATE TABLE store_hours (
    store_id INTEGER NOT NULL PRIMARY KEY REFERENCES stores (id) ON DELETE CASCADE,
    hours    TEXT    NOT NULL
);

-- Admin tokens: "<id>.<secret>"; only an argon2 PHC hash of the secret is kept.
-- store_id NULL: the installation-wide operator token.
CREATE TABLE admin_tokens (
    id          TEXT    NOT NULL PRIMARY KEY,
    store_id    INTEGER REFERENCES stores (id) ON DELETE CASCADE,
    secret_hash TEXT    NOT NULL,
    label       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER,
    revoked     BOOLEAN NOT NULL DEFAULT FALSE
);

-- Every change made through the administration, written in the transaction of
-- the change itself. before/after: JSON text of what changed (NULL: nothing).
CREATE TABLE audit_log (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    store_id INTEGER REFERENCES stores (id) ON DELETE CASCADE,
    at       INTEGER NOT NULL,
    actor    TEXT    NOT NULL,
    action   TEXT    NOT NULL,
    before   TEXT,
    after    TEXT
);
CREATE INDEX audit_log_by_store ON audit_log (store_id, id);

-- Recent calls, written by the runtime when a call ends. The caller's number is
-- stored redacted.
CREATE TABLE calls (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    store_id       INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    started_at     INTEGER NOT NULL,
    caller         TEXT    NOT NULL,
    heard          TEXT    NOT NULL,
    understood     TEXT,
    decision       TEXT    NOT NULL,
    transferred_to TEXT
);
CREATE INDEX calls_by_store ON calls (store_id, started_at);
