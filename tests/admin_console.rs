//! The web console in a real headless browser (Debian's chromium through
//! chromedriver, phone-sized window): sign-in, search and edit, CSV upload with
//! the diff shown before applying, sync warnings, and isolation between two
//! stores. Needs `chromium` and `chromium-driver` (scripts/install-browser.sh).

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use attendant::admin::{self, AdminState};
use attendant::directory::store::admin::{Actor, TokenScope};
use attendant::directory::store::{DirectoryStore, NewStore};
use attendant::directory::settings::StoreSettings;
use attendant::directory::{Language, NewEntry, StoreId, TransferTarget};
use fantoccini::{Client, ClientBuilder, Locator};
use jiff::Timestamp;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const CHROMIUM_FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=412,915",
];

/// How long the browser may take to show an expected change.
const UI_TIMEOUT: Duration = Duration::from_secs(20);

fn actor() -> Actor {
    Actor { name: "test-setup".into(), at: Timestamp::from_millisecond(1_796_032_800_000).unwrap() }
}

fn person(name: &str, department: &str, ext: &str) -> NewEntry {
    NewEntry {
        display_name: name.into(),
        aliases: vec![],
        department: Some(department.into()),
        extension: Some(ext.into()),
        target: TransferTarget::Extension(ext.into()),
        fallback: None,
        enabled: true,
    }
}

async fn store(db: &DirectoryStore, number: &str, name: &str, entries: &[NewEntry]) -> (StoreId, String) {
    let new = NewStore {
        name: name.into(),
        number: number.into(),
        language: Language::Fr,
        operator: TransferTarget::Extension("100".into()),
        settings: StoreSettings::none(),
    };
    let id = db.create_store(&new, &actor()).await.unwrap();
    db.import_entries(id, entries, &actor()).await.unwrap();
    let token = db.issue_token(TokenScope::Store(id), "admin", None, &actor()).await.unwrap().token;
    (id, token)
}

