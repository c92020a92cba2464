//! IO tasks: the server, and one task per call driving its [`crate::flow::Call`].
//!
//! [`Server::start`] opens the SIP endpoint and spawns one task per incoming
//! call ([`call`]). That task owns everything of its call: the SIP dialog
//! handle, the RTP [`MediaSession`](crate::media::session::MediaSession), the
//! sans-IO flow, one timer re-armed to the flow's deadline, and a cancellation
//! token. It only translates: SIP and media events become `flow::Input`s, and
//! `flow::Action`s become SIP and media commands. Decisions are the flow's.
//!
//! Shutdown: cancelling the server's token stops taking calls and ends every
//! call (BYE if answered); [`Server::wait`] returns once every call task has
//! released its dialog and RTP socket.
//!
//! Overload and drain ([`limits`]): past `limits.max_calls` a new INVITE gets
//! 503 with `Retry-After` from the SIP layer, before any dialog or task is made
//! for it; [`Server::drain`] stops taking calls (INVITE and OPTIONS get 503) and
//! lets the calls in progress end, up to a deadline. [`serve`] drains on SIGTERM
//! and SIGINT. [`Server::stats`] counts what is held, for leak tests.
//!
//! Registrations (`[[registration]]`, see [`crate::sip::registration`]) start
//! with the SIP endpoint; the drain, or a shutdown without one, un-REGISTERs
//! them while the endpoint still runs. [`Server::registrations`] reports them.
//!
//! The one module that wires everything together (it also starts the admin
//! API); it holds no business logic of its own and must not import rsipstack,
//! sqlx or axum directly: `sip`, `directory::store` and `admin` wrap them.
//! It owns the live call recording (it drives [`crate::recording`]) and must
//! not import `replay`: QA reads recordings, live calls never depend on it.

mod call;
mod directory_watch;
mod readiness;
mod spelling;
#[doc(hidden)]
pub mod fault;
pub mod files;
mod hours;
pub mod limits;
mod records;
mod stats;

