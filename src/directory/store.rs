//! Storage of stores and directories (sqlx; SQLite embedded, PostgreSQL for several nodes).
//!
//! The only module that touches sqlx. Every query filters by store: no function
//! returns rows of more than one store, except [`DirectoryStore::list_stores`].
//!
//! # Two backends, one set of queries
//!
//! [`DirectoryStore`] holds an enum over a SQLite and a PostgreSQL pool rather
//! than `sqlx::AnyPool`: each backend keeps its typed connect options (for SQLite:
//! create the file, WAL journal, foreign keys on, busy timeout), its own embedded
//! migrations (`migrations/sqlite`, `migrations/postgres`: the DDL differs on
//! identity columns only) and its native types, with no run-time type erasure.
//! The queries are written once in the SQL both accept (`$n` placeholders,
//! `ON CONFLICT … DO UPDATE`, `RETURNING`, JSON kept as TEXT) and the
//! [`on_pool!`] macro instantiates each query body for both pool types.
//!
//! # Consistency
//!
//! [`DirectoryStore::replace_directory`] swaps entries and menu and bumps the
//! version in one transaction. Loads read store, version, entries and menu in one
//! read transaction (a snapshot: SQLite's WAL gives one per transaction,
//! PostgreSQL is asked for `REPEATABLE READ`), so a [`Directory`] never mixes two
//! versions.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};

use super::demo;
use super::events::DirectoryEvents;
use super::settings::{SettingsError, StoreSettings};
use super::{Directory, DirectoryVersion, Entry, EntryId, Language, MenuOption, Store, StoreId, TransferTarget};

/// How long a SQLite connection waits for another writer before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(5);

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("migrations/postgres");

/// Errors of the directory storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL names no supported backend.
    #[error("unsupported database URL scheme {scheme:?}: expected sqlite: or postgres:")]
    UnsupportedUrl { scheme: String },
    /// The URL has a supported scheme but could not be parsed.
    #[error("invalid {backend} database URL: {source}")]
    InvalidUrl {
        backend: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// The folder that should hold the SQLite file could not be created.
    #[error("cannot create database folder {path}: {source}")]
    CreateFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Connecting to the database failed.
    #[error("cannot connect to the {backend} database: {source}")]
    Connect {
        backend: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// Applying the embedded migrations failed.
    #[error("database migrations failed: {source}")]
    Migrate {
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed; `operation` says which.
    #[error("{operation} failed: {source}")]
    Query {
        operation: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// No store has this id.
    #[error("no store with id {store}")]
    UnknownStore { store: StoreId },
    /// A menu option with a key other than `1`..`9`.
    #[error("menu of {store}: digit {digit:?} is not 1-9")]
    InvalidMenuDigit { store: StoreId, digit: char },
    /// Two menu options with the same key.
    #[error("menu of {store}: digit {digit:?} appears twice")]
    DuplicateMenuDigit { store: StoreId, digit: char },
    /// The store's settings overrides are invalid (on write) or corrupt (on read).
    #[error("settings of store {number:?}: {source}")]
    Settings {
        number: String,
        #[source]
        source: SettingsError,
    },
    /// A stored value that the model cannot represent (edited outside this module).
    #[error("corrupt row in {table}.{column} of {store}: {value:?}")]
    CorruptRow { store: StoreId, table: &'static str, column: &'static str, value: String },
}

/// Labels a sqlx result with the operation that produced it.
trait QueryContext<T> {
    fn during(self, operation: &'static str) -> Result<T, StoreError>;
}

impl<T> QueryContext<T> for Result<T, sqlx::Error> {
    fn during(self, operation: &'static str) -> Result<T, StoreError> {
        self.map_err(|source| StoreError::Query { operation, source })
    }
}

/// A store as written by [`DirectoryStore::upsert_store`]; the number is the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewStore {
    pub name: String,
    /// The dialled number that selects the store; unique.
    pub number: String,
    pub language: Language,
    pub operator: TransferTarget,
    pub settings: StoreSettings,
}

/// A directory entry as written by [`DirectoryStore::replace_directory`].
///
/// Entries get new [`EntryId`]s at each replacement: an id identifies an entry
/// within one [`DirectoryVersion`] only (single-entry edits keep ids).
pub use super::NewEntry;

/// What [`DirectoryStore::seed_demo`] did for one demo store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeededStore {
    pub store: StoreId,
    pub version: DirectoryVersion,
    /// Whether the directory was written (false: it already held the demo content).
    pub changed: bool,
}

#[derive(Debug, Clone, Copy)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// Statement that makes the current transaction read one snapshot.
    fn snapshot_statement(self) -> Option<&'static str> {
        match self {
            // A SQLite read transaction in WAL mode reads one snapshot already.
            Backend::Sqlite => None,
            // READ COMMITTED (the default) takes a new snapshot per statement.
            Backend::Postgres => Some("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"),
        }
    }
}

