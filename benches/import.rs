//! Importing a 10,000-entry directory: parse + validate the CSV, store it
//! (replace the entries, bump the version, audit the diff, one transaction),
//! the whole path an API import takes (parse, store, sync report with the
//! similar-names check), the similar-names check alone at store sizes, and
//! file to speech: parse, store, then what `SpeechRegistry::refresh` does for
//! the new version (read it back, compile the grammar with a real engine, build
//! the name index, swap it in), for PocketSphinx (English) and Vosk (Korean).
//! SQLite always; PostgreSQL too when `ATTENDANT_TEST_PG_URL` is set.

use std::hint::black_box;
use std::time::Duration;

use attendant::admin::sync::{MatcherSimilarity, sync_report};
use attendant::directory::import::{self, Format, ImportLimits};
use attendant::directory::settings::StoreSettings;
use attendant::directory::store::admin::Actor;
use attendant::directory::store::{DirectoryStore, NewStore};
use attendant::asr::EngineKind;
use attendant::config::AsrConfig;
use attendant::directory::{Language, StoreId, TransferTarget};
use attendant::flow::FlowSettings;
use attendant::speech::registry::{RegistrySettings, SpeechRegistry, load_engine};
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

/// English first and last names (nearly all in the CMU dictionary; the few
/// that are not get PocketSphinx's guessed pronunciations, as in a real store).
const EN_FIRST: [&str; 100] = [
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William", "Elizabeth", "David",
    "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen", "Christopher", "Nancy",
    "Daniel", "Lisa", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra", "Donald", "Ashley", "Steven",
    "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle", "Kenneth", "Dorothy", "Kevin", "Carol",
    "Brian", "Amanda", "George", "Melissa", "Edward", "Deborah", "Ronald", "Stephanie", "Timothy", "Rebecca", "Jason",
    "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia", "Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Shirley", "Eric",
    "Angela", "Jonathan", "Helen", "Stephen", "Anna", "Larry", "Brenda", "Justin", "Pamela", "Scott", "Nicole",
    "Brandon", "Emma", "Benjamin", "Samantha", "Samuel", "Katherine", "Gregory", "Christine", "Frank", "Debra",
    "Alexander", "Rachel", "Raymond", "Catherine", "Patrick", "Carolyn", "Jack", "Janet", "Dennis", "Ruth", "Jerry",
    "Hervé",
];
const EN_LAST: [&str; 100] = [
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
    "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin", "Lee",
    "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young",
    "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker",
    "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans", "Turner", "Diaz",
    "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers",
    "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox",
    "Ward", "Richardson", "Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz",
    "Hughes", "Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Prodhomme",
];

/// Hangul syllables common in names and words: two of them make candidate
/// words, kept when the Vosk model knows them.
const KO_SYLLABLES: [&str; 40] = [
    "가", "나", "다", "민", "서", "지", "수", "영", "현", "준", "진", "정", "성", "은", "혜", "연", "주", "우", "재", "동",
    "상", "경", "미", "희", "원", "호", "선", "인", "도", "한", "전", "문", "기", "사", "소", "시", "화", "부", "대", "신",
];

/// 10,000 unique two-word names every word of which `known` accepts: first
/// and last names for English, pairs of known two-syllable words for Korean
/// (the Korean model's vocabulary has words, not full names).
fn speech_names(language: Language, known: impl Fn(&str) -> bool) -> Vec<String> {
    let (first, last): (Vec<String>, Vec<String>) = match language {
        Language::Ko => {
            let words: Vec<String> = KO_SYLLABLES
                .iter()
                .flat_map(|a| KO_SYLLABLES.iter().map(move |b| format!("{a}{b}")))
                .filter(|w| known(w))
                .take(100)
                .collect();
            assert_eq!(words.len(), 100, "the Korean model knows too few two-syllable words");
            (words.clone(), words)
        }
        _ => (EN_FIRST.map(String::from).to_vec(), EN_LAST.map(String::from).to_vec()),
    };
    last.iter().flat_map(|l| first.iter().map(move |f| format!("{f} {l}"))).collect()
}

/// A CSV of `names`: an extension each, a department on one in ten.
fn speech_csv(names: &[String], departments: &[&str]) -> Vec<u8> {
    let mut csv = String::from("name,department,extension\n");
    for (i, name) in names.iter().enumerate() {
        let department = if i % 10 == 0 { departments[i / 10 % departments.len()] } else { "" };
        csv.push_str(&format!("{name},{department},{}\n", 100_000 + i));
    }
    csv.into_bytes()
}

