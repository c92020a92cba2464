//! Live against offline: the report of `attendant replay-sip`. The same
//! recordings decided by real calls (the attendant's own recording of each
//! call gives its decision) and by offline replay, the agreement of the two,
//! every difference with the stage where it arose (the samples heard, the
//! endpointer's cut, the engine, the flow), and the timing of the calls with
//! end of speech to decision separated from the "transferring" prompt.

use std::path::Path;
use std::sync::Arc;

use crate::recording::sidecar::ListenEnd;
use crate::speech::endpoint::EndpointSettings;
use crate::speech::offline::CALL_LEAD;

use super::input::{InputError, ReplayItem};
use super::report;
use super::run::{self, DirectorySource, ItemResult, ReplayConfig, ReplayReport, Replayer};
use super::score::{self, percentile};
use super::sip::{LiveMatch, SipOutcome, match_recordings};

/// How often live and offline decided the same.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Agreement {
    /// Recordings with both a live and an offline decision.
    pub compared: usize,
    pub agreed: usize,
    pub share: f64,
}

/// One recording decided differently live and offline, and why.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Difference {
    pub id: String,
    pub offline: String,
    pub live: String,
    /// The first stage where the two paths parted.
    pub why: String,
}

/// Percentiles of one timing (ms).
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Spread {
    pub count: usize,
    pub p50_ms: f64,
    pub p95_ms: f64,
    pub max_ms: f64,
}

fn spread(mut values: Vec<f64>) -> Spread {
    values.sort_by(f64::total_cmp);
    Spread {
        count: values.len(),
        p50_ms: percentile(&values, 50.0),
        p95_ms: percentile(&values, 95.0),
        max_ms: values.last().copied().unwrap_or(0.0),
    }
}

/// Timing of the transferred calls.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Timing {
    /// The caller stopped speaking to the REFER reaching the caller.
    pub speech_end_to_refer: Spread,
    /// Of which: the end-of-speech silence the endpointer waits plus decoding
    /// (end of speech to decision).
    pub speech_end_to_decision: Spread,
    /// Of which: the "transferring" prompt and the REFER (decision to REFER).
    pub decision_to_refer: Spread,
    /// Whole calls, dial to hang-up.
    pub call: Spread,
}

/// The whole report of a replay-sip run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SipReport {
    pub jobs: usize,
    pub wall_s: f64,
    pub outcomes: Vec<SipOutcome>,
    pub offline: ReplayReport,
    /// The calls' own decisions (their recordings), when the recordings folder was given.
    pub live: Option<ReplayReport>,
    pub agreement: Option<Agreement>,
    pub differences: Vec<Difference>,
    pub timing: Timing,
}

