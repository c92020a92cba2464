//! Configuration: TOML file plus command-line flags.
//!
//! [`Config::load`] reads the file (every section and key optional; an unknown
//! key is an error), applies the [`ConfigOverrides`] given on the command line,
//! then validates the result. Every error names the key at fault. The commented
//! example is `config/attendant.example.toml`. Relative paths are relative to the
//! working directory.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::asr::EngineKind;
use crate::directory::{Language, TransferTarget};
use crate::flow::FlowSettings;

/// Serde helper: a `Duration` written as integer milliseconds in TOML/JSON.
pub mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_millis() as u64)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        Ok(Duration::from_millis(u64::deserialize(d)?))
    }
}

/// Why the configuration is unusable. Each variant names the key at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read configuration file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML, has an unknown key, or a value of the wrong type
    /// (the message shows the line, the key and the problem).
    #[error("configuration file {path} is invalid")]
    Parse {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    /// A key in `[flow]` that [`FlowSettings`] does not have.
    #[error("configuration file {path}: unknown key flow.{key}")]
    UnknownFlowKey { path: PathBuf, key: String },
    /// `rtp.port_min` is not below `rtp.port_max`.
    #[error("rtp.port_min ({min}) must be below rtp.port_max ({max})")]
    PortRangeInverted { min: u16, max: u16 },
    /// RTP goes on even ports (RTCP on the odd port above), so the range starts even.
    #[error("rtp.port_min ({port}) must be even and non-zero")]
    PortMinNotEven { port: u16 },
    /// Nothing usable can go into Contact and SDP.
    #[error(
        "sip.public_address is required when sip.udp_listen ({listen}) is a wildcard address, \
         and must not be a wildcard itself"
    )]
    NoPublicAddress { listen: SocketAddr },
    /// `database.url` names no supported backend.
    #[error("database.url: unsupported scheme {scheme:?}, expected sqlite: or postgres:")]
    UnsupportedDatabaseUrl { scheme: String },
    /// `pbx.address` is not `host[:port]`.
    #[error("pbx.address {value:?}: {problem}")]
    InvalidPbxAddress {
        value: String,
        problem: PbxAddressProblem,
    },
    /// A timer that must be positive is zero.
    #[error("{key} must be greater than 0 ms")]
    ZeroDuration { key: &'static str },
    /// A key of `asr.engines` is no language code.
    #[error("asr.engines: {code:?} is not a language code (en, fr, ko)")]
    UnknownAsrLanguage { code: String },
    /// `--admin-listen` is not an address.
    #[error("admin.listen: {value:?} is not an address such as 127.0.0.1:8080")]
    InvalidAdminListen { value: String },
    /// A limit that must be at least 1 is zero.
    #[error("{key} must be at least 1")]
    ZeroLimit { key: &'static str },
    /// A `[[trunk]]` entry has no `networks`: its calls could not be told apart.
    #[error("trunk[{index}].networks: list the networks the trunk's INVITEs come from")]
    TrunkWithoutNetworks { index: usize },
    /// A `[[registration]]` entry has a bad value (`index` counts from 0).
    #[error("registration[{index}].{key}: {problem}")]
    Registration {
        index: usize,
        key: &'static str,
        problem: RegistrationProblem,
    },
    /// A registration's `password_file` cannot be read.
    #[error("registration[{index}].password_file: cannot read {path}")]
    PasswordFile {
        index: usize,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// `log.level` is not a valid tracing filter.
    #[error("log.level {value:?} is not a valid filter")]
    InvalidLogLevel {
        value: String,
        #[source]
        source: tracing_subscriber::filter::ParseError,
    },
}

/// What is wrong with a `pbx.address`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PbxAddressProblem {
    #[error("the host is empty")]
    EmptyHost,
    #[error("the port is not a number from 1 to 65535")]
    InvalidPort,
    #[error("an IPv6 address must be written in brackets, e.g. [::1]:5060")]
    UnbracketedIpv6,
    #[error("the host contains a character not allowed in a SIP host")]
    InvalidHostCharacter,
}

/// What is wrong with a `[[registration]]` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationProblem {
    #[error("{0}")]
    Registrar(#[from] crate::sip::registration::RegistrarUriProblem),
    #[error("must not be empty")]
    Empty,
    #[error("must be a SIP user part (no spaces, @, :, ;, <, > or quotes)")]
    NotAUser,
    #[error("give password or password_file, not both")]
    PasswordTwice,
    #[error("must be at least 1")]
    Zero,
    #[error("must not be below retry_initial")]
    RetryMaxBelowInitial,
}

/// Where extension targets are sent: `host[:port]` of the stores' PBX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PbxAddress {
    /// Host name, IPv4 address, or IPv6 address in brackets (`[::1]`).
    pub host: String,
    pub port: Option<u16>,
}

impl PbxAddress {
    /// The SIP URI a call is transferred to: `sip:EXT@host[:port]` for an
    /// extension, the URI itself otherwise.
    pub fn target_uri(&self, target: &TransferTarget) -> String {
        match target {
            TransferTarget::Extension(extension) => format!("sip:{extension}@{self}"),
            TransferTarget::Uri(uri) => uri.clone(),
        }
    }
}

impl fmt::Display for PbxAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(port) => write!(f, "{}:{port}", self.host),
            None => f.write_str(&self.host),
        }
    }
}

impl FromStr for PbxAddress {
    type Err = PbxAddressProblem;

    fn from_str(value: &str) -> Result<PbxAddress, PbxAddressProblem> {
        let (host, port) = if value.starts_with('[') {
            // "[v6]" or "[v6]:port"
            let end = value.find(']').ok_or(PbxAddressProblem::UnbracketedIpv6)?;
            let (host, rest) = value.split_at(end + 1);
            match rest.strip_prefix(':') {
                Some(port) => (host, Some(port)),
                None if rest.is_empty() => (host, None),
                None => return Err(PbxAddressProblem::InvalidPort),
            }
        } else {
            match value.split_once(':') {
                Some((_, rest)) if rest.contains(':') => {
                    return Err(PbxAddressProblem::UnbracketedIpv6);
                }
                Some((host, port)) => (host, Some(port)),
                None => (value, None),
            }
        };
        let inner = host.trim_start_matches('[').trim_end_matches(']');
        if inner.is_empty() {
            return Err(PbxAddressProblem::EmptyHost);
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':');
        if !inner.chars().all(allowed) {
            return Err(PbxAddressProblem::InvalidHostCharacter);
        }
        let port = match port {
            None => None,
            Some(port) => match port.parse::<u16>() {
                Ok(0) | Err(_) => return Err(PbxAddressProblem::InvalidPort),
                Ok(port) => Some(port),
            },
        };
        Ok(PbxAddress {
            host: host.to_owned(),
            port,
        })
    }
}