#[derive(Debug, Clone)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// Runs `$body` with `$pool` bound to whichever pool `$store` holds and `$backend`
/// to its [`Backend`]: the body is compiled once per backend, so its queries must
/// be valid SQL for both.
macro_rules! on_pool {
    ($store:expr, |$pool:ident, $backend:ident| $body:expr) => {
        match &$store.pool {
            Pool::Sqlite($pool) => {
                #[allow(unused_variables)]
                let $backend = Backend::Sqlite;
                $body
            }
            Pool::Postgres($pool) => {
                #[allow(unused_variables)]
                let $backend = Backend::Postgres;
                $body
            }
        }
    };
}

/// Stores and their directories in a SQL database. Cheap to clone (a pool handle).
#[derive(Debug, Clone)]
pub struct DirectoryStore {
    pool: Pool,
    /// Told of every committed change (see [`DirectoryEvents`]).
    events: DirectoryEvents,
}

type StoreRow = (i64, String, String, String, String, String, String);
type EntryRow =
    (i64, String, String, Option<String>, Option<String>, String, String, Option<String>, Option<String>, bool);
type MenuRow = (String, String, String, String);

/// The store columns in [`StoreRow`] order, as a literal so `concat!` can build
/// static queries from it (sqlx refuses unaudited dynamic SQL strings).
macro_rules! select_store {
    () => {
        "SELECT id, name, number, language, operator_kind, operator_value, settings FROM stores"
    };
}

