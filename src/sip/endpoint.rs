//! The SIP endpoint: transports, and the dispatcher that routes every incoming
//! transaction to a new call, an existing call's dialog, or a direct answer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use rsipstack::EndpointBuilder;
use rsipstack::dialog::dialog::Dialog;
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, StatusCode};
use rsipstack::transaction::TransactionReceiver;
use rsipstack::transaction::key::TransactionKey;
use rsipstack::transaction::transaction::Transaction;
use rsipstack::transport::udp::UdpConnection;
use rsipstack::transport::{SipAddr, TransportLayer};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, warn};

use super::call::{CallTask, InviteTransaction};
use super::tcp::{self, TcpListenerHandle, TcpStats};
use super::guard::{DropCounters, DroppedDatagrams, GuardedUdpSocket};
use super::registration::{RegistrationStatus, RegistrationTransport, Registrations};
use super::{ACCEPTED_BODIES, ALLOWED_METHODS, IncomingCall, Rejection, SipError, SipSettings};

/// A running SIP user agent. Dropping it does not stop it: cancel the token
/// given to [`SipEndpoint::start`].
#[derive(Clone)]
pub struct SipEndpoint {
    udp_addr: SocketAddr,
    tcp_addr: Option<SocketAddr>,
    /// The call tasks, each owning one dialog.
    calls: TaskTracker,
    dialogs: Arc<DialogLayer>,
    /// Set by [`SipEndpoint::stop_accepting`]: new INVITEs and OPTIONS get 503.
    draining: Arc<AtomicBool>,
    /// One task per account registered with a PBX or trunk.
    registrations: Registrations,
    /// Datagrams the guarded UDP socket kept from rsipstack.
    dropped: Arc<DropCounters>,
    /// Our TCP listener, if TCP is on.
    tcp: Option<TcpListenerHandle>,
}

impl std::fmt::Debug for SipEndpoint {
    // rsipstack's DialogLayer has no Debug: show the count instead.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SipEndpoint")
            .field("udp_addr", &self.udp_addr)
            .field("tcp_addr", &self.tcp_addr)
            .field("active_dialogs", &self.dialogs.len())
            .finish()
    }
}