impl Serialize for PbxAddress {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// `[sip]`: where the user agent listens and what it advertises.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SipConfig {
    /// UDP listening address.
    pub udp_listen: SocketAddr,
    /// TCP listening address.
    pub tcp_listen: SocketAddr,
    /// IP written into Contact and SDP; defaults to the IP of `udp_listen`.
    pub public_address: Option<IpAddr>,
    /// Networks (CIDR list, e.g. `["10.20.0.0/16", "192.0.2.7/32"]`: the PBX,
    /// the dispatcher) SIP is accepted from; SIP from anywhere else is dropped.
    /// Not set: every address (a warning is logged at start-up).
    pub trusted_networks: crate::sip::TrustedNetworks,
    /// SO_RCVBUF of the SIP UDP socket in bytes (0: the system default, which
    /// drops datagrams in bursts; the kernel caps it at net.core.rmem_max).
    pub udp_receive_buffer: usize,
}

impl SipConfig {
    /// The IP that goes into Contact and SDP (validated: never a wildcard).
    pub fn public_ip(&self) -> IpAddr {
        self.public_address.unwrap_or(self.udp_listen.ip())
    }
}

impl Default for SipConfig {
    fn default() -> Self {
        // Loopback by default: the demo and the tests run on one machine, and a
        // wildcard would need an explicit public_address.
        let listen = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 5060);
        SipConfig {
            udp_listen: listen,
            tcp_listen: listen,
            public_address: None,
            trusted_networks: crate::sip::TrustedNetworks::allow_all(),
            udp_receive_buffer: crate::sip::SipSettings::default().udp_receive_buffer,
        }
    }
}

/// `[rtp]`: the UDP port range for media, `port_min..=port_max`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RtpConfig {
    /// First RTP port; even (RTCP would use the odd port above).
    pub port_min: u16,
    /// Last usable port (inclusive).
    pub port_max: u16,
}

impl Default for RtpConfig {
    fn default() -> Self {
        RtpConfig {
            port_min: 10000,
            port_max: 20000,
        }
    }
}

/// `[database]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://user@host/db`.
    pub url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://var/attendant.db".to_owned(),
        }
    }
}

/// `[paths]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PathsConfig {
    /// Folder for data the attendant writes at run time (call records, captures).
    /// Independent of `database.url` and `prompts_dir`, which name their own paths.
    pub data_dir: PathBuf,
    /// Prompt WAVs: `default/<lang>/<prompt>.wav` and `stores/<number>/<prompt>.wav`
    /// (and `names/<lang>/<hash>.wav`, entry names spoken when a directory is compiled).
    pub prompts_dir: PathBuf,
    /// Prompt texts, `<lang>.toml` (their voice speaks the entries' names).
    pub prompt_texts_dir: PathBuf,
}

impl Default for PathsConfig {
    fn default() -> Self {
        PathsConfig {
            data_dir: PathBuf::from("var"),
            prompts_dir: PathBuf::from("var/prompts"),
            prompt_texts_dir: PathBuf::from("prompts/texts"),
        }
    }
}

/// `[pbx]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PbxConfig {
    /// `host[:port]` that turns an extension into `sip:EXT@host[:port]`.
    /// Kept as text here; parsed (and validated) by [`Config::load`] into [`Config::pbx`].
    pub address: String,
}

impl Default for PbxConfig {
    fn default() -> Self {
        PbxConfig {
            address: "127.0.0.1:5070".to_owned(),
        }
    }
}

/// `[timers]`: SIP and media timers (milliseconds in the file).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TimersConfig {
    /// How long to wait for the ACK of our 200 OK before ending the call
    /// (RFC 3261 Timer H: 64 × T1 = 32 s).
    #[serde(with = "duration_ms")]
    pub ack_timeout: Duration,
    /// No RTP from the caller for this long ends the call (`Input::MediaLost`).
    #[serde(with = "duration_ms")]
    pub rtp_inactivity_timeout: Duration,
    /// Ring (180) this long before answering; 0 answers at once.
    #[serde(with = "duration_ms")]
    pub answer_delay: Duration,
}

impl Default for TimersConfig {
    fn default() -> Self {
        TimersConfig {
            ack_timeout: Duration::from_secs(32),
            rtp_inactivity_timeout: Duration::from_secs(30),
            answer_delay: Duration::ZERO,
        }
    }
}

/// `[[trunk]]`: a PBX or carrier trunk, known by the addresses its INVITEs come
/// from, and the interoperability options its calls get (see docs/pbx.md).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrunkConfig {
    /// A name for logs.
    pub name: String,
    /// Networks (CIDR) the trunk's INVITEs come from; the first trunk whose
    /// networks hold the INVITE's source address applies to the call.
    pub networks: crate::sip::TrustedNetworks,
    /// Symmetric RTP: follow the caller's RTP source when it differs from its
    /// SDP (a caller behind NAT), during the first `latch_window` of the call
    /// (and of each re-negotiation), from the SDP's IP only unless
    /// `latch_any_address`.
    #[serde(default)]
    pub symmetric_rtp: bool,
    /// How long after the offer/answer a new RTP source may be latched onto.
    #[serde(with = "duration_ms", rename = "latch_window_ms", default = "default_latch_window")]
    pub latch_window: Duration,
    /// Latch onto RTP from any IP, not only the one in the SDP.
    #[serde(default)]
    pub latch_any_address: bool,
}

fn default_latch_window() -> Duration {
    Duration::from_secs(5)
}

impl TrunkConfig {
    /// The media's latching for calls of this trunk (`None`: symmetric RTP off).
    pub fn latching(&self) -> Option<crate::media::session::Latching> {
        self.symmetric_rtp.then_some(crate::media::session::Latching {
            window: self.latch_window,
            any_address: self.latch_any_address,
        })
    }
}

