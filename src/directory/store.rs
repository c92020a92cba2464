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
//! migrations (`migrations/sqlite`, `migrations/postgres`: the DDL differs in
//! identity columns and integer types only) and its native types, with no
//! run-time type erasure. The queries are written once in the SQL both accept
//! (`$n` placeholders, `ON CONFLICT … DO UPDATE`, `RETURNING`, JSON kept as TEXT)
//! and the `on_pool!` macro instantiates each query body for both pool types.
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
use super::{
    Directory, DirectoryVersion, Entry, EntryId, Language, MenuOption, Store, StoreId,
    TransferTarget,
};

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
    #[error("invalid {backend} database URL")]
    InvalidUrl {
        backend: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// The folder that should hold the SQLite file could not be created.
    #[error("cannot create database folder {path}")]
    CreateFolder {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// Connecting to the database failed.
    #[error("cannot connect to the {backend} database")]
    Connect {
        backend: &'static str,
        #[source]
        source: sqlx::Error,
    },
    /// Applying the embedded migrations failed.
    #[error("database migrations failed")]
    Migrate {
        #[source]
        source: sqlx::migrate::MigrateError,
    },
    /// A query failed; `operation` says which.
    #[error("{operation} failed")]
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
    #[error("settings of store {number:?} are invalid")]
    Settings {
        number: String,
        #[source]
        source: SettingsError,
    },
    /// A stored value that the model cannot represent (edited outside this module).
    #[error("corrupt row in {table}.{column} of {store}: {value:?}")]
    CorruptRow {
        store: StoreId,
        table: &'static str,
        column: &'static str,
        value: String,
    },
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

/// A store's current directory version ([`DirectoryStore::directory_versions`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreVersion {
    pub store: StoreId,
    /// The store's dialled number.
    pub number: String,
    pub version: DirectoryVersion,
}

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

/// Bumps the store's version inside the transaction and yields
/// `Result<DirectoryVersion, StoreError>`; a missing store is
/// [`StoreError::UnknownStore`]. Must be the transaction's first statement: as
/// it is a write, SQLite takes the write lock at once (a read first could not
/// be upgraded if another writer committed meanwhile), and a missing store
/// shows up as a foreign-key violation.
macro_rules! bump_version {
    ($tx:expr, $store:expr) => {{
        let store: StoreId = $store;
        let bumped: Result<(i64,), sqlx::Error> = sqlx::query_as(
            "INSERT INTO directory_versions (store_id, version) VALUES ($1, 1) \
             ON CONFLICT (store_id) DO UPDATE SET version = directory_versions.version + 1 \
             RETURNING version",
        )
        .bind(store.0)
        .fetch_one(&mut *$tx)
        .await;
        match bumped {
            Err(sqlx::Error::Database(e)) if e.is_foreign_key_violation() => Err(StoreError::UnknownStore { store }),
            other => other.during("bump directory version").map(|(version,)| DirectoryVersion(version)),
        }
    }};
}

/// The bound columns of an entry row (the store and position apart).
struct EntryColumns<'a> {
    aliases: String,
    target: (&'static str, &'a str),
    fallback: Option<(&'static str, &'a str)>,
}