impl SipEndpoint {
    /// Bind the transports and start serving. New calls arrive on the returned
    /// receiver; everything stops when `cancel` is cancelled.
    pub async fn start(
        settings: &SipSettings,
        cancel: CancellationToken,
    ) -> Result<(SipEndpoint, mpsc::Receiver<IncomingCall>), SipError> {
        let transport_layer = TransportLayer::new(cancel.child_token());
        // Our socket behind rsipstack's UDP transport: it screens every
        // datagram first (see `guard`).
        let bind_error = |source: std::io::Error| SipError::Bind {
            transport: "UDP",
            addr: settings.udp,
            source: Box::new(rsipstack::Error::IoError(source)),
        };
        let socket = GuardedUdpSocket::bind(settings.udp, settings.trusted_networks.clone(), settings.udp_receive_buffer)
            .await
            .map_err(bind_error)?;
        let dropped = socket.counters();
        let udp = UdpConnection::from_socket(Arc::new(socket), None, Some(cancel.child_token()))
            .await
            .map_err(|source| SipError::Bind {
                transport: "UDP",
                addr: settings.udp,
                source: Box::new(source),
            })?;
        let udp_addr = udp.get_addr().get_socketaddr().map_err(|source| SipError::Bind {
            transport: "UDP",
            addr: settings.udp,
            source: Box::new(source),
        })?;
        if settings.trusted_networks.is_allow_all() {
            warn!("sip.trusted_networks is not set: SIP is accepted from any address");
        } else {
            // UDP is filtered by the guarded socket; this covers TCP connections.
            let trusted = settings.trusted_networks.clone();
            transport_layer.set_whitelist(move |ip| std::future::ready(trusted.allows(ip)));
        }
        transport_layer.add_transport(udp.into());

        // Our own listener (see `tcp`): bound here, so a busy port fails the
        // start and port 0 reports the port it got.
        let tcp_bind_error = |addr: SocketAddr| {
            move |source: rsipstack::Error| SipError::Bind {
                transport: "TCP",
                addr,
                source: Box::new(source),
            }
        };
        let (tcp_addr, tcp) = match settings.tcp {
            Some(addr) => {
                let listener = std::net::TcpListener::bind(addr)
                    .and_then(|listener| listener.local_addr().map(|bound| (listener, bound)))
                    .map_err(|e| tcp_bind_error(addr)(rsipstack::Error::IoError(e)))?;
                let (listener, bound) = listener;
                let handle = tcp::serve(
                    listener,
                    &transport_layer,
                    settings.tcp_limits,
                    settings.trusted_networks.clone(),
                    cancel.child_token(),
                )
                .await
                .map_err(tcp_bind_error(addr))?;
                (Some(bound), Some(handle))
            }
            None => (None, None),
        };

        let endpoint = EndpointBuilder::new()
            .with_user_agent(&settings.user_agent)
            .with_transport_layer(transport_layer)
            .with_cancel_token(cancel.child_token())
            .build();
        let incoming = endpoint.incoming_transactions().map_err(|source| SipError::Start {
            source: Box::new(source),
        })?;
        let dialogs = Arc::new(DialogLayer::new(endpoint.inner.clone()));
        let endpoint_inner = endpoint.inner.clone();
        let (calls_tx, calls_rx) = mpsc::channel(settings.max_pending_calls.max(1));

        let serve_cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                () = endpoint.serve() => {}
                () = serve_cancel.cancelled() => endpoint.shutdown(),
            }
        });
        // Registered once the endpoint serves, so the registrar's answers are read.
        let registrations = if settings.registrations.is_empty() {
            Registrations::none()
        } else {
            let public_ip = settings.public_ip;
            let contact = move |transport: RegistrationTransport| {
                let mut addr = match (transport, tcp_addr) {
                    (RegistrationTransport::Tcp, Some(tcp)) => tcp,
                    _ => udp_addr,
                };
                if let Some(ip) = public_ip {
                    addr.set_ip(ip);
                }
                addr
            };
            Registrations::start(&settings.registrations, endpoint_inner, contact, &cancel)
        };
        let dispatcher = Dispatcher {
            dialogs: dialogs.clone(),
            calls: calls_tx,
            settings: settings.clone(),
            udp_addr,
            tcp_addr,
            cancel: cancel.clone(),
            tasks: TaskTracker::new(),
            draining: Arc::new(AtomicBool::new(false)),
            invites: Arc::default(),
        };
        let calls = dispatcher.tasks.clone();
        let draining = dispatcher.draining.clone();
        tokio::spawn(dispatcher.run(incoming));
        Ok((
            SipEndpoint {
                udp_addr,
                tcp_addr,
                calls,
                dialogs,
                draining,
                registrations,
                dropped,
                tcp,
            },
            calls_rx,
        ))
    }

    /// The bound UDP address (with the real port when 0 was asked for).
    pub fn udp_addr(&self) -> SocketAddr {
        self.udp_addr
    }

    /// The TCP address, if TCP is on.
    pub fn tcp_addr(&self) -> Option<SocketAddr> {
        self.tcp_addr
    }

    /// Dialogs currently held (one per call not yet released): for health
    /// checks and leak tests.
    pub fn active_dialogs(&self) -> usize {
        self.dialogs.len()
    }

    /// Calls whose SIP task is still running (one per dialog, from INVITE until
    /// its last transaction is answered): what [`SipSettings::max_calls`] counts.
    ///
    /// [`SipSettings::max_calls`]: super::SipSettings::max_calls
    pub fn active_calls(&self) -> usize {
        self.calls.len()
    }

    /// Stop taking calls, for a graceful drain: from now on a new INVITE gets
    /// 503 with `Retry-After`, and OPTIONS gets 503 so that a dispatcher probing
    /// us (Kamailio's `dispatcher` module) sends new calls elsewhere. Calls
    /// already up carry on. There is no way back: a drain ends in shutdown.
    pub fn stop_accepting(&self) {
        self.draining.store(true, Ordering::Relaxed);
    }

    /// False once [`SipEndpoint::stop_accepting`] was called.
    pub fn is_accepting(&self) -> bool {
        !self.draining.load(Ordering::Relaxed)
    }

    /// UDP datagrams dropped or refused before rsipstack since start-up, per cause.
    pub fn dropped_datagrams(&self) -> DroppedDatagrams {
        self.dropped.snapshot()
    }

    /// SIP over TCP since start-up: connections open, refused and closed by
    /// a limit (all zero without TCP).
    pub fn tcp_stats(&self) -> TcpStats {
        self.tcp.as_ref().map(TcpListenerHandle::stats).unwrap_or_default()
    }

    /// Each registration's state (in configuration order; empty without
    /// `[[registration]]`).
    pub fn registrations(&self) -> Vec<RegistrationStatus> {
        self.registrations.statuses()
    }

    /// Stop refreshing the registrations and un-REGISTER them (`Expires: 0`),
    /// waiting at most `limit`; call it before the endpoint's token is
    /// cancelled. Returns whether every registration was done in time. Calling
    /// it again only waits.
    pub async fn unregister(&self, limit: std::time::Duration) -> bool {
        self.registrations.unregister(limit).await
    }

    /// Wait, at most `grace`, until every call task has ended: each ends once
    /// its [`super::SipCall`] is dropped and its BYE or rejection is answered.
    /// Call it before cancelling the endpoint's token, which would cut those
    /// transactions short. Returns whether all ended in time.
    pub async fn drain(&self, grace: std::time::Duration) -> bool {
        self.calls.close();
        tokio::time::timeout(grace, self.calls.wait()).await.is_ok()
    }
}