/// `[[registration]]`: one account the attendant keeps registered with a PBX
/// or SIP trunk, so that it is reachable at `sip:user@registrar-host`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationConfig {
    /// The registrar, `sip:host[:port]`: Request-URI of the REGISTERs and
    /// domain of the address of record.
    pub registrar: String,
    /// User part of the address of record and of our Contact (the number or
    /// account name the PBX knows us by).
    pub user: String,
    /// Digest username, when the PBX's authentication ID is not `user`.
    #[serde(default)]
    pub auth_username: Option<String>,
    /// Digest password, written in the file (prefer `password_file`).
    #[serde(default)]
    pub password: Option<crate::sip::registration::Password>,
    /// File holding the password (one line; a final newline is ignored), so
    /// that the configuration file holds no secret.
    #[serde(default)]
    pub password_file: Option<PathBuf>,
    /// Lifetime asked for, in seconds; the registrar may grant less, and the
    /// binding is refreshed at 80 % of what it grants.
    #[serde(default = "default_registration_expires")]
    pub expires: u32,
    /// `udp` or `tcp`: how REGISTERs are sent and what our Contact says.
    #[serde(default)]
    pub transport: crate::sip::registration::RegistrationTransport,
    /// `ip:port` to send the REGISTERs to when the registrar's host does not
    /// resolve from here (an SBC); the registrar URI stays in the headers.
    #[serde(default)]
    pub outbound_proxy: Option<SocketAddr>,
    /// First retry delay after a failed REGISTER (ms); doubled per failure.
    #[serde(default = "default_retry_initial", with = "duration_ms")]
    pub retry_initial: Duration,
    /// Longest retry delay (ms).
    #[serde(default = "default_retry_max", with = "duration_ms")]
    pub retry_max: Duration,
}

fn default_registration_expires() -> u32 {
    3600
}

fn default_retry_initial() -> Duration {
    Duration::from_secs(2)
}

fn default_retry_max() -> Duration {
    Duration::from_secs(300)
}

impl RegistrationConfig {
    /// Validate the entry at `index` and read its password file.
    fn validate(self, index: usize) -> Result<crate::sip::RegistrationAccount, ConfigError> {
        let problem = |key: &'static str, problem: RegistrationProblem| ConfigError::Registration { index, key, problem };
        crate::sip::registration::check_registrar_uri(&self.registrar)
            .map_err(|p| problem("registrar", p.into()))?;
        let is_user = |text: &str| {
            !text.is_empty()
                && !text
                    .chars()
                    .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '@' | ':' | ';' | '<' | '>' | '"'))
        };
        if self.user.is_empty() {
            return Err(problem("user", RegistrationProblem::Empty));
        }
        if !is_user(&self.user) {
            return Err(problem("user", RegistrationProblem::NotAUser));
        }
        if let Some(auth) = &self.auth_username
            && !is_user(auth)
        {
            return Err(problem("auth_username", RegistrationProblem::NotAUser));
        }
        let password = match (self.password, &self.password_file) {
            (Some(_), Some(_)) => return Err(problem("password", RegistrationProblem::PasswordTwice)),
            (Some(password), None) if password.is_empty() => {
                return Err(problem("password", RegistrationProblem::Empty));
            }
            (Some(password), None) => Some(password),
            (None, Some(path)) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::PasswordFile {
                    index,
                    path: path.clone(),
                    source,
                })?;
                let secret = text.strip_suffix('\n').unwrap_or(&text);
                let secret = secret.strip_suffix('\r').unwrap_or(secret);
                if secret.is_empty() {
                    return Err(problem("password_file", RegistrationProblem::Empty));
                }
                Some(crate::sip::registration::Password::new(secret))
            }
            (None, None) => None,
        };
        if self.expires == 0 {
            return Err(problem("expires", RegistrationProblem::Zero));
        }
        if self.retry_initial.is_zero() {
            return Err(problem("retry_initial", RegistrationProblem::Zero));
        }
        if self.retry_max < self.retry_initial {
            return Err(problem("retry_max", RegistrationProblem::RetryMaxBelowInitial));
        }
        Ok(crate::sip::RegistrationAccount {
            registrar: self.registrar,
            user: self.user,
            auth_username: self.auth_username,
            password,
            expires: self.expires,
            transport: self.transport,
            outbound_proxy: self.outbound_proxy,
            retry_initial: self.retry_initial,
            retry_max: self.retry_max,
        })
    }
}

/// `[admin]`: the store admins' HTTP API and web console.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Where the API and console listen, e.g. `127.0.0.1:8080` (put a TLS proxy
    /// in front to expose them). Empty (`""`, the default) turns them off.
    #[serde(with = "optional_addr")]
    pub listen: Option<SocketAddr>,
    /// Longest an admin request may take, body upload included; past it the
    /// request is answered 503 and its work dropped. On SIGTERM the admin API
    /// stops taking requests and waits at most this long for those in flight.
    #[serde(with = "duration_ms")]
    pub request_timeout: Duration,
    /// Days a token issued without an explicit expiry stays valid (API and
    /// `attendant admin token`); 0: such tokens never expire.
    pub token_lifetime_days: u32,
}

impl Default for AdminConfig {
    fn default() -> Self {
        // Off unless asked for (`make run` asks for 127.0.0.1:8080): several
        // attendants on one host, as in the tests, would otherwise fight for a port.
        AdminConfig { listen: None, request_timeout: Duration::from_secs(30), token_lifetime_days: 90 }
    }
}

/// `[ops]`: health probes, metrics, and the checks behind them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OpsConfig {
    /// Where `/healthz`, `/readyz` and `/metrics` are served, e.g.
    /// `127.0.0.1:9090`. Empty (`""`, the default) turns them off.
    #[serde(with = "optional_addr")]
    pub listen: Option<SocketAddr>,
    /// How often the database and the speech engines are checked for
    /// readiness (SIP OPTIONS and `/readyz` answer from the latest check).
    #[serde(with = "duration_ms")]
    pub health_interval: Duration,
    /// With PostgreSQL: how often every store's directory version is re-read,
    /// the safety net behind LISTEN/NOTIFY (a change is normally seen at once).
    #[serde(with = "duration_ms")]
    pub directory_poll_interval: Duration,
}

impl Default for OpsConfig {
    fn default() -> Self {
        OpsConfig {
            listen: None,
            health_interval: Duration::from_secs(2),
            directory_poll_interval: Duration::from_secs(10),
        }
    }
}

/// `admin.listen` as a string: an address, or empty for "off".
mod optional_addr {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::net::SocketAddr;

