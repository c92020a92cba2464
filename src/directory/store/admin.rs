//! Storage for the administration: single-entry edits, menu, opening hours,
//! stores, admin tokens, the audit log and recent calls.
//!
//! Every change runs in one transaction that (1) bumps the store's directory
//! version first (which takes SQLite's write lock at once and locks the store's
//! version row in PostgreSQL, so concurrent edits of one store are serialised and
//! uniqueness checks read a stable set of rows), (2) reads what it replaces,
//! (3) writes, (4) appends the audit record; the change is announced on
//! [`DirectoryEvents`](crate::directory::events::DirectoryEvents) only after the
//! commit. Every query is scoped by store: an entry id of store B given with
//! store A is [`AdminError::UnknownEntry`], exactly as an id that does not exist.

pub mod backup;

use jiff::Timestamp;

use super::{
    Backend, DirectoryStore, ENTRY_INSERT_CHUNK, EntryColumns, EntryRow, MenuRow, NewEntry, NewStore, Pool, QueryContext,
    StoreError, entry_from_row,
    menu_from_row, target_columns, validate_menu,
};
use crate::directory::hours::{HoursError, OpeningHours};
use crate::directory::import::{DirectoryDiff, EntryKey, ImportMode};
use crate::directory::{DirectoryVersion, Entry, EntryId, MenuOption, StoreId};

/// Errors of the administration storage.
#[derive(Debug, thiserror::Error)]
pub enum AdminError {
    /// A storage error shared with the rest of the store.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// No entry with this id in this store (it may exist in another store).
    #[error("no entry {entry} in {store}")]
    UnknownEntry { store: StoreId, entry: i64 },
    /// Another entry of the store has the same name and department.
    #[error("{store} already has an entry `{key}`")]
    DuplicateEntry { store: StoreId, key: String },
    /// Another entry of the store has the same extension.
    #[error("{store} already has an entry with extension {extension}")]
    DuplicateExtension { store: StoreId, extension: String },
    /// Another store already answers this number.
    #[error("a store already answers number {number:?}")]
    DuplicateNumber { number: String },
    /// The directory is no longer at the version the change was prepared
    /// against (another change came in between); nothing was written.
    #[error("{store}'s directory changed since version {expected} (now {current})")]
    VersionChanged { store: StoreId, expected: i64, current: i64 },
    /// Opening hours that do not make sense.
    #[error("opening hours of {store}: {source}")]
    InvalidHours {
        store: StoreId,
        #[source]
        source: HoursError,
    },
    /// A token that does not authenticate anyone.
    #[error("token rejected: {failure}")]
    Unauthenticated { failure: AuthFailure },
    /// No token has this id.
    #[error("no admin token with id {id:?}")]
    UnknownToken { id: String },
    /// Hashing a token secret failed (argon2).
    #[error("cannot hash a token secret: {source}")]
    Hash {
        #[source]
        source: argon2::password_hash::Error,
    },
    /// A blocking task (token hashing, sync report) was lost.
    #[error("a blocking task failed: {source}")]
    HashTask {
        #[source]
        source: tokio::task::JoinError,
    },
    /// A stored instant out of range (edited outside this module).
    #[error("corrupt instant {millis} in {table}")]
    CorruptInstant { table: &'static str, millis: i64 },
}

/// Why a presented token was refused. Kept apart so the API can say *expired*
/// (sign in again) without saying whether an unknown token id exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AuthFailure {
    /// Not of the form `att.<id>.<secret>`.
    #[error("malformed token")]
    Malformed,
    /// Unknown id, wrong secret or revoked: the caller is not told which.
    #[error("invalid token")]
    Invalid,
    /// A valid token past its expiry.
    #[error("token expired")]
    Expired,
}

/// Who makes a change and when, as written in the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// E.g. `store-admin:3f2a…` or `operator:91bc…` (a token id, never its secret).
    pub name: String,
    pub at: Timestamp,
}

/// What a token grants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "kind", content = "store", rename_all = "snake_case")]
pub enum TokenScope {
    /// Every store, and the creation of stores and tokens.
    Operator,
    /// One store's directory, menu, hours, calls and audit log.
    Store(StoreId),
}

impl TokenScope {
    /// Whether this scope may read and change `store`.
    pub fn covers(self, store: StoreId) -> bool {
        match self {
            TokenScope::Operator => true,
            TokenScope::Store(own) => own == store,
        }
    }
}

/// A token just issued: the only time its secret is known.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IssuedToken {
    /// Public id (also in the audit log).
    pub id: String,
    /// The whole bearer token, `att.<id>.<secret>`; shown once.
    pub token: String,
    pub scope: TokenScope,
    pub expires_at: Option<Timestamp>,
}

/// A token that authenticated a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedToken {
    pub id: String,
    pub scope: TokenScope,
    pub label: String,
    pub expires_at: Option<Timestamp>,
}

impl VerifiedToken {
    /// How the holder appears in the audit log.
    pub fn actor_name(&self) -> String {
        match self.scope {
            TokenScope::Operator => format!("operator:{}", self.id),
            TokenScope::Store(_) => format!("store-admin:{}", self.id),
        }
    }
}

/// A token as listed to its store's admins: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub label: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub revoked: bool,
}

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct AuditRecord {
    pub id: i64,
    pub store: Option<StoreId>,
    pub at: Timestamp,
    pub actor: String,
    /// E.g. `entry.update`, `directory.import`, `hours.set`.
    pub action: String,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// A finished call as the runtime reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCall<'a> {
    pub store: StoreId,
    pub started_at: Timestamp,
    /// The caller's number as received; stored redacted (see [`redact_caller`]).
    pub caller_number: &'a str,
    /// What the recogniser heard (or the digits typed).
    pub heard: &'a str,
    /// The entry or option it was matched to, if any.
    pub understood: Option<&'a str>,
    /// What the attendant did (`transfer`, `no_match`, `hung_up`, …).
    pub decision: &'a str,
    /// Where the call was transferred, if it was.
    pub transferred_to: Option<&'a str>,
    /// How the call ended (`speech`, `keypad`, `operator`, … see
    /// `runtime::records::Outcome`); `None` from writers that do not know.
    pub outcome: Option<&'a str>,
    /// What speech recognition achieved (`at_once`, `confirmed`, `menu`,
    /// `not_understood`); `None`: the caller did not speak.
    pub recognition: Option<&'a str>,
    /// The directory entry the call reached, by name.
    pub entry_name: Option<&'a str>,
}

