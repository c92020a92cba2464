//! A directory imported during a call (a CSV file, validated whole and applied
//! the way `attendant directory import` and the API do it): the call started
//! on the old version finishes on it (Sophie Martin at ext 201), and the next
//! call uses the new one (Sophie Martin moved to another PBX address, ext 209),
//! swapped in by the runtime from the store's change events alone.

mod common;

use std::time::Duration;

use attendant::directory::import;
use attendant::directory::store::admin::Actor;
use attendant::directory::{Language, TransferTarget};
use common::speech::{self, Caller, Mic, SpeechStore};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_keeps_its_directory_version_and_the_next_gets_the_new_one() {
    let test = async {
        let old_target = speech::transfer_target();
        let attendant = speech::start(
            SpeechStore { language: Language::En, entries: speech::english_entries(), settings: serde_json::json!({}) },
            format!("127.0.0.1:{}", old_target.port),
        )
        .await;
        let name = speech::fixture("Sophie Martin", "en-us");
        let mic = [Mic::Silence(Duration::from_millis(3500)), Mic::Fixture(&name), Mic::Silence(Duration::from_secs(4))];
        let old_version = attendant.server().speech().current(attendant.store_id).unwrap().directory().version;

        let mut first = Caller::dial(attendant.sip, &mic, Duration::from_secs(25));
        assert!(first.wait_for("Call established", Duration::from_secs(10)).await, "not answered:\n{}", first.output);
        // While the first caller is still silent: Sophie moves, and the change is committed.
        let new_target = speech::transfer_target();
        let mut entries = speech::english_entries();
        entries[0].target = TransferTarget::Uri(format!("sip:209@127.0.0.1:{}", new_target.port));
        entries[0].extension = Some("209".to_string());
        let file = import::export(&entries, import::Format::Csv);
        let parsed = import::parse(&file, import::Format::Csv, import::ImportLimits::default()).expect("the file is valid");
        let actor = Actor { name: "store-admin:test".into(), at: jiff::Timestamp::now() };
        let (committed, diff) = attendant.store.import_entries(attendant.store_id, &parsed, &actor).await.unwrap();
        assert_eq!(diff.changed.len(), 1, "only Sophie Martin changed: {diff:?}");
        // Nobody calls `refresh` here: the runtime follows the store's change
        // events and swaps the new version in by itself.
        let swapped = tokio::time::timeout(Duration::from_secs(10), async {
            loop {
                let current = attendant.server().speech().current(attendant.store_id).unwrap().directory().version;
                if current == committed {
                    return current;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
        .await;
        let new_version = swapped.expect("the committed version never reached the speech registry");
        assert_ne!(new_version, old_version, "the change swapped in a new version");

        // The first call, begun on the old version, reaches Sophie's old extension.
        assert!(
            speech::wait_for_target(&old_target, "INVITE sip:201@", Duration::from_secs(15)).await,
            "the first call was not transferred to ext 201:\n{}",
            old_target.logs()
        );
        let mut second = Caller::dial(attendant.sip, &mic, Duration::from_secs(25));
        assert!(second.wait_for("Call established", Duration::from_secs(10)).await, "not answered:\n{}", second.output);
        let first_output = first.finish(Duration::from_secs(30)).await;
        speech::expect_transferred_to(old_target, "201", &first_output).await;
        let second_output = second.finish(Duration::from_secs(30)).await;
        speech::expect_transferred_to(new_target, "209", &second_output).await;
        attendant.stop().await;
    };
    tokio::time::timeout(Duration::from_secs(120), test).await.expect("test took too long");
}
