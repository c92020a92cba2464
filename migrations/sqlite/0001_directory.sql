-- Stores (tenants) and their directories. SQLite flavour; keep in step with
-- ../postgres/0001_directory.sql (same tables, columns, names and constraints).
-- JSON is stored as TEXT in both flavours so that one set of queries serves both.

CREATE TABLE stores (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL,
    -- The number callers dial (Request-URI user part).
    number         TEXT    NOT NULL UNIQUE,
    language       TEXT    NOT NULL CHECK (language IN ('fr', 'en', 'ko')),
    operator_kind  TEXT    NOT NULL CHECK (operator_kind IN ('extension', 'uri')),
    operator_value TEXT    NOT NULL,
    -- JSON object: per-store overrides of the flow tunables (flow::FlowSettings).
    settings       TEXT    NOT NULL DEFAULT '{}'
);

-- One row per store; bumped in the transaction that replaces the directory.
CREATE TABLE directory_versions (
    store_id INTEGER NOT NULL PRIMARY KEY REFERENCES stores (id) ON DELETE CASCADE,
    version  INTEGER NOT NULL
);

CREATE TABLE entries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    store_id     INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    -- Order in which the entries were given; loads return them in this order.
    position     INTEGER NOT NULL,
    display_name TEXT    NOT NULL,
    -- JSON array of strings.
    aliases      TEXT    NOT NULL DEFAULT '[]',
    department   TEXT,
    extension    TEXT,
    target_kind  TEXT    NOT NULL CHECK (target_kind IN ('extension', 'uri')),
    target_value TEXT    NOT NULL,
    enabled      BOOLEAN NOT NULL DEFAULT TRUE,
    UNIQUE (store_id, position)
);

CREATE TABLE menu_options (
    store_id     INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    digit        TEXT    NOT NULL CHECK (digit IN ('1', '2', '3', '4', '5', '6', '7', '8', '9')),
    label        TEXT    NOT NULL,
    target_kind  TEXT    NOT NULL CHECK (target_kind IN ('extension', 'uri')),
    target_value TEXT    NOT NULL,
    PRIMARY KEY (store_id, digit)
);