/// A recent call as shown to the store's admin.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CallRecord {
    pub id: i64,
    pub store: StoreId,
    pub started_at: Timestamp,
    /// Redacted number: only the last two digits are kept.
    pub caller: String,
    pub heard: String,
    pub understood: Option<String>,
    pub decision: String,
    pub transferred_to: Option<String>,
    /// How the call ended; `None` for calls recorded before outcomes were.
    pub outcome: Option<String>,
    pub recognition: Option<String>,
    pub entry_name: Option<String>,
}

/// The columns of a call row, in [`CallRecord`] order after the store.
type CallRow = (i64, i64, i64, String, String, Option<String>, String, Option<String>, Option<String>, Option<String>, Option<String>);

fn call_from_row(row: CallRow) -> Result<CallRecord, AdminError> {
    let (id, store, started_at, caller, heard, understood, decision, transferred_to, outcome, recognition, entry_name) = row;
    Ok(CallRecord {
        id,
        store: StoreId(store),
        started_at: millis_to_timestamp("calls", started_at)?,
        caller,
        heard,
        understood,
        decision,
        transferred_to,
        outcome,
        recognition,
        entry_name,
    })
}

/// The columns of [`CallRow`].
macro_rules! select_call {
    () => {
        "SELECT id, store_id, started_at, caller, heard, understood, decision, transferred_to, outcome, recognition, \
         entry_name FROM calls"
    };
}

/// The caller's number with all but its last two characters masked, so the
/// admin can tell calls apart without the database holding customers' numbers.
pub fn redact_caller(number: &str) -> String {
    let number = number.trim();
    if number.is_empty() || number.eq_ignore_ascii_case("anonymous") {
        return "anonymous".to_owned();
    }
    let count = number.chars().count();
    number.chars().enumerate().map(|(i, c)| if i + 2 < count { '*' } else { c }).collect()
}

/// Prefix of every token, so a leaked one is recognisable in logs and scanners.
const TOKEN_PREFIX: &str = "att";
/// Bytes of randomness in a token id (public) and secret (hashed).
const TOKEN_ID_BYTES: usize = 8;
const TOKEN_SECRET_BYTES: usize = 32;

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits `att.<id>.<secret>`.
fn split_token(token: &str) -> Option<(&str, &str)> {
    let mut parts = token.split('.');
    let (prefix, id, secret) = (parts.next()?, parts.next()?, parts.next()?);
    let is_hex = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit());
    (prefix == TOKEN_PREFIX
        && parts.next().is_none()
        && is_hex(id, TOKEN_ID_BYTES * 2)
        && is_hex(secret, TOKEN_SECRET_BYTES * 2))
    .then_some((id, secret))
}

fn millis_to_timestamp(table: &'static str, millis: i64) -> Result<Timestamp, AdminError> {
    Timestamp::from_millisecond(millis).map_err(|_| AdminError::CorruptInstant { table, millis })
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    // The values serialised here are plain data (strings, numbers, enums), which
    // serde_json always serialises.
    serde_json::to_string(value).expect("plain data serialises to JSON")
}

/// Appends an audit record inside the transaction.
macro_rules! audit {
    ($tx:expr, $store:expr, $actor:expr, $action:expr, $before:expr, $after:expr) => {{
        let store: Option<StoreId> = $store;
        let before: Option<String> = $before;
        let after: Option<String> = $after;
        sqlx::query("INSERT INTO audit_log (store_id, at, actor, action, before, after) VALUES ($1, $2, $3, $4, $5, $6)")
            .bind(store.map(|s| s.0))
            .bind($actor.at.as_millisecond())
            .bind(&$actor.name)
            .bind($action)
            .bind(before)
            .bind(after)
            .execute(&mut *$tx)
            .await
            .during("write audit record")?;
    }};
}

/// The entry columns in [`EntryRow`] order, as a literal for `concat!` (sqlx
/// takes only static query strings without an explicit audit).
macro_rules! select_entry {
    () => {
        "SELECT id, display_name, aliases, department, extension, target_kind, target_value, \
         fallback_kind, fallback_value, enabled FROM entries"
    };
}

/// The id, name, department and extension of every entry of a store: what
/// uniqueness is checked against.
type IdentityRow = (i64, String, Option<String>, Option<String>);

fn check_unique(store: StoreId, others: &[IdentityRow], except: Option<i64>, entry: &NewEntry) -> Result<(), AdminError> {
    let key = entry.key();
    for (id, name, department, extension) in others {
        if Some(*id) == except {
            continue;
        }
        if EntryKey::new(name, department.as_deref()) == key {
            return Err(AdminError::DuplicateEntry { store, key: key.to_string() });
        }
        if let (Some(mine), Some(theirs)) = (&entry.extension, extension)
            && mine == theirs
        {
            return Err(AdminError::DuplicateExtension { store, extension: mine.clone() });
        }
    }
    Ok(())
}

impl DirectoryStore {
    /// The entries of one store in directory order; with `query`, only those whose
    /// name, alias, department or extension contains it (case-insensitive).
    pub async fn list_entries(&self, store: StoreId, query: Option<&str>) -> Result<Vec<Entry>, AdminError> {
        let directory = self.load_directory(store).await?;
        let needle = query.map(|q| q.trim().to_lowercase()).filter(|q| !q.is_empty());
        Ok(match needle {
            None => directory.entries,
            Some(needle) => directory
                .entries
                .into_iter()
                .filter(|e| {
                    let hit = |s: &str| s.to_lowercase().contains(&needle);
                    hit(&e.display_name)
                        || e.aliases.iter().any(|a| hit(a))
                        || e.department.as_deref().is_some_and(hit)
                        || e.extension.as_deref().is_some_and(hit)
                })
                .collect(),
        })
    }