/// Waits (up to 30 s) until `dir` holds `count` sidecars or stops growing
/// for 3 s: the attendant saves a call's recording as its call task ends.
pub fn wait_for_recordings(dir: &Path, count: usize) {
    let saved = || {
        std::fs::read_dir(dir).map_or(0, |d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    let (mut last, mut since) = (saved(), std::time::Instant::now());
    while last < count && std::time::Instant::now() < deadline && since.elapsed().as_secs() < 3 {
        std::thread::sleep(std::time::Duration::from_millis(200));
        let now = saved();
        if now != last {
            (last, since) = (now, std::time::Instant::now());
        }
    }
}

/// Replays `items` offline, reads the calls' recordings in `recordings`, and
/// puts both side by side with the calls' `outcomes` (in the items' order).
pub fn sip_report(
    items: &[ReplayItem],
    outcomes: Vec<SipOutcome>,
    recordings: Option<&Path>,
    wall_s: f64,
    jobs: usize,
) -> Result<SipReport, InputError> {
    let matches = match recordings {
        Some(dir) => Some(match_recordings(items, dir)?),
        None => None,
    };
    // Offline against the directory the calls ran with (the store's, as its
    // recordings hold it): the corpus's snapshot may order or number the
    // same entries otherwise, and the grammar follows the directory.
    let directory = matches
        .iter()
        .flatten()
        .flatten()
        .next()
        .map_or(DirectorySource::Recorded, |m| {
            DirectorySource::Fixed(Arc::new(m.sidecar.directory.clone()))
        });
    let offline = Replayer::new().run(
        items,
        &ReplayConfig {
            name: "offline".into(),
            directory,
            ..Default::default()
        },
        &indicatif::ProgressBar::hidden(),
    );
    let live = matches
        .as_ref()
        .map(|matches| live_report(&offline, matches));
    let mut differences = Vec::new();
    let mut agreement = None;
    if let (Some(live), Some(matches)) = (&live, &matches) {
        let mut compared = 0;
        let mut agreed = 0;
        for ((off, on), found) in offline.items.iter().zip(&live.items).zip(matches) {
            if off.error.is_some() || on.error.is_some() {
                if let Some(error) = &on.error {
                    differences.push(Difference {
                        id: off.id.clone(),
                        offline: label(off),
                        live: "-".into(),
                        why: error.clone(),
                    });
                }
                continue;
            }
            compared += 1;
            // By kind and names: the attendant's store may number its entries
            // otherwise than the corpus's directory snapshot.
            if same_decision(off, on) {
                agreed += 1;
                continue;
            }
            differences.push(Difference {
                id: off.id.clone(),
                offline: label(off),
                live: label(on),
                why: found.as_ref().map_or_else(String::new, |m| why(off, m)),
            });
        }
        agreement = Some(Agreement {
            compared,
            agreed,
            share: agreed as f64 / compared.max(1) as f64,
        });
    }
    let timing = timing(&offline, live.as_ref(), &outcomes);
    Ok(SipReport {
        jobs,
        wall_s,
        outcomes,
        offline,
        live,
        agreement,
        differences,
        timing,
    })
}

fn same_decision(a: &ItemResult, b: &ItemResult) -> bool {
    let kind = |i: &ItemResult| {
        i.decision
            .label()
            .split(' ')
            .next()
            .unwrap_or_default()
            .to_owned()
    };
    kind(a) == kind(b) && a.decided_label == b.decided_label
}

fn label(item: &ItemResult) -> String {
    format!("{} ({})", item.decided_label, item.decision.label())
}

/// The live run: each item's call recording, decided as the call decided.
fn live_report(offline: &ReplayReport, matches: &[Option<LiveMatch>]) -> ReplayReport {
    let items: Vec<ItemResult> = offline
        .items
        .iter()
        .zip(matches)
        .map(|(off, found)| {
            let mut item = off.clone();
            item.notes.clear();
            match found {
                Some(m) => {
                    let sidecar = &m.sidecar;
                    item.utterances = sidecar.utterances.clone();
                    item.decision = score::call_decision(sidecar.utterances.iter().map(|u| &u.decision));
                    item.live_decision = Some(item.decision.clone());
                    item.verdict = item.expected.as_ref().map(|e| score::verdict(e, &item.decision));
                    item.decided_label = run::decided_label(&item.decision, Some(&sidecar.directory));
                    item.error = None;
                    for listen in &sidecar.listens {
                        if let ListenEnd::DecodeFailed { reason } = &listen.end {
                            item.notes.push(format!("live decoding failed: {reason}"));
                        }
                    }
                }
                None => {
                    item.utterances.clear();
                    item.verdict = None;
                    item.error = Some("no recording of this call found (recording off, or the call heard other audio)".into());
                }
            }
            item
        })
        .collect();
    ReplayReport {
        config: "live (SIP)".into(),
        summary: score::summarize(&run::scored(&items)),
        items,
    }
}

/// Where the live and offline paths parted for one recording.
fn why(offline: &ItemResult, live: &LiveMatch) -> String {
    if !live.same_samples {
        return format!(
            "the call heard other samples than replay ({:.2} % equal): packets lost, late or reordered",
            live.equal_share * 100.0
        );
    }
    let sidecar = &live.sidecar;
    let secs = |s: u64| s as f64 / 8000.0;
    // Live cuts on the call's clock, offline cuts on the same clock (lead included).
    let live_cuts: Vec<(u64, u64)> = sidecar
        .utterances
        .iter()
        .filter_map(|u| u.samples)
        .map(|r| {
            let listen = sidecar
                .listens
                .iter()
                .rev()
                .find(|l| l.from_sample <= r.start);
            let shift = listen.map_or(0, |l| l.call_sample as i64 - l.from_sample as i64);
            (
                (r.start as i64 + shift) as u64,
                (r.end as i64 + shift) as u64,
            )
        })
        .collect();
    let offline_cuts: Vec<(u64, u64)> = offline
        .utterances
        .iter()
        .filter_map(|u| u.samples)
        .map(|r| (r.start, r.end))
        .collect();
    for (i, (on, off)) in live_cuts.iter().zip(&offline_cuts).enumerate() {
        if on != off {
            return format!(
                "utterance {}: the live endpointer cut {:.3}-{:.3} s of the call, replay's {:.3}-{:.3} s",
                i + 1,
                secs(on.0),
                secs(on.1),
                secs(off.0),
                secs(off.1)
            );
        }
        let (a, b) = (&sidecar.utterances[i].nbest, &offline.utterances[i].nbest);
        if a != b {
            let top = |n: &[crate::asr::Hypothesis]| {
                n.first().map_or("nothing".to_owned(), |h| {
                    format!("{:?} {:.3}", h.text, h.confidence)
                })
            };
            return format!(
                "utterance {}: same samples and cut, the engine answered {} live, {} offline",
                i + 1,
                top(a),
                top(b)
            );
        }
    }
    let ends: Vec<String> = sidecar
        .listens
        .iter()
        .map(|l| match &l.end {
            ListenEnd::Stopped { why } => format!("stopped: {why}"),
            ListenEnd::DecodeFailed { reason } => format!("decoding failed: {reason}"),
            ListenEnd::Recognized => "recognized".to_owned(),
            ListenEnd::Open => "open at the end of the call".to_owned(),
        })
        .collect();
    format!(
        "the same utterances as far as both went (live {}, offline {}); the call's recognitions ended: {}",
        live_cuts.len(),
        offline_cuts.len(),
        ends.join("; ")
    )
}

fn timing(offline: &ReplayReport, live: Option<&ReplayReport>, outcomes: &[SipOutcome]) -> Timing {
    let silence_ms = EndpointSettings::default()
        .end_of_speech_silence
        .as_millis() as f64;
    let lead_ms = CALL_LEAD.as_millis() as f64;
    let mut to_refer = Vec::new();
    let mut to_decision = Vec::new();
    let mut decision_to_refer = Vec::new();
    for (i, outcome) in outcomes.iter().enumerate() {
        let Some(refer_ms) = outcome.refer_after_answer_ms else {
            continue;
        };
        let Some(off) = offline.items.get(i).filter(|o| o.id == outcome.id) else {
            continue;
        };
        let source = live
            .and_then(|l| l.items.get(i))
            .filter(|l| l.error.is_none())
            .unwrap_or(off);
        // The utterance that decided, in the voice's time.
        let Some(decisive) = source
            .utterances
            .iter()
            .find(|u| u.decision != score::DecisionRecord::NoMatch)
        else {
            continue;
        };
        let ended_ms = match decisive.samples {
            // Live cuts are on the recording's clock; ended_at_ms of offline items is voice time.
            Some(_) if !std::ptr::eq(source, off) => off
                .utterances
                .iter()
                .find(|u| u.decision != score::DecisionRecord::NoMatch)
                .map_or(decisive.ended_at_ms as f64, |u| u.ended_at_ms as f64),
            _ => decisive.ended_at_ms as f64,
        };
        let speech_end = lead_ms + ended_ms - silence_ms;
        let total = refer_ms as f64 - speech_end;
        let decision = silence_ms + decisive.decode_ms.unwrap_or(0.0);
        to_refer.push(total);
        to_decision.push(decision);
        decision_to_refer.push(total - decision);
    }
    Timing {
        speech_end_to_refer: spread(to_refer),
        speech_end_to_decision: spread(to_decision),
        decision_to_refer: spread(decision_to_refer),
        call: spread(
            outcomes
                .iter()
                .filter(|o| o.call_ms > 0)
                .map(|o| o.call_ms as f64)
                .collect(),
        ),
    }
}

/// The report as text (the command's output).
pub fn text(r: &SipReport) -> String {
    let mut out = String::new();
    for o in &r.outcomes {
        let verdict = match o.right {
            Some(true) => "right",
            Some(false) => "WRONG",
            None => "unlabelled",
        };
        out.push_str(&format!(
            "{verdict:10} {} -> {} (expected {:?})\n",
            o.id,
            o.transferred_to.as_deref().unwrap_or("no transfer"),
            o.expected_targets
        ));
    }
    let judged = r.outcomes.iter().filter(|o| o.right.is_some()).count();
    let right = r.outcomes.iter().filter(|o| o.right == Some(true)).count();
    out.push_str(&format!(
        "{right}/{judged} calls ended where expected; {} calls in {:.0} s with {} at once\n",
        r.outcomes.len(),
        r.wall_s,
        r.jobs
    ));
    let s = &r.offline.summary;
    out.push_str(&format!(
        "offline: top-1 {:.1}% ({}/{})\n",
        s.accuracy * 100.0,
        s.correct,
        s.total
    ));
    if let Some(live) = &r.live {
        let s = &live.summary;
        out.push_str(&format!(
            "live:    top-1 {:.1}% ({}/{})\n",
            s.accuracy * 100.0,
            s.correct,
            s.total
        ));
    }
    if let Some(a) = &r.agreement {
        out.push_str(&format!(
            "live and offline decided the same for {}/{} recordings ({:.1} %)\n",
            a.agreed,
            a.compared,
            a.share * 100.0
        ));
    }
    for d in &r.differences {
        out.push_str(&format!(
            "  differs: {}: offline {}, live {}: {}\n",
            d.id, d.offline, d.live, d.why
        ));
    }
    let t = &r.timing;
    let line = |name: &str, s: &Spread| {
        format!(
            "  {name}: p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms ({} calls)\n",
            s.p50_ms, s.p95_ms, s.max_ms, s.count
        )
    };
    out.push_str("timing of transferred calls:\n");
    out.push_str(&line("end of speech -> REFER", &t.speech_end_to_refer));
    out.push_str(&line(
        "  end of speech -> decision (silence wait + decoding)",
        &t.speech_end_to_decision,
    ));
    out.push_str(&line(
        "  decision -> REFER (\"transferring\" prompt + SIP)",
        &t.decision_to_refer,
    ));
    out.push_str(&line("whole calls", &t.call));
    out
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The HTML report: the offline/live comparison page (or the offline run),
/// with the differences and the timing first.
pub fn html(r: &SipReport) -> String {
    let page = match &r.live {
        Some(live) => report::compare_html(&run::compare(r.offline.clone(), live.clone())),
        None => report::html(&r.offline),
    };
    let mut section = String::from("<h2>Live (SIP) against offline</h2>");
    if let Some(a) = &r.agreement {
        section.push_str(&format!(
            "<p>{}/{} recordings decided the same ({:.1} %).</p>",
            a.agreed,
            a.compared,
            a.share * 100.0
        ));
    }
    if !r.differences.is_empty() {
        section.push_str(
            "<table><tr><th>recording</th><th>offline</th><th>live</th><th>why</th></tr>",
        );
        for d in &r.differences {
            section.push_str(&format!(
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&d.id),
                esc(&d.offline),
                esc(&d.live),
                esc(&d.why)
            ));
        }
        section.push_str("</table>");
    }
    section.push_str("<h3>Timing of transferred calls</h3><table><tr><th></th><th>p50 ms</th><th>p95 ms</th><th>max ms</th><th>calls</th></tr>");
    for (name, s) in [
        ("end of speech → REFER", &r.timing.speech_end_to_refer),
        ("end of speech → decision", &r.timing.speech_end_to_decision),
        (
            "decision → REFER (“transferring” prompt)",
            &r.timing.decision_to_refer,
        ),
        ("whole call", &r.timing.call),
    ] {
        section.push_str(&format!(
            "<tr><td>{name}</td><td>{:.0}</td><td>{:.0}</td><td>{:.0}</td><td>{}</td></tr>",
            s.p50_ms, s.p95_ms, s.max_ms, s.count
        ));
    }
    section.push_str(&format!(
        "</table><p>{} calls in {:.0} s, {} at once.</p>",
        r.outcomes.len(),
        r.wall_s,
        r.jobs
    ));
    match page.find("</h1>") {
        Some(at) => format!("{}{}{}", &page[..at + 5], section, &page[at + 5..]),
        None => page + &section,
    }
}
