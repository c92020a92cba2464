//! `attendant replay`: arguments and the command's work, kept out of `main.rs`.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::asr::EngineKind;
use crate::directory::{Directory, StoreId};
use crate::matching::Thresholds;
use crate::speech::endpoint::EndpointSettings;

use super::input::{self, InputError};
use super::report;
use super::run::{self, ConfigChange, DirectorySource, ReplayConfig, ReplayReport, Replayer};
use super::score::Summary;

/// Arguments of `attendant replay`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// A folder of recordings (WAV + sidecar JSON), a folder with a manifest.json,
    /// or a manifest file.
    pub input: PathBuf,
    /// Engine to decode with (default: the one each recording was made with).
    #[arg(long, value_parser = parse_engine)]
    pub engine: Option<EngineKind>,
    /// Directory version: `recorded` (the recording's), `current` (the
    /// database's, per store) or a snapshot JSON file.
    #[arg(long, value_name = "recorded|current|FILE", default_value = "recorded")]
    pub directory: String,
    /// Decision thresholds as JSON, e.g. '{"accept":0.7}' (missing keys: defaults).
    #[arg(long, value_name = "JSON", value_parser = parse_json::<Thresholds>)]
    pub thresholds: Option<Thresholds>,
    /// Folder of the per-engine calibration files (`sphinx.toml`, `vosk.toml`)
    /// used when neither --thresholds nor the recording gives thresholds
    /// (default: the source tree's config/calibration).
    #[arg(long, value_name = "DIR")]
    pub calibration: Option<PathBuf>,
    /// Endpointer settings as JSON, e.g. '{"end_of_speech_silence":500}'.
    #[arg(long, value_name = "JSON", value_parser = parse_json::<EndpointSettings>)]
    pub endpoint: Option<EndpointSettings>,
    /// Compare with a second configuration: JSON (inline or a file) of what
    /// differs, e.g. '{"engine":"vosk","thresholds":{"accept":0.9}}'.
    #[arg(long, value_name = "JSON|FILE")]
    pub compare: Option<String>,
    /// Write the full results as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the HTML report.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Exit non-zero when the top-1 accuracy (0..1) of a run is below this.
    #[arg(long, value_name = "X")]
    pub min_accuracy: Option<f64>,
}

impl ReplayArgs {
    /// Whether the directories of the database are needed (`--directory current`).
    pub fn wants_current_directories(&self) -> bool {
        self.directory == "current"
    }
}

fn parse_engine(s: &str) -> Result<EngineKind, String> {
    match s {
        "vosk" => Ok(EngineKind::Vosk),
        "sphinx" => Ok(EngineKind::Sphinx),
        other => Err(format!("unknown engine {other:?} (vosk or sphinx)")),
    }
}

fn parse_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, String> {
    serde_json::from_str(s).map_err(|e| e.to_string())
}

