//! Replay over SIP: each recording becomes a real call placed by baresip (its
//! microphone is the recording, after [`CALL_LEAD`] of silence, offering
//! PCMU only: the line `speech::offline` models) to a running attendant, and
//! the REFER it receives says where the call was transferred. Catches what
//! offline replay cannot: packetisation, RTP timing, the transfer itself.
//!
//! At corpus scale: up to `jobs` calls at once (one baresip process each,
//! blocking threads); a call ends as soon as its outcome is known (baresip
//! quits on the REFER, or once the attendant or the end of the microphone
//! ended the call); each outcome is handed to the caller as it comes (the CLI
//! writes it as a JSON line at once). With the attendant's recordings folder,
//! each call's recording is found by its audio ([`match_recordings`]) and
//! gives the live decision, compared with offline replay in the report.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::directory::{Directory, TransferTarget};
use crate::recording::Sidecar;
use crate::speech::offline::{CALL_LEAD, as_heard};

use super::input::{self, ExpectedSpec, InputError, ReplayItem};
use super::record::write_wav_file;
use super::score::Expected;

/// Why a call could not be placed.
#[derive(Debug, thiserror::Error)]
pub enum SipReplayError {
    #[error("cannot prepare the caller's files")]
    Files(#[source] std::io::Error),
    #[error("cannot write the caller's microphone WAV")]
    Microphone(#[source] super::record::RecordError),
    #[error("cannot read the recording")]
    Input(#[from] InputError),
    #[error("cannot run baresip (Debian package baresip-core)")]
    Baresip(#[source] std::io::Error),
}

/// Where one replayed call went, as the caller saw it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SipOutcome {
    pub id: String,
    /// The Refer-To URI baresip followed, if the attendant transferred the call.
    pub transferred_to: Option<String>,
    /// Extensions or URIs that are right for this recording (empty: no transfer,
    /// or the operator, is right).
    pub expected_targets: Vec<String>,
    /// `None` when the recording is not labelled.
    pub right: Option<bool>,
    /// From the dial to the answer (ms).
    pub answered_ms: Option<u64>,
    /// From the answer (the caller's first sample) to the REFER (ms).
    pub refer_after_answer_ms: Option<u64>,
    /// The whole call, dial to quit (ms).
    pub call_ms: u64,
    /// baresip's output (console and log), kept for a call that went wrong or
    /// could not be judged.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub caller_log: String,
}

fn target_text(target: &TransferTarget) -> String {
    match target {
        TransferTarget::Extension(e) | TransferTarget::Uri(e) => e.clone(),
    }
}

/// The user part of a SIP URI (`sip:201@host` gives `201`), or the URI itself.
fn uri_user(uri: &str) -> &str {
    let rest = uri
        .trim_matches(|c| c == '<' || c == '>')
        .trim_start_matches("sip:");
    rest.split('@').next().unwrap_or(rest)
}

/// Judges a call's destination against what the recording expects.
pub fn judge(
    expected: &Expected,
    directory: &Directory,
    transferred_to: Option<&str>,
) -> (Vec<String>, bool) {
    let operator = target_text(&directory.store.operator);
    match expected {
        Expected::Reject => (
            vec![],
            transferred_to.is_none_or(|uri| uri_user(uri) == operator || uri.contains(&operator)),
        ),
        Expected::Entry(ids) => {
            let targets: Vec<String> = directory
                .entries
                .iter()
                .filter(|e| ids.contains(&e.id))
                .map(|e| target_text(&e.target))
                .collect();
            let right = transferred_to.is_some_and(|uri| {
                targets
                    .iter()
                    .any(|t| uri_user(uri) == t || uri.contains(t.as_str()))
            });
            (targets, right)
        }
    }
}

/// The Refer-To of baresip 1.0's transfer line:
/// `menu: transferring call 9e61… to '<sip:201@127.0.0.1:33684>'`.
fn refer_target(line: &str) -> Option<String> {
    let (_, rest) = line.split_once("transferring call ")?;
    let (_, uri) = rest.split_once(" to ")?;
    Some(uri.trim().trim_matches('\'').to_owned())
}

fn free_udp_port() -> Result<u16, SipReplayError> {
    let socket = UdpSocket::bind("127.0.0.1:0").map_err(SipReplayError::Files)?;
    Ok(socket.local_addr().map_err(SipReplayError::Files)?.port())
}

/// What baresip showed of one call.
#[derive(Debug, Clone, Default)]
pub struct CallTrace {
    pub transferred_to: Option<String>,
    pub answered_ms: Option<u64>,
    pub refer_after_answer_ms: Option<u64>,
    pub call_ms: u64,
    pub log: String,
}

/// The microphone of a replayed call: [`CALL_LEAD`] of silence, the voice,
/// then `tail` of silence (baresip hangs up when its WAV ends: the silence
/// leaves time for the decision and the "transferring" prompt).
pub fn microphone(voice: &[i16], tail: Duration) -> Vec<i16> {
    let mut audio = vec![0i16; CALL_LEAD.as_millis() as usize * 8];
    audio.extend_from_slice(voice);
    audio.extend(std::iter::repeat_n(0i16, tail.as_millis() as usize * 8));
    audio
}

/// Sends `sig` to process `pid`; false if it is gone.
fn signal(pid: &str, sig: &str) -> bool {
    Command::new("kill")
        .args([sig, pid])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Whether a baresip line says the call is over.
fn call_over(line: &str) -> bool {
    let line = line.to_ascii_lowercase();
    line.contains("terminated") || line.contains("call closed") || line.contains("session closed")
}

/// Calls `number` at `attendant` with `voice` (8 kHz) as the caller's
/// [`microphone`]; ends the call as soon as it is transferred or over, and
/// after `limit` at the latest.
pub fn place_call(
    attendant: SocketAddr,
    number: &str,
    voice: &[i16],
    tail: Duration,
    limit: Duration,
) -> Result<CallTrace, SipReplayError> {
    let dir = tempfile::tempdir().map_err(SipReplayError::Files)?;
    let mic: PathBuf = dir.path().join("microphone.wav");
    write_wav_file(&mic, &microphone(voice, tail)).map_err(SipReplayError::Microphone)?;
    let config = format!(
        "poll_method epoll\nnet_interface 127.0.0.1\nsip_listen 127.0.0.1:{port}\naudio_source aufile,{mic}\naudio_alert aufile,{mic}\n\
         module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\nmodule_app account.so\nmodule_app menu.so\n",
        port = free_udp_port()?,
        mic = mic.display()
    );
    std::fs::write(dir.path().join("config"), config).map_err(SipReplayError::Files)?;
    // PCMU only: the codec offline replay models (`speech::offline::CALL_CODEC`).
    std::fs::write(
        dir.path().join("accounts"),
        "<sip:qa-replay@127.0.0.1>;regint=0;audio_codecs=PCMU\n",
    )
    .map_err(SipReplayError::Files)?;
    let started = Instant::now();
    let mut child = Command::new("baresip")
        .arg("-f")
        .arg(dir.path())
        .arg("-e")
        .arg(format!("/dial sip:{number}@{attendant}"))
        .args(["-t", &limit.as_secs().max(1).to_string()])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(SipReplayError::Baresip)?;
    let mut trace = CallTrace::default();
    let mut quitting = false;
    let mut answered: Option<Instant> = None;
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            trace.log.push_str(&line);
            trace.log.push('\n');
            let now = Instant::now();
            if answered.is_none() && line.contains("Call established") {
                answered = Some(now);
                trace.answered_ms = Some(now.duration_since(started).as_millis() as u64);
            }
            let referred = refer_target(&line);
            let over = call_over(&line);
            if let Some(uri) = referred {
                trace.refer_after_answer_ms = answered.map(|a| now.duration_since(a).as_millis() as u64);
                trace.transferred_to = Some(uri);
            }
            // The outcome is known: quit. On SIGTERM baresip hangs up (BYE)
            // and exits; it has no other way in without its stdio module.
            // Its graceful stop can linger on the transferred leg: a second
            // signal makes it exit at once, a KILL if even that fails.
            if (trace.transferred_to.is_some() || over) && !quitting {
                quitting = true;
                let pid = child.id().to_string();
                signal(&pid, "-TERM");
                std::thread::spawn(move || {
                    for (after, sig) in [(Duration::from_millis(1000), "-TERM"), (Duration::from_millis(1000), "-KILL")] {
                        std::thread::sleep(after);
                        if !signal(&pid, sig) {
                            break;
                        }
                    }
                });
            }
        }
    }
    child.wait().map_err(SipReplayError::Baresip)?;
    trace.call_ms = started.elapsed().as_millis() as u64;
    Ok(trace)
}

/// The expected targets of an item and whether `transferred_to` is one.
fn judged(item: &ReplayItem, transferred_to: Option<&str>) -> (Vec<String>, Option<bool>) {
    let expected = match (&item.expected, &item.directory) {
        (ExpectedSpec::Resolved(e), Some(d)) => Some((e.clone(), d)),
        (ExpectedSpec::Text(t), Some(d)) => Some((input::resolve_text(t, d), d)),
        _ => None,
    };
    match expected {
        Some((e, d)) => {
            let (targets, right) = judge(&e, d, transferred_to);
            (targets, Some(right))
        }
        None => (vec![], None),
    }
}

/// How replay-sip places its calls.
#[derive(Debug, Clone)]
pub struct SipPlan {
    pub attendant: SocketAddr,
    pub number: String,
    /// Longest call.
    pub limit: Duration,
    /// Silence after the voice before baresip hangs up.
    pub tail: Duration,
    /// Calls at once (at least 1).
    pub jobs: usize,
}

/// Places one call per item, `plan.jobs` at a time, and hands each outcome
/// to `each` (on the calling thread) as soon as its call ended, in the order
/// calls end. A call that could not be placed is reported with its error in
/// the log, the others go on.
pub fn replay_over_sip(items: &[ReplayItem], plan: &SipPlan, mut each: impl FnMut(SipOutcome)) {
    let next = AtomicUsize::new(0);
    let (tx, rx) = mpsc::channel::<SipOutcome>();
    std::thread::scope(|scope| {
        for _ in 0..plan.jobs.max(1).min(items.len().max(1)) {
            let tx = tx.clone();
            let next = &next;
            scope.spawn(move || {
                loop {
                    let index = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(index) else { break };
                    let trace = input::read_wav(&item.wav)
                        .map_err(SipReplayError::from)
                        .and_then(|voice| place_call(plan.attendant, &plan.number, &voice, plan.tail, plan.limit));
                    let outcome = match trace {
                        Ok(trace) => {
                            let (expected_targets, right) = judged(item, trace.transferred_to.as_deref());
                            SipOutcome {
                                id: item.id.clone(),
                                transferred_to: trace.transferred_to,
                                expected_targets,
                                right,
                                answered_ms: trace.answered_ms,
                                refer_after_answer_ms: trace.refer_after_answer_ms,
                                call_ms: trace.call_ms,
                                caller_log: if right == Some(true) { String::new() } else { trace.log },
                            }
                        }
                        Err(error) => SipOutcome {
                            id: item.id.clone(),
                            transferred_to: None,
                            expected_targets: vec![],
                            right: None,
                            answered_ms: None,
                            refer_after_answer_ms: None,
                            call_ms: 0,
                            caller_log: format!("call not placed: {error}"),
                        },
                    };
                    if tx.send(outcome).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for outcome in rx {
            each(outcome);
        }
    });
}

/// A live call's recording found for a replayed item.
#[derive(Debug, Clone)]
pub struct LiveMatch {
    pub sidecar: Sidecar,
    /// The recording's audio is exactly what offline replay hears at the
    /// same place of the call (first recognition).
    pub same_samples: bool,
    /// Share of equal samples over the first recognition's audio.
    pub equal_share: f64,
}

/// Finds, for each item, the recording the attendant made of its call in
/// `dir` (sidecars of format 2): the one whose first recognition's audio is
/// the item's voice as the call heard it, at the recognition's place on the
/// call's clock. Items without one get `None`.
pub fn match_recordings(items: &[ReplayItem], dir: &Path) -> Result<Vec<Option<LiveMatch>>, InputError> {
    let recordings = if dir.is_dir() { input::load(dir).unwrap_or_default() } else { vec![] };
    let heard: Vec<Option<Vec<i16>>> = items.iter().map(|i| input::read_wav(&i.wav).ok().map(|v| as_heard(&v))).collect();
    let mut out: Vec<Option<LiveMatch>> = vec![None; items.len()];
    for recording in recordings {
        let Some(sidecar) = recording.sidecar else { continue };
        let Some(first) = sidecar.listens.first() else { continue };
        let pcm = input::read_wav(&recording.wav)?;
        let window_end = sidecar.listens.get(1).map_or(pcm.len(), |l| l.from_sample as usize).min(pcm.len());
        let window = &pcm[first.from_sample as usize..window_end];
        let offset = first.call_sample as usize;
        let mut best: Option<(usize, f64)> = None;
        for (index, heard) in heard.iter().enumerate() {
            let Some(heard) = heard else { continue };
            if out[index].is_some() {
                continue;
            }
            let equal = window
                .iter()
                .enumerate()
                .filter(|(k, s)| heard.get(offset + k).copied().unwrap_or(0) == **s)
                .count();
            let share = equal as f64 / window.len().max(1) as f64;
            if best.is_none_or(|(_, b)| share > b) {
                best = Some((index, share));
            }
        }
        if let Some((index, share)) = best.filter(|(_, share)| *share > 0.9) {
            out[index] = Some(LiveMatch {
                sidecar: *sidecar,
                same_samples: share == 1.0,
                equal_share: share,
            });
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    //! Where a call went, judged against the recording's expectation.
    use super::*;
    use crate::directory::{DirectoryVersion, Entry, EntryId, Language, Store, StoreId};

    fn directory() -> Directory {
        let entry = |id, ext: &str| Entry {
            id: EntryId(id),
            display_name: format!("e{id}"),
            aliases: vec![],
            department: None,
            extension: Some(ext.into()),
            target: TransferTarget::Extension(ext.into()),
            fallback: None,
            enabled: true,
        };
        Directory {
            store: Store {
                id: StoreId(1),
                name: "s".into(),
                number: "1000".into(),
                language: Language::En,
                operator: TransferTarget::Extension("100".into()),
            },
            version: DirectoryVersion(1),
            entries: vec![entry(1, "201"), entry(3, "203")],
            menu: vec![],
        }
    }

    #[test]
    fn baresip_transfer_lines() {
        let cases = [
            (
                "menu: transferring call 9e6165cd3e26ec02 to '<sip:201@127.0.0.1:33684>'",
                Some("<sip:201@127.0.0.1:33684>"),
            ),
            ("call: connecting to '<sip:201@127.0.0.1:33684>'..", None),
            (
                "qa-replay@127.0.0.1: Call established: sip:1000@127.0.0.1:33969",
                None,
            ),
        ];
        for (line, want) in cases {
            assert_eq!(refer_target(line).as_deref(), want, "{line}");
        }
    }

    #[test]
    fn judging_destinations() {
        let d = directory();
        let one = Expected::Entry([EntryId(1)].into_iter().collect());
        let cases: [(&Expected, Option<&str>, bool); 6] = [
            (&one, Some("sip:201@127.0.0.1:5070"), true),
            (&one, Some("<sip:203@127.0.0.1>"), false),
            (&one, None, false),
            (&Expected::Reject, None, true),
            (&Expected::Reject, Some("sip:100@pbx"), true),
            (&Expected::Reject, Some("sip:201@pbx"), false),
        ];
        for (expected, to, want) in cases {
            assert_eq!(judge(expected, &d, to).1, want, "{expected:?} {to:?}");
        }
    }
}