pub use limits::{RecognitionPermit, RecognitionPermits};
pub use stats::Stats;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::config::{Config, PbxAddress};
use crate::ops::health::Readiness;
use crate::directory::store::DirectoryStore;
use crate::flow::FlowSettings;
use crate::media::session::MediaConfig;
use crate::sip::{SipEndpoint, SipError, SipSettings};
use crate::speech::registry::{RegistrySettings, SpeechRegistry};

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The SIP endpoint could not start (e.g. a port is taken).
    #[error("cannot start the SIP endpoint")]
    Sip(#[from] SipError),
    /// The store list could not be read to set up speech.
    #[error("cannot read the stores to set up speech")]
    Speech(#[from] crate::directory::store::StoreError),
    /// The admin API's address is taken or not ours.
    #[error("cannot listen for the admin API on {addr}")]
    Admin { addr: SocketAddr, source: std::io::Error },
    /// The speech decode workers could not be started.
    #[error("cannot start the speech decode workers")]
    Decode(#[from] crate::speech::decode::DecodeError),
    /// The health and metrics address is taken or not ours.
    #[error("cannot listen for health and metrics on {addr}")]
    Ops { addr: SocketAddr, source: std::io::Error },
    /// The SIGTERM/SIGINT listeners could not be installed.
    #[error("cannot listen for the shutdown signal")]
    Signal(#[source] std::io::Error),
}

/// What every call task needs from the server, shared read-only.
#[derive(Debug)]
struct CallContext {
    store: DirectoryStore,
    media: MediaConfig,
    /// IP put in our SDP answers.
    public_ip: std::net::IpAddr,
    /// Our SIP address, for `Referred-By`.
    sip_addr: SocketAddr,
    prompts_dir: PathBuf,
    pbx: PbxAddress,
    /// Fleet defaults, overridden per store.
    flow_defaults: FlowSettings,
    /// Ringing time before the 200 OK.
    answer_delay: std::time::Duration,
    /// Each store's current speech set-up (none: DTMF only).
    speech: Arc<SpeechRegistry>,
    /// Where calls of stores with recording enabled are saved.
    recorder: crate::recording::CallRecorder,
    /// RTP sockets held by call tasks.
    rtp_sockets: stats::Gauge,
    /// The cap on concurrent recognitions (`limits.max_recognitions`).
    recognitions: RecognitionPermits,
    /// Stores' opening hours, read once per directory version.
    hours: hours::HoursCache,
    /// Finished calls on their way to the store's recent calls.
    records: records::CallRecords,
    /// Keypad name search of stores without speech.
    keypad: spelling::KeypadIndexes,
    /// Prompt audio decoded once and shared by the calls.
    prompt_cache: Arc<crate::media::prompt::PromptCache>,
    /// The threads that decode every call's speech (`asr.decode_workers`).
    decoders: crate::speech::decode::DecodePool,
    /// `[[trunk]]` entries: per-trunk media options (symmetric RTP).
    trunks: Vec<crate::config::TrunkConfig>,
}

/// A running attendant: SIP endpoint plus call tasks.
#[derive(Debug)]
pub struct Server {
    sip: SipEndpoint,
    speech: Arc<SpeechRegistry>,
    /// Stops taking calls and ends the current ones.
    cancel: CancellationToken,
    /// Stops the SIP endpoint, once the calls' BYEs are answered.
    sip_cancel: CancellationToken,
    tasks: TaskTracker,
    /// The call tasks alone (the accept loop is in `tasks` only).
    calls: TaskTracker,
    context: Arc<CallContext>,
    /// The call records' writer, stopped after the call tasks (so that calls
    /// ended by a shutdown are recorded too).
    records_writer: TaskTracker,
    records_stop: CancellationToken,
    /// Whether this node takes new calls (OPTIONS, `/readyz`).
    readiness: Readiness,
}

/// How long a shutdown or drain waits for the registrars to answer our
/// un-REGISTERs.
const UNREGISTER_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a shutdown waits for the BYEs of the calls it ends.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

impl Server {
    /// Bind the SIP transports and start answering calls.
    pub async fn start(config: &Config, store: DirectoryStore) -> Result<Server, ServeError> {
        let cancel = CancellationToken::new();
        let sip_cancel = CancellationToken::new();
        let public_ip = config.sip.public_ip();
        // Idempotent: the first server of the process installs the recorder.
        if let Err(error) = crate::ops::metrics::install() {
            warn!(%error, "cannot install the Prometheus recorder: no metrics");
        }
        let readiness = Readiness::new();
        let limits = &config.limits;
        let tcp_limits = crate::sip::TcpLimits {
            max_connections: files::reserve(limits.max_calls, limits.max_tcp_connections),
            max_per_address: limits.max_tcp_connections_per_address,
            idle_timeout: limits.tcp_idle_timeout,
            message_timeout: limits.tcp_message_timeout,
        };
        let sip_settings = SipSettings {
            udp: config.sip.udp_listen,
            tcp: Some(config.sip.tcp_listen),
            tcp_limits,
            public_ip: Some(public_ip),
            ack_timeout: config.timers.ack_timeout,
            trusted_networks: config.sip.trusted_networks.clone(),
            max_calls: config.limits.max_calls,
            retry_after_secs: config.limits.retry_after_secs,
            registrations: config.registration.clone(),
            readiness: readiness.clone(),
            udp_receive_buffer: config.sip.udp_receive_buffer,
            ..SipSettings::default()
        };
        // Speech first: compiling every store's grammar takes a moment, and a call
        // answered before that would miss its store's speech.
        // Subscribed before the registry reads the stores, so no change made in
        // between is missed.
        let directory_changes = store.events().subscribe();
        // With PostgreSQL, changes committed by other nodes are announced there
        // too: listening starts before the registry reads the directories.
        let follower = store.follow_other_nodes(config.ops.directory_poll_interval, cancel.clone()).await;
        let speech = SpeechRegistry::start(
            RegistrySettings {
                asr: config.asr.clone(),
                prompts_dir: config.paths.prompts_dir.clone(),
                prompt_texts_dir: config.paths.prompt_texts_dir.clone(),
                flow_defaults: config.flow.clone(),
            },
            store.clone(),
        )
        .await?;
        let (sip, mut calls) = SipEndpoint::start(&sip_settings, sip_cancel.clone()).await?;
        let (call_records, summaries) = records::CallRecords::new(records::CHANNEL_CAPACITY);
        let records_writer = TaskTracker::new();
        let records_stop = CancellationToken::new();
        records_writer.spawn(records::write_records(store.clone(), summaries, records_stop.clone()));
        records_writer.close();
        let prompt_cache = Arc::new(crate::media::prompt::PromptCache::default());
        let context = Arc::new(CallContext {
            store,
            media: MediaConfig {
                bind_ip: config.sip.udp_listen.ip(),
                rtp_port_min: config.rtp.port_min,
                rtp_port_max: config.rtp.port_max,
                media_timeout: config.timers.rtp_inactivity_timeout,
                ..MediaConfig::default()
            },
            public_ip,
            sip_addr: SocketAddr::new(public_ip, sip.udp_addr().port()),
            prompts_dir: config.paths.prompts_dir.clone(),
            keypad: spelling::KeypadIndexes::new(config.paths.prompts_dir.clone(), config.paths.prompt_texts_dir.clone(), prompt_cache.clone()),
            prompt_cache,
            pbx: config.pbx.clone(),
            flow_defaults: config.flow.clone(),
            answer_delay: config.timers.answer_delay,
            speech: speech.clone(),
            recorder: crate::recording::CallRecorder::new(&config.paths.data_dir),
            rtp_sockets: stats::Gauge::default(),
            recognitions: RecognitionPermits::new(config.limits.max_recognitions),
            hours: hours::HoursCache::default(),
            records: call_records,
            decoders: crate::speech::decode::DecodePool::start(config.asr.decode_settings())?,
            trunks: config.trunk.clone(),
        });
        let tasks = TaskTracker::new();
        // Every committed directory change (admin API, import, CLI, another node)
        // recompiles that store's grammar off the call path and swaps it in: the
        // next call uses it, calls in progress keep theirs.
        tasks.spawn(directory_watch::watch(context.store.clone(), speech.clone(), directory_changes, cancel.clone()));
        if let Some(follower) = follower {
            tasks.spawn(follower);
        }
        tasks.spawn(readiness::check(
            readiness.clone(),
            context.store.clone(),
            speech.clone(),
            config.ops.health_interval,
            cancel.clone(),
        ));
        let calls_tracker = TaskTracker::new();
        let accept_cancel = cancel.clone();
        let call_tasks = tasks.clone();
        let drain_calls = calls_tracker.clone();
        let accept_context = context.clone();
        tasks.spawn(async move {
            loop {
                let incoming = tokio::select! {
                    incoming = calls.recv() => match incoming {
                        Some(incoming) => incoming,
                        None => break,
                    },
                    () = accept_cancel.cancelled() => break,
                };
                let call = call::supervise(accept_context.clone(), incoming, accept_cancel.child_token());
                // Tracked twice: `calls` for drains, `call_tasks` for shutdown.
                call_tasks.spawn(drain_calls.track_future(call));
            }
        });
        info!(udp = %sip.udp_addr(), tcp = ?sip.tcp_addr(), "attendant answering calls");
        Ok(Server {
            sip,
            speech,
            cancel,
            sip_cancel,
            tasks,
            calls: calls_tracker,
            context,
            records_writer,
            records_stop,
            readiness,
        })
    }

    /// The bound SIP UDP address.
    pub fn sip_addr(&self) -> SocketAddr {
        self.sip.udp_addr()
    }

    /// The bound SIP TCP address, if any.
    pub fn sip_tcp_addr(&self) -> Option<SocketAddr> {
        self.sip.tcp_addr()
    }

    /// The stores' speech set-ups: call [`SpeechRegistry::refresh`] after a
    /// directory change so that the next calls use the new version.
    pub fn speech(&self) -> &Arc<SpeechRegistry> {
        &self.speech
    }

    /// SIP dialogs currently held, one per call not yet released.
    pub fn active_dialogs(&self) -> usize {
        self.sip.active_dialogs()
    }

    /// Each `[[registration]]` account's state, in configuration order.
    pub fn registrations(&self) -> Vec<crate::sip::RegistrationStatus> {
        self.sip.registrations()
    }

    /// Reads the registrations' states whenever called, for the admin API.
    pub fn registration_source(&self) -> crate::admin::RegistrationSource {
        let sip = self.sip.clone();
        Arc::new(move || sip.registrations())
    }

    /// What the server holds now.
    pub fn stats(&self) -> Stats {
        Stats {
            active_calls: self.calls.len(),
            sip_calls: self.sip.active_calls(),
            active_dialogs: self.sip.active_dialogs(),
            open_rtp_sockets: self.context.rtp_sockets.get(),
            recognitions: self.context.recognitions.in_use(),
            accepting: self.sip.is_accepting(),
            runtime_tasks: tokio::runtime::Handle::current().metrics().num_alive_tasks(),
            dropped_datagrams: self.sip.dropped_datagrams(),
        }
    }

    /// Finished calls whose record was dropped because the database writer
    /// was behind (see `runtime::records`), since start.
    pub fn call_records_dropped(&self) -> u64 {
        self.context.records.dropped()
    }

    /// Whether this node takes new calls: what SIP OPTIONS and `/readyz` answer.
    pub fn readiness(&self) -> &Readiness {
        &self.readiness
    }

    /// What `/healthz`, `/readyz` and `/metrics` read (see [`crate::admin::ops`]);
    /// `None` if the Prometheus recorder could not be installed.
    pub fn ops_state(&self) -> Option<crate::admin::ops::OpsState> {
        crate::ops::metrics::handle()
            .map(|metrics| crate::admin::ops::OpsState { readiness: self.readiness.clone(), metrics })
    }

    /// The cap on concurrent recognitions, for the speech path.
    pub fn recognition_permits(&self) -> &RecognitionPermits {
        &self.context.recognitions
    }

    /// Graceful drain: stop taking calls (new INVITEs and OPTIONS get 503 with
    /// `Retry-After`) and wait, at most `deadline`, for the calls in progress to
    /// end by themselves. Returns whether they all did; either way, follow with
    /// [`Server::shutdown`] and [`Server::wait`], which end the rest with BYE.
    ///
    /// The registrations are removed (`Expires: 0`) at the start of the drain,
    /// alongside the wait, so the PBX stops routing calls here while the calls
    /// in progress finish.
    pub async fn drain(&self, deadline: std::time::Duration) -> bool {
        self.sip.stop_accepting();
        self.readiness.set_draining();
        info!(calls = self.calls.len(), ?deadline, "draining: no new calls");
        self.calls.close();
        let calls = tokio::time::timeout(deadline, self.calls.wait());
        let (calls, unregistered) = tokio::join!(calls, self.sip.unregister(UNREGISTER_GRACE.min(deadline)));
        if !unregistered {
            warn!("some registrations were not removed before the drain deadline");
        }
        calls.is_ok()
    }

    /// Stop taking calls and end the current ones.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }

    /// Wait until the server has stopped (after [`Server::shutdown`]) and every
    /// call has released its dialog and RTP socket. The SIP endpoint stays up
    /// until the calls' BYEs are answered (at most [`SHUTDOWN_GRACE`]).
    pub async fn wait(&self) {
        self.cancel.cancelled().await;
        // Un-REGISTER (if no drain did it) while the SIP endpoint still runs.
        let unregistering = self.sip.unregister(UNREGISTER_GRACE);
        let ((), unregistered) = tokio::join!(
            async {
                self.tasks.close();
                self.tasks.wait().await;
            },
            unregistering
        );
        if !unregistered {
            warn!("some registrations were not removed before shutdown");
        }
        // Every call has handed in its record: let the writer finish the queue.
        self.records_stop.cancel();
        if tokio::time::timeout(SHUTDOWN_GRACE, self.records_writer.wait()).await.is_err() {
            warn!("call records not all written before shutdown");
        }
        let answered = self.sip.drain(SHUTDOWN_GRACE).await;
        self.sip_cancel.cancel();
        if !answered {
            warn!("some calls' BYEs were not answered before shutdown");
            // Stopping the endpoint ends the waits for those answers at once.
            self.sip.drain(SHUTDOWN_GRACE).await;
        }
    }
}

/// Run the attendant until SIGTERM or SIGINT, then drain: no new calls, the
/// calls in progress go on for up to `limits.drain_timeout`, the rest are ended
/// with BYE.
pub async fn serve(config: Config, store: DirectoryStore) -> Result<(), ServeError> {
    use tokio::signal::unix::{SignalKind, signal};
    // Both listeners exist before the server answers anything, so an early
    // signal is never lost.
    let mut terminate = signal(SignalKind::terminate()).map_err(ServeError::Signal)?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(ServeError::Signal)?;
    let admin_store = store.clone();
    let server = Server::start(&config, store).await?;
    // The store admins' API and console, in the same process: it stops accepting
    // requests at shutdown, finishing those in flight.
    let admin_stop = tokio_util::sync::CancellationToken::new();
    let admin = match config.admin.listen {
        Some(addr) => {
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| ServeError::Admin { addr, source })?;
            info!(%addr, "admin API and console listening");
            // The sync report checks names against the engines the calls use.
            let speech = server.speech().clone();
            let vocabulary = crate::admin::sync::EngineVocabulary::new(move |language| speech.engine_for(language));
            let limits = crate::admin::AdminLimits {
                request_timeout: config.admin.request_timeout,
                token_lifetime_days: (config.admin.token_lifetime_days > 0).then_some(config.admin.token_lifetime_days),
                ..crate::admin::AdminLimits::default()
            };
            let state = crate::admin::AdminState::new(admin_store)
                .with_limits(limits)
                .with_vocabulary(std::sync::Arc::new(vocabulary))
                .with_similar_names(std::sync::Arc::new(crate::admin::sync::MatcherSimilarity))
                .with_registrations(server.registration_source());
            let stop = admin_stop.clone();
            Some(tokio::spawn(crate::admin::serve(listener, state, async move { stop.cancelled().await })))
        }
        None => None,
    };
    let ops_stop = tokio_util::sync::CancellationToken::new();
    let ops = match (config.ops.listen, server.ops_state()) {
        (Some(addr), Some(state)) => {
            let listener = tokio::net::TcpListener::bind(addr).await.map_err(|source| ServeError::Ops { addr, source })?;
            info!(%addr, "health and metrics listening");
            let stop = ops_stop.clone();
            Some(tokio::spawn(crate::admin::ops::serve(listener, state, async move { stop.cancelled().await })))
        }
        (Some(addr), None) => {
            warn!(%addr, "no metrics recorder: health and metrics not served");
            None
        }
        (None, _) => None,
    };
    let name = tokio::select! {
        _ = terminate.recv() => "SIGTERM",
        _ = interrupt.recv() => "SIGINT",
    };
    info!(signal = name, "shutting down");
    // The admin API stops taking requests now; those in flight (each bounded
    // by admin.request_timeout) finish while the calls drain, and are
    // abandoned if still running past that bound: an admin's upload never
    // holds the process after the calls are gone.
    admin_stop.cancel();
    let admin_grace = config.admin.request_timeout + std::time::Duration::from_secs(1);
    let admin_done = async move {
        let Some(mut admin) = admin else { return };
        match tokio::time::timeout(admin_grace, &mut admin).await {
            Ok(Ok(Ok(()))) => info!("admin API stopped"),
            Ok(Ok(Err(error))) => warn!(%error, "admin API ended with an error"),
            Ok(Err(error)) => warn!(%error, "admin API task failed"),
            Err(_) => {
                warn!(grace_ms = admin_grace.as_millis(), "admin requests still running at the drain bound: abandoned");
                admin.abort();
            }
        }
    };
    let (drained, ()) = tokio::join!(server.drain(config.limits.drain_timeout), admin_done);
    if drained {
        info!("drain complete: every call ended by itself");
    } else {
        let left = server.stats().active_calls;
        warn!(calls = left, "drain deadline passed: ending the remaining calls");
    }
    // Health and metrics stay up through the drain (the balancer reads
    // /readyz's 503 meanwhile) and stop with the process.
    ops_stop.cancel();
    if let Some(ops) = ops {
        match ops.await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => warn!(%error, "health and metrics endpoint ended with an error"),
            Err(error) => warn!(%error, "health and metrics task failed"),
        }
    }
    server.shutdown();
    server.wait().await;
    info!("stopped");
    Ok(())
}