/// Routes incoming transactions. Never blocks on a call: every transaction is
/// handled in its own task.
struct Dispatcher {
    dialogs: Arc<DialogLayer>,
    calls: mpsc::Sender<IncomingCall>,
    settings: SipSettings,
    udp_addr: SocketAddr,
    tcp_addr: Option<SocketAddr>,
    cancel: CancellationToken,
    tasks: TaskTracker,
    draining: Arc<AtomicBool>,
    /// The INVITEs that made the calls in progress, to spot merged requests.
    invites: Arc<InviteTable>,
}

/// What identifies an INVITE apart from its branch (RFC 3261 §8.2.2.2):
/// Call-ID, From tag, CSeq number.
type InviteId = (String, String, u32);

/// The INVITEs of the calls in progress, each with the transaction (branch)
/// that made its call. A new INVITE with the same Call-ID, From tag and CSeq
/// but another branch is the same request reaching us by two paths (a forking
/// proxy): it gets 482 instead of making a second call.
#[derive(Debug, Default)]
pub(super) struct InviteTable(Mutex<HashMap<InviteId, TransactionKey>>);

impl InviteTable {
    /// Whether `id` belongs to a call made by another transaction than `key`.
    fn is_merged(&self, id: &InviteId, key: &TransactionKey) -> bool {
        // A poisoned lock only means a panic elsewhere while holding it: the map is intact.
        let table = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        table.get(id).is_some_and(|made_by| made_by != key)
    }

    fn insert(self: &Arc<Self>, id: InviteId, key: TransactionKey) -> MergeGuard {
        let mut table = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        table.insert(id.clone(), key);
        MergeGuard {
            table: self.clone(),
            id,
        }
    }
}

/// Held by a call's task: its INVITE leaves the [`InviteTable`] when the call ends.
#[derive(Debug)]
pub(super) struct MergeGuard {
    table: Arc<InviteTable>,
    id: InviteId,
}

impl Drop for MergeGuard {
    fn drop(&mut self) {
        let mut table = self.table.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        table.remove(&self.id);
    }
}

/// The Call-ID, From tag and CSeq number of a request, when it has all three.
fn invite_id(request: &rsipstack::sip::Request) -> Option<InviteId> {
    let call_id = request.call_id_header().ok()?.value().to_string();
    let from_tag = request.from_header().ok()?.tag().ok().flatten()?.to_string();
    let cseq = request.cseq_header().ok()?.seq().ok()?;
    Some((call_id, from_tag, cseq))
}

impl Dispatcher {
    async fn run(self, mut incoming: TransactionReceiver) {
        loop {
            let tx = tokio::select! {
                tx = incoming.recv() => match tx {
                    Some(tx) => tx,
                    None => break,
                },
                () = self.cancel.cancelled() => break,
            };
            self.dispatch(tx);
        }
        debug!("SIP dispatcher stopped");
    }