    pub fn serialize<S: Serializer>(addr: &Option<SocketAddr>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&addr.map(|a| a.to_string()).unwrap_or_default())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SocketAddr>, D::Error> {
        let text = String::deserialize(d)?;
        if text.trim().is_empty() {
            return Ok(None);
        }
        text.parse().map(Some).map_err(|_| serde::de::Error::custom(format!("{text:?} is not an address such as 127.0.0.1:8080")))
    }
}

/// `[limits]`: overload protection and graceful drain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LimitsConfig {
    /// Calls held at once (ringing or answered); past it a new INVITE gets 503
    /// with Retry-After and the calls already up are not touched.
    pub max_calls: usize,
    /// Speech recognitions at once (listening or decoding); past it a call goes
    /// on with the keypad only (see `runtime::RecognitionPermits`). The CPU they
    /// use is bounded by `asr.decode_workers`; this bounds their memory.
    pub max_recognitions: usize,
    /// Seconds sent in `Retry-After` with a 503 (overload or drain).
    pub retry_after_secs: u32,
    /// On SIGTERM/SIGINT: how long calls in progress may go on before the rest
    /// are ended with BYE.
    #[serde(with = "duration_ms")]
    pub drain_timeout: Duration,
    /// SIP over TCP: connections open at once, from everyone. Lowered at
    /// start-up if the open-file limit cannot hold it next to `max_calls`.
    pub max_tcp_connections: usize,
    /// SIP over TCP: connections open at once from one IP address.
    pub max_tcp_connections_per_address: usize,
    /// SIP over TCP: a connection that sends nothing this long is closed.
    #[serde(with = "duration_ms")]
    pub tcp_idle_timeout: Duration,
    /// SIP over TCP: a message must be complete this long after its first byte.
    #[serde(with = "duration_ms")]
    pub tcp_message_timeout: Duration,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_calls: 200,
            max_recognitions: 100,
            retry_after_secs: 30,
            drain_timeout: Duration::from_secs(60),
            max_tcp_connections: crate::sip::TcpLimits::default().max_connections,
            max_tcp_connections_per_address: crate::sip::TcpLimits::default().max_per_address,
            tcp_idle_timeout: crate::sip::TcpLimits::default().idle_timeout,
            tcp_message_timeout: crate::sip::TcpLimits::default().message_timeout,
        }
    }
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    /// A `tracing` filter: `info`, `attendant=debug,info`, …
    pub level: String,
    /// `text` (one readable line per event) or `json` (one JSON object per
    /// line, for a log collector).
    pub format: LogFormat,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".to_owned(),
            format: LogFormat::Text,
        }
    }
}

/// `[asr]`: which speech engine serves each store language, and where models are.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AsrConfig {
    /// Engine per language (`en = "sphinx"`). A store whose language is not
    /// listed, or whose engine cannot load, runs DTMF-only (logged at start).
    pub engines: std::collections::BTreeMap<String, EngineKind>,
    /// Folder of model manifests (`models/*.toml`); unset: the source tree's.
    pub manifest_dir: Option<PathBuf>,
    /// Folder where `scripts/fetch-models.sh` installed the models; unset: the
    /// one the binary was built against (`.deps`).
    pub deps_dir: Option<PathBuf>,
    /// Folder of the per-engine calibration files (`sphinx.toml`,
    /// `vosk.toml`: `matching::calibration`); unset: the source tree's
    /// `config/calibration`.
    pub calibration_dir: Option<PathBuf>,
    /// Threads that decode every call's speech (`speech::decode`); unset: one
    /// per core.
    pub decode_workers: Option<std::num::NonZeroUsize>,
    /// How far (ms of audio) a call's decoding may fall behind the caller
    /// before that call drops speech for the keypad menu.
    #[serde(with = "duration_ms")]
    pub decode_backlog: Duration,
}

impl Default for AsrConfig {
    fn default() -> Self {
        AsrConfig {
            engines: [("en", EngineKind::Sphinx), ("fr", EngineKind::Vosk), ("ko", EngineKind::Vosk)]
                .into_iter()
                .map(|(language, engine)| (language.to_owned(), engine))
                .collect(),
            manifest_dir: None,
            deps_dir: None,
            calibration_dir: None,
            decode_workers: None,
            decode_backlog: Duration::from_secs(2),
        }
    }
}

impl AsrConfig {
    /// The decode workers' settings: `decode_workers` (else one per core) and
    /// `decode_backlog` in 8 kHz samples.
    pub fn decode_settings(&self) -> crate::speech::decode::DecodeSettings {
        let machine = crate::speech::decode::DecodeSettings::for_this_machine();
        crate::speech::decode::DecodeSettings {
            workers: self.decode_workers.unwrap_or(machine.workers),
            max_backlog_samples: (self.decode_backlog.as_millis() as usize).saturating_mul(8),
        }
    }

    /// The engine configured for `language`, if any.
    pub fn engine_for(&self, language: Language) -> Option<EngineKind> {
        self.engines.get(language.code()).copied()
    }
}

/// The file's shape: every section optional, unknown keys rejected.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct ConfigFile {
    sip: SipConfig,
    rtp: RtpConfig,
    database: DatabaseConfig,
    paths: PathsConfig,
    pbx: PbxConfig,
    timers: TimersConfig,
    limits: LimitsConfig,
    admin: AdminConfig,
    ops: OpsConfig,
    log: LogConfig,
    /// `FlowSettings` accepts unknown keys; [`check_flow_keys`] rejects them.
    flow: FlowSettings,
    asr: AsrConfig,
    /// `[[registration]]` entries, in file order.
    registration: Vec<RegistrationConfig>,
    /// `[[trunk]]` entries, in file order.
    trunk: Vec<TrunkConfig>,
}

/// The validated configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Config {
    pub sip: SipConfig,
    pub rtp: RtpConfig,
    pub database: DatabaseConfig,
    pub paths: PathsConfig,
    /// The PBX that extension targets are sent to (parsed `pbx.address`;
    /// printed back as `[pbx] address = "…"`, so check-config's output loads).
    #[serde(serialize_with = "pbx_table")]
    pub pbx: PbxAddress,
    pub timers: TimersConfig,
    pub limits: LimitsConfig,
    pub admin: AdminConfig,
    pub ops: OpsConfig,
    pub log: LogConfig,
    /// Fleet-wide call-flow defaults; a store may override some keys
    /// ([`crate::directory::settings::StoreSettings`]).
    pub flow: FlowSettings,
    /// Speech engines per language.
    pub asr: AsrConfig,
    /// Accounts to keep registered with a PBX or trunk (passwords read from
    /// their files; `Debug` and `Serialize` hide them).
    pub registration: Vec<crate::sip::RegistrationAccount>,
    /// Trunks and their interoperability options, in file order.
    pub trunk: Vec<TrunkConfig>,
}