    /// One entry of one store.
    pub async fn get_entry(&self, store: StoreId, entry: EntryId) -> Result<Entry, AdminError> {
        let row: Option<EntryRow> = on_pool!(self, |pool, backend| {
            sqlx::query_as(concat!(select_entry!(), " WHERE id = $1 AND store_id = $2"))
                .bind(entry.0)
                .bind(store.0)
                .fetch_optional(pool)
                .await
        })
        .during("load entry")?;
        let row = row.ok_or(AdminError::UnknownEntry { store, entry: entry.0 })?;
        Ok(entry_from_row(store, row)?)
    }

    /// Adds an entry at the end of the directory. Its name and department, and its
    /// extension, must be unique in the store.
    pub async fn create_entry(
        &self,
        store: StoreId,
        entry: &NewEntry,
        actor: &Actor,
    ) -> Result<(Entry, DirectoryVersion), AdminError> {
        let columns = EntryColumns::of(entry);
        let (id, version) = on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin entry creation")?;
            let version = bump_version!(tx, store)?;
            let others: Vec<IdentityRow> =
                sqlx::query_as("SELECT id, display_name, department, extension FROM entries WHERE store_id = $1")
                    .bind(store.0)
                    .fetch_all(&mut *tx)
                    .await
                    .during("load entry names")?;
            check_unique(store, &others, None, entry)?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO entries (store_id, position, display_name, aliases, department, extension, \
                 target_kind, target_value, fallback_kind, fallback_value, enabled) \
                 VALUES ($1, (SELECT COALESCE(MAX(position), -1) + 1 FROM entries WHERE store_id = $1), \
                 $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(store.0)
            .bind(&entry.display_name)
            .bind(&columns.aliases)
            .bind(&entry.department)
            .bind(&entry.extension)
            .bind(columns.target.0)
            .bind(columns.target.1)
            .bind(columns.fallback.map(|f| f.0))
            .bind(columns.fallback.map(|f| f.1))
            .bind(entry.enabled)
            .fetch_one(&mut *tx)
            .await
            .during("insert entry")?;
            let after = to_json(&entry_audit(id, entry));
            audit!(tx, Some(store), actor, "entry.create", None, Some(after));
            tx.commit().await.during("commit entry creation")?;
            (id, version)
        });
        self.events.publish(store, version);
        Ok((entry.with_id(EntryId(id)), version))
    }

    /// Replaces the fields of one entry of one store; its id and place stay.
    pub async fn update_entry(
        &self,
        store: StoreId,
        id: EntryId,
        entry: &NewEntry,
        actor: &Actor,
    ) -> Result<(Entry, DirectoryVersion), AdminError> {
        let columns = EntryColumns::of(entry);
        let version = on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin entry update")?;
            let version = bump_version!(tx, store)?;
            let before: Option<EntryRow> = sqlx::query_as(concat!(select_entry!(), " WHERE id = $1 AND store_id = $2"))
                .bind(id.0)
                .bind(store.0)
                .fetch_optional(&mut *tx)
                .await
                .during("load entry")?;
            let before = entry_from_row(store, before.ok_or(AdminError::UnknownEntry { store, entry: id.0 })?)?;
            let others: Vec<IdentityRow> =
                sqlx::query_as("SELECT id, display_name, department, extension FROM entries WHERE store_id = $1")
                    .bind(store.0)
                    .fetch_all(&mut *tx)
                    .await
                    .during("load entry names")?;
            check_unique(store, &others, Some(id.0), entry)?;
            sqlx::query(
                "UPDATE entries SET display_name = $3, aliases = $4, department = $5, extension = $6, \
                 target_kind = $7, target_value = $8, fallback_kind = $9, fallback_value = $10, enabled = $11 \
                 WHERE id = $1 AND store_id = $2",
            )
            .bind(id.0)
            .bind(store.0)
            .bind(&entry.display_name)
            .bind(&columns.aliases)
            .bind(&entry.department)
            .bind(&entry.extension)
            .bind(columns.target.0)
            .bind(columns.target.1)
            .bind(columns.fallback.map(|f| f.0))
            .bind(columns.fallback.map(|f| f.1))
            .bind(entry.enabled)
            .execute(&mut *tx)
            .await
            .during("update entry")?;
            let before = to_json(&entry_audit(id.0, &NewEntry::from(&before)));
            let after = to_json(&entry_audit(id.0, entry));
            audit!(tx, Some(store), actor, "entry.update", Some(before), Some(after));
            tx.commit().await.during("commit entry update")?;
            version
        });
        self.events.publish(store, version);
        Ok((entry.with_id(id), version))
    }

    /// Removes one entry of one store.
    pub async fn delete_entry(&self, store: StoreId, id: EntryId, actor: &Actor) -> Result<DirectoryVersion, AdminError> {
        let version = on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin entry deletion")?;
            let version = bump_version!(tx, store)?;
            let before: Option<EntryRow> = sqlx::query_as(concat!(select_entry!(), " WHERE id = $1 AND store_id = $2"))
                .bind(id.0)
                .bind(store.0)
                .fetch_optional(&mut *tx)
                .await
                .during("load entry")?;
            let before = entry_from_row(store, before.ok_or(AdminError::UnknownEntry { store, entry: id.0 })?)?;
            sqlx::query("DELETE FROM entries WHERE id = $1 AND store_id = $2")
                .bind(id.0)
                .bind(store.0)
                .execute(&mut *tx)
                .await
                .during("delete entry")?;
            let before = to_json(&entry_audit(id.0, &NewEntry::from(&before)));
            audit!(tx, Some(store), actor, "entry.delete", Some(before), None);
            tx.commit().await.during("commit entry deletion")?;
            version
        });
        self.events.publish(store, version);
        Ok(version)
    }

    /// Replaces a store's entries with an imported list (already validated whole
    /// by [`crate::directory::import::parse`]); the menu stays. The audit record
    /// holds the diff, not both whole directories.
    pub async fn import_entries(
        &self,
        store: StoreId,
        entries: &[NewEntry],
        actor: &Actor,
    ) -> Result<(DirectoryVersion, DirectoryDiff), AdminError> {
        self.import_entries_as(store, entries, ImportMode::Replace, None, actor).await
    }

    /// Imports `entries` in `mode` (replace the directory, or merge into it),
    /// in one transaction, if the directory is still at `expected` (when
    /// given): otherwise nothing is written and the error says the version
    /// it is at ([`AdminError::VersionChanged`]). The check and the write
    /// are one transaction: a change committed in between is never lost.
    pub async fn import_entries_as(
        &self,
        store: StoreId,
        entries: &[NewEntry],
        mode: ImportMode,
        expected: Option<DirectoryVersion>,
        actor: &Actor,
    ) -> Result<(DirectoryVersion, DirectoryDiff), AdminError> {
        let (version, diff) = on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin import")?;
            let version = bump_version!(tx, store)?;
            // The bump holds the store's version row until commit: a version
            // other than expected + 1 means another change came first.
            if let Some(expected) = expected
                && version.0 != expected.0 + 1
            {
                return Err(AdminError::VersionChanged { store, expected: expected.0, current: version.0 - 1 });
            }
            let current: Vec<EntryRow> = sqlx::query_as(concat!(select_entry!(), " WHERE store_id = $1 ORDER BY position"))
                .bind(store.0)
                .fetch_all(&mut *tx)
                .await
                .during("load entries")?;
            let current: Vec<NewEntry> = current
                .into_iter()
                .map(|row| entry_from_row(store, row).map(|e| NewEntry::from(&e)))
                .collect::<Result<_, _>>()?;
            let entries = &crate::directory::import::apply_mode(&current, entries, mode);
            let diff = crate::directory::import::diff(&current, entries);
            sqlx::query("DELETE FROM entries WHERE store_id = $1")
                .bind(store.0)
                .execute(&mut *tx)
                .await
                .during("delete entries")?;
            insert_entries!(tx, store, entries)?;
            let summary = |list: &[NewEntry]| list.to_vec();
            let before = serde_json::json!({
                "changed": diff.changed.iter().map(|(old, _)| old.clone()).collect::<Vec<_>>(),
                "removed": summary(&diff.removed),
            });
            let after = serde_json::json!({
                "added": summary(&diff.added),
                "changed": diff.changed.iter().map(|(_, new)| new.clone()).collect::<Vec<_>>(),
                "unchanged": diff.unchanged,
            });
            audit!(tx, Some(store), actor, "directory.import", Some(before.to_string()), Some(after.to_string()));
            tx.commit().await.during("commit import")?;
            (version, diff)
        });
        self.events.publish(store, version);
        Ok((version, diff))
    }

    /// The DTMF menu of one store, ordered by digit.
    pub async fn menu(&self, store: StoreId) -> Result<Vec<MenuOption>, AdminError> {
        Ok(self.load_directory(store).await?.menu)
    }

    /// Replaces one store's DTMF menu.
    pub async fn set_menu(
        &self,
        store: StoreId,
        menu: &[MenuOption],
        actor: &Actor,
    ) -> Result<DirectoryVersion, AdminError> {
        validate_menu(store, menu)?;
        let version = on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin menu change")?;
            let version = bump_version!(tx, store)?;
            let before: Vec<MenuRow> = sqlx::query_as(
                "SELECT digit, label, target_kind, target_value FROM menu_options WHERE store_id = $1 ORDER BY digit",
            )
            .bind(store.0)
            .fetch_all(&mut *tx)
            .await
            .during("load menu")?;
            let before: Vec<MenuOption> =
                before.into_iter().map(|row| menu_from_row(store, row)).collect::<Result<_, _>>()?;
            write_menu!(tx, store, menu)?;
            audit!(tx, Some(store), actor, "menu.set", Some(to_json(&before)), Some(to_json(&menu)));
            tx.commit().await.during("commit menu change")?;
            version
        });
        self.events.publish(store, version);
        Ok(version)
    }

    /// One store's opening hours; `None`: always open.
    pub async fn opening_hours(&self, store: StoreId) -> Result<Option<OpeningHours>, AdminError> {
        let row: Option<(String,)> = on_pool!(self, |pool, backend| {
            sqlx::query_as("SELECT hours FROM store_hours WHERE store_id = $1").bind(store.0).fetch_optional(pool).await
        })
        .during("load opening hours")?;
        match row {
            None => {
                // Tell an unknown store from one without hours.
                self.load_directory(store).await?;
                Ok(None)
            }
            Some((text,)) => serde_json::from_str(&text).map(Some).map_err(|_| {
                AdminError::Store(StoreError::CorruptRow { store, table: "store_hours", column: "hours", value: text })
            }),
        }
    }

    /// Sets (or, with `None`, removes) one store's opening hours, after validating them.
    pub async fn set_opening_hours(
        &self,
        store: StoreId,
        hours: Option<&OpeningHours>,
        actor: &Actor,
    ) -> Result<DirectoryVersion, AdminError> {
        if let Some(hours) = hours {
            hours.validate().map_err(|source| AdminError::InvalidHours { store, source })?;
        }
        let text = hours.map(to_json);
        let version = on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin hours change")?;
            let version = bump_version!(tx, store)?;
            let before: Option<(String,)> = sqlx::query_as("SELECT hours FROM store_hours WHERE store_id = $1")
                .bind(store.0)
                .fetch_optional(&mut *tx)
                .await
                .during("load opening hours")?;
            match &text {
                Some(text) => sqlx::query(
                    "INSERT INTO store_hours (store_id, hours) VALUES ($1, $2) \
                     ON CONFLICT (store_id) DO UPDATE SET hours = excluded.hours",
                )
                .bind(store.0)
                .bind(text)
                .execute(&mut *tx)
                .await
                .during("write opening hours")?,
                None => sqlx::query("DELETE FROM store_hours WHERE store_id = $1")
                    .bind(store.0)
                    .execute(&mut *tx)
                    .await
                    .during("delete opening hours")?,
            };
            audit!(tx, Some(store), actor, "hours.set", before.map(|(b,)| b), text.clone());
            tx.commit().await.during("commit hours change")?;
            version
        });
        self.events.publish(store, version);
        Ok(version)
    }

    /// Creates a store with an empty directory at version 0. Unlike
    /// [`DirectoryStore::upsert_store`], a number already in use is an error.
    pub async fn create_store(&self, store: &NewStore, actor: &Actor) -> Result<StoreId, AdminError> {
        let settings = store.settings.to_json_text();
        let (operator_kind, operator_value) = target_columns(&store.operator);
        on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin store creation")?;
            let inserted: Result<(i64,), sqlx::Error> = sqlx::query_as(
                "INSERT INTO stores (name, number, language, operator_kind, operator_value, settings) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(&store.name)
            .bind(&store.number)
            .bind(store.language.code())
            .bind(operator_kind)
            .bind(operator_value)
            .bind(&settings)
            .fetch_one(&mut *tx)
            .await;
            let (id,) = match inserted {
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                    return Err(AdminError::DuplicateNumber { number: store.number.clone() });
                }
                other => other.during("insert store")?,
            };
            sqlx::query("INSERT INTO directory_versions (store_id, version) VALUES ($1, 0)")
                .bind(id)
                .execute(&mut *tx)
                .await
                .during("create directory version")?;
            let after = serde_json::json!({
                "name": store.name, "number": store.number, "language": store.language.code(),
                "operator": store.operator,
            });
            audit!(tx, Some(StoreId(id)), actor, "store.create", None, Some(after.to_string()));
            tx.commit().await.during("commit store creation")?;
            Ok(StoreId(id))
        })
    }

    /// Issues a token for `scope`. Issuing an operator token revokes the previous
    /// ones: there is one operator token for the installation.
    pub async fn issue_token(
        &self,
        scope: TokenScope,
        label: &str,
        expires_at: Option<Timestamp>,
        actor: &Actor,
    ) -> Result<IssuedToken, AdminError> {
        let id = hex(&rand::random::<[u8; TOKEN_ID_BYTES]>());
        let secret = hex(&rand::random::<[u8; TOKEN_SECRET_BYTES]>());
        let secret_for_hash = secret.clone();
        let hash = tokio::task::spawn_blocking(move || {
            use argon2::password_hash::PasswordHasher;
            argon2::Argon2::default().hash_password(secret_for_hash.as_bytes()).map(|h| h.to_string())
        })
        .await
        .map_err(|source| AdminError::HashTask { source })?
        .map_err(|source| AdminError::Hash { source })?;
        let store = match scope {
            TokenScope::Operator => None,
            TokenScope::Store(store) => Some(store),
        };
        on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin token issue")?;
            if store.is_none() {
                sqlx::query("UPDATE admin_tokens SET revoked = TRUE WHERE store_id IS NULL")
                    .execute(&mut *tx)
                    .await
                    .during("revoke previous operator tokens")?;
            }
            let inserted = sqlx::query(
                "INSERT INTO admin_tokens (id, store_id, secret_hash, label, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(&id)
            .bind(store.map(|s| s.0))
            .bind(&hash)
            .bind(label)
            .bind(actor.at.as_millisecond())
            .bind(expires_at.map(|t| t.as_millisecond()))
            .execute(&mut *tx)
            .await;
            match inserted {
                Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                    // store is Some here: only a store id can violate the key.
                    return Err(AdminError::Store(StoreError::UnknownStore { store: store.unwrap_or(StoreId(0)) }));
                }
                other => other.during("insert token")?,
            };
            let after = serde_json::json!({"id": id, "label": label, "expires_at": expires_at});
            audit!(tx, store, actor, "token.issue", None, Some(after.to_string()));
            tx.commit().await.during("commit token issue")?;
            Ok::<(), AdminError>(())
        })?;
        Ok(IssuedToken { token: format!("{TOKEN_PREFIX}.{id}.{secret}"), id, scope, expires_at })
    }

    /// Checks a bearer token at `now`. Unknown ids, wrong secrets and revoked tokens
    /// are all [`AuthFailure::Invalid`].
    pub async fn verify_token(&self, token: &str, now: Timestamp) -> Result<VerifiedToken, AdminError> {
        let fail = |failure| AdminError::Unauthenticated { failure };
        let (id, secret) = split_token(token).ok_or(fail(AuthFailure::Malformed))?;
        type TokenRow = (Option<i64>, String, String, Option<i64>, bool);
        let row: Option<TokenRow> = on_pool!(self, |pool, backend| {
            sqlx::query_as("SELECT store_id, secret_hash, label, expires_at, revoked FROM admin_tokens WHERE id = $1")
                .bind(id)
                .fetch_optional(pool)
                .await
        })
        .during("load token")?;
        let Some((store, hash, label, expires_at, revoked)) = row else {
            return Err(fail(AuthFailure::Invalid));
        };
        let secret = secret.to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            use argon2::password_hash::PasswordVerifier;
            use argon2::password_hash::phc::PasswordHash;
            // A hash that does not parse (edited outside this module) matches nothing.
            PasswordHash::new(&hash)
                .is_ok_and(|parsed| argon2::Argon2::default().verify_password(secret.as_bytes(), &parsed).is_ok())
        })
        .await
        .map_err(|source| AdminError::HashTask { source })?;
        if !matches || revoked {
            return Err(fail(AuthFailure::Invalid));
        }
        let expires_at = expires_at.map(|ms| millis_to_timestamp("admin_tokens", ms)).transpose()?;
        if expires_at.is_some_and(|expiry| now >= expiry) {
            return Err(fail(AuthFailure::Expired));
        }
        let scope = store.map_or(TokenScope::Operator, |s| TokenScope::Store(StoreId(s)));
        Ok(VerifiedToken { id: id.to_owned(), scope, label, expires_at })
    }

    /// Revokes a token by id.
    pub async fn revoke_token(&self, id: &str, actor: &Actor) -> Result<(), AdminError> {
        on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin token revocation")?;
            let row: Option<(Option<i64>,)> = sqlx::query_as("SELECT store_id FROM admin_tokens WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *tx)
                .await
                .during("load token")?;
            let (store,) = row.ok_or_else(|| AdminError::UnknownToken { id: id.to_owned() })?;
            sqlx::query("UPDATE admin_tokens SET revoked = TRUE WHERE id = $1")
                .bind(id)
                .execute(&mut *tx)
                .await
                .during("revoke token")?;
            let before = serde_json::json!({ "id": id }).to_string();
            audit!(tx, store.map(StoreId), actor, "token.revoke", Some(before), None);
            tx.commit().await.during("commit token revocation")?;
            Ok(())
        })
    }

    /// The tokens of one store (revoked and expired ones included), oldest
    /// first. Secrets are never returned: only their hashes are kept.
    pub async fn list_tokens(&self, store: StoreId) -> Result<Vec<TokenInfo>, AdminError> {
        type Row = (String, String, i64, Option<i64>, bool);
        let rows: Vec<Row> = on_pool!(self, |pool, backend| {
            sqlx::query_as(
                "SELECT id, label, created_at, expires_at, revoked FROM admin_tokens WHERE store_id = $1 ORDER BY created_at, id",
            )
            .bind(store.0)
            .fetch_all(pool)
            .await
        })
        .during("list tokens")?;
        rows.into_iter()
            .map(|(id, label, created_at, expires_at, revoked)| {
                Ok(TokenInfo {
                    id,
                    label,
                    created_at: millis_to_timestamp("admin_tokens", created_at)?,
                    expires_at: expires_at.map(|ms| millis_to_timestamp("admin_tokens", ms)).transpose()?,
                    revoked,
                })
            })
            .collect()
    }

    /// The scope of token `id` (revoked or not).
    pub async fn token_scope(&self, id: &str) -> Result<TokenScope, AdminError> {
        let row: Option<(Option<i64>,)> = on_pool!(self, |pool, backend| {
            sqlx::query_as("SELECT store_id FROM admin_tokens WHERE id = $1").bind(id).fetch_optional(pool).await
        })
        .during("load token scope")?;
        match row {
            None => Err(AdminError::UnknownToken { id: id.to_owned() }),
            Some((None,)) => Ok(TokenScope::Operator),
            Some((Some(store),)) => Ok(TokenScope::Store(StoreId(store))),
        }
    }

    /// The latest audit records of one store (newest first), or of the whole
    /// installation with `None`; at most `limit`.
    pub async fn audit_log(&self, store: Option<StoreId>, limit: u32) -> Result<Vec<AuditRecord>, AdminError> {
        type AuditRow = (i64, Option<i64>, i64, String, String, Option<String>, Option<String>);
        let rows: Vec<AuditRow> = on_pool!(self, |pool, backend| {
            match store {
                Some(store) => {
                    sqlx::query_as(
                        "SELECT id, store_id, at, actor, action, before, after FROM audit_log \
                         WHERE store_id = $1 ORDER BY id DESC LIMIT $2",
                    )
                    .bind(store.0)
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await
                }
                None => {
                    sqlx::query_as(
                        "SELECT id, store_id, at, actor, action, before, after FROM audit_log ORDER BY id DESC LIMIT $1",
                    )
                    .bind(i64::from(limit))
                    .fetch_all(pool)
                    .await
                }
            }
        })
        .during("load audit log")?;
        let parse = |text: Option<String>| text.map(|t| serde_json::from_str(&t).unwrap_or(serde_json::Value::String(t)));
        rows.into_iter()
            .map(|(id, store, at, actor, action, before, after)| {
                Ok(AuditRecord {
                    id,
                    store: store.map(StoreId),
                    at: millis_to_timestamp("audit_log", at)?,
                    actor,
                    action,
                    before: parse(before),
                    after: parse(after),
                })
            })
            .collect()
    }

    /// Records a finished call (the runtime calls this). The number is redacted
    /// before it reaches the database.
    pub async fn record_call(&self, call: &NewCall<'_>) -> Result<i64, AdminError> {
        let caller = redact_caller(call.caller_number);
        let (id,): (i64,) = on_pool!(self, |pool, backend| {
            sqlx::query_as(
                "INSERT INTO calls (store_id, started_at, caller, heard, understood, decision, transferred_to, \
                 outcome, recognition, entry_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
            )
            .bind(call.store.0)
            .bind(call.started_at.as_millisecond())
            .bind(&caller)
            .bind(call.heard)
            .bind(call.understood)
            .bind(call.decision)
            .bind(call.transferred_to)
            .bind(call.outcome)
            .bind(call.recognition)
            .bind(call.entry_name)
            .fetch_one(pool)
            .await
        })
        .map_err(|e| match e {
            sqlx::Error::Database(e) if e.is_foreign_key_violation() => StoreError::UnknownStore { store: call.store },
            source => StoreError::Query { operation: "record call", source },
        })?;
        Ok(id)
    }

    /// The latest calls of one store, newest first; at most `limit`.
    pub async fn recent_calls(&self, store: StoreId, limit: u32) -> Result<Vec<CallRecord>, AdminError> {
        let rows: Vec<CallRow> = on_pool!(self, |pool, backend| {
            sqlx::query_as(concat!(select_call!(), " WHERE store_id = $1 ORDER BY started_at DESC, id DESC LIMIT $2"))
                .bind(store.0)
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
        })
        .during("load recent calls")?;
        rows.into_iter().map(call_from_row).collect()
    }

    /// The calls that started in `[from, to)`, of one store or (`None`) of
    /// every store, oldest first; at most `limit` (the newest are dropped).
    pub async fn calls_between(
        &self,
        store: Option<StoreId>,
        from: Timestamp,
        to: Timestamp,
        limit: u32,
    ) -> Result<Vec<CallRecord>, AdminError> {
        let (from, to, limit) = (from.as_millisecond(), to.as_millisecond(), i64::from(limit));
        let rows: Vec<CallRow> = on_pool!(self, |pool, backend| {
            match store {
                Some(store) => {
                    sqlx::query_as(concat!(
                        select_call!(),
                        " WHERE store_id = $1 AND started_at >= $2 AND started_at < $3 ORDER BY started_at, id LIMIT $4"
                    ))
                    .bind(store.0)
                    .bind(from)
                    .bind(to)
                    .bind(limit)
                    .fetch_all(pool)
                    .await
                }
                None => {
                    sqlx::query_as(concat!(select_call!(), " WHERE started_at >= $1 AND started_at < $2 ORDER BY started_at, id LIMIT $3"))
                        .bind(from)
                        .bind(to)
                        .bind(limit)
                        .fetch_all(pool)
                        .await
                }
            }
        })
        .during("load calls of a period")?;
        rows.into_iter().map(call_from_row).collect()
    }
}