impl DirectoryStore {
    /// Opens the database at `url` (`sqlite://path/to/file.db`, `sqlite::memory:`,
    /// `postgres://…`) and applies pending migrations. A SQLite file and its
    /// folder are created if missing, and the file is put in WAL mode.
    pub async fn open(url: &str) -> Result<DirectoryStore, StoreError> {
        let scheme = url.split(':').next().unwrap_or_default();
        let pool = match scheme {
            "sqlite" => {
                let options = SqliteConnectOptions::from_str(url)
                    .map_err(|source| StoreError::InvalidUrl { backend: "sqlite", source })?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT);
                let folder = options.get_filename().parent().filter(|p| !p.as_os_str().is_empty());
                if let Some(folder) = folder
                    && !is_in_memory(url)
                {
                    std::fs::create_dir_all(folder)
                        .map_err(|source| StoreError::CreateFolder { path: folder.to_path_buf(), source })?;
                }
                let pool = SqlitePoolOptions::new()
                    .connect_with(options)
                    .await
                    .map_err(|source| StoreError::Connect { backend: "sqlite", source })?;
                SQLITE_MIGRATIONS.run(&pool).await.map_err(|source| StoreError::Migrate { source })?;
                Pool::Sqlite(pool)
            }
            "postgres" | "postgresql" => {
                let options = PgConnectOptions::from_str(url)
                    .map_err(|source| StoreError::InvalidUrl { backend: "postgres", source })?;
                let pool = PgPoolOptions::new()
                    .connect_with(options)
                    .await
                    .map_err(|source| StoreError::Connect { backend: "postgres", source })?;
                POSTGRES_MIGRATIONS.run(&pool).await.map_err(|source| StoreError::Migrate { source })?;
                Pool::Postgres(pool)
            }
            other => return Err(StoreError::UnsupportedUrl { scheme: other.to_owned() }),
        };
        Ok(DirectoryStore { pool, events: DirectoryEvents::new() })
    }

    /// Where committed changes are announced; subscribe to refresh grammars.
    pub fn events(&self) -> &DirectoryEvents {
        &self.events
    }

    /// Every store, ordered by number.
    pub async fn list_stores(&self) -> Result<Vec<Store>, StoreError> {
        let rows: Vec<StoreRow> = on_pool!(self, |pool, backend| {
            sqlx::query_as(concat!(select_store!(), " ORDER BY number")).fetch_all(pool).await
        })
        .during("list stores")?;
        rows.into_iter().map(|row| store_from_row(row).map(|(store, _)| store)).collect()
    }

    /// The settings overrides of one store.
    pub async fn store_settings(&self, store: StoreId) -> Result<StoreSettings, StoreError> {
        let row: Option<StoreRow> = on_pool!(self, |pool, backend| {
            sqlx::query_as(concat!(select_store!(), " WHERE id = $1")).bind(store.0).fetch_optional(pool).await
        })
        .during("load store settings")?;
        let row = row.ok_or(StoreError::UnknownStore { store })?;
        Ok(store_from_row(row)?.1)
    }

    /// Creates the store with this number, or updates its name, language, operator
    /// and settings. A new store starts with an empty directory at version 0.
    pub async fn upsert_store(&self, store: &NewStore) -> Result<StoreId, StoreError> {
        let settings = store.settings.to_json_text();
        let (operator_kind, operator_value) = target_columns(&store.operator);
        on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin store upsert")?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO stores (name, number, language, operator_kind, operator_value, settings) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (number) DO UPDATE SET name = excluded.name, language = excluded.language, \
                 operator_kind = excluded.operator_kind, operator_value = excluded.operator_value, \
                 settings = excluded.settings \
                 RETURNING id",
            )
            .bind(&store.name)
            .bind(&store.number)
            .bind(language_code(store.language))
            .bind(operator_kind)
            .bind(operator_value)
            .bind(&settings)
            .fetch_one(&mut *tx)
            .await
            .during("upsert store")?;
            sqlx::query(
                "INSERT INTO directory_versions (store_id, version) VALUES ($1, 0) \
                 ON CONFLICT (store_id) DO NOTHING",
            )
            .bind(id)
            .execute(&mut *tx)
            .await
            .during("create directory version")?;
            tx.commit().await.during("commit store upsert")?;
            Ok(StoreId(id))
        })
    }

    /// The directory of the store callers reach by dialling `number`, if any.
    pub async fn load_directory_by_number(&self, number: &str) -> Result<Option<Directory>, StoreError> {
        self.load(StoreKey::Number(number)).await
    }

    /// The directory of one store.
    pub async fn load_directory(&self, store: StoreId) -> Result<Directory, StoreError> {
        self.load(StoreKey::Id(store)).await?.ok_or(StoreError::UnknownStore { store })
    }

    async fn load(&self, key: StoreKey<'_>) -> Result<Option<Directory>, StoreError> {
        let loaded: Option<(StoreRow, i64, Vec<EntryRow>, Vec<MenuRow>)> = on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin directory load")?;
            if let Some(statement) = backend.snapshot_statement() {
                sqlx::query(statement).execute(&mut *tx).await.during("set snapshot isolation")?;
            }
            let store_row: Option<StoreRow> = match key {
                StoreKey::Id(id) => {
                    sqlx::query_as(concat!(select_store!(), " WHERE id = $1")).bind(id.0).fetch_optional(&mut *tx).await
                }
                StoreKey::Number(number) => {
                    sqlx::query_as(concat!(select_store!(), " WHERE number = $1"))
                        .bind(number)
                        .fetch_optional(&mut *tx)
                        .await
                }
            }
            .during("load store")?;
            match store_row {
                None => None,
                Some(store_row) => {
                    let id = store_row.0;
                    let version: Option<(i64,)> =
                        sqlx::query_as("SELECT version FROM directory_versions WHERE store_id = $1")
                            .bind(id)
                            .fetch_optional(&mut *tx)
                            .await
                            .during("load directory version")?;
                    let entries: Vec<EntryRow> = sqlx::query_as(
                        "SELECT id, display_name, aliases, department, extension, target_kind, target_value, \
                         fallback_kind, fallback_value, enabled FROM entries WHERE store_id = $1 ORDER BY position",
                    )
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .during("load entries")?;
                    let menu: Vec<MenuRow> = sqlx::query_as(
                        "SELECT digit, label, target_kind, target_value FROM menu_options \
                         WHERE store_id = $1 ORDER BY digit",
                    )
                    .bind(id)
                    .fetch_all(&mut *tx)
                    .await
                    .during("load menu")?;
                    // A store written by upsert_store always has a version row; 0 is
                    // the version of an empty directory.
                    Some((store_row, version.map_or(0, |(v,)| v), entries, menu))
                }
            }
        });
        let Some((store_row, version, entry_rows, menu_rows)) = loaded else {
            return Ok(None);
        };
        let (store, _settings) = store_from_row(store_row)?;
        let entries = entry_rows.into_iter().map(|row| entry_from_row(store.id, row)).collect::<Result<_, _>>()?;
        let menu = menu_rows.into_iter().map(|row| menu_from_row(store.id, row)).collect::<Result<_, _>>()?;
        Ok(Some(Directory { store, version: DirectoryVersion(version), entries, menu }))
    }

    /// Replaces a store's entries and menu and bumps its directory version, in one
    /// transaction. Returns the new version.
    pub async fn replace_directory(
        &self,
        store: StoreId,
        entries: &[NewEntry],
        menu: &[MenuOption],
    ) -> Result<DirectoryVersion, StoreError> {
        validate_menu(store, menu)?;
        let entry_columns: Vec<_> = entries
            .iter()
            .map(|entry| {
                let fallback = entry.fallback.as_ref().map(target_columns);
                (serde_json::Value::from(entry.aliases.clone()).to_string(), target_columns(&entry.target), fallback)
            })
            .collect();
        on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin directory replacement")?;
            // The version bump comes first: as the transaction's first statement is a
            // write, SQLite takes the write lock at once (a read first could not be
            // upgraded if another writer committed meanwhile), and a missing store
            // shows up as a foreign-key violation.
            let bumped: Result<(i64,), sqlx::Error> = sqlx::query_as(
                "INSERT INTO directory_versions (store_id, version) VALUES ($1, 1) \
                 ON CONFLICT (store_id) DO UPDATE SET version = directory_versions.version + 1 \
                 RETURNING version",
            )
            .bind(store.0)
            .fetch_one(&mut *tx)
            .await;
            let (version,) = match bumped {
                Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => {
                    return Err(StoreError::UnknownStore { store });
                }
                other => other.during("bump directory version")?,
            };
            sqlx::query("DELETE FROM entries WHERE store_id = $1")
                .bind(store.0)
                .execute(&mut *tx)
                .await
                .during("delete entries")?;
            sqlx::query("DELETE FROM menu_options WHERE store_id = $1")
                .bind(store.0)
                .execute(&mut *tx)
                .await
                .during("delete menu")?;
            for (position, (entry, (aliases, (kind, value), fallback))) in entries.iter().zip(&entry_columns).enumerate() {
                sqlx::query(
                    "INSERT INTO entries (store_id, position, display_name, aliases, department, extension, \
                     target_kind, target_value, fallback_kind, fallback_value, enabled) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(store.0)
                // A directory holds far fewer than i64::MAX entries.
                .bind(position as i64)
                .bind(&entry.display_name)
                .bind(aliases)
                .bind(&entry.department)
                .bind(&entry.extension)
                .bind(*kind)
                .bind(*value)
                .bind(fallback.map(|(kind, _)| kind))
                .bind(fallback.map(|(_, value)| value))
                .bind(entry.enabled)
                .execute(&mut *tx)
                .await
                .during("insert entry")?;
            }
            for option in menu {
                let (kind, value) = target_columns(&option.target);
                sqlx::query(
                    "INSERT INTO menu_options (store_id, digit, label, target_kind, target_value) \
                     VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(store.0)
                .bind(option.digit.to_string())
                .bind(&option.label)
                .bind(kind)
                .bind(value)
                .execute(&mut *tx)
                .await
                .during("insert menu option")?;
            }
            tx.commit().await.during("commit directory replacement")?;
            Ok(DirectoryVersion(version))
        })
        .inspect(|version| self.events.publish(store, *version))
    }

    /// Writes the demo stores ("1000", English; "2000", French) and their
    /// directories. Idempotent: a store whose directory already holds the demo
    /// content keeps its version.
    pub async fn seed_demo(&self) -> Result<Vec<SeededStore>, StoreError> {
        let mut seeded = Vec::new();
        for demo in demo::stores() {
            let store = self.upsert_store(&demo.store).await?;
            let current = self.load_directory(store).await?;
            let current_entries: Vec<NewEntry> = current.entries.iter().map(NewEntry::from).collect();
            if current_entries == demo.entries && current.menu == demo.menu && current.version.0 > 0 {
                seeded.push(SeededStore { store, version: current.version, changed: false });
            } else {
                let version = self.replace_directory(store, &demo.entries, &demo.menu).await?;
                seeded.push(SeededStore { store, version, changed: true });
            }
        }
        Ok(seeded)
    }
}

