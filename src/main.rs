//! `attendant` command line: run the attendant, seed the demo stores, check a
//! configuration, print the prompt plan for `scripts/make-prompts.sh`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};

use attendant::config::{Config, ConfigOverrides};
use attendant::directory::prompts::{self, PlannedPrompt};
use attendant::directory::store::DirectoryStore;
use attendant::directory::{Directory, Language};

#[derive(Debug, Parser)]
#[command(
    version,
    about = "Speech-driven auto-attendant: answers a store's number and transfers callers by name"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Options shared by every command: where the configuration comes from.
#[derive(Debug, clap::Args)]
struct ConfigArgs {
    /// TOML configuration file (see config/attendant.example.toml); built-in
    /// defaults when absent.
    #[arg(long, short, value_name = "FILE", env = "ATTENDANT_CONFIG")]
    config: Option<PathBuf>,
    #[command(flatten)]
    overrides: ConfigOverrides,
}

impl ConfigArgs {
    fn load(&self) -> anyhow::Result<Config> {
        Ok(Config::load(self.config.as_deref(), &self.overrides)?)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Answer calls.
    Run {
        #[command(flatten)]
        config: ConfigArgs,
        /// Write the demo stores ("1000" English, "2000" French) before starting.
        #[arg(long)]
        demo: bool,
    },
    /// Write the demo stores into the database (idempotent).
    DemoSeed {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Validate the configuration and print it with every default filled in.
    CheckConfig {
        #[command(flatten)]
        config: ConfigArgs,
    },
    /// Import, export or diff a store's directory (CSV or JSON).
    Directory {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: attendant::admin::cli::DirectoryCommand,
    },
    /// Administration: API tokens.
    Admin {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(subcommand)]
        command: attendant::admin::cli::AdminCommand,
    },
    /// Write a JSON backup of every table (or of one store) to standard output.
    Backup {
        #[command(flatten)]
        config: ConfigArgs,
        /// Only this store (its number).
        #[arg(long)]
        store: Option<String>,
    },
    /// Restore a backup into an empty database.
    Restore {
        #[command(flatten)]
        config: ConfigArgs,
        file: PathBuf,
    },
    /// Print the prompts to synthesise, one per line: FILE <tab> VOICE <tab> TEXT
    /// (FILE under paths.prompts_dir). Used by scripts/make-prompts.sh.
    PromptPlan {
        #[command(flatten)]
        config: ConfigArgs,
        /// Folder of the prompt texts (`<lang>.toml`).
        #[arg(long, value_name = "DIR", default_value = "prompts/texts")]
        texts: PathBuf,
    },
    /// Replay recorded calls (or a QA corpus) through the speech path and score
    /// recognition; `--min-accuracy` makes it a CI gate.
    Replay {
        #[command(flatten)]
        config: ConfigArgs,
        #[command(flatten)]
        args: Box<attendant::replay::cli::ReplayArgs>,
    },
    /// Calibrate the decision thresholds per engine on a development corpus
    /// (docs/dev-corpus.md): one replay, a sweep, the chosen thresholds written.
    Calibrate {
        #[command(flatten)]
        args: Box<attendant::replay::cli::CalibrateArgs>,
    },
    /// Place real calls with recordings (baresip) to a running attendant and
    /// check where each was transferred.
    ReplaySip {
        #[command(flatten)]
        args: attendant::replay::cli::ReplaySipArgs,
    },
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // `{:#}` prints the whole chain of causes on one line, without the
            // backtrace that `main() -> Result` would print under RUST_BACKTRACE.
            eprintln!("attendant: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run { config, demo } => {
            let config = config.load()?;
            init_logging(&config);
            let store = open_store(&config).await?;
            if demo {
                seed_demo(&store).await?;
            }
            check_and_serve(config, store).await
        }
        Command::DemoSeed { config } => {
            let config = config.load()?;
            init_logging(&config);
            let store = open_store(&config).await?;
            seed_demo(&store).await
        }
        Command::CheckConfig { config } => {
            let config = config.load()?;
            let text = toml::to_string_pretty(&config).context("cannot print the configuration")?;
            println!("{text}");
            Ok(())
        }
        Command::Directory { config, command } => {
            let store = open_store(&config.load()?).await?;
            Ok(attendant::admin::cli::directory(&store, command, &mut std::io::stdout().lock()).await?)
        }
        Command::Admin { config, command } => {
            let store = open_store(&config.load()?).await?;
            Ok(attendant::admin::cli::admin(&store, command, &mut std::io::stdout().lock()).await?)
        }
        Command::Backup { config, store: number } => {
            let store = open_store(&config.load()?).await?;
            Ok(attendant::admin::cli::backup(&store, number.as_deref(), &mut std::io::stdout().lock()).await?)
        }
        Command::Restore { config, file } => {
            let store = open_store(&config.load()?).await?;
            Ok(attendant::admin::cli::restore(&store, &file).await?)
        }
        Command::PromptPlan { config, texts } => {
            let config = config.load()?;
            let store = open_store(&config).await?;
            for PlannedPrompt { file, voice, text } in prompt_plan(&store, &texts, &config.flow).await? {
                println!(
                    "{}\t{voice}\t{text}",
                    config.paths.prompts_dir.join(file).display()
                );
            }
            Ok(())
        }
        Command::Replay { config, args } => {
            let current = if args.wants_current_directories() {
                let store = open_store(&config.load()?).await?;
                let mut by_store = std::collections::HashMap::new();
                for s in store.list_stores().await? {
                    by_store.insert(s.id, std::sync::Arc::new(store.load_directory(s.id).await?));
                }
                Some(by_store)
            } else {
                None
            };
            let outcome = tokio::task::spawn_blocking(move || attendant::replay::cli::execute(&args, current.as_ref()))
                .await
                .context("replay panicked")??;
            if !outcome.passed {
                bail!("top-1 accuracy below --min-accuracy");
            }
            Ok(())
        }
        Command::Calibrate { args } => {
            tokio::task::spawn_blocking(move || attendant::replay::cli::execute_calibrate(&args))
                .await
                .context("calibrate panicked")??;
            Ok(())
        }
        Command::ReplaySip { args } => {
            let (right, judged) = tokio::task::spawn_blocking(move || attendant::replay::cli::execute_sip(&args))
                .await
                .context("replay-sip panicked")??;
            if right < judged {
                bail!("{} of {judged} calls did not end where expected", judged - right);
            }
            Ok(())
        }
    }
}

