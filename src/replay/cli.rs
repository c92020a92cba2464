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
    #[error("cannot replay for the report's curves")]
    Calibrate(#[from] super::calibrate::CalibrateError),
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
        "{}: top-1 {:.1}% ({}/{}), false accepts {}, false rejects {}, confirmations {:.1}%, decode p50 {:.0} ms p90 {:.0} ms p95 {:.0} ms p99 {:.0} ms",
        report.config,
        s.accuracy * 100.0,
        s.correct,
        s.total,
        s.false_accepts,
        s.false_rejects,
        s.confirmation_rate * 100.0,
        s.latency.p50_ms,
        s.latency.p90_ms,
        s.latency.p95_ms,
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
    println!("  {}", s.figures.line());
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
    // One run with an HTML page: replayed through a calibration session, so
    // the page can draw the accept-threshold curve from the same decoding.
    let mut session = None;
    let mut reports = if b.is_none() && args.html.is_some() {
        let (s, r) = super::calibrate::Session::replay(&items, &a, &bar, calibration.clone(), None)?;
        session = Some(s);
        vec![r]
    } else {
        let mut replayer = Replayer::new().with_calibration(calibration.clone());
        let mut reports = vec![replayer.run(&items, &a, &bar)];
        if let Some(b) = &b {
            reports.push(replayer.run(&items, b, &bar));
        }
        reports
    };
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
        let curves = match session.as_mut() {
            Some(s) => super::calibrate::accept_curve(
                s,
                |engine| {
                    a.thresholds
                        .unwrap_or_else(|| calibration.thresholds(engine))
                },
                40,
            )?,
            None => Vec::new(),
        };
        let extras = report::Extras {
            curves,
            audio: args
                .html
                .as_deref()
                .map(|page| audio_links(&items, page))
                .unwrap_or_default(),
        };
        (
            serde_json::to_string_pretty(&reports[0])?,
            report::html_with(&reports[0], &extras),
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
    /// Calls at once.
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u16).range(1..=32))]
    pub jobs: u16,
    /// Silence after the voice, in seconds, before the caller hangs up (time
    /// for the decision and the "transferring" prompt).
    #[arg(long, default_value_t = 4.0)]
    pub tail: f64,
    /// The attendant's recordings folder of the dialled store
    /// (`<data_dir>/recordings/<store id>`, recording enabled): each call's
    /// recording gives its live decision, compared with offline replay.
    #[arg(long, value_name = "DIR")]
    pub recordings: Option<PathBuf>,
    /// Append each call's outcome as one JSON line as soon as it ends (an
    /// interrupted run keeps what it measured).
    #[arg(long, value_name = "FILE")]
    pub jsonl: Option<PathBuf>,
    /// Write the whole report as JSON (outcomes, offline and live runs,
    /// differences, timing).
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the HTML report (offline vs live when recordings are given).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Why `attendant replay-sip` failed.
#[derive(Debug, thiserror::Error)]
pub enum ReplaySipCliError {
    #[error("cannot read the recordings")]
    Input(#[from] InputError),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the JSON results")]
    Encode(#[from] serde_json::Error),
}

/// Runs `attendant replay-sip`; returns (calls that ended where expected,
/// labelled calls). Blocking.
pub fn execute_sip(args: &ReplaySipArgs) -> Result<(usize, usize), ReplaySipCliError> {
    let items = input::load(&args.input)?;
    let bar = progress_bar(items.len());
    let write_err = |path: &Path| {
        let path = path.to_owned();
        move |source| ReplaySipCliError::Write { path, source }
    };
    let mut lines = match &args.jsonl {
        Some(path) => Some(
            std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(write_err(path))?,
        ),
        None => None,
    };
    let plan = super::sip::SipPlan {
        attendant: args.attendant,
        number: args.number.clone(),
        limit: std::time::Duration::from_secs(args.limit),
        tail: std::time::Duration::from_secs_f64(args.tail.max(0.0)),
        jobs: usize::from(args.jobs),
    };
    let started = std::time::Instant::now();
    let mut outcomes = Vec::with_capacity(items.len());
    let mut line_error = None;
    super::sip::replay_over_sip(&items, &plan, |outcome| {
        if let Some(file) = lines.as_mut() {
            use std::io::Write as _;
            let written = serde_json::to_string(&outcome)
                .map_err(std::io::Error::other)
                .and_then(|text| writeln!(file, "{text}"))
                .and_then(|()| file.flush());
            if let (Err(error), Some(path)) = (written, &args.jsonl) {
                line_error.get_or_insert((path.clone(), error));
            }
        }
        bar.inc(1);
        outcomes.push(outcome);
    });
    bar.finish_and_clear();
    let wall_s = started.elapsed().as_secs_f64();
    if let Some((path, source)) = line_error {
        return Err(ReplaySipCliError::Write { path, source });
    }
    // Outcomes in the items' order.
    let order: HashMap<&str, usize> = items.iter().enumerate().map(|(i, item)| (item.id.as_str(), i)).collect();
    outcomes.sort_by_key(|o| order.get(o.id.as_str()).copied().unwrap_or(usize::MAX));
    if let Some(dir) = &args.recordings {
        super::fidelity::wait_for_recordings(dir, items.len());
    }
    let report = super::fidelity::sip_report(&items, outcomes, args.recordings.as_deref(), wall_s, plan.jobs)?;
    print!("{}", super::fidelity::text(&report));
    if let Some(path) = &args.json {
        std::fs::write(path, serde_json::to_string_pretty(&report)?).map_err(write_err(path))?;
    }
    if let Some(path) = &args.html {
        std::fs::write(path, super::fidelity::html(&report)).map_err(write_err(path))?;
    }
    let judged = report.outcomes.iter().filter(|o| o.right.is_some()).count();
    let right = report.outcomes.iter().filter(|o| o.right == Some(true)).count();
    Ok((right, judged))
}

/// Arguments of `attendant calibrate`.
#[derive(Debug, Clone, clap::Args)]
pub struct CalibrateArgs {
    /// The development recordings (a folder with a manifest.json, or a manifest).
    pub input: PathBuf,
    /// Held-out recordings (other voices, another directory): the chosen
    /// thresholds are measured on them too, never tuned on them.
    #[arg(long, value_name = "PATH")]
    pub heldout: Option<PathBuf>,
    /// Engine to decode with (default: each recording's).
    #[arg(long, value_parser = parse_engine)]
    pub engine: Option<EngineKind>,
    /// Write the chosen thresholds here (TOML; default: print only).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Most name requests transferred or confirmed to the wrong person (share).
    #[arg(long, default_value_t = 0.02)]
    pub max_wrong: f64,
    /// Fewest out-of-directory requests rejected (share).
    #[arg(long, default_value_t = 0.90)]
    pub min_rejected: f64,
    /// Grid step of the sweep (each threshold over 0..=1).
    #[arg(long, default_value_t = 0.05)]
    pub step: f64,
    /// Write every trial, the chosen one and the replays as JSON.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Write the HTML report of the development replay under the chosen thresholds.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Keep every recognition in this folder (one JSON file per engine and
    /// language) and reuse the ones found there: a second run re-decides
    /// without decoding again (for work on the decision code; delete the
    /// folder when the engine or its model changes).
    #[arg(long, value_name = "DIR")]
    pub recognitions: Option<PathBuf>,
}

/// Why `attendant calibrate` failed.
#[derive(Debug, thiserror::Error)]
pub enum CalibrateCliError {
    #[error("cannot read the recordings")]
    Input(#[from] InputError),
    #[error("calibration failed")]
    Calibrate(#[from] super::calibrate::CalibrateError),
    #[error("--step {0} must be in (0, 1]")]
    Step(f64),
    #[error("cannot write {path}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot encode the results")]
    Encode(#[from] serde_json::Error),
    #[error("cannot encode the thresholds as TOML")]
    Toml(#[from] toml::ser::Error),
}

/// What calibration chose, per engine.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Calibration {
    pub engine: EngineKind,
    pub chosen: super::calibrate::Trial,
    /// The defaults' figures on the same replay, for comparison.
    pub defaults: super::calibrate::Trial,
    /// The chosen thresholds on the held-out split.
    pub heldout: Option<super::score::IssueFigures>,
    /// The plain decoder's figures on the same replay: the top hypothesis
    /// always taken (every threshold at 0), as issue 10's baseline column.
    pub plain: Option<super::score::IssueFigures>,
    pub trials: usize,
}

/// The calibration file of one engine, in the shape `matching::calibration`
/// reads: `[thresholds]` (what the sweep chose) and `[provenance]` (for people:
/// corpus, date, command, figures; not read).
fn calibration_toml(
    c: &Calibration,
    args: &CalibrateArgs,
    limits: &super::calibrate::Limits,
) -> Result<String, CalibrateCliError> {
    #[derive(serde::Serialize)]
    struct File<'a> {
        thresholds: &'a Thresholds,
        provenance: toml::Table,
    }
    let mut provenance = toml::Table::new();
    let mut put = |k: &str, v: String| {
        provenance.insert(k.to_owned(), toml::Value::String(v));
    };
    put("engine", format!("{:?}", c.engine).to_lowercase());
    put("corpus", args.input.display().to_string());
    put(
        "date",
        jiff::Timestamp::now().strftime("%Y-%m-%d").to_string(),
    );
    let mut command = format!("attendant calibrate {}", args.input.display());
    if let Some(h) = &args.heldout {
        command.push_str(&format!(" --heldout {}", h.display()));
    }
    put("command", command);
    put(
        "objective",
        format!(
            "most requests routed right with at most {:.0} % of name requests transferred or confirmed to the wrong person and at least {:.0} % of out-of-directory requests rejected ({} trials; {})",
            limits.max_wrong * 100.0,
            limits.min_rejected * 100.0,
            c.trials,
            if c.chosen.within_limits {
                "within the limits"
            } else {
                "NOT within the limits: the nearest found"
            }
        ),
    );
    put("development", c.chosen.figures.line());
    put("defaults_on_development", c.defaults.figures.line());
    if let Some(p) = &c.plain {
        put("plain_top_hypothesis_on_development", p.line());
    }
    if let Some(h) = &c.heldout {
        put("heldout", h.line());
    }
    let body = toml::to_string(&File {
        thresholds: &c.chosen.thresholds,
        provenance,
    })?;
    Ok(format!(
        "# Written by `attendant calibrate` (docs/dev-corpus.md); [provenance] is for people.\n{body}"
    ))
}

/// Runs `attendant calibrate`: one replay of the development recordings (and
/// of the held-out ones), a sweep of the thresholds per engine, the chosen
/// thresholds written. Blocking.
pub fn execute_calibrate(args: &CalibrateArgs) -> Result<Vec<Calibration>, CalibrateCliError> {
    use super::calibrate::{Limits, Session, accept_curve, sweep};
    if !(args.step > 0.0 && args.step <= 1.0) {
        return Err(CalibrateCliError::Step(args.step));
    }
    let limits = Limits {
        max_wrong: args.max_wrong,
        min_rejected: args.min_rejected,
    };
    let grid: Vec<f64> = (0..=(1.0 / args.step).round() as usize)
        .map(|i| ((i as f64 * args.step) * 1000.0).round() / 1000.0)
        .filter(|v| *v <= 1.0)
        .collect();
    let config = ReplayConfig {
        name: "development".to_owned(),
        engine: args.engine,
        ..ReplayConfig::default()
    };
    let items = input::load(&args.input)?;
    let bar = progress_bar(items.len());
    let (mut dev, dev_report) = Session::replay(
        &items,
        &config,
        &bar,
        crate::matching::calibration::Calibration::default(),
        args.recognitions.as_deref(),
    )?;
    bar.finish_and_clear();
    print_summary(&dev_report);
    let mut heldout = match &args.heldout {
        None => None,
        Some(path) => {
            let items = input::load(path)?;
            let bar = progress_bar(items.len());
            let config = ReplayConfig {
                name: "held-out".to_owned(),
                ..config.clone()
            };
            let (session, report) = Session::replay(
                &items,
                &config,
                &bar,
                crate::matching::calibration::Calibration::default(),
                args.recognitions.as_deref(),
            )?;
            bar.finish_and_clear();
            print_summary(&report);
            Some(session)
        }
    };
    let mut out = Vec::new();
    for engine in dev.engine_kinds() {
        let start = Thresholds::default();
        let (chosen, trials) = sweep(&mut dev, engine, start, &grid, &limits, 3)?;
        let defaults = trials[0].clone();
        let held = match heldout.as_mut() {
            Some(h) if h.engine_kinds().contains(&engine) => {
                Some(h.figures(chosen.thresholds, Some(engine))?)
            }
            _ => None,
        };
        println!(
            "{engine:?}: chosen {} ({} trials, {} the limits)\n  development: {}\n  defaults:    {}",
            serde_json::to_string(&chosen.thresholds)?,
            trials.len(),
            if chosen.within_limits {
                "within"
            } else {
                "NOT within"
            },
            chosen.figures.line(),
            defaults.figures.line()
        );
        if let Some(h) = &held {
            println!("  held-out:    {}", h.line());
        }
        let plain = ["confirm", "accept", "margin"]
            .iter()
            .try_fold(start, |t, f| super::calibrate::with_field(&t, f, 0.0));
        let plain = match plain {
            Some(t) => Some(dev.figures(t, Some(engine))?),
            None => None,
        };
        if let Some(p) = &plain {
            println!("  plain top hypothesis: {}", p.line());
        }
        out.push(Calibration {
            engine,
            chosen,
            defaults,
            plain,
            heldout: held,
            trials: trials.len(),
        });
    }
    if let Some(path) = &args.out {
        // One engine per file: with several, the file name gets the engine.
        for c in &out {
            let target = if out.len() == 1 {
                path.clone()
            } else {
                path.with_file_name(format!("{}.toml", format!("{:?}", c.engine).to_lowercase()))
            };
            if let Some(parent) = target.parent() {
                std::fs::create_dir_all(parent).map_err(|source| CalibrateCliError::Write {
                    path: parent.to_owned(),
                    source,
                })?;
            }
            std::fs::write(&target, calibration_toml(c, args, &limits)?).map_err(|source| {
                CalibrateCliError::Write {
                    path: target.clone(),
                    source,
                }
            })?;
            println!("wrote {}", target.display());
        }
    }
    if let Some(path) = &args.html {
        // The chosen thresholds of the first engine drive the page's run; the
        // curves are drawn for every engine.
        let thresholds = out.first().map(|c| c.chosen.thresholds).unwrap_or_default();
        let bar = progress_bar(items.len());
        let report = dev.replayer().run(
            &items,
            &ReplayConfig {
                name: format!(
                    "development, calibrated {}",
                    serde_json::to_string(&thresholds)?
                ),
                thresholds: Some(thresholds),
                ..config.clone()
            },
            &bar,
        );
        bar.finish_and_clear();
        let curves = accept_curve(&mut dev, |_| thresholds, 40)?;
        let page = report::html_with(
            &report,
            &report::Extras {
                curves,
                audio: audio_links(&items, path),
            },
        );
        std::fs::write(path, page).map_err(|source| CalibrateCliError::Write {
            path: path.clone(),
            source,
        })?;
    }
    if let Some(path) = &args.json {
        #[derive(serde::Serialize)]
        struct Dump<'a> {
            calibrations: &'a [Calibration],
            development: &'a ReplayReport,
        }
        let text = serde_json::to_string_pretty(&Dump {
            calibrations: &out,
            development: &dev_report,
        })?;
        std::fs::write(path, text).map_err(|source| CalibrateCliError::Write {
            path: path.clone(),
            source,
        })?;
    }
    Ok(out)
}

/// Each recording's WAV as a path relative to the folder of the page at
/// `page` (so the page plays them when opened from disk or served with them).
pub fn audio_links(items: &[input::ReplayItem], page: &Path) -> HashMap<String, String> {
    let base = page
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let base = std::path::absolute(base).unwrap_or_else(|_| base.to_owned());
    items
        .iter()
        .map(|i| {
            let wav = std::path::absolute(&i.wav).unwrap_or_else(|_| i.wav.clone());
            (i.id.clone(), relative(&wav, &base))
        })
        .collect()
}

/// `path` relative to the folder `base` (both absolute), with `/` separators.
fn relative(path: &Path, base: &Path) -> String {
    let p: Vec<_> = path.components().collect();
    let b: Vec<_> = base.components().collect();
    let common = p.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); b.len() - common];
    parts.extend(
        p[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths_climb_then_descend() {
        let cases = [
            ("/a/b/c.wav", "/a/b", "c.wav"),
            ("/a/b/c.wav", "/a/x/y", "../../b/c.wav"),
            ("/a/b/c.wav", "/", "a/b/c.wav"),
        ];
        for (path, base, want) in cases {
            assert_eq!(relative(Path::new(path), Path::new(base)), want);
        }
    }
}