impl Config {
    /// The trunk a call from `source` belongs to: the first whose networks hold it.
    pub fn trunk_for(trunks: &[TrunkConfig], source: IpAddr) -> Option<&TrunkConfig> {
        trunks.iter().find(|trunk| trunk.networks.allows(source))
    }
}

/// `pbx` as the `[pbx]` table the file has.
fn pbx_table<S: serde::Serializer>(pbx: &PbxAddress, s: S) -> Result<S::Ok, S::Error> {
    PbxConfig { address: pbx.to_string() }.serialize(s)
}

/// Command-line flags that override the file (`attendant run --sip-udp-listen …`).
#[derive(Debug, Clone, Default, PartialEq, clap::Args)]
pub struct ConfigOverrides {
    /// Overrides sip.udp_listen.
    #[arg(long, value_name = "ADDR")]
    pub sip_udp_listen: Option<SocketAddr>,
    /// Overrides sip.tcp_listen.
    #[arg(long, value_name = "ADDR")]
    pub sip_tcp_listen: Option<SocketAddr>,
    /// Overrides sip.public_address.
    #[arg(long, value_name = "IP")]
    pub sip_public_address: Option<IpAddr>,
    /// Overrides rtp.port_min.
    #[arg(long, value_name = "PORT")]
    pub rtp_port_min: Option<u16>,
    /// Overrides rtp.port_max.
    #[arg(long, value_name = "PORT")]
    pub rtp_port_max: Option<u16>,
    /// Overrides database.url.
    #[arg(long, value_name = "URL", env = "ATTENDANT_DATABASE_URL")]
    pub database_url: Option<String>,
    /// Overrides paths.data_dir.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Overrides paths.prompts_dir.
    #[arg(long, value_name = "DIR")]
    pub prompts_dir: Option<PathBuf>,
    /// Overrides pbx.address.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub pbx_address: Option<String>,
    /// Overrides admin.listen (the admin API and console; empty: off).
    #[arg(long, value_name = "ADDR")]
    pub admin_listen: Option<String>,
    /// Overrides log.level.
    #[arg(long, value_name = "FILTER", env = "ATTENDANT_LOG")]
    pub log_level: Option<String>,
}

impl Config {
    /// Reads `path` (built-in defaults when `None`), applies `overrides`, validates.
    pub fn load(path: Option<&Path>, overrides: &ConfigOverrides) -> Result<Config, ConfigError> {
        let file = match path {
            None => ConfigFile::default(),
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                parse_file(path, &text)?
            }
        };
        Config::from_file(file, overrides)
    }

    fn from_file(mut file: ConfigFile, overrides: &ConfigOverrides) -> Result<Config, ConfigError> {
        let o = overrides.clone();
        if let Some(v) = o.sip_udp_listen {
            file.sip.udp_listen = v;
        }
        if let Some(v) = o.sip_tcp_listen {
            file.sip.tcp_listen = v;
        }
        if let Some(v) = o.sip_public_address {
            file.sip.public_address = Some(v);
        }
        if let Some(v) = o.rtp_port_min {
            file.rtp.port_min = v;
        }
        if let Some(v) = o.rtp_port_max {
            file.rtp.port_max = v;
        }
        if let Some(v) = o.database_url {
            file.database.url = v;
        }
        if let Some(v) = o.data_dir {
            file.paths.data_dir = v;
        }
        if let Some(v) = o.prompts_dir {
            file.paths.prompts_dir = v;
        }
        if let Some(v) = o.pbx_address {
            file.pbx.address = v;
        }
        if let Some(v) = o.admin_listen {
            file.admin.listen = if v.trim().is_empty() {
                None
            } else {
                Some(v.parse().map_err(|_| ConfigError::InvalidAdminListen { value: v.clone() })?)
            };
        }
        if let Some(v) = o.log_level {
            file.log.level = v;
        }
        validate(file)
    }
}