async fn prepared(url: &str) -> (DirectoryStore, StoreId) {
    prepared_in(url, Language::Fr, StoreSettings::none()).await
}

async fn prepared_in(url: &str, language: Language, settings: StoreSettings) -> (DirectoryStore, StoreId) {
    let db = DirectoryStore::open(url).await.unwrap();
    let store = NewStore {
        name: "Bench".into(),
        number: "0100000001".into(),
        language,
        operator: TransferTarget::Extension("100".into()),
        settings,
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
    for size in [300usize, 1000, 2000, 10_000] {
        let (db, store) = rt.block_on(prepared(&format!("sqlite://{}", dir.path().join(format!("s{size}.db")).display())));
        rt.block_on(db.import_entries(store, &entries[..size], &actor())).unwrap();
        let directory = rt.block_on(db.load_directory(store)).unwrap();
        group.bench_function(format!("sync_report_{size}"), |b| {
            b.iter(|| black_box(sync_report(&directory, None, &MatcherSimilarity)))
        });
        if size == 10_000 {
            let pairs = sync_report(&directory, None, &MatcherSimilarity).similar_total;
            eprintln!("similar names at {size} entries: {pairs} pairs");
        }
    }
    group.finish();

    // File to speech: parse, store, and the registry's refresh of the store
    // (load the new version, compile the grammar, build the index, swap).
    // Spoken names are left out (no prompt texts): they are synthesised once
    // per new name and cached, a cost of their own.
    let mut group = c.benchmark_group("file_to_speech_10k");
    group.sample_size(10).measurement_time(Duration::from_secs(30));
    let no_prompt_texts = dir.path().join("no-prompt-texts");
    std::fs::create_dir_all(&no_prompt_texts).unwrap();
    for (engine, language, departments) in [
        (EngineKind::Sphinx, Language::En, ["Bakery", "Hardware", "Pharmacy", "Customer service"]),
        (EngineKind::Vosk, Language::Ko, ["빵집", "정육점", "고객 센터", "안내 데스크"]),
    ] {
        let asr = AsrConfig::default();
        let loaded = load_engine(&asr, engine, language).expect("model installed: run scripts/fetch-models.sh");
        let names = speech_names(language, |w| loaded.can_recognize(w));
        drop(loaded);
        let csv = speech_csv(&names, &departments);
        let speech_on = StoreSettings::from_json(serde_json::json!({ "speech_enabled": true })).unwrap();
        let url = format!("sqlite://{}", dir.path().join(format!("speech-{engine:?}.db")).display());
        let (db, store) = rt.block_on(prepared_in(&url, language, speech_on));
        rt.block_on(db.import_entries(store, &import::parse(&csv, Format::Csv, limits).unwrap(), &actor())).unwrap();
        let settings = RegistrySettings {
            asr,
            prompts_dir: dir.path().join("prompts"),
            prompt_texts_dir: no_prompt_texts.clone(),
            flow_defaults: FlowSettings::default(),
        };
        // Loads the engine once and builds the first version.
        let registry = rt.block_on(SpeechRegistry::start(settings, db.clone())).unwrap();
        let speech = registry.current(store).expect("the store has speech");
        let grammar = speech.grammar();
        eprintln!(
            "{engine:?}: {} entries, {} phrases accepted, {} rejected, {} pronunciations guessed",
            speech.directory().entries.len(),
            grammar.accepted.len(),
            grammar.rejected.len(),
            grammar.guessed.len()
        );
        group.bench_function(format!("refresh_{engine:?}"), |b| {
            b.iter(|| rt.block_on(registry.refresh(store)).unwrap())
        });
        group.bench_function(format!("parse_store_refresh_{engine:?}"), |b| {
            b.iter(|| {
                rt.block_on(async {
                    let parsed = import::parse(&csv, Format::Csv, limits).unwrap();
                    db.import_entries(store, &parsed, &actor()).await.unwrap();
                    registry.refresh(store).await.unwrap();
                })
            })
        });
        // One more import outside the measurements (they may be filtered out):
        // the registry must hold the version it created.
        rt.block_on(async {
            let (version, _) = db.import_entries(store, &import::parse(&csv, Format::Csv, limits).unwrap(), &actor()).await.unwrap();
            registry.refresh(store).await.unwrap();
            let after = registry.current(store).expect("still has speech");
            assert_eq!(after.directory().version, version, "the new version was swapped in");
            assert!(version > speech.directory().version);
        });
    }
    group.finish();
}

criterion_group!(benches, bench_import);
criterion_main!(benches);