impl<'a> EntryColumns<'a> {
    fn of(entry: &'a NewEntry) -> EntryColumns<'a> {
        EntryColumns {
            // A list of strings always serialises.
            aliases: serde_json::Value::from(entry.aliases.clone()).to_string(),
            target: target_columns(&entry.target),
            fallback: entry.fallback.as_ref().map(target_columns),
        }
    }
}

/// Rows per multi-row INSERT of entries: 11 parameters a row stays far below
/// SQLite's limit of 32,766 bound parameters, and PostgreSQL's of 65,535.
const ENTRY_INSERT_CHUNK: usize = 1000;

/// Inserts `$entries` (`&[NewEntry]`) as the store's entries at positions
/// 0, 1, …, a thousand rows per statement; the store's old entries must be
/// deleted first. Yields `Result<(), StoreError>`. The one place entries are
/// written in bulk (directory replacement, import).
macro_rules! insert_entries {
    ($tx:expr, $store:expr, $entries:expr) => {{
        let store: StoreId = $store;
        let entries: &[NewEntry] = $entries;
        let columns: Vec<EntryColumns<'_>> = entries.iter().map(EntryColumns::of).collect();
        let mut outcome = Ok(());
        for (chunk_index, chunk) in entries.chunks(ENTRY_INSERT_CHUNK).enumerate() {
            let mut insert = sqlx::QueryBuilder::new(
                "INSERT INTO entries (store_id, position, display_name, aliases, department, extension, \
                 target_kind, target_value, fallback_kind, fallback_value, enabled) ",
            );
            let first = chunk_index * ENTRY_INSERT_CHUNK;
            insert.push_values(chunk.iter().zip(&columns[first..]).enumerate(), |mut row, (i, (entry, cols))| {
                row.push_bind(store.0)
                    // A directory holds far fewer than i64::MAX entries.
                    .push_bind((first + i) as i64)
                    .push_bind(entry.display_name.clone())
                    .push_bind(cols.aliases.clone())
                    .push_bind(entry.department.clone())
                    .push_bind(entry.extension.clone())
                    .push_bind(cols.target.0)
                    .push_bind(cols.target.1.to_owned())
                    .push_bind(cols.fallback.map(|f| f.0))
                    .push_bind(cols.fallback.map(|f| f.1.to_owned()))
                    .push_bind(entry.enabled);
            });
            if let Err(error) = insert.build().execute(&mut *$tx).await.during("insert entries") {
                outcome = Err(error);
                break;
            }
        }
        outcome
    }};
}

/// Replaces the store's menu with `$menu` (`&[MenuOption]`, already
/// validated). Yields `Result<(), StoreError>`.
macro_rules! write_menu {
    ($tx:expr, $store:expr, $menu:expr) => {{
        let store: StoreId = $store;
        let menu: &[MenuOption] = $menu;
        let mut outcome =
            sqlx::query("DELETE FROM menu_options WHERE store_id = $1").bind(store.0).execute(&mut *$tx).await.during("delete menu").map(drop);
        for option in menu {
            if outcome.is_err() {
                break;
            }
            let (kind, value) = target_columns(&option.target);
            outcome = sqlx::query(
                "INSERT INTO menu_options (store_id, digit, label, target_kind, target_value) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(store.0)
            .bind(option.digit.to_string())
            .bind(&option.label)
            .bind(kind)
            .bind(value)
            .execute(&mut *$tx)
            .await
            .during("insert menu option")
            .map(drop);
        }
        outcome
    }};
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
                    .map_err(|source| StoreError::InvalidUrl {
                        backend: "sqlite",
                        source,
                    })?
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal)
                    .foreign_keys(true)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT);
                let folder = options
                    .get_filename()
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty());
                if let Some(folder) = folder
                    && !is_in_memory(url)
                {
                    std::fs::create_dir_all(folder).map_err(|source| StoreError::CreateFolder {
                        path: folder.to_path_buf(),
                        source,
                    })?;
                }
                let pool = SqlitePoolOptions::new()
                    .connect_with(options)
                    .await
                    .map_err(|source| StoreError::Connect {
                        backend: "sqlite",
                        source,
                    })?;
                SQLITE_MIGRATIONS
                    .run(&pool)
                    .await
                    .map_err(|source| StoreError::Migrate { source })?;
                Pool::Sqlite(pool)
            }
            "postgres" | "postgresql" => {
                let options =
                    PgConnectOptions::from_str(url).map_err(|source| StoreError::InvalidUrl {
                        backend: "postgres",
                        source,
                    })?;
                let pool = PgPoolOptions::new()
                    .connect_with(options)
                    .await
                    .map_err(|source| StoreError::Connect {
                        backend: "postgres",
                        source,
                    })?;
                POSTGRES_MIGRATIONS
                    .run(&pool)
                    .await
                    .map_err(|source| StoreError::Migrate { source })?;
                Pool::Postgres(pool)
            }
            other => {
                return Err(StoreError::UnsupportedUrl {
                    scheme: other.to_owned(),
                });
            }
        };
        Ok(DirectoryStore { pool, events: DirectoryEvents::new() })
    }

    /// Checks the database answers (`SELECT 1`), for readiness.
    pub async fn ping(&self) -> Result<(), StoreError> {
        on_pool!(self, |pool, backend| sqlx::query("SELECT 1").execute(pool).await.map(drop)).during("ping")
    }

    /// Every store's number and current directory version (0: never written),
    /// for the version gauges and the version check between nodes.
    pub async fn directory_versions(&self) -> Result<Vec<StoreVersion>, StoreError> {
        let rows: Vec<(i64, String, i64)> = on_pool!(self, |pool, backend| {
            sqlx::query_as(
                "SELECT s.id, s.number, COALESCE(v.version, 0) FROM stores s \
                 LEFT JOIN directory_versions v ON v.store_id = s.id ORDER BY s.number",
            )
            .fetch_all(pool)
            .await
        })
        .during("read directory versions")?;
        Ok(rows
            .into_iter()
            .map(|(id, number, version)| StoreVersion { store: StoreId(id), number, version: DirectoryVersion(version) })
            .collect())
    }

    /// Where committed changes are announced; subscribe to refresh grammars.
    pub fn events(&self) -> &DirectoryEvents {
        &self.events
    }

    /// Every store, ordered by number.
    pub async fn list_stores(&self) -> Result<Vec<Store>, StoreError> {
        let rows: Vec<StoreRow> = on_pool!(self, |pool, backend| {
            sqlx::query_as(concat!(select_store!(), " ORDER BY number"))
                .fetch_all(pool)
                .await
        })
        .during("list stores")?;
        rows.into_iter()
            .map(|row| store_from_row(row).map(|(store, _)| store))
            .collect()
    }

    /// The settings overrides of one store.
    pub async fn store_settings(&self, store: StoreId) -> Result<StoreSettings, StoreError> {
        let row: Option<StoreRow> = on_pool!(self, |pool, backend| {
            sqlx::query_as(concat!(select_store!(), " WHERE id = $1"))
                .bind(store.0)
                .fetch_optional(pool)
                .await
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
            .bind(store.language.code())
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
    pub async fn load_directory_by_number(
        &self,
        number: &str,
    ) -> Result<Option<Directory>, StoreError> {
        self.load(StoreKey::Number(number)).await
    }

    /// The directory of one store.
    pub async fn load_directory(&self, store: StoreId) -> Result<Directory, StoreError> {
        self.load(StoreKey::Id(store))
            .await?
            .ok_or(StoreError::UnknownStore { store })
    }

    async fn load(&self, key: StoreKey<'_>) -> Result<Option<Directory>, StoreError> {
        let loaded: (StoreRow, i64, Vec<EntryRow>, Vec<MenuRow>) =
            on_pool!(self, |pool, backend| {
                let mut tx = pool.begin().await.during("begin directory load")?;
                if let Some(statement) = backend.snapshot_statement() {
                    sqlx::query(statement)
                        .execute(&mut *tx)
                        .await
                        .during("set snapshot isolation")?;
                }
                let store_row: Option<StoreRow> = match key {
                    StoreKey::Id(id) => {
                        sqlx::query_as(concat!(select_store!(), " WHERE id = $1"))
                            .bind(id.0)
                            .fetch_optional(&mut *tx)
                            .await
                    }
                    StoreKey::Number(number) => {
                        sqlx::query_as(concat!(select_store!(), " WHERE number = $1"))
                            .bind(number)
                            .fetch_optional(&mut *tx)
                            .await
                    }
                }
                .during("load store")?;
                let Some(store_row) = store_row else {
                    tx.commit().await.during("end directory load")?;
                    return Ok(None);
                };
                let id = store_row.0;
                let version: Option<(i64,)> =
                    sqlx::query_as("SELECT version FROM directory_versions WHERE store_id = $1")
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await
                        .during("load directory version")?;
                let entries: Vec<EntryRow> = sqlx::query_as(
                    "SELECT id, display_name, aliases, department, extension, \
                     target_kind, target_value, fallback_kind, fallback_value, enabled \
                     FROM entries WHERE store_id = $1 ORDER BY position",
                )
                .bind(id)
                .fetch_all(&mut *tx)
                .await
                .during("load entries")?;
                let menu: Vec<MenuRow> = sqlx::query_as(
                    "SELECT digit, label, target_kind, target_value \
                     FROM menu_options WHERE store_id = $1 ORDER BY digit",
                )
                .bind(id)
                .fetch_all(&mut *tx)
                .await
                .during("load menu")?;
                tx.commit().await.during("end directory load")?;
                // A store written by upsert_store always has a version row; 0 is
                // the version of an empty directory.
                (store_row, version.map_or(0, |(v,)| v), entries, menu)
            });
        let (store_row, version, entry_rows, menu_rows) = loaded;

        let (store, _settings) = store_from_row(store_row)?;
        let entries = entry_rows
            .into_iter()
            .map(|row| entry_from_row(store.id, row))
            .collect::<Result<_, _>>()?;
        let menu = menu_rows
            .into_iter()
            .map(|row| menu_from_row(store.id, row))
            .collect::<Result<_, _>>()?;
        Ok(Some(Directory {
            store,
            version: DirectoryVersion(version),
            entries,
            menu,
        }))
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
        on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin directory replacement")?;
            let version = bump_version!(tx, store)?;
            sqlx::query("DELETE FROM entries WHERE store_id = $1")
                .bind(store.0)
                .execute(&mut *tx)
                .await
                .during("delete entries")?;
            insert_entries!(tx, store, entries)?;
            write_menu!(tx, store, menu)?;
            tx.commit().await.during("commit directory replacement")?;
            Ok(version)
        })
        .inspect(|version| self.events.publish(store, *version))
    }

    /// Writes the demo stores ("1000", English; "2000", French) and their
    /// directories, each only when no store has its number yet: a demo store
    /// that exists (seeded earlier, then edited by its admins) is left as it
    /// is, so `run --demo` at every restart never undoes their edits.
    pub async fn seed_demo(&self) -> Result<Vec<SeededStore>, StoreError> {
        let mut seeded = Vec::new();
        for demo in demo::stores() {
            if let Some(current) = self.load_directory_by_number(&demo.store.number).await? {
                seeded.push(SeededStore { store: current.store.id, version: current.version, changed: false });
                continue;
            }
            let store = self.upsert_store(&demo.store).await?;
            let version = self.replace_directory(store, &demo.entries, &demo.menu).await?;
            seeded.push(SeededStore { store, version, changed: true });
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

fn parse_language(store: StoreId, code: String) -> Result<Language, StoreError> {
    Language::from_code(&code).ok_or(StoreError::CorruptRow {
        store,
        table: "stores",
        column: "language",
        value: code,
    })
}

fn target_columns(target: &TransferTarget) -> (&'static str, &str) {
    match target {
        TransferTarget::Extension(ext) => ("extension", ext),
        TransferTarget::Uri(uri) => ("uri", uri),
    }
}

fn parse_target(
    store: StoreId,
    table: &'static str,
    kind: String,
    value: String,
) -> Result<TransferTarget, StoreError> {
    match kind.as_str() {
        "extension" => Ok(TransferTarget::Extension(value)),
        "uri" => Ok(TransferTarget::Uri(value)),
        _ => Err(StoreError::CorruptRow {
            store,
            table,
            column: "target_kind",
            value: kind,
        }),
    }
}

fn store_from_row(row: StoreRow) -> Result<(Store, StoreSettings), StoreError> {
    let (id, name, number, language, operator_kind, operator_value, settings) = row;
    let id = StoreId(id);
    let settings =
        StoreSettings::from_json_text(&settings).map_err(|source| StoreError::Settings {
            number: number.clone(),
            source,
        })?;
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
        _ => {
            return Err(StoreError::CorruptRow {
                store,
                table: "menu_options",
                column: "digit",
                value: digit,
            });
        }
    };
    Ok(MenuOption {
        digit: parsed,
        label,
        target: parse_target(store, "menu_options", target_kind, target_value)?,
    })
}

// Declared after the macros above, which it uses.
pub mod admin;
pub mod notify;

#[cfg(test)]
mod tests;