#[derive(Debug, Clone, Copy)]
enum StoreKey<'a> {
    Id(StoreId),
    Number(&'a str),
}

fn is_in_memory(url: &str) -> bool {
    url.contains(":memory:") || url.contains("mode=memory")
}

fn validate_menu(store: StoreId, menu: &[MenuOption]) -> Result<(), StoreError> {
    let mut seen = [false; 10];
    for option in menu {
        let digit = option.digit;
        let Some(index) = digit.to_digit(10).filter(|d| *d >= 1) else {
            return Err(StoreError::InvalidMenuDigit { store, digit });
        };
        // to_digit(10) is at most 9: the index is in bounds.
        let slot = &mut seen[index as usize];
        if *slot {
            return Err(StoreError::DuplicateMenuDigit { store, digit });
        }
        *slot = true;
    }
    Ok(())
}

fn language_code(language: Language) -> &'static str {
    match language {
        Language::Fr => "fr",
        Language::En => "en",
        Language::Ko => "ko",
    }
}

fn parse_language(store: StoreId, code: String) -> Result<Language, StoreError> {
    match code.as_str() {
        "fr" => Ok(Language::Fr),
        "en" => Ok(Language::En),
        "ko" => Ok(Language::Ko),
        _ => Err(StoreError::CorruptRow { store, table: "stores", column: "language", value: code }),
    }
}

