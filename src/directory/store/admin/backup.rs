//! Backup and restore: a JSON dump of every table, for the whole installation
//! or one store, and its restoration into an empty database.
//!
//! Rows are dumped column for column as stored (JSON columns stay text), ordered
//! by key, with no time stamp in the document: backing up a restored database
//! gives the same bytes, and a dump taken from SQLite restores into PostgreSQL
//! and back. Ids are kept, so references between tables (and ids an admin has
//! seen) survive.

use super::AdminError;
use crate::directory::StoreId;
// Backend and Pool are named by the on_pool! expansion.
use crate::directory::store::{Backend, DirectoryStore, Pool, QueryContext};

/// Identifies the document format; bumped when the layout changes.
pub const BACKUP_FORMAT: &str = "attendant-backup";
/// Layout version of [`Backup`] (the schema of migrations 0001-0002).
pub const BACKUP_VERSION: u32 = 1;

/// What to back up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupScope {
    /// Every store, the operator token and installation-wide audit records.
    Installation,
    /// One store's rows only (its tokens, audit records and calls included).
    Store(StoreId),
}

/// Errors of backup and restore beyond storage errors.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The document is not a backup this version can read.
    #[error("not an attendant backup (format {format:?}, version {version}); expected {BACKUP_FORMAT:?} version {BACKUP_VERSION}")]
    UnknownFormat { format: String, version: u32 },
    /// The document is not valid JSON of the expected shape.
    #[error("malformed backup: {source}")]
    Malformed {
        #[source]
        source: serde_json::Error,
    },
    /// Restoring needs an empty database; this one already has rows in `table`.
    #[error("the database is not empty (table {table} has rows): restore only into a new database")]
    NotEmpty { table: &'static str },
    /// Storage failed.
    #[error(transparent)]
    Storage(#[from] AdminError),
}

impl From<crate::directory::store::StoreError> for BackupError {
    fn from(e: crate::directory::store::StoreError) -> BackupError {
        BackupError::Storage(AdminError::Store(e))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct StoreRow {
    pub id: i64,
    pub name: String,
    pub number: String,
    pub language: String,
    pub operator_kind: String,
    pub operator_value: String,
    pub settings: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct VersionRow {
    pub store_id: i64,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct EntryRow {
    pub id: i64,
    pub store_id: i64,
    pub position: i64,
    pub display_name: String,
    pub aliases: String,
    pub department: Option<String>,
    pub extension: Option<String>,
    pub target_kind: String,
    pub target_value: String,
    pub fallback_kind: Option<String>,
    pub fallback_value: Option<String>,
    pub enabled: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct MenuRow {
    pub store_id: i64,
    pub digit: String,
    pub label: String,
    pub target_kind: String,
    pub target_value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct HoursRow {
    pub store_id: i64,
    pub hours: String,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct TokenRow {
    pub id: String,
    pub store_id: Option<i64>,
    /// The argon2 hash, never the secret: a restored token keeps working.
    pub secret_hash: String,
    pub label: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct AuditRow {
    pub id: i64,
    pub store_id: Option<i64>,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct CallRow {
    pub id: i64,
    pub store_id: i64,
    pub started_at: i64,
    pub caller: String,
    pub heard: String,
    pub understood: Option<String>,
    pub decision: String,
    pub transferred_to: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
    #[serde(default)]
    pub recognition: Option<String>,
    #[serde(default)]
    pub entry_name: Option<String>,
}

/// A dump of the database (or of one store), table by table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backup {
    pub format: String,
    pub version: u32,
    /// The store dumped, or `None` for the whole installation.
    pub store: Option<i64>,
    pub stores: Vec<StoreRow>,
    pub directory_versions: Vec<VersionRow>,
    pub entries: Vec<EntryRow>,
    pub menu_options: Vec<MenuRow>,
    pub store_hours: Vec<HoursRow>,
    pub admin_tokens: Vec<TokenRow>,
    pub audit_log: Vec<AuditRow>,
    pub calls: Vec<CallRow>,
}

impl Backup {
    /// The document as pretty JSON, one trailing newline.
    pub fn to_json(&self) -> Vec<u8> {
        // Plain data (strings, numbers, booleans) always serialises.
        let mut out = serde_json::to_vec_pretty(self).expect("backup rows serialise");
        out.push(b'\n');
        out
    }

    /// Reads a document written by [`Backup::to_json`], checking its format.
    pub fn from_json(bytes: &[u8]) -> Result<Backup, BackupError> {
        let backup: Backup = serde_json::from_slice(bytes).map_err(|source| BackupError::Malformed { source })?;
        if backup.format != BACKUP_FORMAT || backup.version != BACKUP_VERSION {
            return Err(BackupError::UnknownFormat { format: backup.format, version: backup.version });
        }
        Ok(backup)
    }
}

/// Each table's SELECT, all rows or one store's, ordered by key. Literals, so
/// that sqlx takes them as static SQL.
macro_rules! dump {
    ($pool:expr, $filter:expr, $row:ty, $all:literal, $one:literal, $op:literal) => {{
        let rows: Vec<$row> = match $filter {
            None => sqlx::query_as($all).fetch_all(&mut *$pool).await,
            Some(store) => sqlx::query_as($one).bind(store).fetch_all(&mut *$pool).await,
        }
        .during($op)?;
        rows
    }};
}

/// Tables in the order rows are restored (referenced tables first).
const TABLES: [&str; 8] =
    ["stores", "directory_versions", "entries", "menu_options", "store_hours", "admin_tokens", "audit_log", "calls"];

impl DirectoryStore {
    /// Dumps the installation or one store, in one read snapshot.
    pub async fn backup(&self, scope: BackupScope) -> Result<Backup, BackupError> {
        let filter: Option<i64> = match scope {
            BackupScope::Installation => None,
            BackupScope::Store(store) => Some(store.0),
        };
        let backup = on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin backup")?;
            if let Some(statement) = backend.snapshot_statement() {
                sqlx::query(statement).execute(&mut *tx).await.during("set snapshot isolation")?;
            }
            let stores = dump!(tx, filter, StoreRow,
                "SELECT id, name, number, language, operator_kind, operator_value, settings FROM stores ORDER BY id",
                "SELECT id, name, number, language, operator_kind, operator_value, settings FROM stores WHERE id = $1 ORDER BY id",
                "back up stores");
            if let (Some(store), true) = (filter, stores.is_empty()) {
                return Err(BackupError::Storage(AdminError::Store(
                    crate::directory::store::StoreError::UnknownStore { store: StoreId(store) },
                )));
            }
            Backup {
                format: BACKUP_FORMAT.to_owned(),
                version: BACKUP_VERSION,
                store: filter,
                stores,
                directory_versions: dump!(tx, filter, VersionRow,
                    "SELECT store_id, version FROM directory_versions ORDER BY store_id",
                    "SELECT store_id, version FROM directory_versions WHERE store_id = $1 ORDER BY store_id",
                    "back up directory versions"),
                entries: dump!(tx, filter, EntryRow,
                    "SELECT id, store_id, position, display_name, aliases, department, extension, target_kind, \
                     target_value, fallback_kind, fallback_value, enabled FROM entries ORDER BY id",
                    "SELECT id, store_id, position, display_name, aliases, department, extension, target_kind, \
                     target_value, fallback_kind, fallback_value, enabled FROM entries WHERE store_id = $1 ORDER BY id",
                    "back up entries"),
                menu_options: dump!(tx, filter, MenuRow,
                    "SELECT store_id, digit, label, target_kind, target_value FROM menu_options ORDER BY store_id, digit",
                    "SELECT store_id, digit, label, target_kind, target_value FROM menu_options WHERE store_id = $1 \
                     ORDER BY store_id, digit",
                    "back up menus"),
                store_hours: dump!(tx, filter, HoursRow,
                    "SELECT store_id, hours FROM store_hours ORDER BY store_id",
                    "SELECT store_id, hours FROM store_hours WHERE store_id = $1 ORDER BY store_id",
                    "back up opening hours"),
                admin_tokens: dump!(tx, filter, TokenRow,
                    "SELECT id, store_id, secret_hash, label, created_at, expires_at, revoked FROM admin_tokens ORDER BY id",
                    "SELECT id, store_id, secret_hash, label, created_at, expires_at, revoked FROM admin_tokens \
                     WHERE store_id = $1 ORDER BY id",
                    "back up tokens"),
                audit_log: dump!(tx, filter, AuditRow,
                    "SELECT id, store_id, at, actor, action, before, after FROM audit_log ORDER BY id",
                    "SELECT id, store_id, at, actor, action, before, after FROM audit_log WHERE store_id = $1 ORDER BY id",
                    "back up audit log"),
                calls: dump!(tx, filter, CallRow,
                    "SELECT id, store_id, started_at, caller, heard, understood, decision, transferred_to, outcome, recognition, \
                     entry_name FROM calls ORDER BY id",
                    "SELECT id, store_id, started_at, caller, heard, understood, decision, transferred_to, outcome, recognition, \
                     entry_name FROM calls \
                     WHERE store_id = $1 ORDER BY id",
                    "back up calls"),
            }
        });
        Ok(backup)
    }

    /// Restores a backup into this database, which must hold no store, token or
    /// audit record. All or nothing (one transaction); announces each restored
    /// store's version afterwards.
    pub async fn restore(&self, backup: &Backup) -> Result<(), BackupError> {
        if backup.format != BACKUP_FORMAT || backup.version != BACKUP_VERSION {
            return Err(BackupError::UnknownFormat { format: backup.format.clone(), version: backup.version });
        }
        on_pool!(self, |pool, backend| {
            let mut tx = pool.begin().await.during("begin restore")?;
            for table in TABLES {
                // TABLES holds fixed names: the statement is not built from input.
                let sql = sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {table}"));
                let (count,): (i64,) = sqlx::query_as(sql).fetch_one(&mut *tx).await.during("count rows")?;
                if count > 0 {
                    return Err(BackupError::NotEmpty { table });
                }
            }
            for r in &backup.stores {
                sqlx::query(
                    "INSERT INTO stores (id, name, number, language, operator_kind, operator_value, settings) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(r.id).bind(&r.name).bind(&r.number).bind(&r.language).bind(&r.operator_kind)
                .bind(&r.operator_value).bind(&r.settings)
                .execute(&mut *tx).await.during("restore stores")?;
            }
            for r in &backup.directory_versions {
                sqlx::query("INSERT INTO directory_versions (store_id, version) VALUES ($1, $2)")
                    .bind(r.store_id).bind(r.version)
                    .execute(&mut *tx).await.during("restore directory versions")?;
            }
            for r in &backup.entries {
                sqlx::query(
                    "INSERT INTO entries (id, store_id, position, display_name, aliases, department, extension, \
                     target_kind, target_value, fallback_kind, fallback_value, enabled) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
                )
                .bind(r.id).bind(r.store_id).bind(r.position).bind(&r.display_name).bind(&r.aliases)
                .bind(&r.department).bind(&r.extension).bind(&r.target_kind).bind(&r.target_value)
                .bind(&r.fallback_kind).bind(&r.fallback_value).bind(r.enabled)
                .execute(&mut *tx).await.during("restore entries")?;
            }
            for r in &backup.menu_options {
                sqlx::query(
                    "INSERT INTO menu_options (store_id, digit, label, target_kind, target_value) VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(r.store_id).bind(&r.digit).bind(&r.label).bind(&r.target_kind).bind(&r.target_value)
                .execute(&mut *tx).await.during("restore menus")?;
            }
            for r in &backup.store_hours {
                sqlx::query("INSERT INTO store_hours (store_id, hours) VALUES ($1, $2)")
                    .bind(r.store_id).bind(&r.hours)
                    .execute(&mut *tx).await.during("restore opening hours")?;
            }
            for r in &backup.admin_tokens {
                sqlx::query(
                    "INSERT INTO admin_tokens (id, store_id, secret_hash, label, created_at, expires_at, revoked) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&r.id).bind(r.store_id).bind(&r.secret_hash).bind(&r.label).bind(r.created_at)
                .bind(r.expires_at).bind(r.revoked)
                .execute(&mut *tx).await.during("restore tokens")?;
            }
            for r in &backup.audit_log {
                sqlx::query(
                    "INSERT INTO audit_log (id, store_id, at, actor, action, before, after) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(r.id).bind(r.store_id).bind(r.at).bind(&r.actor).bind(&r.action).bind(&r.before).bind(&r.after)
                .execute(&mut *tx).await.during("restore audit log")?;
            }
            for r in &backup.calls {
                sqlx::query(
                    "INSERT INTO calls (id, store_id, started_at, caller, heard, understood, decision, transferred_to, \
                     outcome, recognition, entry_name) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
                )
                .bind(r.id).bind(r.store_id).bind(r.started_at).bind(&r.caller).bind(&r.heard)
                .bind(&r.understood).bind(&r.decision).bind(&r.transferred_to)
                .bind(&r.outcome).bind(&r.recognition).bind(&r.entry_name)
                .execute(&mut *tx).await.during("restore calls")?;
            }
            if matches!(backend, Backend::Postgres) {
                // Explicit ids leave PostgreSQL's identity sequences behind:
                // move each past the largest restored id. (SQLite's AUTOINCREMENT
                // follows explicit ids by itself.)
                for table in ["stores", "entries", "audit_log", "calls"] {
                    let sql = sqlx::AssertSqlSafe(format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), COALESCE(MAX(id), 0) + 1, false) FROM {table}"
                    ));
                    sqlx::query(sql).execute(&mut *tx).await.during("advance identity sequence")?;
                }
            }
            tx.commit().await.during("commit restore")?;
        });
        for version in &backup.directory_versions {
            self.events.publish(StoreId(version.store_id), crate::directory::DirectoryVersion(version.version));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    //! Backup → restore into a new database → backup gives the same bytes, for
    //! the installation and for one store; restore refuses a non-empty database
    //! and foreign documents; restored tokens still authenticate.
    use super::*;
    use crate::directory::hours::{AfterHoursRoute, OpeningHours, WeeklyHours};
    use crate::directory::settings::StoreSettings;
    use crate::directory::store::NewStore;
    use crate::directory::store::admin::{Actor, NewCall, TokenScope};
    use crate::directory::{Language, MenuOption, NewEntry, TransferTarget};
    use jiff::Timestamp;

    async fn open(dir: &tempfile::TempDir, name: &str) -> DirectoryStore {
        DirectoryStore::open(&format!("sqlite://{}", dir.path().join(name).display())).await.unwrap()
    }

    fn actor() -> Actor {
        Actor { name: "t".into(), at: Timestamp::from_millisecond(1000).unwrap() }
    }

    /// Two stores with rows in every table.
    pub(crate) async fn populate(db: &DirectoryStore) -> (StoreId, String) {
        let mut first = None;
        for number in ["1000", "2000"] {
            let store = NewStore {
                name: format!("Store {number} « spécial »"),
                number: number.into(),
                language: Language::Fr,
                operator: TransferTarget::Uri("sip:op@pbx".into()),
                settings: StoreSettings::none(),
            };
            let id = db.create_store(&store, &actor()).await.unwrap();
            let entries = vec![
                NewEntry {
                    display_name: "Robert'); DROP TABLE entries;--".into(),
                    aliases: vec!["Bob \"le\" boss".into()],
                    department: Some("Direction".into()),
                    extension: Some("201".into()),
                    target: TransferTarget::Extension("201".into()),
                    fallback: Some(TransferTarget::Uri("sip:accueil@pbx".into())),
                    enabled: false,
                },
                NewEntry {
                    display_name: "Élodie".into(),
                    aliases: vec![],
                    department: None,
                    extension: None,
                    target: TransferTarget::Uri("sip:elodie@pbx".into()),
                    fallback: None,
                    enabled: true,
                },
            ];
            db.import_entries(id, &entries, &actor()).await.unwrap();
            db.set_menu(id, &[MenuOption { digit: '3', label: "drive".into(), target: TransferTarget::Extension("3".into()) }], &actor())
                .await
                .unwrap();
            let hours = OpeningHours {
                time_zone: "Europe/Paris".into(),
                weekly: WeeklyHours::default(),
                holidays: vec![],
                after_hours: AfterHoursRoute::ClosedMessage { message: "Fermé".into() },
            };
            db.set_opening_hours(id, Some(&hours), &actor()).await.unwrap();
            db.record_call(&NewCall {
                store: id,
                started_at: Timestamp::from_millisecond(5000).unwrap(),
                caller_number: "+33600000001",
                heard: "élodie",
                understood: Some("Élodie"),
                decision: "transfer",
                transferred_to: Some("sip:elodie@pbx"),
                outcome: Some("speech"),
                recognition: Some("at_once"),
                entry_name: Some("Élodie"),
            })
            .await
            .unwrap();
            db.issue_token(TokenScope::Store(id), "gérant", None, &actor()).await.unwrap();
            first.get_or_insert(id);
        }
        let operator = db.issue_token(TokenScope::Operator, "op", None, &actor()).await.unwrap().token;
        (first.unwrap(), operator)
    }

    #[tokio::test]
    async fn backup_restore_backup_is_byte_identical() {
        let dir = tempfile::tempdir().unwrap();
        let source = open(&dir, "source.db").await;
        let (store, operator) = populate(&source).await;
        for scope in [BackupScope::Installation, BackupScope::Store(store)] {
            let first = source.backup(scope).await.unwrap().to_json();
            let name = format!("restored-{scope:?}.db").replace(['(', ')'], "");
            let target = open(&dir, &name).await;
            let mut events = target.events().subscribe();
            target.restore(&Backup::from_json(&first).unwrap()).await.unwrap();
            let second = target.backup(scope).await.unwrap().to_json();
            assert_eq!(String::from_utf8(second).unwrap(), String::from_utf8(first.clone()).unwrap(), "{scope:?}");
            assert!(events.try_recv().is_ok(), "restored stores are announced");
            assert_eq!(target.load_directory(store).await.unwrap(), source.load_directory(store).await.unwrap());
            if scope == BackupScope::Installation {
                let now = Timestamp::from_millisecond(2000).unwrap();
                assert_eq!(target.verify_token(&operator, now).await.unwrap().scope, TokenScope::Operator);
                // New rows get fresh ids after the restored ones.
                let (_, _) = target.create_entry(store, &NewEntry {
                    display_name: "New".into(), aliases: vec![], department: None, extension: Some("299".into()),
                    target: TransferTarget::Extension("299".into()), fallback: None, enabled: true,
                }, &actor()).await.unwrap();
            } else {
                let backup = Backup::from_json(&first).unwrap();
                assert!(backup.stores.iter().all(|s| s.id == store.0));
                assert!(backup.admin_tokens.iter().all(|t| t.store_id == Some(store.0)), "no operator token in a store backup");
            }
        }
    }

    #[tokio::test]
    async fn restore_refuses_a_database_with_data_and_foreign_documents() {
        let dir = tempfile::tempdir().unwrap();
        let source = open(&dir, "source.db").await;
        populate(&source).await;
        let backup = source.backup(BackupScope::Installation).await.unwrap();
        assert!(matches!(source.restore(&backup).await, Err(BackupError::NotEmpty { table: "stores" })));
        let mut foreign = backup.clone();
        foreign.version = 99;
        let target = open(&dir, "target.db").await;
        assert!(matches!(target.restore(&foreign).await, Err(BackupError::UnknownFormat { version: 99, .. })));
        assert!(matches!(Backup::from_json(b"{\"format\": 1}"), Err(BackupError::Malformed { .. })));
        assert!(matches!(source.backup(BackupScope::Store(StoreId(77))).await, Err(BackupError::Storage(_))));
    }
}
