//! The web console in a real headless browser (Debian's chromium through
//! chromedriver, a 390 px phone window): sign-in, search and edit, CSV upload
//! with the diff shown before applying, sync warnings, isolation between two
//! stores; and every everyday job (calls, statistics, calls not understood,
//! hours, menu, prompts, tokens, audit log) in French and in English. Needs
//! `chromium` and `chromium-driver` (scripts/install-browser.sh). With
//! `ATTENDANT_SCREENSHOTS=<dir>`, the main screens are saved there as PNG
//! (docs/img/ holds the ones docs/console.md shows).

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
    "--window-size=390,844",
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
    match client.wait().at_most(UI_TIMEOUT).for_element(Locator::XPath(xpath)).await {
        Ok(element) => element,
        Err(e) => {
            let message = match client.find(Locator::Id("message")).await {
                Ok(m) => m.text().await.unwrap_or_default(),
                Err(_) => String::new(),
            };
            let lang = client.execute("return document.documentElement.lang + ' ' + document.location.href + ' ' + localStorage.getItem('attendant.lang');", vec![]).await.ok();
            panic!("waiting for {xpath}: {e}; the page says {message:?} ({lang:?})")
        }
    }
}

async fn sign_in(client: &Client, base: &str, token: &str) {
    client.goto(base).await.unwrap();
    let input = client.wait().at_most(UI_TIMEOUT).for_element(Locator::Id("token")).await.unwrap();
    input.clear().await.unwrap();
    input.send_keys(token).await.unwrap();
    client.find(Locator::Id("sign-in")).await.unwrap().click().await.unwrap();
}