fn parse_file(path: &Path, text: &str) -> Result<ConfigFile, ConfigError> {
    let file: ConfigFile = toml::from_str(text).map_err(|source| ConfigError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    // The text parsed as ConfigFile just above, so it parses as a table too.
    let table: toml::Table = toml::from_str(text).map_err(|source| ConfigError::Parse {
        path: path.to_path_buf(),
        source,
    })?;
    if let Some(toml::Value::Table(flow)) = table.get("flow") {
        check_flow_keys(path, flow)?;
    }
    Ok(file)
}

/// `FlowSettings` belongs to `flow` and does not deny unknown fields: compare the
/// keys with those of its serialized form so a typo is an error, not a silent default.
fn check_flow_keys(path: &Path, flow: &toml::Table) -> Result<(), ConfigError> {
    let known = match serde_json::to_value(FlowSettings::default()) {
        Ok(serde_json::Value::Object(map)) => map,
        // A struct with named fields always serializes to an object.
        _ => serde_json::Map::new(),
    };
    match flow.keys().find(|key| !known.contains_key(*key)) {
        Some(key) => Err(ConfigError::UnknownFlowKey {
            path: path.to_path_buf(),
            key: key.clone(),
        }),
        None => Ok(()),
    }
}

fn validate(file: ConfigFile) -> Result<Config, ConfigError> {
    let ConfigFile {
        sip,
        rtp,
        database,
        paths,
        pbx,
        timers,
        limits,
        admin,
        ops,
        log,
        flow,
        asr,
        registration,
        trunk,
    } = file;
    if let Some(code) = asr.engines.keys().find(|code| Language::from_code(code).is_none()) {
        return Err(ConfigError::UnknownAsrLanguage { code: code.clone() });
    }
    // An absent list reads as "everyone" (`TrustedNetworks`): a trunk must say.
    if let Some(index) = trunk.iter().position(|t| t.networks.is_allow_all()) {
        return Err(ConfigError::TrunkWithoutNetworks { index });
    }
    if limits.max_calls == 0 {
        return Err(ConfigError::ZeroLimit { key: "limits.max_calls" });
    }
    if limits.max_tcp_connections == 0 {
        return Err(ConfigError::ZeroLimit { key: "limits.max_tcp_connections" });
    }
    if limits.max_tcp_connections_per_address == 0 {
        return Err(ConfigError::ZeroLimit { key: "limits.max_tcp_connections_per_address" });
    }
    if limits.tcp_idle_timeout.is_zero() {
        return Err(ConfigError::ZeroLimit { key: "limits.tcp_idle_timeout" });
    }
    if limits.tcp_message_timeout.is_zero() {
        return Err(ConfigError::ZeroLimit { key: "limits.tcp_message_timeout" });
    }

    let public = sip.public_ip();
    if public.is_unspecified() {
        return Err(ConfigError::NoPublicAddress {
            listen: sip.udp_listen,
        });
    }
    if rtp.port_min == 0 || rtp.port_min % 2 != 0 {
        return Err(ConfigError::PortMinNotEven { port: rtp.port_min });
    }
    if rtp.port_min >= rtp.port_max {
        return Err(ConfigError::PortRangeInverted {
            min: rtp.port_min,
            max: rtp.port_max,
        });
    }
    let scheme = database.url.split(':').next().unwrap_or_default();
    if !matches!(scheme, "sqlite" | "postgres" | "postgresql") || !database.url.contains(':') {
        return Err(ConfigError::UnsupportedDatabaseUrl {
            scheme: scheme.to_owned(),
        });
    }
    let pbx_address =
        pbx.address
            .parse::<PbxAddress>()
            .map_err(|problem| ConfigError::InvalidPbxAddress {
                value: pbx.address.clone(),
                problem,
            })?;
    let durations = [
        ("timers.ack_timeout", timers.ack_timeout),
        (
            "timers.rtp_inactivity_timeout",
            timers.rtp_inactivity_timeout,
        ),
        ("flow.no_input_timeout", flow.no_input_timeout),
        ("flow.inter_digit_timeout", flow.inter_digit_timeout),
        ("flow.transfer_timeout", flow.transfer_timeout),
        ("flow.max_call_duration", flow.max_call_duration),
        ("ops.health_interval", ops.health_interval),
        ("ops.directory_poll_interval", ops.directory_poll_interval),
    ];
    if let Some((key, _)) = durations.iter().find(|(_, d)| d.is_zero()) {
        return Err(ConfigError::ZeroDuration { key });
    }
    if let Err(source) = tracing_subscriber::EnvFilter::try_new(&log.level) {
        return Err(ConfigError::InvalidLogLevel {
            value: log.level,
            source,
        });
    }
    let registration = registration
        .into_iter()
        .enumerate()
        .map(|(index, entry)| entry.validate(index))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Config {
        sip,
        rtp,
        database,
        paths,
        pbx: pbx_address,
        timers,
        limits,
        admin,
        ops,
        log,
        flow,
        asr,
        registration,
        trunk,
    })
}

#[cfg(test)]
mod tests {
    //! Loading: defaults, file values, flag overrides, and one error per validation
    //! that names the key at fault.
    use super::*;
    use std::io::Write;

    /// The error and its sources, as `{:#}` shows them in anyhow.
    fn chain(err: &dyn std::error::Error) -> String {
        let mut text = err.to_string();
        let mut source = err.source();
        while let Some(e) = source {
            text = format!("{text}: {e}");
            source = e.source();
        }
        text
    }

    fn load_text(text: &str, overrides: &ConfigOverrides) -> Result<Config, ConfigError> {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        file.write_all(text.as_bytes()).unwrap();
        Config::load(Some(file.path()), overrides)
    }

    #[test]
    fn printed_config_loads_back_the_same() {
        // What `attendant check-config` prints is a configuration file again.
        let text = "[pbx]\naddress = \"[2001:db8::1]:5080\"\n\
            [sip]\ntrusted_networks = [\"192.0.2.0/24\"]\n\
            [[registration]]\nregistrar = \"sip:pbx.example\"\nuser = \"1000\"\n\
            [[trunk]]\nname = \"office\"\nnetworks = [\"192.0.2.0/24\", \"2001:db8::/32\"]\n\
            symmetric_rtp = true\nlatch_window_ms = 3000\n";
        for text in ["", text] {
            let config = load_text(text, &ConfigOverrides::default()).unwrap();
            let printed = toml::to_string_pretty(&config).unwrap();
            let back = load_text(&printed, &ConfigOverrides::default())
                .unwrap_or_else(|error| panic!("{}\n{printed}", chain(&error)));
            assert_eq!(back, config, "{printed}");
        }
    }

    #[test]
    fn trunks_are_found_by_source_address() {
        let text = "[[trunk]]\nname = \"nat\"\nnetworks = [\"192.0.2.0/24\"]\nsymmetric_rtp = true\n\
            [[trunk]]\nname = \"carrier\"\nnetworks = [\"198.51.100.0/24\"]\n";
        let config = load_text(text, &ConfigOverrides::default()).unwrap();
        let find = |ip: &str| Config::trunk_for(&config.trunk, ip.parse().unwrap()).map(|t| t.name.as_str());
        assert_eq!(find("192.0.2.7"), Some("nat"));
        assert_eq!(find("198.51.100.1"), Some("carrier"));
        assert_eq!(find("203.0.113.1"), None);
        let nat = &config.trunk[0];
        assert_eq!(
            nat.latching(),
            Some(crate::media::session::Latching { window: Duration::from_secs(5), any_address: false }),
            "5 s window, signalled IP only, by default"
        );
        assert_eq!(config.trunk[1].latching(), None, "symmetric RTP is off unless asked");
        let missing = load_text("[[trunk]]\nname = \"x\"\n", &ConfigOverrides::default()).unwrap_err();
        assert!(chain(&missing).contains("trunk[0].networks"), "{}", chain(&missing));
    }

    #[test]
    fn defaults_are_valid() {
        let config = Config::load(None, &ConfigOverrides::default()).unwrap();
        assert_eq!(config.database.url, "sqlite://var/attendant.db");
        assert_eq!(
            config.sip.public_ip(),
            IpAddr::V4(Ipv4Addr::LOCALHOST),
            "defaults to the listen IP"
        );
        assert_eq!(config.flow, FlowSettings::default());
        assert_eq!(
            config.pbx,
            PbxAddress {
                host: "127.0.0.1".to_owned(),
                port: Some(5070)
            }
        );
    }

