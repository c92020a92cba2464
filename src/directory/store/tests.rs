//! The store's behaviour on both backends: round trips, per-store isolation,
//! version bumps, concurrent replacements and consistent loads, validation,
//! unknown keys, idempotent demo seeding; plus SQLite file handling.
//!
//! Each shared scenario runs on a temporary SQLite file (`<name>::sqlite`) and,
//! on PostgreSQL (`<name>::postgres`; `make test` starts a throw-away server;
//! alone, `scripts/test-postgres.sh` does the same), named by
//! `ATTENDANT_TEST_PG_URL`).
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use super::*;
use serde_json::json;
use sqlx::Connection;

/// Runs each named scenario `async fn name(db: DirectoryStore)` on both backends.
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let (_dir, db) = super::open_temp().await;
                super::$name(db).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$name(super::open_postgres().await).await;
            }
        }
    )*};
}

on_both_backends!(
    directory_round_trips_through_the_database,
    loads_never_return_another_stores_rows,
    each_replacement_bumps_the_version_and_replaces_rows,
    concurrent_replacements_get_distinct_versions_and_loads_see_one_version,
    unknown_stores_are_reported,
    invalid_menus_are_rejected_without_writing,
    demo_seed_is_idempotent,
);

/// A fresh database on the PostgreSQL server named by `ATTENDANT_TEST_PG_URL`
/// (e.g. `postgres://postgres@127.0.0.1:55432/postgres`).
async fn open_postgres() -> DirectoryStore {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let url = std::env::var("ATTENDANT_TEST_PG_URL").expect(
        "ATTENDANT_TEST_PG_URL must name a PostgreSQL server: run `make test` (or scripts/test-postgres.sh)",
    );
    let name = format!(
        "attendant_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap();
    // The name is built from two integers above: nothing to inject.
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let (server, _default_db) = url.rsplit_once('/').expect("the URL ends with /<database>");
    DirectoryStore::open(&format!("{server}/{name}"))
        .await
        .unwrap()
}

async fn open_temp() -> (tempfile::TempDir, DirectoryStore) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!(
        "sqlite://{}",
        dir.path().join("nested/folder/attendant.db").display()
    );
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
    MenuOption {
        digit,
        label: label.to_owned(),
        target: TransferTarget::Extension(format!("3{digit}")),
    }
}

fn names(directory: &Directory) -> Vec<&str> {
    directory
        .entries
        .iter()
        .map(|e| e.display_name.as_str())
        .collect()
}

async fn directory_round_trips_through_the_database(db: DirectoryStore) {
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

    let loaded = db
        .load_directory_by_number("1234")
        .await
        .unwrap()
        .expect("store 1234 exists");
    assert_eq!(loaded.version, version);
    assert_eq!(
        loaded.store,
        Store {
            id,
            name: "Store 1234".to_owned(),
            number: "1234".to_owned(),
            language: Language::Fr,
            operator: TransferTarget::Uri("sip:standard@pbx.example".to_owned()),
        }
    );
    let back: Vec<NewEntry> = loaded.entries.iter().map(NewEntry::from).collect();
    assert_eq!(
        back, entries,
        "entries come back in the order given, field for field"
    );
    let mut expected_menu = menu.clone();
    expected_menu.sort_by_key(|o| o.digit);
    assert_eq!(
        loaded.menu, expected_menu,
        "menu comes back ordered by digit"
    );
    assert_eq!(db.load_directory(id).await.unwrap(), loaded);
    assert_eq!(db.store_settings(id).await.unwrap(), new.settings);
    assert_eq!(db.list_stores().await.unwrap(), vec![loaded.store.clone()]);
}

async fn loads_never_return_another_stores_rows(db: DirectoryStore) {
    let a = db
        .upsert_store(&new_store("1000", Language::En))
        .await
        .unwrap();
    let b = db
        .upsert_store(&new_store("2000", Language::Fr))
        .await
        .unwrap();
    db.replace_directory(
        a,
        &[person("Alice A", "201"), person("Shared Name", "202")],
        &[option('1', "a")],
    )
    .await
    .unwrap();
    let b_version = db
        .replace_directory(
            b,
            &[person("Shared Name", "202"), person("Bob B", "203")],
            &[option('2', "b")],
        )
        .await
        .unwrap();
    // Replacing A again must leave B untouched (rows and version).
    db.replace_directory(a, &[person("Alice A", "201")], &[])
        .await
        .unwrap();

    let loaded_a = db.load_directory_by_number("1000").await.unwrap().unwrap();
    let loaded_b = db.load_directory(b).await.unwrap();
    assert_eq!(names(&loaded_a), ["Alice A"]);
    assert!(loaded_a.menu.is_empty());
    assert_eq!(names(&loaded_b), ["Shared Name", "Bob B"]);
    assert_eq!(loaded_b.menu, [option('2', "b")]);
    assert_eq!(loaded_b.version, b_version);
    assert_eq!(loaded_b.store.id, b);
    let numbers: Vec<_> = db
        .list_stores()
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.number)
        .collect();
    assert_eq!(numbers, ["1000", "2000"]);
}