    fn dispatch(&self, mut tx: Transaction) {
        let in_dialog = tx
            .original
            .to_header()
            .ok()
            .and_then(|to| to.tag().ok().flatten())
            .is_some();
        let method = tx.original.method;
        if in_dialog {
            match self.dialogs.match_dialog(&tx) {
                Some(mut dialog) => {
                    tokio::spawn(async move {
                        if method == Method::Invite && !ack_seen(&dialog).await {
                            // RFC 3261 §14.2: the first INVITE is not done yet.
                            let retry = Header::RetryAfter(rand::random_range(0..=10u32).to_string().into());
                            reply_in_task(tx, StatusCode::ServerInternalError, vec![retry]);
                            return;
                        }
                        if let Err(error) = dialog.handle(&mut tx).await {
                            debug!(%error, %method, "in-dialog request ended with an error");
                        }
                    });
                }
                None if method == Method::Ack => {}
                None => reply_in_task(tx, StatusCode::CallTransactionDoesNotExist, vec![]),
            }
            return;
        }
        match method {
            Method::Invite
                if invite_id(&tx.original).is_some_and(|id| self.invites.is_merged(&id, &tx.key)) =>
            {
                debug!("merged INVITE (same Call-ID, From tag and CSeq, another branch): 482");
                reply_in_task(tx, StatusCode::LoopDetected, vec![]);
            }
            Method::Invite => match self.admission() {
                Admission::Accept => self.new_call(tx),
                refusal => {
                    debug!(?refusal, "INVITE refused with 503");
                    crate::ops::metrics::invite_refused(refusal.reason());
                    reply_in_task(tx, StatusCode::ServiceUnavailable, self.retry_after());
                }
            },
            // Not ready (draining, database or an engine down): a dispatcher
            // probing us with OPTIONS takes this node out of its set.
            Method::Options if self.draining.load(Ordering::Relaxed) || !self.settings.readiness.is_ready() => {
                reply_in_task(tx, StatusCode::ServiceUnavailable, self.retry_after())
            }
            Method::Options => reply_in_task(tx, StatusCode::OK, capability_headers()),
            Method::Ack => {}
            // Requests that only make sense inside a dialog we do not have.
            Method::Bye
            | Method::Cancel
            | Method::Info
            | Method::Notify
            | Method::Refer
            | Method::PRack
            | Method::Update => reply_in_task(tx, StatusCode::CallTransactionDoesNotExist, vec![]),
            // Methods we know but do not implement: 405 with Allow (RFC 3261 §8.2.1).
            Method::Register | Method::Subscribe | Method::Publish | Method::Message => {
                reply_in_task(tx, StatusCode::MethodNotAllowed, capability_headers())
            }
        }
    }

    /// Whether a new INVITE may become a call. Only this loop spawns call
    /// tasks, so the count it reads cannot grow before the spawn.
    fn admission(&self) -> Admission {
        if self.draining.load(Ordering::Relaxed) {
            Admission::Draining
        } else if self.tasks.len() >= self.settings.max_calls {
            Admission::Overloaded
        } else {
            Admission::Accept
        }
    }

    /// The `Retry-After` header of our 503s.
    fn retry_after(&self) -> Vec<Header> {
        vec![Header::RetryAfter(self.settings.retry_after_secs.to_string().into())]
    }