/// Picks a language with the header's switch and waits for the page to follow.
async fn choose_language(client: &Client, lang: &str) {
    // Picking the language already shown is no change: go by the other one.
    let other = if lang == "fr" { "en" } else { "fr" };
    for pick in [other, lang] {
        wait_xpath(client, "//select[@id='lang']").await.select_by_value(pick).await.unwrap();
        wait_xpath(client, &format!("//html[@lang='{pick}']")).await;
    }
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

    // The stores are French: this admin switches the console to English first.
    client.goto(&base).await.unwrap();
    choose_language(&client, "en").await;

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
    assert!(diff_text.contains("aliases: Sophie | la caissière → —"), "{diff_text}");
    wait_xpath(&client, "//button[@id='apply-import' and not(@hidden)]").await.click().await.unwrap();
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
    wait_xpath(&client, "//button[@id='apply-import' and not(@hidden)]").await.click().await.unwrap();
    wait_xpath(&client, "//p[@id='message' and contains(., 'changed since your preview')]").await;
    // The stale preview is taken away with its Apply button.
    wait_xpath(&client, "//div[@id='diff' and not(*)]").await;
    assert!(!client.find(Locator::Id("apply-import")).await.unwrap().is_displayed().await.unwrap());
    assert_eq!(db.load_directory(a).await.unwrap().entries.len(), 3, "nothing applied");
    client.find(Locator::Id("preview-import")).await.unwrap().click().await.unwrap();
    wait_xpath(&client, "//div[@id='diff']/p[@class='summary']").await;
    wait_xpath(&client, "//button[@id='apply-import' and not(@hidden)]").await.click().await.unwrap();
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

/// Text of the element with this id.
async fn text_of(client: &Client, id: &str) -> String {
    client.find(Locator::Id(id)).await.unwrap().text().await.unwrap()
}

/// Opens a tab and waits until its data has arrived.
async fn tab(client: &Client, name: &str) {
    client.find(Locator::Css(&format!("nav button[data-tab='{name}']"))).await.unwrap().click().await.unwrap();
    wait_xpath(client, &format!("//section[@id='tab-{name}' and @data-ready='true']")).await;
}

/// Sets a date input (chromedriver types dates in the browser's own format).
async fn set_value(client: &Client, id: &str, value: &str) {
    client
        .execute("document.getElementById(arguments[0]).value = arguments[1];", vec![json!(id), json!(value)])
        .await
        .unwrap();
}

/// Waits until `check` holds on the database (the console's fetch is done).
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + UI_TIMEOUT;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "{what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn screenshot(client: &Client, name: &str) {
    let Some(dir) = std::env::var_os("ATTENDANT_SCREENSHOTS") else { return };
    let png = client.screenshot().await.unwrap();
    std::fs::write(std::path::Path::new(&dir).join(format!("{name}.png")), png).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_job_in_french_and_english_on_a_phone() {
    use attendant::admin::i18n::{Catalogue, UiLanguage};
    use attendant::directory::hours::{AfterHoursRoute, OpeningHours, TimeRange, WeeklyHours};
    use attendant::directory::store::admin::NewCall;

    let dir = tempfile::tempdir().unwrap();
    let db = DirectoryStore::open(&format!("sqlite://{}", dir.path().join("attendant.db").display())).await.unwrap();
    let mut former = person("Ancien Employé", "Réserve", "203");
    former.enabled = false;
    let (id, token) = store(&db, "0100000001", "Magasin Paris", &[
        person("Sophie Martin", "Caisses", "201"),
        person("Hervé Prodhomme", "Direction", "202"),
        former,
    ])
    .await;
    let day = |open: &str, close: &str| vec![TimeRange { open: open.parse().unwrap(), close: close.parse().unwrap() }];
    let hours = OpeningHours {
        time_zone: "Europe/Paris".into(),
        weekly: WeeklyHours {
            monday: day("09:00", "19:00"),
            tuesday: day("09:00", "19:00"),
            wednesday: day("09:00", "19:00"),
            thursday: day("09:00", "19:00"),
            friday: day("09:00", "19:00"),
            saturday: day("09:00", "19:00"),
            sunday: vec![],
        },
        holidays: vec![],
        after_hours: AfterHoursRoute::ClosedMessage { message: "Le magasin est fermé.".into() },
    };
    db.set_opening_hours(id, Some(&hours), &actor()).await.unwrap();
    // Three calls on 2 December 2026 (UTC instants; Paris is UTC+1).
    for (at, heard, understood, outcome, recognition, entry) in [
        ("2026-12-02T08:05:00Z", "sophie martin", Some("Sophie Martin"), "speech", Some("at_once"), Some("Sophie Martin")),
        ("2026-12-02T10:00:00Z", "keys 202", None, "keypad", None, Some("Hervé Prodhomme")),
        ("2026-12-02T12:00:00Z", "la boulangère", Some("no match"), "operator", Some("not_understood"), None),
    ] {
        db.record_call(&NewCall {
            store: id,
            started_at: at.parse().unwrap(),
            caller_number: "+33612345678",
            heard,
            understood,
            decision: "transferred",
            transferred_to: Some("201"),
            outcome: Some(outcome),
            recognition,
            entry_name: entry,
        })
        .await
        .unwrap();
    }

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr: SocketAddr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(admin::serve(listener, AdminState::new(db.clone()), async {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}/");
    let (mut driver, port) = start_chromedriver().await;
    let catalogue = Catalogue::get();

    for (lang, language, key) in [("fr", UiLanguage::Fr, "1"), ("en", UiLanguage::En, "2")] {
        eprintln!("every job, in {lang}");
        let t = |id: &str| catalogue.format(language, id, &[]);
        let profile = tempfile::tempdir().unwrap();
        let client = browser(port, profile.path()).await;
        client.goto(&base).await.unwrap();
        // Before signing in, the browser's language (English here); the page
        // says where a token comes from.
        wait_xpath(&client, "//html[@lang='en']").await;
        let help = wait_xpath(&client, "//p[@id='sign-in-help']").await.text().await.unwrap();
        assert!(help.contains("operator") && help.contains("att."), "{help}");
        if lang == "en" {
            choose_language(&client, "en").await;
        }
        sign_in(&client, &base, &token).await;
        wait_xpath(&client, "//span[@id='store-name' and contains(., 'Magasin Paris')]").await;
        // The store is French: French unless the switch said otherwise.
        wait_xpath(&client, &format!("//html[@lang='{lang}']")).await;
        assert!(!text_of(&client, "store-name").await.contains("· v"), "no bare version in the header");
        assert_eq!(client.find(Locator::Css("nav button[data-tab='directory']")).await.unwrap().text().await.unwrap(),
            if lang == "fr" { "Annuaire" } else { "Directory" });

        // Directory: the disabled entry says so in words.
        let disabled = wait_xpath(&client, "//tbody[@id='entries']/tr[@class='disabled']").await;
        assert!(disabled.text().await.unwrap().contains(&t("entry-disabled")), "{lang}");
        screenshot(&client, &format!("console-directory-{lang}-390")).await;

        // Calls: Paris time in the viewer's language; on a phone the caller's
        // column goes, "Understood" stays.
        // The period first: the page shows it as it opens.
        set_value(&client, "calls-from", "2026-12-02").await;
        set_value(&client, "calls-to", "2026-12-02").await;
        tab(&client, "calls").await;
        wait_xpath(&client, "//tbody[@id='calls' and count(tr)=3]").await;
        let calls = text_of(&client, "calls").await;
        let (morning, afternoon, date) = if lang == "fr" { ("09:05", "13:00", "02/12/2026") } else { ("9:05 AM", "1:00 PM", "12/2/26") };
        assert!(calls.contains(morning) && calls.contains(afternoon), "Paris times: {calls}");
        assert!(calls.contains(date), "{lang} date format: {calls}");
        assert!(calls.contains("Hervé Prodhomme"), "names, not extensions: {calls}");
        assert!(calls.contains(if lang == "fr" { "touches 202" } else { "keys 202" }), "the recorder's words translated: {calls}");
        let headers = client.find_all(Locator::Css("#calls-table th")).await.unwrap();
        assert!(!headers[1].is_displayed().await.unwrap(), "caller column hidden on a phone");
        assert!(headers[3].is_displayed().await.unwrap(), "understood column kept on a phone");
        assert_eq!(headers[3].text().await.unwrap(), t("col-understood"));
        screenshot(&client, &format!("console-calls-{lang}-390")).await;

        // Statistics of that day.
        // The period first: the page shows it as it opens.
        set_value(&client, "stats-from", "2026-12-02").await;
        set_value(&client, "stats-to", "2026-12-02").await;
        tab(&client, "stats").await;
        let total = wait_xpath(&client, "//p[@id='stats-total' and string-length(.) > 0]").await.text().await.unwrap();
        assert!(total.starts_with(if lang == "fr" { "3 appels, 2 transférés" } else { "3 calls, 2 put through" }), "{total}");
        let speech = wait_xpath(&client, "//figure[contains(@class,'outcomes')]//li[@data-key='speech']").await.text().await.unwrap();
        assert!(speech.contains(&t("outcome-speech")) && speech.contains("1 · 33"), "{speech}");
        let names = text_of(&client, "stats").await;
        assert!(names.contains(&t("stats-names")) && names.contains("Sophie Martin"), "{names}");
        assert!(names.contains(&t("recognition-not_understood")), "{names}");
        // Per day and per hour, as inline SVG; the hour chart shades opening hours.
        assert_eq!(client.find_all(Locator::Css("#stats figure.chart > svg")).await.unwrap().len(), 2);
        assert_eq!(client.find_all(Locator::Css("#stats figure.chart > svg rect.shade")).await.unwrap().len(), 10);
        screenshot(&client, &format!("console-stats-{lang}-390")).await;

        // Not understood: what the caller said becomes an alias of the entry meant.
        // The period first: the page shows it as it opens.
        set_value(&client, "fixes-from", "2026-12-02").await;
        set_value(&client, "fixes-to", "2026-12-02").await;
        tab(&client, "fixes").await;
        let card = wait_xpath(&client, "//div[@class='fix']").await;
        assert!(card.text().await.unwrap().contains("la boulangère"));
        let herve = db.list_entries(id, Some("Hervé")).await.unwrap()[0].id;
        card.find(Locator::Css("select.fix-entry")).await.unwrap().select_by_value(&herve.0.to_string()).await.unwrap();
        screenshot(&client, &format!("console-fixes-{lang}-390")).await;
        card.find(Locator::Css("button.fix-alias")).await.unwrap().click().await.unwrap();
        wait_xpath(&client, "//p[@id='message' and contains(., 'Hervé Prodhomme') and contains(., 'la boulangère')]").await;
        eventually("alias added", || async { db.get_entry(id, herve).await.unwrap().aliases == ["la boulangère"] }).await;

        // Menu: a bad target is refused in the page's language; the banner goes
        // when another tab opens.
        tab(&client, "menu").await;
        client.find(Locator::Id("menu-add")).await.unwrap().click().await.unwrap();
        let row = wait_xpath(&client, "//tbody[@id='menu-rows']/tr[last()]").await;
        row.find(Locator::Css("select.m-key")).await.unwrap().select_by_value(key).await.unwrap();
        row.find(Locator::Css("input.m-label")).await.unwrap().send_keys("Boulangerie").await.unwrap();
        client.find(Locator::Id("menu-save")).await.unwrap().click().await.unwrap();
        let error = wait_xpath(&client, "//p[@id='message' and @class='error']").await.text().await.unwrap();
        let refused = catalogue.format(language, "invalid-target", &[("field", "target".into()), ("value", String::new())]);
        // (WebDriver's text collapses runs of spaces.)
        assert_eq!(error, refused.split_whitespace().collect::<Vec<_>>().join(" "));
        assert!(error.starts_with(if lang == "fr" { "`target` : « »" } else { "`target` value" }), "{error}");
        tab(&client, "directory").await;
        wait_xpath(&client, "//p[@id='message' and string-length(.) = 0]").await;
        tab(&client, "menu").await;
        client.find(Locator::Id("menu-add")).await.unwrap().click().await.unwrap();
        let row = wait_xpath(&client, "//tbody[@id='menu-rows']/tr[last()]").await;
        row.find(Locator::Css("select.m-key")).await.unwrap().select_by_value(key).await.unwrap();
        let label = row.find(Locator::Css("input.m-label")).await.unwrap();
        label.clear().await.unwrap();
        label.send_keys("Boulangerie").await.unwrap();
        row.find(Locator::Css("input.m-target")).await.unwrap().send_keys("301").await.unwrap();
        client.find(Locator::Id("menu-save")).await.unwrap().click().await.unwrap();
        assert_eq!(text_of(&client, "menu-spell").await, t("menu-no-spell-key"), "no spell key of its own");
        let expected_keys = if lang == "fr" { 1 } else { 2 };
        eventually("menu saved", || async { db.menu(id).await.unwrap().len() == expected_keys }).await;
        assert!(db.menu(id).await.unwrap().iter().any(|o| o.digit.to_string() == key && o.label == "Boulangerie"));

        // Hours: the form shows the store's; Sunday morning added; "closed now?".
        tab(&client, "hours").await;
        let zone = wait_xpath(&client, "//input[@id='h-tz']").await.prop("value").await.unwrap();
        assert_eq!(zone.as_deref(), Some("Europe/Paris"));
        assert_eq!(client.find(Locator::Id("h-monday")).await.unwrap().prop("value").await.unwrap().as_deref(), Some("09:00-19:00"));
        let sunday = client.find(Locator::Id("h-sunday")).await.unwrap();
        sunday.clear().await.unwrap();
        sunday.send_keys(if lang == "fr" { "10:00-12:00" } else { "10:00-12:30" }).await.unwrap();
        client.find(Locator::Id("h-preview")).await.unwrap().click().await.unwrap();
        let now = wait_xpath(&client, "//p[@id='h-now' and string-length(.) > 0]").await.text().await.unwrap();
        let open = catalogue.format(language, "hours-open-now", &[("time", String::new())]);
        let closed = catalogue.format(language, "hours-closed-now", &[("time", String::new())]);
        let prefix = |s: &str| s.split('(').next().unwrap().to_owned();
        assert!(now.starts_with(&prefix(&open)) || now.starts_with(&prefix(&closed)), "{now}");
        screenshot(&client, &format!("console-hours-{lang}-390")).await;
        client.find(Locator::Id("h-save")).await.unwrap().click().await.unwrap();
        let close = if lang == "fr" { "12:00" } else { "12:30" };
        eventually("hours saved", || async {
            let saved = db.opening_hours(id).await.unwrap().unwrap();
            saved.weekly.sunday.len() == 1 && saved.weekly.sunday[0].close.to_string().starts_with(close)
        })
        .await;

        // Prompts: said plainly that the API is not there yet.
        tab(&client, "prompts").await;
        let unavailable: String = t("prompts-unavailable").chars().take(20).collect();
        wait_xpath(&client, &format!("//div[@id='prompts' and contains(., '{unavailable}')]")).await;

        // Tokens: the store's admin issues one for a colleague, then revokes it.
        tab(&client, "tokens").await;
        let label = format!("Caisse {lang}");
        wait_xpath(&client, "//input[@id='t-label']").await.send_keys(&label).await.unwrap();
        client.find(Locator::Id("t-days")).await.unwrap().send_keys("30").await.unwrap();
        client.find(Locator::Id("t-issue")).await.unwrap().click().await.unwrap();
        let secret = wait_xpath(&client, "//code[@id='t-secret' and starts-with(., 'att.')]").await.text().await.unwrap();
        assert!(db.verify_token(&secret, Timestamp::now()).await.is_ok(), "the token shown works");
        screenshot(&client, &format!("console-tokens-{lang}-390")).await;
        client.execute("window.confirm = () => true;", vec![]).await.unwrap();
        let issued = db.list_tokens(id).await.unwrap().into_iter().find(|t| t.label == label).unwrap();
        wait_xpath(&client, &format!("//tr[@data-id='{}']//button[contains(@class,'revoke')]", issued.id)).await.click().await.unwrap();
        eventually("token revoked", || async {
            db.list_tokens(id).await.unwrap().iter().any(|t| t.label == label && t.revoked)
        })
        .await;

        // Audit log, filtered to menu changes.
        tab(&client, "audit").await;
        wait_xpath(&client, "//tbody[@id='audit']/tr").await;
        client.find(Locator::Id("a-action")).await.unwrap().send_keys("menu").await.unwrap();
        client.find(Locator::Id("a-filter")).await.unwrap().click().await.unwrap();
        wait_xpath(&client, &format!("//tbody[@id='audit' and count(tr)={expected_keys}]")).await;
        assert!(text_of(&client, "audit").await.contains("menu.set"));
        // And by date (store days): nothing was changed in 2000.
        set_value(&client, "a-to", "2000-01-01").await;
        client.find(Locator::Id("a-filter")).await.unwrap().click().await.unwrap();
        wait_xpath(&client, "//tbody[@id='audit' and count(tr)=0]").await;
        set_value(&client, "a-to", "").await;
        client.find(Locator::Id("a-filter")).await.unwrap().click().await.unwrap();
        wait_xpath(&client, &format!("//tbody[@id='audit' and count(tr)={expected_keys}]")).await;
        screenshot(&client, &format!("console-audit-{lang}-390")).await;

        // The statistics again on a desktop-sized window, for the docs.
        if std::env::var_os("ATTENDANT_SCREENSHOTS").is_some() {
            client.set_window_size(1100, 1400).await.unwrap();
            tab(&client, "stats").await;
            client.find(Locator::Id("stats-show")).await.unwrap().click().await.unwrap();
            wait_xpath(&client, "//figure[contains(@class,'outcomes')]").await;
            screenshot(&client, &format!("console-stats-{lang}-desktop")).await;
        }
        client.close().await.unwrap();
    }

    driver.kill().await.unwrap();
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}