/// Why `attendant replay` failed (below the accuracy gate is not an error: see [`Outcome`]).
#[derive(Debug, thiserror::Error)]
pub enum ReplayCliError {
    #[error("cannot read the recordings")]
    Input(#[from] InputError),
    #[error("--directory current needs the database's directories")]
    NoCurrentDirectories,
    #[error("unusable calibration")]
    Calibration(#[from] crate::matching::calibration::CalibrationError),
    #[error("invalid --compare configuration {text:?}")]
    Compare {
        text: String,
        source: serde_json::Error,
    },
    #[error("cannot read --compare file {path}")]
    CompareFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the JSON results")]
    Encode(#[from] serde_json::Error),
}

/// What the command found.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// One summary per run (two with `--compare`).
    pub summaries: Vec<Summary>,
    /// Every run reached `--min-accuracy` (true without the option).
    pub passed: bool,
}

fn directory_source(
    arg: &str,
    current: Option<&HashMap<StoreId, Arc<Directory>>>,
) -> Result<DirectorySource, ReplayCliError> {
    Ok(match arg {
        "recorded" => DirectorySource::Recorded,
        "current" => {
            DirectorySource::Current(current.ok_or(ReplayCliError::NoCurrentDirectories)?.clone())
        }
        file => DirectorySource::Fixed(Arc::new(input::load_directory(Path::new(file))?)),
    })
}

fn progress_bar(len: usize) -> ProgressBar {
    let bar = ProgressBar::new(len as u64);
    if std::io::stderr().is_terminal() {
        if let Ok(style) =
            ProgressStyle::with_template("{prefix} [{bar:40}] {pos}/{len} {elapsed} (eta {eta})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
    } else {
        // Logs and CI: no redraw noise.
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar
}

fn print_summary(report: &ReplayReport) {
    let s = &report.summary;
    println!(
        "{}: top-1 {:.1}% ({}/{}), false accepts {}, false rejects {}, confirmations {:.1}%, decode p50 {:.0} ms p90 {:.0} ms p99 {:.0} ms",
        report.config,
        s.accuracy * 100.0,
        s.correct,
        s.total,
        s.false_accepts,
        s.false_rejects,
        s.confirmation_rate * 100.0,
        s.latency.p50_ms,
        s.latency.p90_ms,
        s.latency.p99_ms
    );
    for store in &s.per_store {
        println!(
            "  {}: {:.1}% ({}/{})",
            store.store,
            store.accuracy * 100.0,
            store.correct,
            store.total
        );
    }
    for p in s.confused_pairs.iter().take(5) {
        println!("  confused: {} -> {} x{}", p.expected, p.decided, p.count);
    }
    let failed = report.items.iter().filter(|i| i.error.is_some()).count();
    if let Some(first) = report.items.iter().find_map(|i| i.error.as_ref()) {
        println!("  {failed} recording(s) could not be replayed, first: {first}");
    }
}

fn write(path: &Path, text: &str) -> Result<(), ReplayCliError> {
    std::fs::write(path, text).map_err(|source| ReplayCliError::Write {
        path: path.to_owned(),
        source,
    })
}

/// Runs the command. Blocking (decoding): call it off async threads.
/// `current`: each store's current directory, when `--directory current`.
pub fn execute(
    args: &ReplayArgs,
    current: Option<&HashMap<StoreId, Arc<Directory>>>,
) -> Result<Outcome, ReplayCliError> {
    let items = input::load(&args.input)?;
    let a = ReplayConfig {
        name: "A".to_owned(),
        engine: args.engine,
        thresholds: args.thresholds,
        endpoint: args.endpoint.clone(),
        directory: directory_source(&args.directory, current)?,
    };
    let b = match &args.compare {
        None => None,
        Some(text) => {
            let json = if text.trim_start().starts_with('{') {
                text.clone()
            } else {
                std::fs::read_to_string(text).map_err(|source| ReplayCliError::CompareFile {
                    path: text.into(),
                    source,
                })?
            };
            let change: ConfigChange =
                serde_json::from_str(&json).map_err(|source| ReplayCliError::Compare {
                    text: text.clone(),
                    source,
                })?;
            Some(ReplayConfig {
                name: "B".to_owned(),
                engine: change.engine.or(a.engine),
                thresholds: change.thresholds.or(a.thresholds),
                endpoint: change.endpoint.or(a.endpoint.clone()),
                directory: match change.directory {
                    Some(file) => DirectorySource::Fixed(Arc::new(input::load_directory(&file)?)),
                    None => a.directory.clone(),
                },
            })
        }
    };
    let runs = 1 + usize::from(b.is_some());
    let bar = progress_bar(items.len() * runs);
    let calibration_dir = args
        .calibration
        .clone()
        .unwrap_or_else(crate::matching::calibration::default_dir);
    let calibration = crate::matching::calibration::Calibration::load(&calibration_dir)?;
    let mut replayer = Replayer::new().with_calibration(calibration);
    let mut reports = vec![replayer.run(&items, &a, &bar)];
    if let Some(b) = &b {
        reports.push(replayer.run(&items, b, &bar));
    }
    bar.finish_and_clear();
    for r in &reports {
        print_summary(r);
    }
    let summaries: Vec<Summary> = reports.iter().map(|r| r.summary.clone()).collect();
    let passed = args
        .min_accuracy
        .is_none_or(|min| summaries.iter().all(|s| s.accuracy >= min));
    let (json, html) = if reports.len() == 2 {
        let b = reports.pop();
        let a = reports.pop();
        // Both present: two runs were pushed above.
        let comparison = run::compare(a.expect("run A"), b.expect("run B"));
        println!(
            "A -> B: {} changed, {} fixed, {} broken",
            comparison.changes.len(),
            comparison.fixed,
            comparison.broken
        );
        for c in &comparison.changes {
            println!(
                "  {}: expected {}: {} -> {}",
                c.id, c.expected_label, c.a, c.b
            );
        }
        (
            serde_json::to_string_pretty(&comparison)?,
            report::compare_html(&comparison),
        )
    } else {
        (
            serde_json::to_string_pretty(&reports[0])?,
            report::html(&reports[0]),
        )
    };
    if let Some(path) = &args.json {
        write(path, &json)?;
    }
    if let Some(path) = &args.html {
        write(path, &html)?;
    }
    Ok(Outcome { summaries, passed })
}

/// Arguments of `attendant replay-sip`.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplaySipArgs {
    /// Recordings, as for `attendant replay`.
    pub input: PathBuf,
    /// The running attendant's SIP address.
    #[arg(long, value_name = "HOST:PORT")]
    pub attendant: std::net::SocketAddr,
    /// The store number to dial.
    #[arg(long)]
    pub number: String,
    /// Longest call, in seconds (baresip quits then).
    #[arg(long, default_value_t = 30)]
    pub limit: u64,
    /// Write the outcomes as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
}

/// Why `attendant replay-sip` failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplaySipCliError {
    #[error("cannot read the recordings")]
    Input(#[from] InputError),
    #[error("cannot place the calls")]
    Sip(#[from] super::sip::SipReplayError),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the JSON results")]
    Encode(#[from] serde_json::Error),
}

/// Runs `attendant replay-sip`: one baresip call per recording, in turn.
/// Returns (right, judged) counts. Blocking.
pub fn execute_sip(args: &ReplaySipArgs) -> Result<(usize, usize), ReplaySipCliError> {
    let items = input::load(&args.input)?;
    let bar = progress_bar(items.len());
    let outcomes = super::sip::replay_over_sip(
        &items,
        args.attendant,
        &args.number,
        std::time::Duration::from_secs(args.limit),
        &bar,
    )?;
    bar.finish_and_clear();
    for o in &outcomes {
        let verdict = match o.right {
            Some(true) => "right",
            Some(false) => "WRONG",
            None => "unlabelled",
        };
        println!(
            "{verdict:10} {} -> {} (expected {:?})",
            o.id,
            o.transferred_to.as_deref().unwrap_or("no transfer"),
            o.expected_targets
        );
    }
    let judged = outcomes.iter().filter(|o| o.right.is_some()).count();
    let right = outcomes.iter().filter(|o| o.right == Some(true)).count();
    println!("{right}/{judged} calls ended where expected");
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&outcomes)?).map_err(|source| {
            ReplaySipCliError::Write {
                path: path.clone(),
                source,
            }
        })?;
    }
    Ok((right, judged))
}
