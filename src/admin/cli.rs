//! Command-line administration: the same storage calls as the HTTP API, for the
//! installation's operators (`attendant admin …`, `attendant directory …`,
//! `attendant backup|restore`). Every change is audited as `cli:<user>`.

use std::io::Write;
use std::path::PathBuf;

use crate::directory::import::{self, Format, ImportLimits};
use crate::directory::store::DirectoryStore;
use crate::directory::store::admin::{Actor, TokenScope};
use crate::directory::store::admin::backup::{Backup, BackupScope};
use crate::directory::{NewEntry, StoreId};

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error("no store has the number {number}")]
    UnknownStore { number: String },
    #[error("cannot read {path}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write the output")]
    Write(#[source] std::io::Error),
    #[error("cannot tell the format of {path}: use --format csv|json")]
    UnknownFormat { path: PathBuf },
    /// The file's problems, one per line after the count.
    #[error("{}", rejected_text(.0))]
    Rejected(#[from] import::ImportRejected),
    #[error(transparent)]
    Store(#[from] crate::directory::store::StoreError),
    #[error(transparent)]
    Admin(#[from] crate::directory::store::admin::AdminError),
    #[error(transparent)]
    Backup(#[from] crate::directory::store::admin::backup::BackupError),
}

fn rejected_text(rejected: &import::ImportRejected) -> String {
    let mut text = rejected.to_string();
    for problem in &rejected.problems {
        text.push_str("\n  ");
        text.push_str(&problem.to_string());
    }
    text
}

/// `attendant directory …`
#[derive(Debug, clap::Subcommand)]
pub enum DirectoryCommand {
    /// Replace a store's entries with a CSV or JSON file (validated whole first;
    /// one bad line rejects the file and nothing changes).
    Import {
        /// The store's number.
        #[arg(long)]
        store: String,
        file: PathBuf,
        /// csv or json (default: from the file name).
        #[arg(long)]
        format: Option<Format>,
        /// Show the diff, change nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Print a store's entries as CSV or JSON (re-importable as is).
    Export {
        #[arg(long)]
        store: String,
        #[arg(long, default_value = "csv")]
        format: Format,
    },
    /// Show what importing the file would change.
    Diff {
        #[arg(long)]
        store: String,
        file: PathBuf,
        #[arg(long)]
        format: Option<Format>,
    },
}

/// `attendant admin …`
#[derive(Debug, clap::Subcommand)]
pub enum AdminCommand {
    /// Issue an API token (printed once; only its hash is stored).
    Token {
        /// A store admin token for this store number; without it, the operator token
        /// (which replaces the previous operator token).
        #[arg(long)]
        store: Option<String>,
        #[arg(long, default_value = "cli")]
        label: String,
        /// Days until the token expires; 0: never.
        #[arg(long, default_value_t = 90)]
        expires_in_days: u32,
    },
}

impl clap::ValueEnum for Format {
    fn value_variants<'a>() -> &'a [Self] {
        &[Format::Csv, Format::Json]
    }
    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        Some(clap::builder::PossibleValue::new(match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }))
    }
}

fn actor() -> Actor {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".to_owned());
    Actor { name: format!("cli:{user}"), at: jiff::Timestamp::now() }
}

async fn store_id(store: &DirectoryStore, number: &str) -> Result<StoreId, CliError> {
    match store.load_directory_by_number(number).await? {
        Some(directory) => Ok(directory.store.id),
        None => Err(CliError::UnknownStore { number: number.to_owned() }),
    }
}

fn read_entries(path: &PathBuf, format: Option<Format>) -> Result<Vec<NewEntry>, CliError> {
    let format = format.or_else(|| Format::from_path(path)).ok_or_else(|| CliError::UnknownFormat { path: path.clone() })?;
    let bytes = std::fs::read(path).map_err(|source| CliError::Read { path: path.clone(), source })?;
    Ok(import::parse(&bytes, format, ImportLimits::default())?)
}

fn print_diff(out: &mut impl Write, diff: &import::DirectoryDiff) -> Result<(), CliError> {
    let w = |out: &mut dyn Write, line: String| writeln!(out, "{line}").map_err(CliError::Write);
    for e in &diff.added {
        w(out, format!("+ {}", e.key()))?;
    }
    for (old, new) in &diff.changed {
        w(out, format!("~ {} ({})", new.key(), describe_change(old, new)))?;
    }
    for e in &diff.removed {
        w(out, format!("- {}", e.key()))?;
    }
    w(out, format!("{} added, {} changed, {} removed, {} unchanged", diff.added.len(), diff.changed.len(), diff.removed.len(), diff.unchanged))
}

fn describe_change(old: &NewEntry, new: &NewEntry) -> String {
    import::changed_fields(old, new).join(", ")
}

/// Runs `attendant directory …`, writing its report to `out`.
pub async fn directory(store: &DirectoryStore, command: DirectoryCommand, out: &mut impl Write) -> Result<(), CliError> {
    match command {
        DirectoryCommand::Import { store: number, file, format, dry_run } => {
            let id = store_id(store, &number).await?;
            let entries = read_entries(&file, format)?;
            if dry_run {
                let current: Vec<NewEntry> = store.load_directory(id).await?.entries.iter().map(NewEntry::from).collect();
                return print_diff(out, &import::diff(&current, &entries));
            }
            let (version, diff) = store.import_entries(id, &entries, &actor()).await?;
            print_diff(out, &diff)?;
            writeln!(out, "store {number} is now at directory version {}", version.0).map_err(CliError::Write)
        }
        DirectoryCommand::Diff { store: number, file, format } => {
            let id = store_id(store, &number).await?;
            let entries = read_entries(&file, format)?;
            let current: Vec<NewEntry> = store.load_directory(id).await?.entries.iter().map(NewEntry::from).collect();
            print_diff(out, &import::diff(&current, &entries))
        }
        DirectoryCommand::Export { store: number, format } => {
            let id = store_id(store, &number).await?;
            let entries: Vec<NewEntry> = store.load_directory(id).await?.entries.iter().map(NewEntry::from).collect();
            out.write_all(&import::export(&entries, format)).map_err(CliError::Write)
        }
    }
}

/// Runs `attendant admin …`.
pub async fn admin(store: &DirectoryStore, command: AdminCommand, out: &mut impl Write) -> Result<(), CliError> {
    match command {
        AdminCommand::Token { store: number, label, expires_in_days } => {
            let scope = match number {
                Some(number) => TokenScope::Store(store_id(store, &number).await?),
                None => TokenScope::Operator,
            };
            let expires_at = (expires_in_days > 0)
                .then(|| jiff::Timestamp::now() + jiff::SignedDuration::from_hours(24 * i64::from(expires_in_days)));
            let issued = store.issue_token(scope, &label, expires_at, &actor()).await?;
            writeln!(out, "{}", issued.token).map_err(CliError::Write)
        }
    }
}

/// Writes a JSON backup of the installation, or of one store.
pub async fn backup(store: &DirectoryStore, number: Option<&str>, out: &mut impl Write) -> Result<(), CliError> {
    let scope = match number {
        Some(number) => BackupScope::Store(store_id(store, number).await?),
        None => BackupScope::Installation,
    };
    out.write_all(&store.backup(scope).await?.to_json()).map_err(CliError::Write)
}

/// Restores a backup into an empty database.
pub async fn restore(store: &DirectoryStore, path: &PathBuf) -> Result<(), CliError> {
    let bytes = std::fs::read(path).map_err(|source| CliError::Read { path: path.clone(), source })?;
    Ok(store.restore(&Backup::from_json(&bytes)?).await?)
}

#[cfg(test)]
mod tests {
    //! The CLI commands change the directory exactly like the API: a rejected file
    //! changes nothing, a dry run changes nothing, export re-imports to the same
    //! entries, and backup → restore → backup is byte-identical.
    use super::*;

    async fn demo_store() -> (tempfile::TempDir, DirectoryStore) {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("cli.db").display());
        let store = DirectoryStore::open(&url).await.unwrap();
        store.seed_demo().await.unwrap();
        (dir, store)
    }

    async fn run_directory(store: &DirectoryStore, command: DirectoryCommand) -> Result<String, CliError> {
        let mut out = Vec::new();
        directory(store, command, &mut out).await?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[tokio::test]
    async fn import_dry_run_export_and_rejection() {
        let (dir, store) = demo_store().await;
        let before = store.load_directory_by_number("1000").await.unwrap().unwrap();
        let csv = dir.path().join("staff.csv");
        std::fs::write(&csv, "name,extension\nNew Person,555\n").unwrap();
        let dry = run_directory(&store, DirectoryCommand::Import { store: "1000".into(), file: csv.clone(), format: None, dry_run: true }).await.unwrap();
        assert!(dry.contains("+ new person"), "{dry}");
        assert!(dry.contains(&format!("{} removed", before.entries.len())), "{dry}");
        assert_eq!(store.load_directory_by_number("1000").await.unwrap().unwrap(), before, "dry run changed nothing");

        std::fs::write(&csv, "name,extension\nNew Person,555\n,556\n").unwrap();
        let err = run_directory(&store, DirectoryCommand::Import { store: "1000".into(), file: csv.clone(), format: None, dry_run: false }).await.unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        assert_eq!(store.load_directory_by_number("1000").await.unwrap().unwrap(), before, "a rejected file changes nothing");

        let exported = run_directory(&store, DirectoryCommand::Export { store: "1000".into(), format: Format::Csv }).await.unwrap();
        let file = dir.path().join("export.csv");
        std::fs::write(&file, &exported).unwrap();
        let diff = run_directory(&store, DirectoryCommand::Diff { store: "1000".into(), file, format: None }).await.unwrap();
        assert!(diff.ends_with(&format!("0 added, 0 changed, 0 removed, {} unchanged\n", before.entries.len())), "{diff}");

        // A French Excel file (`;`, Windows-1252): read as it is, accents intact.
        let excel = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/directory/fr-excel-cp1252.csv");
        let dry = run_directory(&store, DirectoryCommand::Diff { store: "2000".into(), file: excel, format: None }).await.unwrap();
        assert!(dry.contains("+ hélène dupré (crèmerie)") && dry.contains("+ zoé bénard (épicerie)"), "{dry}");

        let unknown = run_directory(&store, DirectoryCommand::Export { store: "9999".into(), format: Format::Json }).await.unwrap_err();
        assert!(matches!(unknown, CliError::UnknownStore { .. }));
    }

    #[tokio::test]
    async fn backup_restore_round_trip_and_tokens() {
        let (dir, store) = demo_store().await;
        let mut token = Vec::new();
        admin(&store, AdminCommand::Token { store: Some("1000".into()), label: "t".into(), expires_in_days: 1 }, &mut token).await.unwrap();
        assert!(String::from_utf8(token).unwrap().starts_with("att."));
        let mut first = Vec::new();
        backup(&store, None, &mut first).await.unwrap();
        let path = dir.path().join("backup.json");
        std::fs::write(&path, &first).unwrap();
        let empty = DirectoryStore::open(&format!("sqlite://{}", dir.path().join("restored.db").display())).await.unwrap();
        restore(&empty, &path).await.unwrap();
        let mut second = Vec::new();
        backup(&empty, None, &mut second).await.unwrap();
        assert_eq!(first, second);
    }
}