    fn new_call(&self, mut tx: Transaction) {
        let call_id = tx
            .original
            .call_id_header()
            .map(|c| c.value().to_string())
            .unwrap_or_default();
        let over_tcp = tx
            .connection
            .as_ref()
            .is_some_and(|c| !matches!(c.transport(), rsipstack::sip::Transport::Udp));
        let contact = self.contact(over_tcp);
        let (states_tx, states_rx) = self.dialogs.new_dialog_state_channel();
        let dialog = match self
            .dialogs
            .get_or_create_server_invite(&tx, states_tx, None, Some(contact))
        {
            Ok(dialog) => dialog,
            Err(error) => {
                warn!(%error, call_id, "cannot create a dialog for the INVITE");
                reply_in_task(tx, StatusCode::ServerInternalError, vec![]);
                return;
            }
        };
        let dialled = tx.original.uri.user().map(str::to_string);
        let caller = tx
            .original
            .from_header()
            .ok()
            .and_then(|from| from.uri().ok())
            .and_then(|uri| uri.user().map(str::to_string));
        let remote = tx
            .connection
            .as_ref()
            .and_then(|c| c.get_remote_addr())
            .and_then(|a| a.get_socketaddr().ok());
        let offer = (!tx.original.body.is_empty()).then(|| String::from_utf8_lossy(&tx.original.body).into_owned());
        let merge = invite_id(&tx.original).map(|id| self.invites.insert(id, tx.key.clone()));
        let invite_tu = tx.tu_sender.clone();

        // The INVITE server transaction runs in its own task: it sends 100 Trying,
        // carries our responses, and reports the ACK or CANCEL to the dialog.
        let mut invite_dialog = Dialog::Invite(dialog.clone());
        tokio::spawn(async move {
            if let Err(error) = invite_dialog.handle(&mut tx).await {
                debug!(%error, "INVITE transaction ended with an error");
            }
        });

        let (handle, task) = CallTask::new(
            call_id.clone(),
            dialog,
            states_rx,
            self.dialogs.clone(),
            self.settings.ack_timeout,
            self.cancel.child_token(),
            InviteTransaction { tu: invite_tu, merge },
        );
        self.tasks.spawn(task.run());
        let incoming = IncomingCall {
            call_id: call_id.clone(),
            dialled,
            caller,
            remote,
            offer,
            call: handle,
        };
        if let Err(error) = self.calls.try_send(incoming) {
            warn!(call_id, "runtime not taking calls: rejecting the INVITE");
            let incoming = match error {
                mpsc::error::TrySendError::Full(incoming) | mpsc::error::TrySendError::Closed(incoming) => incoming,
            };
            // The call task answers 503 and frees the dialog.
            let _ = incoming.call.reject(Rejection::ServiceUnavailable);
        }
    }

    /// Our Contact: the address the caller should send in-dialog requests to,
    /// over the transport the INVITE came on.
    fn contact(&self, over_tcp: bool) -> rsipstack::sip::Uri {
        let (mut addr, params) = match (over_tcp, self.tcp_addr) {
            (true, Some(tcp)) => (
                tcp,
                vec![rsipstack::sip::Param::Transport(rsipstack::sip::Transport::Tcp)],
            ),
            _ => (self.udp_addr, vec![]),
        };
        if let Some(ip) = self.settings.public_ip {
            addr.set_ip(ip);
        }
        rsipstack::sip::Uri {
            scheme: Some(rsipstack::sip::Scheme::Sip),
            auth: Some(rsipstack::sip::Auth {
                user: "attendant".to_string(),
                password: None,
            }),
            host_with_port: SipAddr::from(addr).addr,
            params,
            ..Default::default()
        }
    }
}

/// What the dispatcher does with a new INVITE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Admission {
    Accept,
    /// `max_calls` calls are held already.
    Overloaded,
    /// The endpoint stopped accepting calls (graceful drain).
    Draining,
}

impl Admission {
    /// The metrics label of a refusal.
    fn reason(&self) -> &'static str {
        match self {
            Admission::Accept => "accepted",
            Admission::Overloaded => "overload",
            Admission::Draining => "draining",
        }
    }
}

/// Longest wait for the ACK of our 200 OK when a re-INVITE overtakes it.
const REINVITE_ACK_WAIT: std::time::Duration = std::time::Duration::from_millis(500);

/// Whether the dialog has seen the ACK of its INVITE, waiting briefly for it.
///
/// A caller may send its re-INVITE right behind its ACK; rsipstack hands the
/// ACK to the INVITE transaction's task, so the dialog may still be waiting
/// for it when the re-INVITE is dispatched, and rsipstack would then treat the
/// re-INVITE as the initial INVITE and never answer it. The ACK is already
/// on its way in that case: a few milliseconds settle it.
async fn ack_seen(dialog: &Dialog) -> bool {
    let deadline = tokio::time::Instant::now() + REINVITE_ACK_WAIT;
    loop {
        match dialog.state() {
            rsipstack::dialog::dialog::DialogState::WaitAck(..) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            }
            rsipstack::dialog::dialog::DialogState::WaitAck(..) => return false,
            _ => return true,
        }
    }
}

/// `Allow` and `Accept` headers, for OPTIONS and 405 answers.
pub(super) fn capability_headers() -> Vec<Header> {
    vec![
        Header::Allow(ALLOWED_METHODS.into()),
        Header::Accept(ACCEPTED_BODIES.into()),
    ]
}

fn reply_in_task(mut tx: Transaction, status: StatusCode, headers: Vec<Header>) {
    tokio::spawn(async move {
        if let Err(error) = tx.reply_with(status, headers, None).await {
            debug!(%error, "could not answer a request");
        }
    });
}