/// An entry as written in the audit log: its id and fields.
fn entry_audit(id: i64, entry: &NewEntry) -> serde_json::Value {
    serde_json::json!({ "id": id, "entry": entry })
}

#[cfg(test)]
mod tests {
    //! Administration storage against SQLite: scoping of every entry operation by
    //! store, uniqueness, version bumps with events, audit records, tokens
    //! (argon2-hashed, expiry, revocation, one operator token), calls redacted.
    use super::*;
    use crate::directory::settings::StoreSettings;
    use crate::directory::{Language, TransferTarget};

    async fn open_temp() -> (tempfile::TempDir, DirectoryStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("attendant.db").display());
        (dir, DirectoryStore::open(&url).await.unwrap())
    }

    fn actor(ms: i64) -> Actor {
        Actor { name: "test".into(), at: Timestamp::from_millisecond(ms).unwrap() }
    }

    fn new_store(number: &str) -> NewStore {
        NewStore {
            name: format!("Store {number}"),
            number: number.into(),
            language: Language::Fr,
            operator: TransferTarget::Extension("100".into()),
            settings: StoreSettings::none(),
        }
    }

    fn person(name: &str, ext: &str) -> NewEntry {
        NewEntry {
            display_name: name.into(),
            aliases: vec![],
            department: None,
            extension: Some(ext.into()),
            target: TransferTarget::Extension(ext.into()),
            fallback: None,
            enabled: true,
        }
    }

    #[tokio::test]
    async fn entry_operations_are_scoped_by_store() {
        let (_dir, db) = open_temp().await;
        let a = db.create_store(&new_store("1000"), &actor(1)).await.unwrap();
        let b = db.create_store(&new_store("2000"), &actor(1)).await.unwrap();
        let (in_b, _) = db.create_entry(b, &person("Bob", "201"), &actor(2)).await.unwrap();
        let unknown = |r: Result<_, AdminError>| matches!(r, Err(AdminError::UnknownEntry { store, entry }) if store == a && entry == in_b.id.0);
        assert!(unknown(db.get_entry(a, in_b.id).await.map(|_| ())));
        assert!(unknown(db.update_entry(a, in_b.id, &person("Eve", "666"), &actor(3)).await.map(|_| ())));
        assert!(unknown(db.delete_entry(a, in_b.id, &actor(3)).await.map(|_| ())));
        assert_eq!(db.get_entry(b, in_b.id).await.unwrap(), in_b, "B's entry is untouched");
        assert_eq!(db.load_directory(a).await.unwrap().version, DirectoryVersion(0), "failed edits roll back the bump");
        assert_eq!(db.load_directory(b).await.unwrap().version, DirectoryVersion(1));
    }

    #[tokio::test]
    async fn edits_bump_the_version_publish_and_audit() {
        let (_dir, db) = open_temp().await;
        let mut events = db.events().subscribe();
        let s = db.create_store(&new_store("1000"), &actor(1)).await.unwrap();
        let mut with_fallback = person("Anne", "201");
        with_fallback.fallback = Some(TransferTarget::Uri("sip:accueil@pbx".into()));
        let (anne, v1) = db.create_entry(s, &with_fallback, &actor(2)).await.unwrap();
        let (_, v2) = db.create_entry(s, &person("Bruno", "202"), &actor(3)).await.unwrap();
        let (renamed, v3) = db.update_entry(s, anne.id, &person("Anne-Marie", "203"), &actor(4)).await.unwrap();
        let v4 = db.delete_entry(s, anne.id, &actor(5)).await.unwrap();
        let v5 = db.set_menu(s, &[MenuOption { digit: '1', label: "caisse".into(), target: TransferTarget::Extension("9".into()) }], &actor(6)).await.unwrap();
        assert_eq!([v1, v2, v3, v4, v5].map(|v| v.0), [1, 2, 3, 4, 5]);
        for expected in 1..=5 {
            assert_eq!(events.try_recv().unwrap(), crate::directory::events::DirectoryChanged { store: s, version: DirectoryVersion(expected) });
        }
        assert_eq!(renamed.id, anne.id, "an update keeps the id");
        let dir = db.load_directory(s).await.unwrap();
        assert_eq!(dir.entries.iter().map(|e| e.display_name.as_str()).collect::<Vec<_>>(), ["Bruno"]);
        let log = db.audit_log(Some(s), 10).await.unwrap();
        let actions: Vec<_> = log.iter().map(|r| (r.action.as_str(), r.at.as_millisecond())).collect();
        assert_eq!(actions, [("menu.set", 6), ("entry.delete", 5), ("entry.update", 4), ("entry.create", 3), ("entry.create", 2), ("store.create", 1)]);
        let update = &log[2];
        assert_eq!(update.before.as_ref().unwrap()["entry"]["display_name"], "Anne");
        assert_eq!(update.before.as_ref().unwrap()["entry"]["fallback"]["value"], "sip:accueil@pbx");
        assert_eq!(update.after.as_ref().unwrap()["entry"]["display_name"], "Anne-Marie");
    }

    #[tokio::test]
    async fn uniqueness_is_checked_against_the_other_entries() {
        let (_dir, db) = open_temp().await;
        let s = db.create_store(&new_store("1000"), &actor(1)).await.unwrap();
        let (anne, _) = db.create_entry(s, &person("Anne", "201"), &actor(1)).await.unwrap();
        db.create_entry(s, &person("Bruno", "202"), &actor(1)).await.unwrap();
        let dup_name = db.create_entry(s, &person("  anne ", "203"), &actor(1)).await;
        assert!(matches!(dup_name, Err(AdminError::DuplicateEntry { .. })), "{dup_name:?}");
        let dup_ext = db.update_entry(s, anne.id, &person("Anne", "202"), &actor(1)).await;
        assert!(matches!(dup_ext, Err(AdminError::DuplicateExtension { ref extension, .. }) if extension == "202"), "{dup_ext:?}");
        db.update_entry(s, anne.id, &person("Anne", "201"), &actor(1)).await.expect("an entry does not clash with itself");
        let other = db.create_store(&new_store("2000"), &actor(1)).await.unwrap();
        db.create_entry(other, &person("Anne", "201"), &actor(1)).await.expect("another store may reuse names");
        assert!(matches!(db.create_store(&new_store("2000"), &actor(1)).await, Err(AdminError::DuplicateNumber { .. })));
    }

    #[tokio::test]
    async fn tokens_are_hashed_scoped_expire_and_revoke() {
        let (_dir, db) = open_temp().await;
        let s = db.create_store(&new_store("1000"), &actor(1)).await.unwrap();
        let expiry = Timestamp::from_millisecond(10_000).unwrap();
        let store_token = db.issue_token(TokenScope::Store(s), "gérant", Some(expiry), &actor(1)).await.unwrap();
        let (hash,): (String,) = on_pool!(db, |pool, backend| {
            sqlx::query_as("SELECT secret_hash FROM admin_tokens WHERE id = $1").bind(&store_token.id).fetch_one(pool).await
        })
        .unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(!hash.contains(store_token.token.rsplit('.').next().unwrap()), "the secret is not stored");
        let at = |ms| Timestamp::from_millisecond(ms).unwrap();
        assert_eq!(db.verify_token(&store_token.token, at(9_999)).await.unwrap().scope, TokenScope::Store(s));
        let failure = |r: Result<VerifiedToken, AdminError>| match r {
            Err(AdminError::Unauthenticated { failure }) => Some(failure),
            _ => None,
        };
        assert_eq!(failure(db.verify_token(&store_token.token, at(10_000)).await), Some(AuthFailure::Expired));
        let mut wrong = store_token.token.clone();
        let last = wrong.pop().unwrap();
        wrong.push(if last == '0' { '1' } else { '0' });
        assert_eq!(failure(db.verify_token(&wrong, at(1)).await), Some(AuthFailure::Invalid));
        assert_eq!(failure(db.verify_token("Bearer nonsense", at(1)).await), Some(AuthFailure::Malformed));
        let unknown = format!("att.{}.{}", "0".repeat(16), "0".repeat(64));
        assert_eq!(failure(db.verify_token(&unknown, at(1)).await), Some(AuthFailure::Invalid));

        let first = db.issue_token(TokenScope::Operator, "op", None, &actor(2)).await.unwrap();
        assert_eq!(db.verify_token(&first.token, at(5)).await.unwrap().scope, TokenScope::Operator);
        let second = db.issue_token(TokenScope::Operator, "op", None, &actor(3)).await.unwrap();
        assert_eq!(failure(db.verify_token(&first.token, at(5)).await), Some(AuthFailure::Invalid), "one operator token");
        db.revoke_token(&second.id, &actor(4)).await.unwrap();
        assert_eq!(failure(db.verify_token(&second.token, at(5)).await), Some(AuthFailure::Invalid));
        let missing = db.issue_token(TokenScope::Store(StoreId(99)), "x", None, &actor(1)).await;
        assert!(matches!(missing, Err(AdminError::Store(StoreError::UnknownStore { .. }))), "{missing:?}");
    }

    #[tokio::test]
    async fn calls_are_stored_redacted_and_per_store() {
        let (_dir, db) = open_temp().await;
        let a = db.create_store(&new_store("1000"), &actor(1)).await.unwrap();
        let b = db.create_store(&new_store("2000"), &actor(1)).await.unwrap();
        for (store, ms, number) in [(a, 10, "+33612345678"), (a, 20, "anonymous"), (b, 15, "0611")] {
            let call = NewCall {
                store,
                started_at: Timestamp::from_millisecond(ms).unwrap(),
                caller_number: number,
                heard: "sophie martin",
                understood: Some("Sophie Martin"),
                decision: "transfer",
                transferred_to: Some("201"),
                outcome: Some("speech"),
                recognition: Some("at_once"),
                entry_name: Some("Sophie Martin"),
            };
            db.record_call(&call).await.unwrap();
        }
        let calls = db.recent_calls(a, 10).await.unwrap();
        assert_eq!(calls.iter().map(|c| c.caller.as_str()).collect::<Vec<_>>(), ["anonymous", "**********78"]);
        assert_eq!(db.recent_calls(b, 10).await.unwrap()[0].caller, "**11");
        assert_eq!(db.recent_calls(a, 1).await.unwrap().len(), 1);
    }

    #[test]
    fn redaction_keeps_two_characters() {
        let cases = [("+33612345678", "**********78"), ("12", "12"), ("1", "1"), ("", "anonymous"), (" Anonymous ", "anonymous")];
        for (number, expected) in cases {
            assert_eq!(redact_caller(number), expected, "{number:?}");
        }
    }
}
