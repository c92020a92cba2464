//! Replay over SIP: each recording becomes a real call placed by baresip (its
//! microphone is the recording, padded with silence) to a running attendant,
//! and the REFER it receives says where the call was transferred. Catches what
//! offline replay cannot: packetisation, G.711, RTP timing, the transfer itself.
//! Blocking (one baresip process per call, in turn).

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::directory::{Directory, TransferTarget};

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

/// Where one replayed call went.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SipOutcome {
    pub id: String,
    /// The Refer-To URI baresip followed, if the attendant transferred the call.
    pub transferred_to: Option<String>,
    /// Extensions or URIs that are right for this recording (empty: no transfer,
    /// or the operator, is right).
    pub expected_targets: Vec<String>,
    /// `None` when the recording is not labelled.
    pub right: Option<bool>,
    /// baresip's output (console and log), for a call that went wrong.
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

/// Calls `number` at `attendant` with `pcm` (8 kHz) as the caller's voice, after
/// `lead` of silence (the greeting) and followed by `tail` of silence; returns
/// the Refer-To the call was transferred to and baresip's output. baresip quits
/// after `limit`.
pub fn place_call(
    attendant: SocketAddr,
    number: &str,
    pcm: &[i16],
    lead: Duration,
    tail: Duration,
    limit: Duration,
) -> Result<(Option<String>, String), SipReplayError> {
    let dir = tempfile::tempdir().map_err(SipReplayError::Files)?;
    let microphone: PathBuf = dir.path().join("microphone.wav");
    let mut audio = vec![0i16; lead.as_millis() as usize * 8];
    audio.extend_from_slice(pcm);
    // baresip hangs up when its WAV ends: the silence leaves time for the decision.
    audio.extend(std::iter::repeat_n(0i16, tail.as_millis() as usize * 8));
    write_wav_file(&microphone, &audio).map_err(SipReplayError::Microphone)?;
    let config = format!(
        "poll_method epoll\nnet_interface 127.0.0.1\nsip_listen 127.0.0.1:{port}\naudio_source aufile,{mic}\naudio_alert aufile,{mic}\n\
         module_path /usr/lib/baresip/modules\nmodule g711.so\nmodule aufile.so\nmodule_app account.so\nmodule_app menu.so\n",
        port = free_udp_port()?,
        mic = microphone.display()
    );
    std::fs::write(dir.path().join("config"), config).map_err(SipReplayError::Files)?;
    std::fs::write(
        dir.path().join("accounts"),
        "<sip:qa-replay@127.0.0.1>;regint=0\n",
    )
    .map_err(SipReplayError::Files)?;
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
    let mut transferred_to = None;
    let mut log = String::new();
    if let Some(stdout) = child.stdout.take() {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            log.push_str(&line);
            log.push('\n');
            if let Some(uri) = refer_target(&line) {
                transferred_to = Some(uri);
            }
        }
    }
    child.wait().map_err(SipReplayError::Baresip)?;
    Ok((transferred_to, log))
}

/// Places one call per item (its recorded or manifest directory gives the
/// expected targets) and reports where each went.
pub fn replay_over_sip(
    items: &[ReplayItem],
    attendant: SocketAddr,
    number: &str,
    limit: Duration,
    progress: &indicatif::ProgressBar,
) -> Result<Vec<SipOutcome>, SipReplayError> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let pcm = input::read_wav(&item.wav)?;
        let (transferred_to, caller_log) = place_call(
            attendant,
            number,
            &pcm,
            Duration::from_millis(1500),
            Duration::from_secs(6),
            limit,
        )?;
        let expected = match (&item.expected, &item.directory) {
            (ExpectedSpec::Resolved(e), Some(d)) => Some((e.clone(), d)),
            (ExpectedSpec::Text(t), Some(d)) => Some((input::resolve_text(t, d), d)),
            _ => None,
        };
        let (expected_targets, right) = match expected {
            Some((e, d)) => {
                let (targets, right) = judge(&e, d, transferred_to.as_deref());
                (targets, Some(right))
            }
            None => (vec![], None),
        };
        out.push(SipOutcome {
            id: item.id.clone(),
            transferred_to,
            expected_targets,
            right,
            caller_log,
        });
        progress.inc(1);
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