fn target_columns(target: &TransferTarget) -> (&'static str, &str) {
    match target {
        TransferTarget::Extension(ext) => ("extension", ext),
        TransferTarget::Uri(uri) => ("uri", uri),
    }
}

fn parse_target(store: StoreId, table: &'static str, kind: String, value: String) -> Result<TransferTarget, StoreError> {
    match kind.as_str() {
        "extension" => Ok(TransferTarget::Extension(value)),
        "uri" => Ok(TransferTarget::Uri(value)),
        _ => Err(StoreError::CorruptRow { store, table, column: "target_kind", value: kind }),
    }
}

fn store_from_row(row: StoreRow) -> Result<(Store, StoreSettings), StoreError> {
    let (id, name, number, language, operator_kind, operator_value, settings) = row;
    let id = StoreId(id);
    let settings = StoreSettings::from_json_text(&settings)
        .map_err(|source| StoreError::Settings { number: number.clone(), source })?;
    let store = Store {
        id,
        name,
        number,
        language: parse_language(id, language)?,
        operator: parse_target(id, "stores", operator_kind, operator_value)?,
    };
    Ok((store, settings))
}

fn entry_from_row(store: StoreId, row: EntryRow) -> Result<Entry, StoreError> {
    let (id, display_name, aliases, department, extension, target_kind, target_value, fallback_kind, fallback_value, enabled) =
        row;
    let aliases: Vec<String> = serde_json::from_str(&aliases).map_err(|_| StoreError::CorruptRow {
        store,
        table: "entries",
        column: "aliases",
        value: aliases.clone(),
    })?;
    Ok(Entry {
        id: EntryId(id),
        display_name,
        aliases,
        department,
        extension,
        target: parse_target(store, "entries", target_kind, target_value)?,
        fallback: match (fallback_kind, fallback_value) {
            (Some(kind), Some(value)) => Some(parse_target(store, "entries", kind, value)?),
            _ => None,
        },
        enabled,
    })
}