/// Starts chromedriver on a free port and waits for its "started" line.
async fn start_chromedriver() -> (Child, u16) {
    let found = |bin: &str| std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()).any(|d| d.join(bin).exists());
    assert!(
        found("chromedriver") && found("chromium"),
        "chromium and chromedriver are missing: run scripts/install-browser.sh (the Makefile's test setup does)"
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut child = Command::new("chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start chromedriver");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = tokio::time::timeout(UI_TIMEOUT, async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains("started successfully") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(started, Ok(true), "chromedriver did not start");
    // Keep draining its output so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, port)
}

async fn browser(port: u16, profile: &std::path::Path) -> Client {
    let mut args: Vec<String> = CHROMIUM_FLAGS.iter().map(|s| (*s).to_owned()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    let mut caps = serde_json::Map::new();
    caps.insert("goog:chromeOptions".into(), json!({"binary": "/usr/bin/chromium", "args": args}));
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("open a chromium session")
}

/// Waits until an element matching the XPath exists.
async fn wait_xpath(client: &Client, xpath: &str) -> fantoccini::elements::Element {
    client
        .wait()
        .at_most(UI_TIMEOUT)
        .for_element(Locator::XPath(xpath))
        .await
        .unwrap_or_else(|e| panic!("waiting for {xpath}: {e}"))
}

async fn sign_in(client: &Client, base: &str, token: &str) {
    client.goto(base).await.unwrap();
    let input = client.wait().at_most(UI_TIMEOUT).for_element(Locator::Id("token")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(token).await.unwrap();
    client.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
}

async fn row_names(client: &Client) -> Vec<String> {
    let mut names = Vec::new();
    for row in client.find_all(Locator::Css("#entries tr td:first-child")).await.unwrap() {
        names.push(row.text().await.unwrap());
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_sign_in_edit_upload_with_diff_and_isolation() {
    let dir = tempfile::tempdir().unwrap();
    let db = DirectoryStore::open(&format!("sqlite://{}", dir.path().join("attendant.db").display())).await.unwrap();
    let (a, token_a) = store(&db, "0100000001", "Store A", &[
        person("Sophie Martin", "Caisses", "201"),
        person("Hervé Prodhomme", "Direction", "202"),
    ])
    .await;
    let (b, token_b) = store(&db, "0100000002", "Store B", &[person("Bob Secret", "Drive", "301")]).await;

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(admin::serve(listener, AdminState::new(db.clone()), async {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}/");

    let (mut driver, port) = start_chromedriver().await;
    let profile = tempfile::tempdir().unwrap();
    let client = browser(port, profile.path()).await;

    // A wrong token is refused with a message.
    sign_in(&client, &base, "att.0000000000000000.0000000000000000000000000000000000000000000000000000000000000000").await;
    wait_xpath(&client, "//p[@id='message' and contains(., 'invalid token')]").await;

    // Sign in as store A: A's entries, none of B's.
    sign_in(&client, &base, &token_a).await;
    wait_xpath(&client, "//span[@id='store-name' and contains(., 'Store A')]").await;
    wait_xpath(&client, "//tbody[@id='entries']/tr[2]").await;
    assert_eq!(row_names(&client).await, ["Sophie Martin", "Hervé Prodhomme"]);

    // Search, then edit Sophie's entry.
    client.find(Locator::Id("search")).await.unwrap().send_keys("sophie").await.unwrap();
    wait_xpath(&client, "//tbody[@id='entries' and count(tr)=1]").await;
    client.find(Locator::Css("#entries button.edit")).await.unwrap().click().await.unwrap();
    let name = wait_xpath(&client, "//input[@id='f-name']").await;
    name.clear().await.unwrap();
    name.send_keys("Sophie Martin-Durand").await.unwrap();
    client.find(Locator::Id("f-aliases")).await.unwrap().send_keys("Sophie; la caissière").await.unwrap();
    client.find(Locator::Id("f-fallback")).await.unwrap().send_keys("sip:accueil@pbx.example").await.unwrap();
    client.find(Locator::Id("save-entry")).await.unwrap().click().await.unwrap();
    wait_xpath(&client, "//p[@id='message' and contains(., 'Saved Sophie Martin-Durand')]").await;
    let stored = db.load_directory(a).await.unwrap();
    let sophie = stored.entries.iter().find(|e| e.extension.as_deref() == Some("201")).unwrap();
    assert_eq!(sophie.display_name, "Sophie Martin-Durand");
    assert_eq!(sophie.aliases, ["Sophie", "la caissière"]);
    assert_eq!(sophie.fallback, Some(TransferTarget::Uri("sip:accueil@pbx.example".into())));
    let audit = db.audit_log(Some(a), 1).await.unwrap();
    assert_eq!(audit[0].action, "entry.update");
    assert!(audit[0].actor.starts_with("store-admin:"));

    // Upload a CSV: the diff is shown, nothing changes until "Apply".
    let csv_path = dir.path().join("staff.csv");
    std::fs::write(
        &csv_path,
        "name,department,extension\nSophie Martin-Durand,Caisses,201\nPaul Martin,Boucherie,203\nPaule Martin,Boulangerie,204\n",
    )
    .unwrap();
    let version_before = db.load_directory(a).await.unwrap().version;
    client.find(Locator::Css("nav button[data-tab='import']")).await.unwrap().click().await.unwrap();
    wait_xpath(&client, "//input[@id='import-file']").await.send_keys(&csv_path.display().to_string()).await.unwrap();
    client.find(Locator::Id("preview-import")).await.unwrap().click().await.unwrap();
    let summary = wait_xpath(&client, "//div[@id='diff']/p[@class='summary']").await;
    // Sophie changed (aliases and fallback dropped by the file), Paul and Paule
    // added, Hervé removed.
    assert_eq!(summary.text().await.unwrap(), "2 added, 1 changed, 1 removed, 0 unchanged");
    let diff_text = client.find(Locator::Id("diff")).await.unwrap().text().await.unwrap();
    assert!(diff_text.contains("Hervé Prodhomme"), "{diff_text}");
    assert!(diff_text.contains("Names that sound alike"), "sync warnings shown before applying: {diff_text}");
    assert!(diff_text.contains("Paul Martin / Paule Martin"), "{diff_text}");
    assert_eq!(db.load_directory(a).await.unwrap().version, version_before, "preview changes nothing");
    // The changed entry names its changed fields.
    assert!(diff_text.contains("aliases: Sophie | la caissière → (none)"), "{diff_text}");
    client.find(Locator::Id("apply-import")).await.unwrap().click().await.unwrap();
    // Replacing removes Hervé: the console asks, naming how many go.
    let question = client.get_alert_text().await.unwrap();
    assert!(question.contains("1 entries will be removed"), "{question}");
    client.accept_alert().await.unwrap();
    wait_xpath(&client, "//p[@id='message' and contains(., 'Imported: version')]").await;
    let imported = db.load_directory(a).await.unwrap();
    assert!(imported.version > version_before);
    let names: Vec<&str> = imported.entries.iter().map(|e| e.display_name.as_str()).collect();
    assert_eq!(names, ["Sophie Martin-Durand", "Paul Martin", "Paule Martin"]);

    // A French Excel file (`;`, Windows-1252), merged: the browser sends its
    // bytes, the accents arrive intact, the others are kept.
    let excel = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/directory/fr-excel-cp1252.csv");
    client.find(Locator::Css("#import-mode option[value='merge']")).await.unwrap().click().await.unwrap();
    client.find(Locator::Id("import-file")).await.unwrap().send_keys(&excel.display().to_string()).await.unwrap();
    client.find(Locator::Id("preview-import")).await.unwrap().click().await.unwrap();
    let summary = wait_xpath(&client, "//div[@id='diff']/p[@class='summary']").await;
    assert_eq!(summary.text().await.unwrap(), "4 added, 0 changed, 0 removed, 3 unchanged");
    let diff_text = client.find(Locator::Id("diff")).await.unwrap().text().await.unwrap();
    assert!(diff_text.contains("Hélène Dupré"), "{diff_text}");
    assert!(diff_text.contains("Read as windows-1252, columns separated by “;”"), "{diff_text}");
    // Someone else changes the directory before Apply: 409, nothing applied.
    let before_other = db.load_directory(a).await.unwrap();
    let mut others: Vec<NewEntry> = before_other.entries.iter().map(NewEntry::from).collect();
    others[0].enabled = false;
    db.import_entries(a, &others, &attendant::directory::store::admin::Actor { name: "other".into(), at: jiff::Timestamp::now() })
        .await
        .unwrap();
    client.find(Locator::Id("apply-import")).await.unwrap().click().await.unwrap();
    wait_xpath(&client, "//p[@id='message' and contains(., 'changed since your preview')]").await;
    assert_eq!(db.load_directory(a).await.unwrap().entries.len(), 3, "nothing applied");
    client.find(Locator::Id("preview-import")).await.unwrap().click().await.unwrap();
    wait_xpath(&client, "//div[@id='diff']/p[@class='summary']").await;
    client.find(Locator::Id("apply-import")).await.unwrap().click().await.unwrap();
    wait_xpath(&client, "//p[@id='message' and contains(., 'Imported: version')]").await;
    let merged = db.load_directory(a).await.unwrap();
    let names: Vec<&str> = merged.entries.iter().map(|e| e.display_name.as_str()).collect();
    assert_eq!(
        names,
        ["Sophie Martin-Durand", "Paul Martin", "Paule Martin", "Hélène Dupré", "François Lefèvre", "Zoé Bénard", "Accueil"]
    );
    // Put the directory back as the rest of the test expects it.
    db.import_entries(a, &imported.entries.iter().map(NewEntry::from).collect::<Vec<_>>(), &attendant::directory::store::admin::Actor { name: "test".into(), at: jiff::Timestamp::now() })
        .await
        .unwrap();

    // The warnings tab shows the same report.
    client.find(Locator::Css("nav button[data-tab='sync']")).await.unwrap().click().await.unwrap();
    wait_xpath(&client, "//div[@id='sync' and contains(., 'Paul Martin / Paule Martin')]").await;

    // Isolation: with A's token, the page's own fetch of B's store is refused.
    let status = client
        .execute_async(
            "const [id, done] = arguments; fetch('/api/v1/stores/' + id + '/entries', \
             {headers: {Authorization: 'Bearer ' + sessionStorage.getItem('attendant.token')}}) \
             .then(r => done(r.status));",
            vec![json!(b.0)],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));

    // Store B's admin sees only B, and A's changes are not there.
    client.find(Locator::Id("sign-out")).await.unwrap().click().await.unwrap();
    sign_in(&client, &base, &token_b).await;
    wait_xpath(&client, "//span[@id='store-name' and contains(., 'Store B')]").await;
    wait_xpath(&client, "//tbody[@id='entries']/tr").await;
    assert_eq!(row_names(&client).await, ["Bob Secret"]);
    assert!(!client.source().await.unwrap().contains("Sophie"), "nothing of store A on B's page");
    let status = client
        .execute_async(
            "const [id, done] = arguments; fetch('/api/v1/stores/' + id + '/entries', \
             {headers: {Authorization: 'Bearer ' + sessionStorage.getItem('attendant.token')}}) \
             .then(r => done(r.status));",
            vec![json!(a.0)],
        )
        .await
        .unwrap();
    assert_eq!(status, json!(403));

    client.close().await.unwrap();
    driver.kill().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