async fn each_replacement_bumps_the_version_and_replaces_rows(db: DirectoryStore) {
    let id = db
        .upsert_store(&new_store("1000", Language::En))
        .await
        .unwrap();
    let fresh = db.load_directory(id).await.unwrap();
    assert_eq!(fresh.version, DirectoryVersion(0));
    assert!(fresh.entries.is_empty() && fresh.menu.is_empty());

    let steps: [&[NewEntry]; 3] = [
        &[person("One", "201")],
        &[person("Two", "202"), person("Three", "203")],
        &[],
    ];
    for (i, entries) in steps.iter().enumerate() {
        let version = db.replace_directory(id, entries, &[]).await.unwrap();
        assert_eq!(version, DirectoryVersion(i as i64 + 1));
        let loaded = db.load_directory(id).await.unwrap();
        assert_eq!(loaded.version, version);
        assert_eq!(
            loaded.entries.len(),
            entries.len(),
            "rows replaced, not appended"
        );
    }
    // Updating the store itself keeps the directory and its version.
    let mut renamed = new_store("1000", Language::Fr);
    renamed.name = "Renamed".to_owned();
    assert_eq!(
        db.upsert_store(&renamed).await.unwrap(),
        id,
        "the number is the key"
    );
    let loaded = db.load_directory(id).await.unwrap();
    assert_eq!(
        (loaded.store.name.as_str(), loaded.store.language),
        ("Renamed", Language::Fr)
    );
    assert_eq!(loaded.version, DirectoryVersion(3));
}

async fn unknown_stores_are_reported(db: DirectoryStore) {
    assert_eq!(db.load_directory_by_number("9999").await.unwrap(), None);
    let missing = StoreId(42);
    assert!(
        matches!(db.load_directory(missing).await, Err(StoreError::UnknownStore { store }) if store == missing)
    );
    assert!(matches!(
        db.store_settings(missing).await,
        Err(StoreError::UnknownStore { .. })
    ));
    let replaced = db
        .replace_directory(missing, &[person("X", "1")], &[])
        .await;
    assert!(
        matches!(replaced, Err(StoreError::UnknownStore { store }) if store == missing),
        "{replaced:?}"
    );
}

async fn invalid_menus_are_rejected_without_writing(db: DirectoryStore) {
    let id = db
        .upsert_store(&new_store("1000", Language::En))
        .await
        .unwrap();
    let cases: [(Vec<MenuOption>, &str); 4] = [
        (vec![option('0', "operator")], "digit '0' is not 1-9"),
        (vec![option('*', "repeat")], "digit '*' is not 1-9"),
        (vec![option('a', "x")], "digit 'a' is not 1-9"),
        (
            vec![option('1', "a"), option('2', "b"), option('1', "c")],
            "digit '1' appears twice",
        ),
    ];
    for (menu, expected) in cases {
        let err = db
            .replace_directory(id, &[person("X", "1")], &menu)
            .await
            .unwrap_err();
        assert!(err.to_string().contains(expected), "{menu:?}: {err}");
    }
    let loaded = db.load_directory(id).await.unwrap();
    assert_eq!(loaded.version, DirectoryVersion(0));
    assert!(loaded.entries.is_empty());
}

async fn demo_seed_is_idempotent(db: DirectoryStore) {
    let first = db.seed_demo().await.unwrap();
    assert!(
        first
            .iter()
            .all(|s| s.changed && s.version == DirectoryVersion(1)),
        "{first:?}"
    );
    let second = db.seed_demo().await.unwrap();
    let unchanged: Vec<_> = first
        .iter()
        .map(|s| SeededStore {
            changed: false,
            ..*s
        })
        .collect();
    assert_eq!(second, unchanged, "a second seed writes nothing");


    let en = db.load_directory_by_number("1000").await.unwrap().unwrap();
    assert_eq!(en.store.language, Language::En);
    assert_eq!(
        en.store.operator,
        TransferTarget::Extension("100".to_owned())
    );
    assert_eq!(en.menu.iter().map(|o| o.digit).collect::<String>(), "1234");
    assert_eq!(
        en.entries
            .iter()
            .filter(|e| e.display_name.ends_with(" Martin"))
            .count(),
        2,
        "homonyms"
    );
    let fr = db.load_directory_by_number("2000").await.unwrap().unwrap();
    assert_eq!(fr.store.language, Language::Fr);
    assert!(
        fr.entries
            .iter()
            .any(|e| e.display_name == "Boulangerie" && e.extension.as_deref() == Some("301"))
    );

    // An admin's edit of a demo store survives the next seed (`run --demo` at
    // every restart used to put the demo content back).
    let en_id = first[0].store;
    let mut edited: Vec<NewEntry> = db.load_directory(en_id).await.unwrap().entries.iter().map(NewEntry::from).collect();
    edited.truncate(1);
    let edited_version = db.replace_directory(en_id, &edited, &[]).await.unwrap();
    let third = db.seed_demo().await.unwrap();
    assert_eq!(third[0], SeededStore { store: en_id, version: edited_version, changed: false });
    let kept = db.load_directory(en_id).await.unwrap();
    assert_eq!(kept.entries.len(), 1, "the admin's edit was overwritten");
    assert!(kept.menu.is_empty());
}

