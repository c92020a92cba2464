//! SIP user agent on rsipstack: the only module that touches rsipstack.
//!
//! [`SipEndpoint::start`] listens on UDP (and optionally TCP) and hands every new
//! INVITE to the runtime as an [`IncomingCall`]. Each call is owned by one task
//! (see [`call`]) that holds its rsipstack dialog, turns the dialog's states and
//! in-dialog requests into typed [`SipEvent`]s, and executes the typed commands
//! sent through [`SipCall`]: ring, accept with an SDP answer, reject with a
//! [`Rejection`], REFER, BYE.
//!
//! What this module hides from the rest of the code (see STYLE.md):
//! - rsipstack reports dialog *states* and in-dialog *requests* on one channel,
//!   shared by all dialogs unless told otherwise: here every call gets its own
//!   channel, and the requests are answered here, so callers only see events.
//! - Many rsipstack calls made in the wrong role or state return `Ok(())` without
//!   doing anything (`accept` on a UAC, `request` on an unconfirmed dialog returns
//!   `Ok(None)`): the call task tracks the phase itself and reports outcomes as
//!   events instead of trusting those `Ok`s.
//! - Registration ([`registration`]): rsipstack sends one REGISTER and answers
//!   its challenge; when to refresh, how to back off, and the un-REGISTER at
//!   shutdown are ours.
//! - Requests rsipstack cannot parse (garbage, unknown methods) would be dropped
//!   silently by its transport: [`guard`] screens every UDP datagram first and
//!   answers 400/501/513 where a response can be addressed.
//!
//! Owns SIP (the only user of rsipstack). Uses `media` (SDP) and `config`; must not
//! import sqlx, axum, `flow`, `runtime`, `admin` or `replay`: it turns SIP into
//! events and commands, and the runtime decides what they mean.

mod call;
mod endpoint;
pub mod guard;
mod message;
pub mod registration;
mod tcp;

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

pub use call::{SessionRefusal, SipCall};
pub use endpoint::SipEndpoint;
pub use guard::{DroppedDatagrams, TrustedNetworks};
pub use message::parse_sipfrag_status;
pub use registration::{RegistrationAccount, RegistrationState, RegistrationStatus};
pub use tcp::{TcpLimits, TcpStats};

/// Listening addresses and timers of the SIP user agent.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SipSettings {
    /// UDP listen address (port 0 picks a free port; see [`SipEndpoint::udp_addr`]).
    pub udp: SocketAddr,
    /// TCP listen address, if TCP is wanted (port 0 picks a free port; see
    /// [`SipEndpoint::tcp_addr`]).
    pub tcp: Option<SocketAddr>,
    /// Caps and timeouts of SIP over TCP. Not (de)serialized: they come from
    /// `[limits]` in the configuration file.
    #[serde(skip)]
    pub tcp_limits: TcpLimits,
    /// The address peers reach us at, put in Contact; the UDP listen address
    /// when not given (it must then not be a wildcard).
    pub public_ip: Option<IpAddr>,
    /// How long a 200 OK waits for its ACK before the call is torn down with a BYE.
    /// Shorter than rsipstack's own 64*T1 (32 s) so a half-open call does not hold
    /// a media port for half a minute.
    #[serde(with = "crate::config::duration_ms")]
    pub ack_timeout: Duration,
    /// User-Agent / Server header value.
    pub user_agent: String,
    /// New calls waiting for the runtime; beyond this an INVITE gets 503.
    pub max_pending_calls: usize,
    /// Who may send SIP; everyone when not configured (warned at start-up).
    pub trusted_networks: TrustedNetworks,
    /// Calls held at once (one dialog each, ringing or answered); past it a new
    /// INVITE gets 503 with `Retry-After` before any dialog is made for it.
    pub max_calls: usize,
    /// Seconds in the `Retry-After` of those 503s (and of the drain's).
    pub retry_after_secs: u32,
    /// SO_RCVBUF of the SIP UDP socket, in bytes (0: the system default).
    pub udp_receive_buffer: usize,
    /// Accounts to keep registered with a PBX or trunk (none by default).
    /// Not (de)serialized: they come from `[[registration]]` in the
    /// configuration file, validated there.
    #[serde(skip)]
    pub registrations: Vec<RegistrationAccount>,
    /// The node's readiness (see [`crate::ops::health`]): OPTIONS gets 503
    /// while it is not ready, so a dispatcher probing us sends calls elsewhere.
    #[serde(skip)]
    pub readiness: crate::ops::health::Readiness,
}