    #[test]
    fn ops_and_log_format_parse_and_zero_intervals_are_refused() {
        let text = "[ops]\nlisten = \"127.0.0.1:9090\"\nhealth_interval = 500\n[log]\nformat = \"json\"\n";
        let config = Config::from_file(parse_file(Path::new("t.toml"), text).unwrap(), &ConfigOverrides::default()).unwrap();
        assert_eq!(config.ops.listen, Some("127.0.0.1:9090".parse().unwrap()));
        assert_eq!(config.ops.health_interval, Duration::from_millis(500));
        assert_eq!(config.log.format, LogFormat::Json);
        assert!(parse_file(Path::new("t.toml"), "[log]\nformat = \"xml\"\n").is_err());
        let zero = parse_file(Path::new("t.toml"), "[ops]\ndirectory_poll_interval = 0\n").unwrap();
        assert!(matches!(
            Config::from_file(zero, &ConfigOverrides::default()),
            Err(ConfigError::ZeroDuration { key: "ops.directory_poll_interval" })
        ));
    }

    #[test]
    fn example_file_is_valid_and_matches_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("config/attendant.example.toml");
        let example = Config::load(Some(&path), &ConfigOverrides::default()).unwrap();
        assert_eq!(
            example,
            Config::load(None, &ConfigOverrides::default()).unwrap()
        );
    }

    #[test]
    fn file_values_and_flag_overrides_apply() {
        let text = r#"
            [sip]
            udp_listen = "0.0.0.0:5080"
            public_address = "192.0.2.10"
            trusted_networks = ["10.20.0.0/16", "192.0.2.7/32"]
            [rtp]
            port_min = 30000
            port_max = 30100
            [pbx]
            address = "pbx.example"
            [timers]
            ack_timeout = 5000
            [flow]
            max_retries = 4
            no_input_timeout = 8000
        "#;
        let config = load_text(text, &ConfigOverrides::default()).unwrap();
        assert_eq!(config.sip.udp_listen, "0.0.0.0:5080".parse().unwrap());
        assert_eq!(
            config.sip.trusted_networks,
            crate::sip::TrustedNetworks::only(vec!["10.20.0.0/16".parse().unwrap(), "192.0.2.7/32".parse().unwrap()])
        );
        assert_eq!(
            config.sip.public_ip(),
            "192.0.2.10".parse::<IpAddr>().unwrap()
        );
        assert_eq!((config.rtp.port_min, config.rtp.port_max), (30000, 30100));
        assert_eq!(config.timers.ack_timeout, Duration::from_secs(5));
        assert_eq!(config.flow.max_retries, 4);
        assert_eq!(config.flow.no_input_timeout, Duration::from_secs(8));
        assert_eq!(
            config.flow.transfer_timeout,
            FlowSettings::default().transfer_timeout,
            "unset keys default"
        );
        assert_eq!(
            config
                .pbx
                .target_uri(&TransferTarget::Extension("201".into())),
            "sip:201@pbx.example"
        );

        let overrides = ConfigOverrides {
            rtp_port_min: Some(40000),
            rtp_port_max: Some(40010),
            database_url: Some("postgres://attendant@db/attendant".to_owned()),
            pbx_address: Some("[::1]:5070".to_owned()),
            log_level: Some("attendant=debug,info".to_owned()),
            ..ConfigOverrides::default()
        };
        let config = load_text(text, &overrides).unwrap();
        assert_eq!(
            (config.rtp.port_min, config.rtp.port_max),
            (40000, 40010),
            "flags win over the file"
        );
        assert_eq!(config.database.url, "postgres://attendant@db/attendant");
        assert_eq!(
            config
                .pbx
                .target_uri(&TransferTarget::Extension("100".into())),
            "sip:100@[::1]:5070"
        );
        assert_eq!(config.log.level, "attendant=debug,info");
    }

    #[test]
    fn file_errors_name_the_key() {
        let cases = [
            (
                "[sip]\nudp_lisen = \"127.0.0.1:5060\"\n",
                "unknown field `udp_lisen`",
            ),
            ("[sipp]\n", "unknown field `sipp`"),
            ("[sip]\nudp_listen = \"localhost\"\n", "udp_listen"),
            (
                "[sip]\nudp_listen = \"localhost\"\n",
                "invalid socket address",
            ),
            ("[rtp]\nport_min = 70000\n", "port_min"),
            ("[timers]\nack_timeout = \"5s\"\n", "ack_timeout"),
            ("[flow]\nmax_retrys = 3\n", "unknown key flow.max_retrys"),
            ("[sip\n", "TOML parse error"),
        ];
        for (text, expected) in cases {
            let err = load_text(text, &ConfigOverrides::default()).unwrap_err();
            let err = chain(&err);
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn validation_errors_name_the_key() {
        let cases = [
            (
                "[rtp]\nport_min = 20000\nport_max = 10000\n",
                "rtp.port_min (20000) must be below rtp.port_max (10000)",
            ),
            (
                "[rtp]\nport_min = 10000\nport_max = 10000\n",
                "must be below rtp.port_max",
            ),
            (
                "[rtp]\nport_min = 10001\n",
                "rtp.port_min (10001) must be even",
            ),
            (
                "[rtp]\nport_min = 0\n",
                "rtp.port_min (0) must be even and non-zero",
            ),
            (
                "[sip]\nudp_listen = \"0.0.0.0:5060\"\n",
                "sip.public_address is required",
            ),
            (
                "[sip]\npublic_address = \"::\"\n",
                "sip.public_address is required",
            ),
            (
                "[database]\nurl = \"mysql://x/y\"\n",
                "database.url: unsupported scheme \"mysql\"",
            ),
            (
                "[database]\nurl = \"var/attendant.db\"\n",
                "database.url: unsupported scheme",
            ),
            (
                "[pbx]\naddress = \"pbx:0\"\n",
                "pbx.address \"pbx:0\": the port is not a number",
            ),
            ("[pbx]\naddress = \":5060\"\n", "the host is empty"),
            ("[pbx]\naddress = \"::1\"\n", "must be written in brackets"),
            (
                "[pbx]\naddress = \"pbx example\"\n",
                "not allowed in a SIP host",
            ),
            (
                "[timers]\nrtp_inactivity_timeout = 0\n",
                "timers.rtp_inactivity_timeout must be greater than 0",
            ),
            (
                "[flow]\ntransfer_timeout = 0\n",
                "flow.transfer_timeout must be greater than 0",
            ),
            (
                "[log]\nlevel = \"attendant=loud\"\n",
                "log.level \"attendant=loud\"",
            ),
        ];
        for (text, expected) in cases {
            let err = load_text(text, &ConfigOverrides::default()).unwrap_err();
            let err = chain(&err);
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn registrations_load_with_defaults_and_a_password_file() {
        let mut secret = tempfile::NamedTempFile::new().unwrap();
        secret.write_all(b"from-the-file\n").unwrap();
        let text = format!(
            r#"
            [[registration]]
            registrar = "sip:pbx.example.com"
            user = "0142000000"
            password_file = "{}"
            [[registration]]
            registrar = "sip:10.0.0.1:5080"
            user = "store-1000"
            auth_username = "auth-1000"
            password = "in-the-file"
            expires = 600
            transport = "tcp"
            outbound_proxy = "10.0.0.2:5060"
            retry_initial = 500
            retry_max = 8000
            "#,
            secret.path().display()
        );
        let config = load_text(&text, &ConfigOverrides::default()).unwrap();
        let [first, second] = config.registration.as_slice() else {
            panic!("two registrations expected: {:?}", config.registration)
        };
        assert_eq!(first.password, Some(crate::sip::registration::Password::new("from-the-file")), "final newline dropped");
        assert_eq!((first.expires, first.retry_initial, first.retry_max), (3600, Duration::from_secs(2), Duration::from_secs(300)));
        assert_eq!(first.transport, crate::sip::registration::RegistrationTransport::Udp);
        assert_eq!(second.password, Some(crate::sip::registration::Password::new("in-the-file")));
        assert_eq!(second.auth_username.as_deref(), Some("auth-1000"));
        assert_eq!(second.transport, crate::sip::registration::RegistrationTransport::Tcp);
        assert_eq!(second.outbound_proxy, Some("10.0.0.2:5060".parse().unwrap()));
        assert_eq!((second.expires, second.retry_initial, second.retry_max), (600, Duration::from_millis(500), Duration::from_secs(8)));
        // Neither the Debug form nor check-config's output shows a password.
        let shown = format!("{config:?}\n{}", toml::to_string(&config).unwrap());
        for secret in ["from-the-file", "in-the-file"] {
            assert!(!shown.contains(secret), "{secret} shown in {shown}");
        }
    }

    #[test]
    fn registration_errors_name_the_entry_and_key() {
        let entry = |extra: &str| format!("[[registration]]\nregistrar = \"sip:pbx.example\"\nuser = \"1000\"\n{extra}");
        let cases = [
            ("[[registration]]\nuser = \"1000\"\n".to_string(), "missing field `registrar`"),
            (entry("pasword = \"x\"\n"), "unknown field `pasword`"),
            (entry("transport = \"tls\"\n"), "unknown variant `tls`"),
            (
                "[[registration]]\nregistrar = \"pbx.example\"\nuser = \"1000\"\n".to_string(),
                "registration[0].registrar: it must start with sip:",
            ),
            (
                "[[registration]]\nregistrar = \"sip:1000@pbx.example\"\nuser = \"1000\"\n".to_string(),
                "registration[0].registrar: it must name the registrar only",
            ),
            ("[[registration]]\nregistrar = \"sip:pbx.example\"\nuser = \"\"\n".to_string(), "registration[0].user: must not be empty"),
            ("[[registration]]\nregistrar = \"sip:pbx.example\"\nuser = \"a@b\"\n".to_string(), "registration[0].user: must be a SIP user part"),
            (entry("password = \"x\"\npassword_file = \"/etc/hostname\"\n"), "registration[0].password: give password or password_file, not both"),
            (entry("password = \"\"\n"), "registration[0].password: must not be empty"),
            (entry("password_file = \"/nonexistent/secret\"\n"), "registration[0].password_file: cannot read /nonexistent/secret"),
            (entry("expires = 0\n"), "registration[0].expires: must be at least 1"),
            (entry("retry_initial = 0\n"), "registration[0].retry_initial: must be at least 1"),
            (entry("retry_initial = 5000\nretry_max = 1000\n"), "registration[0].retry_max: must not be below retry_initial"),
            (format!("{}{}", entry(""), entry("expires = 0\n")), "registration[1].expires"),
        ];
        for (text, expected) in cases {
            let err = load_text(&text, &ConfigOverrides::default()).unwrap_err();
            let err = chain(&err);
            assert!(err.contains(expected), "{text:?}: {err}");
        }
    }

    #[test]
    fn flag_overrides_are_validated_too() {
        let overrides = ConfigOverrides {
            rtp_port_min: Some(21000),
            ..ConfigOverrides::default()
        };
        let err = Config::load(None, &overrides).unwrap_err();
        assert!(
            matches!(
                err,
                ConfigError::PortRangeInverted {
                    min: 21000,
                    max: 20000
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn missing_file_is_named() {
        let err = Config::load(
            Some(Path::new("/nonexistent/attendant.toml")),
            &ConfigOverrides::default(),
        );
        assert!(
            err.unwrap_err()
                .to_string()
                .contains("/nonexistent/attendant.toml")
        );
    }

    #[test]
    fn pbx_addresses_parse() {
        let cases = [
            ("pbx.example", Ok(("pbx.example", None))),
            ("10.0.0.1:5070", Ok(("10.0.0.1", Some(5070)))),
            ("[2001:db8::1]", Ok(("[2001:db8::1]", None))),
            ("[2001:db8::1]:5060", Ok(("[2001:db8::1]", Some(5060)))),
            ("[2001:db8::1]5060", Err(PbxAddressProblem::InvalidPort)),
            ("[2001:db8::1", Err(PbxAddressProblem::UnbracketedIpv6)),
            ("pbx:99999", Err(PbxAddressProblem::InvalidPort)),
            ("pbx:", Err(PbxAddressProblem::InvalidPort)),
            ("", Err(PbxAddressProblem::EmptyHost)),
            ("pbx@evil", Err(PbxAddressProblem::InvalidHostCharacter)),
        ];
        for (text, expected) in cases {
            let got = text.parse::<PbxAddress>();
            let expected = expected.map(|(host, port)| PbxAddress {
                host: host.to_owned(),
                port,
            });
            assert_eq!(got, expected, "{text:?}");
            if let Ok(address) = got {
                assert_eq!(address.to_string(), text, "Display gives back the text");
            }
        }
    }
}
