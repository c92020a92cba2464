//! Importing a 10,000-entry directory: parse + validate the CSV, store it
//! (replace the entries, bump the version, audit the diff, one transaction),
//! and the whole path an API import takes (parse, store, sync report: the
//! similar-names check is skipped above admin::sync::MAX_SIMILARITY_ENTRIES, so
//! it is measured alone at store sizes).
//! SQLite always; PostgreSQL too when `ATTENDANT_TEST_PG_URL` is set.

use std::hint::black_box;
use std::time::Duration;

use attendant::admin::sync::{MatcherSimilarity, sync_report};
use attendant::directory::import::{self, Format, ImportLimits};
use attendant::directory::settings::StoreSettings;
use attendant::directory::store::admin::Actor;
use attendant::directory::store::{DirectoryStore, NewStore};
use attendant::directory::{Language, StoreId, TransferTarget};
use criterion::{Criterion, criterion_group, criterion_main};

const ENTRIES: usize = 10_000;

const FIRST: [&str; 20] = [
    "Sophie", "Hervé", "Paul", "Claire", "Élodie", "Marc", "Julie", "Nicolas", "Camille", "Thomas", "Léa", "Hugo",
    "Chloé", "Louis", "Manon", "Lucas", "Emma", "Jules", "Inès", "Arthur",
];
const DEPARTMENTS: [&str; 12] = [
    "Caisses", "Boulangerie", "Boucherie", "Poissonnerie", "Fruits et légumes", "Bricolage", "Drive", "Accueil",
    "Direction", "Crèmerie", "Épicerie", "Jardin",
];

/// A realistic file: unique names, extensions, a third with aliases, some URI
/// targets and fallbacks.
fn directory_csv() -> Vec<u8> {
    let mut csv = String::from("name,aliases,department,extension,target,fallback,enabled\n");
    for i in 0..ENTRIES {
        let first = FIRST[i % FIRST.len()];
        let department = DEPARTMENTS[i % DEPARTMENTS.len()];
        let aliases = if i % 3 == 0 { format!("{first} {i};le rayon {i}") } else { String::new() };
        let target = if i % 10 == 0 { format!("sip:poste{i}@pbx.example") } else { String::new() };
        let fallback = if i % 7 == 0 { "sip:accueil@pbx.example" } else { "" };
        csv.push_str(&format!("{first} Nom{i},{aliases},{department},{},{target},{fallback},true\n", 100_000 + i));
    }
    csv.into_bytes()
}

fn actor() -> Actor {
    Actor { name: "bench".into(), at: jiff::Timestamp::from_millisecond(0).unwrap() }
}

async fn prepared(url: &str) -> (DirectoryStore, StoreId) {
    let db = DirectoryStore::open(url).await.unwrap();
    let store = NewStore {
        name: "Bench".into(),
        number: "0100000001".into(),
        language: Language::Fr,
        operator: TransferTarget::Extension("100".into()),
        settings: StoreSettings::none(),
    };
    let id = db.upsert_store(&store).await.unwrap();
    (db, id)
}

fn bench_import(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    let csv = directory_csv();
    let limits = ImportLimits::default();
    eprintln!("file: {} entries, {} bytes", ENTRIES, csv.len());

    let mut group = c.benchmark_group("import_10k");
    group.sample_size(10).measurement_time(Duration::from_secs(20));
    group.bench_function("parse_validate_csv", |b| {
        b.iter(|| black_box(import::parse(black_box(&csv), Format::Csv, limits).unwrap()))
    });

    let entries = import::parse(&csv, Format::Csv, limits).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let mut backends = vec![("sqlite", format!("sqlite://{}", dir.path().join("bench.db").display()))];
    if let Ok(url) = std::env::var("ATTENDANT_TEST_PG_URL") {
        let name = format!("attendant_bench_{}", std::process::id());
        rt.block_on(async {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(&url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
        });
        let base = url.rsplit_once('/').map_or(url.as_str(), |(b, _)| b).to_owned();
        backends.push(("postgres", format!("{base}/{name}")));
    }
    for (backend, url) in backends {
        let (db, store) = rt.block_on(prepared(&url));
        group.bench_function(format!("store_{backend}"), |b| {
            b.iter(|| rt.block_on(db.import_entries(store, &entries, &actor())).unwrap())
        });
        group.bench_function(format!("parse_store_report_{backend}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let parsed = import::parse(&csv, Format::Csv, limits).unwrap();
                    db.import_entries(store, &parsed, &actor()).await.unwrap();
                    let directory = db.load_directory(store).await.unwrap();
                    black_box(sync_report(&directory, None, &MatcherSimilarity))
                })
            })
        });
    }
    group.finish();

    // The similar-names check alone (the matcher's), at store sizes.
    let mut group = c.benchmark_group("similar_names");
    group.sample_size(10).measurement_time(Duration::from_secs(10));
    for size in [300usize, 1000, 2000] {
        let (db, store) = rt.block_on(prepared(&format!("sqlite://{}", dir.path().join(format!("s{size}.db")).display())));
        rt.block_on(db.import_entries(store, &entries[..size], &actor())).unwrap();
        let directory = rt.block_on(db.load_directory(store)).unwrap();
        group.bench_function(format!("sync_report_{size}"), |b| {
            b.iter(|| black_box(sync_report(&directory, None, &MatcherSimilarity)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_import);
criterion_main!(benches);