impl Default for SipSettings {
    fn default() -> Self {
        SipSettings {
            udp: SocketAddr::from(([0, 0, 0, 0], 5060)),
            tcp: None,
            tcp_limits: TcpLimits::default(),
            public_ip: None,
            ack_timeout: Duration::from_secs(8),
            user_agent: concat!("attendant/", env!("CARGO_PKG_VERSION")).to_string(),
            max_pending_calls: 64,
            trusted_networks: TrustedNetworks::allow_all(),
            max_calls: usize::MAX,
            retry_after_secs: 30,
            // 2 MiB asked, 4 MiB with Linux's doubling: a burst of a few
            // thousand datagrams waits there instead of being dropped.
            udp_receive_buffer: 2 * 1024 * 1024,
            registrations: Vec::new(),
            readiness: crate::ops::health::Readiness::new(),
        }
    }
}

/// Errors of the SIP layer.
#[derive(Debug, thiserror::Error)]
pub enum SipError {
    /// A listening socket could not be created.
    #[error("cannot listen for SIP over {transport} on {addr}")]
    Bind {
        transport: &'static str,
        addr: SocketAddr,
        /// Boxed: rsipstack's error is large and this one is rare.
        #[source]
        source: Box<rsipstack::Error>,
    },
    /// The endpoint's incoming-transaction stream was already taken.
    #[error("the SIP endpoint could not be started")]
    Start {
        #[source]
        source: Box<rsipstack::Error>,
    },
    /// The call's task has ended (the dialog is gone): the command was not sent.
    #[error("call {call_id} has already ended")]
    CallGone { call_id: String },
}

/// Why an INVITE is refused, with the status it is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// 400: the INVITE is malformed (e.g. its SDP offer does not parse).
    BadRequest,
    /// 404: the dialled number is not a known store.
    NotFound,
    /// 488: the offer has no codec we accept (no G.711), or is malformed.
    NotAcceptableHere,
    /// 486: too many calls for now.
    BusyHere,
    /// 480: we cannot take the call now (e.g. the call task is shutting down).
    TemporarilyUnavailable,
    /// 500: the attendant failed to set the call up (e.g. no RTP port).
    ServerError,
    /// 503: the server is overloaded or shutting down.
    ServiceUnavailable,
}

impl Rejection {
    /// The SIP status code sent for this rejection.
    pub fn status(self) -> u16 {
        match self {
            Rejection::BadRequest => 400,
            Rejection::NotFound => 404,
            Rejection::NotAcceptableHere => 488,
            Rejection::BusyHere => 486,
            Rejection::TemporarilyUnavailable => 480,
            Rejection::ServerError => 500,
            Rejection::ServiceUnavailable => 503,
        }
    }

    /// The rejection for a SIP status from another layer (e.g.
    /// `media::sdp::SdpError::sip_status`); unknown codes become 500.
    pub fn from_status(status: u16) -> Rejection {
        match status {
            400 => Rejection::BadRequest,
            404 => Rejection::NotFound,
            488 | 415 | 606 => Rejection::NotAcceptableHere,
            486 => Rejection::BusyHere,
            480 => Rejection::TemporarilyUnavailable,
            503 => Rejection::ServiceUnavailable,
            _ => Rejection::ServerError,
        }
    }