fn menu_from_row(store: StoreId, row: MenuRow) -> Result<MenuOption, StoreError> {
    let (digit, label, target_kind, target_value) = row;
    let mut chars = digit.chars();
    let parsed = match (chars.next(), chars.next()) {
        (Some(d), None) => d,
        _ => return Err(StoreError::CorruptRow { store, table: "menu_options", column: "digit", value: digit }),
    };
    Ok(MenuOption { digit: parsed, label, target: parse_target(store, "menu_options", target_kind, target_value)? })
}

// Declared after the macros above, which it uses.
pub mod admin;

#[cfg(test)]
mod tests {
    //! The store against a temporary SQLite file: round trips, per-store isolation,
    //! version bumps, validation, unknown keys and idempotent demo seeding.
    use super::*;
    use serde_json::json;
    use sqlx::Connection;

    async fn open_temp() -> (tempfile::TempDir, DirectoryStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("nested/folder/attendant.db").display());
        let store = DirectoryStore::open(&url).await.unwrap();
        (dir, store)
    }

    fn new_store(number: &str, language: Language) -> NewStore {
        NewStore {
            name: format!("Store {number}"),
            number: number.to_owned(),
            language,
            operator: TransferTarget::Extension("100".to_owned()),
            settings: StoreSettings::none(),
        }
    }

    fn person(name: &str, extension: &str) -> NewEntry {
        NewEntry {
            display_name: name.to_owned(),
            aliases: vec![],
            department: None,
            extension: Some(extension.to_owned()),
            target: TransferTarget::Extension(extension.to_owned()),
            fallback: None,
            enabled: true,
        }
    }

    fn option(digit: char, label: &str) -> MenuOption {
        MenuOption { digit, label: label.to_owned(), target: TransferTarget::Extension(format!("3{digit}")) }
    }

    fn names(directory: &Directory) -> Vec<&str> {
        directory.entries.iter().map(|e| e.display_name.as_str()).collect()
    }

    #[tokio::test]
    async fn directory_round_trips_through_the_database() {
        let (_dir, db) = open_temp().await;
        let mut new = new_store("1234", Language::Fr);
        new.operator = TransferTarget::Uri("sip:standard@pbx.example".to_owned());
        new.settings = StoreSettings::from_json(json!({"max_retries": 4})).unwrap();
        let id = db.upsert_store(&new).await.unwrap();
        let entries = vec![
            NewEntry {
                display_name: "Élodie Bernard".to_owned(),
                aliases: vec!["Élo".to_owned(), "la caissière \"principale\"".to_owned()],
                department: Some("Caisses".to_owned()),
                extension: Some("204".to_owned()),
                target: TransferTarget::Extension("204".to_owned()),
                fallback: Some(TransferTarget::Uri("sip:caisses@pbx.example".to_owned())),
                enabled: false,
            },
            NewEntry {
                display_name: "Drive".to_owned(),
                aliases: vec![],
                department: None,
                extension: None,
                target: TransferTarget::Uri("sip:drive@10.0.0.9:5070".to_owned()),
                fallback: None,
                enabled: true,
            },
            person("Anne Zola", "205"),
        ];
        let menu = vec![option('2', "la boucherie"), option('1', "la boulangerie")];
        let version = db.replace_directory(id, &entries, &menu).await.unwrap();

        let loaded = db.load_directory_by_number("1234").await.unwrap().expect("store 1234 exists");
        assert_eq!(loaded.version, version);
        assert_eq!(loaded.store, Store {
            id,
            name: "Store 1234".to_owned(),
            number: "1234".to_owned(),
            language: Language::Fr,
            operator: TransferTarget::Uri("sip:standard@pbx.example".to_owned()),
        });
        let back: Vec<NewEntry> = loaded.entries.iter().map(NewEntry::from).collect();
        assert_eq!(back, entries, "entries come back in the order given, field for field");
        let mut expected_menu = menu.clone();
        expected_menu.sort_by_key(|o| o.digit);
        assert_eq!(loaded.menu, expected_menu, "menu comes back ordered by digit");
        assert_eq!(db.load_directory(id).await.unwrap(), loaded);
        assert_eq!(db.store_settings(id).await.unwrap(), new.settings);
        assert_eq!(db.list_stores().await.unwrap(), vec![loaded.store.clone()]);
    }

    #[tokio::test]
    async fn loads_never_return_another_stores_rows() {
        let (_dir, db) = open_temp().await;
        let a = db.upsert_store(&new_store("1000", Language::En)).await.unwrap();
        let b = db.upsert_store(&new_store("2000", Language::Fr)).await.unwrap();
        db.replace_directory(a, &[person("Alice A", "201"), person("Shared Name", "202")], &[option('1', "a")])
            .await
            .unwrap();
        let b_version =
            db.replace_directory(b, &[person("Shared Name", "202"), person("Bob B", "203")], &[option('2', "b")])
                .await
                .unwrap();
        // Replacing A again must leave B untouched (rows and version).
        db.replace_directory(a, &[person("Alice A", "201")], &[]).await.unwrap();

        let loaded_a = db.load_directory_by_number("1000").await.unwrap().unwrap();
        let loaded_b = db.load_directory(b).await.unwrap();
        assert_eq!(names(&loaded_a), ["Alice A"]);
        assert!(loaded_a.menu.is_empty());
        assert_eq!(names(&loaded_b), ["Shared Name", "Bob B"]);
        assert_eq!(loaded_b.menu, [option('2', "b")]);
        assert_eq!(loaded_b.version, b_version);
        assert_eq!(loaded_b.store.id, b);
        let numbers: Vec<_> = db.list_stores().await.unwrap().into_iter().map(|s| s.number).collect();
        assert_eq!(numbers, ["1000", "2000"]);
    }

    #[tokio::test]
    async fn each_replacement_bumps_the_version_and_replaces_rows() {
        let (_dir, db) = open_temp().await;
        let id = db.upsert_store(&new_store("1000", Language::En)).await.unwrap();
        let fresh = db.load_directory(id).await.unwrap();
        assert_eq!(fresh.version, DirectoryVersion(0));
        assert!(fresh.entries.is_empty() && fresh.menu.is_empty());

        let steps: [&[NewEntry]; 3] =
            [&[person("One", "201")], &[person("Two", "202"), person("Three", "203")], &[]];
        for (i, entries) in steps.iter().enumerate() {
            let version = db.replace_directory(id, entries, &[]).await.unwrap();
            assert_eq!(version, DirectoryVersion(i as i64 + 1));
            let loaded = db.load_directory(id).await.unwrap();
            assert_eq!(loaded.version, version);
            assert_eq!(loaded.entries.len(), entries.len(), "rows replaced, not appended");
        }
        // Updating the store itself keeps the directory and its version.
        let mut renamed = new_store("1000", Language::Fr);
        renamed.name = "Renamed".to_owned();
        assert_eq!(db.upsert_store(&renamed).await.unwrap(), id, "the number is the key");
        let loaded = db.load_directory(id).await.unwrap();
        assert_eq!((loaded.store.name.as_str(), loaded.store.language), ("Renamed", Language::Fr));
        assert_eq!(loaded.version, DirectoryVersion(3));
    }

    #[tokio::test]
    async fn unknown_stores_are_reported() {
        let (_dir, db) = open_temp().await;
        assert_eq!(db.load_directory_by_number("9999").await.unwrap(), None);
        let missing = StoreId(42);
        assert!(matches!(db.load_directory(missing).await, Err(StoreError::UnknownStore { store }) if store == missing));
        assert!(matches!(db.store_settings(missing).await, Err(StoreError::UnknownStore { .. })));
        let replaced = db.replace_directory(missing, &[person("X", "1")], &[]).await;
        assert!(matches!(replaced, Err(StoreError::UnknownStore { store }) if store == missing), "{replaced:?}");
    }

    #[tokio::test]
    async fn invalid_menus_are_rejected_without_writing() {
        let (_dir, db) = open_temp().await;
        let id = db.upsert_store(&new_store("1000", Language::En)).await.unwrap();
        let cases: [(Vec<MenuOption>, &str); 4] = [
            (vec![option('0', "operator")], "digit '0' is not 1-9"),
            (vec![option('*', "repeat")], "digit '*' is not 1-9"),
            (vec![option('a', "x")], "digit 'a' is not 1-9"),
            (vec![option('1', "a"), option('2', "b"), option('1', "c")], "digit '1' appears twice"),
        ];
        for (menu, expected) in cases {
            let err = db.replace_directory(id, &[person("X", "1")], &menu).await.unwrap_err();
            assert!(err.to_string().contains(expected), "{menu:?}: {err}");
        }
        let loaded = db.load_directory(id).await.unwrap();
        assert_eq!(loaded.version, DirectoryVersion(0));
        assert!(loaded.entries.is_empty());
    }

    #[tokio::test]
    async fn demo_seed_is_idempotent() {
        let (_dir, db) = open_temp().await;
        let first = db.seed_demo().await.unwrap();
        assert!(first.iter().all(|s| s.changed && s.version == DirectoryVersion(1)), "{first:?}");
        let second = db.seed_demo().await.unwrap();
        let unchanged: Vec<_> = first.iter().map(|s| SeededStore { changed: false, ..*s }).collect();
        assert_eq!(second, unchanged, "a second seed writes nothing");

        let en = db.load_directory_by_number("1000").await.unwrap().unwrap();
        assert_eq!(en.store.language, Language::En);
        assert_eq!(en.store.operator, TransferTarget::Extension("100".to_owned()));
        assert_eq!(en.menu.iter().map(|o| o.digit).collect::<String>(), "1234");
        assert_eq!(en.entries.iter().filter(|e| e.display_name.ends_with(" Martin")).count(), 2, "homonyms");
        let fr = db.load_directory_by_number("2000").await.unwrap().unwrap();
        assert_eq!(fr.store.language, Language::Fr);
        assert!(fr.entries.iter().any(|e| e.display_name == "Boulangerie" && e.extension.as_deref() == Some("301")));
    }

    #[tokio::test]
    async fn open_creates_a_wal_file_and_reopens_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b/attendant.db");
        let url = format!("sqlite://{}", path.display());
        let db = DirectoryStore::open(&url).await.unwrap();
        let id = db.upsert_store(&new_store("1000", Language::En)).await.unwrap();
        drop(db);
        assert!(path.exists(), "the file and its folders are created");

        let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
        let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode").fetch_one(&mut conn).await.unwrap();
        assert_eq!(mode, "wal");
        conn.close().await.unwrap();

        // Reopening re-runs migrations as a no-op and keeps the data.
        let db = DirectoryStore::open(&url).await.unwrap();
        assert_eq!(db.load_directory(id).await.unwrap().store.number, "1000");
    }

    #[tokio::test]
    async fn bad_urls_are_named() {
        let cases = [
            ("mysql://localhost/db", "unsupported database URL scheme \"mysql\""),
            ("var/attendant.db", "unsupported database URL scheme \"var/attendant.db\""),
        ];
        for (url, expected) in cases {
            let err = DirectoryStore::open(url).await.unwrap_err();
            assert!(err.to_string().contains(expected), "{url}: {err}");
        }
    }
}
