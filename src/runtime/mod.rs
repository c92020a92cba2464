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

mod call;
#[doc(hidden)]
pub mod fault;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{info, warn};

use crate::config::{Config, PbxAddress};
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
    /// Waiting for Ctrl-C failed.
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
    recorder: crate::replay::record::CallRecorder,
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
}

/// How long a shutdown waits for the BYEs of the calls it ends.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

impl Server {
    /// Bind the SIP transports and start answering calls.
    pub async fn start(config: &Config, store: DirectoryStore) -> Result<Server, ServeError> {
        let cancel = CancellationToken::new();
        let sip_cancel = CancellationToken::new();
        let public_ip = config.sip.public_ip();
        let sip_settings = SipSettings {
            udp: config.sip.udp_listen,
            tcp: Some(config.sip.tcp_listen),
            public_ip: Some(public_ip),
            ack_timeout: config.timers.ack_timeout,
            trusted_networks: config.sip.trusted_networks.clone(),
            ..SipSettings::default()
        };
        // Speech first: compiling every store's grammar takes a moment, and a call
        // answered before that would miss its store's speech.
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
            pbx: config.pbx.clone(),
            flow_defaults: config.flow.clone(),
            answer_delay: config.timers.answer_delay,
            speech: speech.clone(),
            recorder: crate::replay::record::CallRecorder::new(&config.paths.data_dir),
        });
        let tasks = TaskTracker::new();
        let accept_cancel = cancel.clone();
        let call_tasks = tasks.clone();
        tasks.spawn(async move {
            loop {
                let incoming = tokio::select! {
                    incoming = calls.recv() => match incoming {
                        Some(incoming) => incoming,
                        None => break,
                    },
                    () = accept_cancel.cancelled() => break,
                };
                call_tasks.spawn(call::supervise(context.clone(), incoming, accept_cancel.child_token()));
            }
        });
        info!(udp = %sip.udp_addr(), tcp = ?sip.tcp_addr(), "attendant answering calls");
        Ok(Server {
            sip,
            speech,
            cancel,
            sip_cancel,
            tasks,
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

    /// Stop taking calls and end the current ones.
    pub fn shutdown(&self) {
        self.cancel.cancel();
    }

    /// Wait until the server has stopped (after [`Server::shutdown`]) and every
    /// call has released its dialog and RTP socket. The SIP endpoint stays up
    /// until the calls' BYEs are answered (at most [`SHUTDOWN_GRACE`]).
    pub async fn wait(&self) {
        self.cancel.cancelled().await;
        self.tasks.close();
        self.tasks.wait().await;
        let answered = self.sip.drain(SHUTDOWN_GRACE).await;
        self.sip_cancel.cancel();
        if !answered {
            warn!("some calls' BYEs were not answered before shutdown");
            // Stopping the endpoint ends the waits for those answers at once.
            self.sip.drain(SHUTDOWN_GRACE).await;
        }
    }
}

/// Run the attendant until Ctrl-C.
pub async fn serve(config: Config, store: DirectoryStore) -> Result<(), ServeError> {
    let server = Server::start(&config, store).await?;
    let signal = tokio::signal::ctrl_c().await;
    info!("shutting down");
    server.shutdown();
    server.wait().await;
    signal.map_err(ServeError::Signal)
}