    fn status_code(self) -> rsipstack::sip::StatusCode {
        rsipstack::sip::StatusCode::from(self.status())
    }
}

/// A new INVITE, already answered with 100 Trying. The runtime must
/// [`SipCall::accept`] or [`SipCall::reject`] it; dropping it undecided rejects
/// it with 480.
#[derive(Debug)]
pub struct IncomingCall {
    /// Call-ID of the INVITE (for logs).
    pub call_id: String,
    /// User part of the Request-URI: the dialled number that selects the store.
    pub dialled: Option<String>,
    /// User part of the From URI: the caller's number (redact before logging).
    pub caller: Option<String>,
    /// Where the INVITE came from.
    pub remote: Option<SocketAddr>,
    /// The SDP offer, if the INVITE carried one.
    pub offer: Option<String>,
    /// The call's handle: commands in, events out.
    pub call: SipCall,
}

/// Something that happened to one call, from the SIP side.
///
/// After a terminal event ([`SipEvent::is_terminal`]) the dialog is gone and the
/// event stream ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SipEvent {
    /// The ACK for our 200 OK arrived: the call is up.
    Answered,
    /// The caller cancelled before we answered: 487 sent for the INVITE, 200 for
    /// the CANCEL. Terminal.
    Cancelled,
    /// The caller sent BYE (answered 200). Terminal.
    RemoteHangup,
    /// Our 200 OK was never acknowledged in time; we sent BYE. Terminal.
    AckTimeout,
    /// Our BYE or rejection went out: the call ended at our request. Terminal.
    LocalHangup,
    /// The dialog ended another way (transport failure, rsipstack timer). Terminal.
    Ended,
    /// A DTMF digit carried by an in-dialog INFO (answered 200).
    Digit(char),
    /// Our REFER got a 2xx (normally 202 Accepted).
    ReferAccepted { status: u16 },
    /// Our REFER was refused (final non-2xx), or got no answer (408) or could not
    /// be sent in this dialog state (481).
    ReferRefused { status: u16 },
    /// A NOTIFY of the REFER's implicit subscription (answered 200): the status
    /// line of its `message/sipfrag` body, and whether the subscription ended.
    TransferProgress { status: u16, subscription_terminated: bool },
    /// A re-INVITE or UPDATE changes the session (hold, resume, new address):
    /// `offer` is its SDP, or `None` for a re-INVITE without one, which wants
    /// our offer (the answer then comes as [`SipEvent::SessionAnswer`]). The
    /// request waits for [`SipCall::answer_session`] or
    /// [`SipCall::refuse_session`]: answer at once.
    SessionOffer { offer: Option<String> },
    /// The ACK of a 200 OK that carried our offer (the INVITE or re-INVITE had
    /// none, RFC 3261 §13.2.1): its body, the caller's answer (`None`: the ACK
    /// had no body, which leaves the session without media). Reported before
    /// [`SipEvent::Answered`] for the initial INVITE.
    SessionAnswer { answer: Option<String> },
}

impl SipEvent {
    /// Whether the dialog is over after this event.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            SipEvent::Cancelled
                | SipEvent::RemoteHangup
                | SipEvent::AckTimeout
                | SipEvent::LocalHangup
                | SipEvent::Ended
        )
    }
}

/// The methods we implement, sent in `Allow`.
pub const ALLOWED_METHODS: &str = "INVITE, ACK, CANCEL, BYE, OPTIONS, INFO, NOTIFY, REFER, UPDATE";
/// The option tags (RFC 3261 §19.2) we support, sent in `Supported`: none of
/// `100rel`, `timer`, `replaces` is implemented, so the list is empty (an empty
/// `Supported` is valid and tells a PBX not to require them).
pub const SUPPORTED_OPTIONS: &str = "";
/// The bodies we accept, sent in `Accept`.
pub const ACCEPTED_BODIES: &str = "application/sdp, application/dtmf-relay, application/dtmf, message/sipfrag";