#[tokio::test]
async fn sqlite_open_creates_a_wal_file_and_reopens_it() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a/b/attendant.db");
    let url = format!("sqlite://{}", path.display());
    let db = DirectoryStore::open(&url).await.unwrap();
    let id = db
        .upsert_store(&new_store("1000", Language::En))
        .await
        .unwrap();
    drop(db);
    assert!(path.exists(), "the file and its folders are created");

    let mut conn = sqlx::SqliteConnection::connect(&url).await.unwrap();
    let (mode,): (String,) = sqlx::query_as("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(mode, "wal");
    conn.close().await.unwrap();

    // Reopening re-runs migrations as a no-op and keeps the data.
    let db = DirectoryStore::open(&url).await.unwrap();
    assert_eq!(db.load_directory(id).await.unwrap().store.number, "1000");
}

#[tokio::test]
async fn bad_urls_are_named() {
    let cases = [
        (
            "mysql://localhost/db",
            "unsupported database URL scheme \"mysql\"",
        ),
        (
            "var/attendant.db",
            "unsupported database URL scheme \"var/attendant.db\"",
        ),
    ];
    for (url, expected) in cases {
        let err = DirectoryStore::open(url).await.unwrap_err();
        assert!(err.to_string().contains(expected), "{url}: {err}");
    }
}

async fn concurrent_replacements_get_distinct_versions_and_loads_see_one_version(
    db: DirectoryStore,
) {
    const WRITERS: usize = 8;
    let id = db
        .upsert_store(&new_store("1000", Language::En))
        .await
        .unwrap();
    let writers: Vec<_> = (0..WRITERS)
        .map(|writer| {
            let db = db.clone();
            tokio::spawn(async move {
                // Two entries and a menu option carrying the writer's tag: a load that
                // mixed two replacements would show two tags.
                let tag = format!("w{writer}");
                let entries = [
                    person(&format!("{tag} a"), "201"),
                    person(&format!("{tag} b"), "202"),
                ];
                let version = db
                    .replace_directory(id, &entries, &[option('1', &tag)])
                    .await
                    .unwrap();
                (version, tag)
            })
        })
        .collect();
    let reader = {
        let db = db.clone();
        tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..40 {
                seen.push(db.load_directory(id).await.unwrap());
                tokio::task::yield_now().await;
            }
            seen
        })
    };
    let mut tag_of_version = BTreeMap::new();
    for writer in writers {
        let (version, tag) = writer.await.unwrap();
        assert!(
            tag_of_version.insert(version, tag).is_none(),
            "version {version:?} given twice"
        );
    }
    let expected: Vec<_> = (1..=WRITERS as i64).map(DirectoryVersion).collect();
    assert_eq!(tag_of_version.keys().copied().collect::<Vec<_>>(), expected);

    let mut loads = reader.await.unwrap();
    loads.push(db.load_directory(id).await.unwrap());
    for load in &loads {
        if load.version == DirectoryVersion(0) {
            assert!(load.entries.is_empty() && load.menu.is_empty());
            continue;
        }
        let tag = &tag_of_version[&load.version];
        let expected = [format!("{tag} a"), format!("{tag} b")];
        assert_eq!(
            names(load),
            expected,
            "version {:?} must hold exactly its writer's rows",
            load.version
        );
        assert_eq!(&load.menu[0].label, tag);
    }
    assert_eq!(
        loads.last().unwrap().version,
        DirectoryVersion(WRITERS as i64)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_in_memory_database_is_shared_by_the_pool() {
    let db = DirectoryStore::open("sqlite::memory:").await.unwrap();
    let id = db
        .upsert_store(&new_store("1000", Language::En))
        .await
        .unwrap();
    db.replace_directory(id, &[person("Anne", "201")], &[])
        .await
        .unwrap();
    // Concurrent loads take several pooled connections: each must see the writes.
    let tasks: Vec<_> = (0..4)
        .map(|_| {
            let db = db.clone();
            tokio::spawn(async move { db.load_directory(id).await.unwrap() })
        })
        .collect();
    for task in tasks {
        assert_eq!(names(&task.await.unwrap()), ["Anne"]);
    }
}