/// Log filter for rsipstack unless the configuration names it.
const RSIPSTACK_LOG_DEFAULT: &str = "rsipstack=warn";

fn init_logging(config: &Config) {
    // Config::load validated the filter, so try_new cannot fail here; fall back to
    // "info" rather than panic if that ever changes.
    let mut filter = tracing_subscriber::EnvFilter::try_new(&config.log.level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    // rsipstack logs every SIP message whole at INFO, callers' numbers included:
    // keep it at WARN unless the configured filter names it explicitly.
    if !config.log.level.contains("rsipstack") {
        filter = filter.add_directive(RSIPSTACK_LOG_DEFAULT.parse().expect("static directive is valid"));
    }
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    match config.log.format {
        attendant::config::LogFormat::Text => builder.init(),
        // One JSON object per line, span fields (call id, store) included.
        attendant::config::LogFormat::Json => builder.json().with_current_span(true).init(),
    }
}

async fn open_store(config: &Config) -> anyhow::Result<DirectoryStore> {
    DirectoryStore::open(&config.database.url)
        .await
        .with_context(|| {
            format!(
                "cannot open the directory database ({})",
                redact_url(&config.database.url)
            )
        })
}

async fn seed_demo(store: &DirectoryStore) -> anyhow::Result<()> {
    for seeded in store
        .seed_demo()
        .await
        .context("cannot seed the demo stores")?
    {
        let what = if seeded.changed {
            "written"
        } else {
            "already up to date"
        };
        tracing::info!(store = %seeded.store, version = seeded.version.0, "demo store {what}");
    }
    Ok(())
}

/// Languages with a texts file, then the plan for them and every store's menu
/// (announcing the store's spell key: its settings over `flow_defaults`).
async fn prompt_plan(
    store: &DirectoryStore,
    texts: &Path,
    flow_defaults: &attendant::flow::FlowSettings,
) -> anyhow::Result<Vec<PlannedPrompt>> {
    let languages: Vec<Language> = Language::ALL
        .into_iter()
        .filter(|l| texts.join(format!("{}.toml", l.code())).is_file())
        .collect();
    let mut directories: Vec<Directory> = Vec::new();
    let mut hours = Vec::new();
    let mut spell_keys = std::collections::BTreeMap::new();
    for s in store.list_stores().await? {
        let directory = store.load_directory(s.id).await?;
        if let Some(opening) = store.opening_hours(s.id).await? {
            hours.push((directory.store.clone(), opening));
        }
        directories.push(directory);
        let settings = store.store_settings(s.id).await?.resolve(flow_defaults)?;
        if let Some(key) = settings.spell_key {
            spell_keys.insert(s.id, key.digit());
        }
    }
    let mut planned = prompts::plan(texts, &languages, &directories, &spell_keys)?;
    planned.extend(prompts::plan_closed_messages(texts, &hours)?);
    Ok(planned)
}

/// Checks what can be checked before answering calls (stores, prompt files),
/// then runs [`attendant::runtime::serve`] until Ctrl-C.
async fn check_and_serve(config: Config, store: DirectoryStore) -> anyhow::Result<()> {
    let stores = store.list_stores().await?;
    if stores.is_empty() {
        bail!("the database has no store: add one, or run with --demo");
    }
    let missing = prompts::missing_prompts(&config.paths.prompts_dir, &stores);
    if let Some(first) = missing.first() {
        bail!(
            "{} prompt file(s) missing, first {} (run scripts/make-prompts.sh)",
            missing.len(),
            first.display()
        );
    }
    tracing::info!(
        stores = stores.len(),
        udp = %config.sip.udp_listen,
        public_ip = %config.sip.public_ip(),
        "configuration, stores and prompts are valid"
    );
    attendant::runtime::serve(config, store).await?;
    Ok(())
}

/// A database URL without its password, for error messages.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    //! Passwords never reach error messages, and the command line parses as documented.
    use super::*;

    #[test]
    fn database_passwords_are_redacted() {
        let cases = [
            (
                "postgres://user:secret@db/attendant",
                "postgres://user:***@db/attendant",
            ),
            (
                "postgres://user@db/attendant",
                "postgres://user@db/attendant",
            ),
            ("sqlite://var/attendant.db", "sqlite://var/attendant.db"),
        ];
        for (url, expected) in cases {
            assert_eq!(redact_url(url), expected);
        }
    }

    #[test]
    fn command_line_parses() {
        let cli = Cli::try_parse_from([
            "attendant",
            "run",
            "--demo",
            "--config",
            "a.toml",
            "--rtp-port-min",
            "30000",
        ])
        .unwrap();
        let Command::Run { config, demo } = cli.command else {
            panic!("expected run")
        };
        assert!(demo);
        assert_eq!(config.config.as_deref(), Some(Path::new("a.toml")));
        assert_eq!(config.overrides.rtp_port_min, Some(30000));
        let bad =
            Cli::try_parse_from(["attendant", "run", "--sip-udp-listen", "nowhere"]).unwrap_err();
        assert!(bad.to_string().contains("--sip-udp-listen"), "{bad}");
    }
}
