//! One task per call: it owns the rsipstack dialog, answers in-dialog requests,
//! and turns everything into [`SipEvent`]s; [`SipCall`] is the runtime's handle.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TerminatedReason, TransactionHandle};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Method, Request, StatusCode};
use rsipstack::transaction::transaction::{TransactionEvent, TransactionEventSender};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tracing::{debug, warn};

use super::message::parse_sipfrag_status;
use super::{Rejection, SipError, SipEvent};
use crate::media::dtmf::info::{InfoDtmfError, parse_info};

/// What the runtime asks of a call.
#[derive(Debug)]
enum Command {
    Ring,
    Accept {
        sdp: String,
    },
    Reject {
        rejection: Rejection,
        warning: Option<String>,
    },
    Refer {
        refer_to: String,
        referred_by: Option<String>,
    },
    Hangup {
        reason: Option<String>,
    },
    AnswerSession {
        sdp: String,
    },
    RefuseSession(SessionRefusal),
}

/// Why an SDP offer (or answer) is refused: the status sent and the `Warning`
/// (RFC 3261 §20.43) that tells the peer's operator why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRefusal {
    /// The status of the answer (normally 488).
    pub rejection: Rejection,
    /// The warn-code: 3xx for SDP problems (e.g. 305 incompatible media format).
    pub warn_code: u16,
    /// What is wrong, in words.
    pub text: String,
}

impl SessionRefusal {
    /// The `Warning` header value: `code agent "text"` (quotes and backslashes
    /// in the text are dropped, so the quoted string stays well formed).
    pub fn warning(&self) -> String {
        let text: String = self.text.chars().filter(|c| !matches!(c, '"' | '\\' | '\r' | '\n')).collect();
        format!("{} attendant \"{text}\"", self.warn_code)
    }
}

/// The runtime's handle on one call: typed commands in, [`SipEvent`]s out.
///
/// Commands never block: they are queued to the call's task, which reports their
/// outcome as events. Dropping the handle ends the call (BYE if answered, 480
/// if not).
#[derive(Debug)]
pub struct SipCall {
    call_id: String,
    commands: mpsc::UnboundedSender<Command>,
    events: mpsc::UnboundedReceiver<SipEvent>,
}

impl SipCall {
    /// Call-ID of the dialog.
    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    /// Send 180 Ringing.
    pub fn ring(&self) -> Result<(), SipError> {
        self.send(Command::Ring)
    }

    /// Answer 200 OK with this SDP answer; [`SipEvent::Answered`] follows the ACK,
    /// [`SipEvent::AckTimeout`] its absence.
    pub fn accept(&self, sdp_answer: String) -> Result<(), SipError> {
        self.send(Command::Accept { sdp: sdp_answer })
    }

    /// Refuse the INVITE with this status. Ignored once the call is answered.
    pub fn reject(&self, rejection: Rejection) -> Result<(), SipError> {
        self.send(Command::Reject { rejection, warning: None })
    }

    /// Refuse the INVITE because of its SDP, with a `Warning` saying why.
    pub fn reject_session(&self, refusal: SessionRefusal) -> Result<(), SipError> {
        self.send(Command::Reject {
            rejection: refusal.rejection,
            warning: Some(refusal.warning()),
        })
    }

    /// Answer the pending [`SipEvent::SessionOffer`] with 200 OK and this SDP
    /// (our answer, or our offer when the request had none).
    pub fn answer_session(&self, sdp: String) -> Result<(), SipError> {
        self.send(Command::AnswerSession { sdp })
    }

    /// Refuse the pending [`SipEvent::SessionOffer`]; the session stays as it was
    /// (RFC 3261 §14.2).
    pub fn refuse_session(&self, refusal: SessionRefusal) -> Result<(), SipError> {
        self.send(Command::RefuseSession(refusal))
    }

    /// Blind transfer (RFC 3515): REFER with `Refer-To: <refer_to>` and, if given,
    /// `Referred-By: <referred_by>`. The outcome arrives as
    /// [`SipEvent::ReferAccepted`] / [`SipEvent::ReferRefused`], then
    /// [`SipEvent::TransferProgress`] for each NOTIFY.
    pub fn refer(&self, refer_to: String, referred_by: Option<String>) -> Result<(), SipError> {
        self.send(Command::Refer { refer_to, referred_by })
    }

    /// End the call: BYE if answered, 480 if not.
    pub fn hangup(&self) -> Result<(), SipError> {
        self.send(Command::Hangup { reason: None })
    }

    /// End the call with a BYE carrying this `Reason` header value (RFC 3326),
    /// e.g. `SIP;cause=488;text="no G.711 in the answer"`; 480 if not answered.
    pub fn hangup_with_reason(&self, reason: String) -> Result<(), SipError> {
        self.send(Command::Hangup { reason: Some(reason) })
    }

    /// The next event; `None` once the call's task has ended and all events were
    /// read. Cancel-safe: can be used in `select!`.
    pub async fn next_event(&mut self) -> Option<SipEvent> {
        self.events.recv().await
    }

    fn send(&self, command: Command) -> Result<(), SipError> {
        self.commands.send(command).map_err(|_| SipError::CallGone {
            call_id: self.call_id.clone(),
        })
    }
}

/// Where the INVITE stands, as far as this task knows. Tracked here because
/// rsipstack's dialog calls answer `Ok(())` even when they did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    /// 100 Trying (or 180) sent, no final answer yet.
    Offered,
    /// 200 OK sent, waiting for the ACK until the deadline.
    Accepted { ack_deadline: Instant },
    /// ACK received.
    Confirmed,
}

/// Why the task loop stopped.
enum Exit {
    /// Report this terminal event.
    Event(SipEvent),
    /// The handle is gone or the server is stopping: end the call quietly.
    Abandoned,
}

/// What the call task keeps of the INVITE transaction that made its call.
pub(super) struct InviteTransaction {
    /// The transaction's queue (for a rejection carrying a `Warning`).
    pub(super) tu: TransactionEventSender,
    /// The INVITE's place in the merged-request table, for the call's life.
    pub(super) merge: Option<super::endpoint::MergeGuard>,
}

/// The task owning one call's dialog.
pub(super) struct CallTask {
    call_id: String,
    dialog: InviteDialog,
    states: DialogStateReceiver,
    commands: mpsc::UnboundedReceiver<Command>,
    events: mpsc::UnboundedSender<SipEvent>,
    refer_results: mpsc::UnboundedReceiver<SipEvent>,
    refer_results_tx: mpsc::UnboundedSender<SipEvent>,
    dialogs: Arc<DialogLayer>,
    ack_timeout: Duration,
    cancel: CancellationToken,
    phase: Phase,
    /// The INVITE transaction's queue, for a rejection carrying headers
    /// rsipstack's `reject` cannot add (`Warning`).
    invite_tu: TransactionEventSender,
    /// The INVITE had no SDP: our 200 OK carries the offer, the ACK the answer.
    offer_in_200: bool,
    /// A re-INVITE or UPDATE with an offer, reported and waiting for the
    /// runtime's answer; whether it is an INVITE.
    pending_session: Option<(TransactionHandle, bool)>,
    /// CSeq of a re-INVITE we answered with an offer: its ACK carries the answer.
    answer_in_ack: Option<u32>,
    /// Kept for the life of the call: removes its INVITE from the merged-request
    /// table when dropped.
    _merge: Option<super::endpoint::MergeGuard>,
    /// In-dialog requests answered but not yet confirmed sent, oldest first, with
    /// the event each carried. rsipstack re-sends `Confirmed` once a response is
    /// on the wire; reporting then keeps e.g. our BYE (the runtime's reaction to
    /// a NOTIFY) from overtaking the NOTIFY's 200.
    awaiting_response: VecDeque<Option<SipEvent>>,
}

impl CallTask {
    pub(super) fn new(
        call_id: String,
        dialog: InviteDialog,
        states: DialogStateReceiver,
        dialogs: Arc<DialogLayer>,
        ack_timeout: Duration,
        cancel: CancellationToken,
        invite: InviteTransaction,
    ) -> (SipCall, CallTask) {
        let InviteTransaction { tu: invite_tu, merge } = invite;
        let (commands_tx, commands) = mpsc::unbounded_channel();
        let (events, events_rx) = mpsc::unbounded_channel();
        let (refer_results_tx, refer_results) = mpsc::unbounded_channel();
        let handle = SipCall {
            call_id: call_id.clone(),
            commands: commands_tx,
            events: events_rx,
        };
        let task = CallTask {
            call_id,
            dialog,
            states,
            commands,
            events,
            refer_results,
            refer_results_tx,
            dialogs,
            ack_timeout,
            cancel,
            phase: Phase::Offered,
            invite_tu,
            offer_in_200: false,
            pending_session: None,
            answer_in_ack: None,
            _merge: merge,
            awaiting_response: VecDeque::new(),
        };
        (handle, task)
    }

    pub(super) async fn run(mut self) {
        let exit = self.event_loop().await;
        // What answered requests said is still true: report it before the end.
        for event in std::mem::take(&mut self.awaiting_response).into_iter().flatten() {
            self.emit(event);
        }
        match exit {
            Exit::Event(event) => self.emit(event),
            Exit::Abandoned => self.abandon().await,
        }
        // Whatever happened, the dialog leaves the layer (this also cancels the
        // dialog's token, stopping anything rsipstack still runs for it).
        self.dialogs.remove_dialog(&self.dialog.id());
        debug!(call_id = %self.call_id, "SIP call task ended");
    }

    async fn event_loop(&mut self) -> Exit {
        loop {
            let ack_deadline = match self.phase {
                Phase::Accepted { ack_deadline } => Some(ack_deadline),
                _ => None,
            };
            let ack_timer = async move {
                match ack_deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                state = self.states.recv() => match state {
                    Some(state) => {
                        if let Some(exit) = self.on_state(state) {
                            return exit;
                        }
                    }
                    // rsipstack dropped the dialog's sender: nothing more will happen.
                    None => return Exit::Event(SipEvent::Ended),
                },
                command = self.commands.recv() => match command {
                    Some(command) => {
                        if let Some(exit) = self.on_command(command).await {
                            return exit;
                        }
                    }
                    None => return Exit::Abandoned,
                },
                Some(result) = self.refer_results.recv() => self.emit(result),
                () = ack_timer => {
                    warn!(call_id = %self.call_id, "no ACK for our 200 OK: hanging up");
                    self.send_bye().await;
                    return Exit::Event(SipEvent::AckTimeout);
                }
                () = self.cancel.cancelled() => return Exit::Abandoned,
            }
        }
    }

    fn emit(&self, event: SipEvent) {
        // A closed receiver means the runtime dropped the handle; the command
        // side notices that and ends the call, so the event can be dropped.
        let _ = self.events.send(event);
    }

    fn on_state(&mut self, state: DialogState) -> Option<Exit> {
        match state {
            DialogState::Confirmed(..) => match self.phase {
                // The first Confirmed is the ACK.
                Phase::Accepted { .. } => {
                    self.phase = Phase::Confirmed;
                    if self.offer_in_200 {
                        self.emit(SipEvent::SessionAnswer {
                            answer: self.ack_body(),
                        });
                    }
                    self.emit(SipEvent::Answered);
                }
                // rsipstack re-announces Confirmed once an in-dialog request has
                // been answered on the wire: the moment to report what it said.
                Phase::Confirmed => {
                    if let Some(cseq) = self.answer_in_ack
                        && self.ack_cseq() == Some(cseq)
                    {
                        self.answer_in_ack = None;
                        self.emit(SipEvent::SessionAnswer {
                            answer: self.ack_body(),
                        });
                    }
                    if let Some(Some(event)) = self.awaiting_response.pop_front() {
                        self.emit(event);
                    }
                }
                Phase::Offered => {}
            },
            DialogState::Info(_, request, handle) => {
                let event = self.on_info(&request, handle);
                self.awaiting_response.push_back(event);
            }
            DialogState::Notify(_, request, handle) => {
                let event = self.on_notify(&request, handle);
                self.awaiting_response.push_back(event);
            }
            DialogState::Options(_, _, handle) => {
                respond(handle, StatusCode::OK, super::endpoint::capability_headers(), None)
            }
            // We do not follow transfers asked of us.
            DialogState::Refer(_, _, handle) => {
                respond(handle, StatusCode::Decline, vec![], None);
                self.awaiting_response.push_back(None);
            }
            DialogState::Message(_, _, handle) => {
                respond(
                    handle,
                    StatusCode::MethodNotAllowed,
                    super::endpoint::capability_headers(),
                    None,
                );
                self.awaiting_response.push_back(None);
            }
            // Not sent within an INVITE dialog; answered for completeness.
            DialogState::Publish(_, _, handle) => respond(
                handle,
                StatusCode::MethodNotAllowed,
                super::endpoint::capability_headers(),
                None,
            ),
            // re-INVITE or UPDATE: the runtime answers offers (hold, resume,
            // new address); an UPDATE without SDP only refreshes the session.
            DialogState::Updated(_, request, handle) => self.on_session_request(&request, handle),
            DialogState::Terminated(_, reason) => {
                let event = match reason {
                    TerminatedReason::UacCancel => SipEvent::Cancelled,
                    TerminatedReason::UacBye => SipEvent::RemoteHangup,
                    TerminatedReason::UasBye | TerminatedReason::UasDecline => SipEvent::LocalHangup,
                    TerminatedReason::Timeout => SipEvent::AckTimeout,
                    other => {
                        debug!(call_id = %self.call_id, reason = ?other, "dialog terminated");
                        SipEvent::Ended
                    }
                };
                return Some(Exit::Event(event));
            }
            DialogState::Calling(_) | DialogState::Trying(_) | DialogState::Early(..) | DialogState::WaitAck(..) => {}
        }
        None
    }

    /// A re-INVITE or UPDATE: reported to the runtime, which answers it.
    fn on_session_request(&mut self, request: &Request, handle: TransactionHandle) {
        let is_invite = request.method == Method::Invite;
        if self.pending_session.is_some() {
            // RFC 3261 §14.2, RFC 3311 §5.2: one offer at a time.
            let retry = Header::RetryAfter(rand::random_range(0..=10u32).to_string().into());
            respond(handle, StatusCode::ServerInternalError, vec![retry], None);
            if !is_invite {
                self.awaiting_response.push_back(None);
            }
            return;
        }
        let offer = (!request.body.is_empty()).then(|| String::from_utf8_lossy(&request.body).into_owned());
        if offer.is_none() && !is_invite {
            // A session refresh (RFC 4028) without SDP changes nothing.
            respond(handle, StatusCode::OK, super::endpoint::capability_headers(), None);
            self.awaiting_response.push_back(None);
            return;
        }
        if offer.is_none() {
            self.answer_in_ack = request.cseq_header().ok().and_then(|c| c.seq().ok());
        }
        self.pending_session = Some((handle, is_invite));
        self.emit(SipEvent::SessionOffer { offer });
    }

    /// Body of the last ACK received, if any.
    fn ack_body(&self) -> Option<String> {
        self.dialog
            .last_remote_ack()
            .filter(|ack| !ack.body.is_empty())
            .map(|ack| String::from_utf8_lossy(&ack.body).into_owned())
    }

    fn ack_cseq(&self) -> Option<u32> {
        self.dialog.last_remote_ack()?.cseq_header().ok()?.seq().ok()
    }

    /// Refuse the INVITE; with a `Warning`, our own response goes to the INVITE
    /// transaction first (rsipstack's `reject` only adds `Reason`), and the
    /// dialog's rejection that follows only ends the dialog: the transaction
    /// refuses a second final response.
    fn reject(&self, rejection: Rejection, warning: Option<String>) -> Result<(), Box<rsipstack::Error>> {
        if let Some(warning) = warning {
            let mut request = self.dialog.initial_request();
            let local_tag = self.dialog.id().local_tag;
            if let Ok(to) = request.to_header() {
                let tagged = to.with_tag(local_tag.into());
                request.headers.unique_push(tagged.into());
            }
            let mut response = self
                .dialogs
                .endpoint
                .make_response(&request, rejection.status_code(), None);
            response.headers.push(Header::Warning(warning.into()));
            if self.invite_tu.send(TransactionEvent::Respond(response)).is_err() {
                debug!(call_id = %self.call_id, "INVITE transaction gone before its rejection");
            }
        }
        self.dialog.reject(Some(rejection.status_code()), None).map_err(Box::new)
    }

    /// Answers an INFO; the digit it carried, reported once the answer is sent.
    fn on_info(&self, request: &Request, handle: TransactionHandle) -> Option<SipEvent> {
        let content_type = request.header_value("Content-Type").unwrap_or_default();
        let body = String::from_utf8_lossy(&request.body);
        let (status, headers, event) = match parse_info(&content_type, &body) {
            Ok(digit) => (StatusCode::OK, vec![], Some(SipEvent::Digit(digit))),
            // An empty INFO is a keep-alive probe (RFC 6086 §4.2).
            Err(_) if content_type.is_empty() && body.trim().is_empty() => (StatusCode::OK, vec![], None),
            Err(InfoDtmfError::UnsupportedContentType { .. }) => (
                StatusCode::UnsupportedMediaType,
                super::endpoint::capability_headers(),
                None,
            ),
            Err(error) => {
                debug!(call_id = %self.call_id, %error, "INFO without a usable digit");
                (StatusCode::BadRequest, vec![], None)
            }
        };
        respond(handle, status, headers, None);
        event
    }

    /// Answers a NOTIFY; the transfer progress it carried, reported once the
    /// answer is sent.
    fn on_notify(&self, request: &Request, handle: TransactionHandle) -> Option<SipEvent> {
        let event = request.header_value("Event").unwrap_or_default();
        let event_package = event.split(';').next().unwrap_or_default().trim();
        if !event_package.eq_ignore_ascii_case("refer") {
            respond(handle, StatusCode::BadEvent, vec![], None);
            return None;
        }
        let subscription_terminated = request
            .header_value("Subscription-State")
            .is_some_and(|state| state.trim().to_ascii_lowercase().starts_with("terminated"));
        match parse_sipfrag_status(&String::from_utf8_lossy(&request.body)) {
            Some(status) => {
                respond(handle, StatusCode::OK, vec![], None);
                Some(SipEvent::TransferProgress {
                    status,
                    subscription_terminated,
                })
            }
            None => {
                respond(handle, StatusCode::BadRequest, vec![], None);
                None
            }
        }
    }

    async fn on_command(&mut self, command: Command) -> Option<Exit> {
        match (command, self.phase) {
            (Command::Ring, Phase::Offered) => {
                if let Err(error) = self.dialog.ringing(None, None) {
                    warn!(call_id = %self.call_id, %error, "cannot send 180");
                }
            }
            (Command::Accept { sdp }, Phase::Offered) => {
                let mut headers = sdp_headers();
                headers.extend(answer_headers());
                self.offer_in_200 = self.dialog.initial_request().body.is_empty();
                match self.dialog.accept(Some(headers), Some(sdp.into_bytes())) {
                    Ok(()) => {
                        self.phase = Phase::Accepted {
                            ack_deadline: Instant::now() + self.ack_timeout,
                        };
                    }
                    Err(error) => {
                        warn!(call_id = %self.call_id, %error, "cannot send 200 OK");
                        return Some(Exit::Event(SipEvent::Ended));
                    }
                }
            }
            (Command::Reject { rejection, warning }, Phase::Offered) => {
                // The Terminated(UasDecline) state that follows ends the loop.
                if let Err(error) = self.reject(rejection, warning) {
                    warn!(call_id = %self.call_id, %error, "cannot reject the INVITE");
                    return Some(Exit::Event(SipEvent::Ended));
                }
            }
            (Command::Refer { refer_to, referred_by }, Phase::Confirmed) => self.start_refer(refer_to, referred_by),
            (Command::Refer { .. }, _) => {
                // No dialog to transfer in yet: 481 is what a peer would answer.
                self.emit(SipEvent::ReferRefused { status: 481 });
            }
            (Command::AnswerSession { sdp }, Phase::Confirmed) => match self.pending_session.take() {
                Some((handle, _)) => {
                    let mut headers = sdp_headers();
                    headers.extend(answer_headers());
                    respond(handle, StatusCode::OK, headers, Some(sdp.into_bytes()));
                    // rsipstack re-announces Confirmed after an UPDATE's answer,
                    // and after a re-INVITE's ACK.
                    self.awaiting_response.push_back(None);
                }
                None => debug!(call_id = %self.call_id, "no session offer to answer"),
            },
            (Command::RefuseSession(refusal), Phase::Confirmed) => match self.pending_session.take() {
                Some((handle, is_invite)) => {
                    let headers = vec![Header::Warning(refusal.warning().into())];
                    respond(handle, refusal.rejection.status_code(), headers, None);
                    // A refused re-INVITE's ACK stays in its transaction: no
                    // Confirmed follows it; a refused UPDATE gets one.
                    if !is_invite {
                        self.awaiting_response.push_back(None);
                    }
                    self.answer_in_ack = None;
                }
                None => debug!(call_id = %self.call_id, "no session offer to refuse"),
            },
            (Command::Hangup { .. }, Phase::Offered) => {
                if let Err(error) = self
                    .dialog
                    .reject(Some(Rejection::TemporarilyUnavailable.status_code()), None)
                {
                    warn!(call_id = %self.call_id, %error, "cannot reject the INVITE");
                    return Some(Exit::Event(SipEvent::Ended));
                }
            }
            (Command::Hangup { reason }, Phase::Accepted { .. } | Phase::Confirmed) => {
                self.send_bye_with(reason).await;
                return Some(Exit::Event(SipEvent::LocalHangup));
            }
            (command, phase) => {
                debug!(call_id = %self.call_id, ?command, ?phase, "command makes no sense in this phase: ignored");
            }
        }
        None
    }

    /// The REFER transaction runs in its own task so that NOTIFYs, BYE and
    /// commands are still handled while it waits for its answer.
    fn start_refer(&self, refer_to: String, referred_by: Option<String>) {
        let dialog = self.dialog.clone();
        let results = self.refer_results_tx.clone();
        let call_id = self.call_id.clone();
        tokio::spawn(async move {
            let headers = referred_by.map(|by| vec![Header::ReferredBy(name_addr(&by).into())]);
            let refer_to = rsipstack::sip::headers::ReferTo::new(name_addr(&refer_to));
            let event = match dialog.refer(refer_to, headers, None).await {
                Ok(Some(response)) => {
                    let status = u16::from(response.status_code);
                    if (200..300).contains(&status) {
                        SipEvent::ReferAccepted { status }
                    } else {
                        SipEvent::ReferRefused { status }
                    }
                }
                // rsipstack sends nothing when the dialog is not confirmed.
                Ok(None) => SipEvent::ReferRefused { status: 481 },
                Err(error) => {
                    warn!(%call_id, %error, "REFER got no answer");
                    SipEvent::ReferRefused { status: 408 }
                }
            };
            let _ = results.send(event);
        });
    }

    /// Send BYE and wait for its answer (up to Timer F, 32 s, from a silent
    /// peer), unless the endpoint is stopped meanwhile: then nothing can answer.
    async fn send_bye(&self) {
        self.send_bye_with(None).await
    }

    /// [`CallTask::send_bye`] with a `Reason` header when given.
    async fn send_bye_with(&self, reason: Option<String>) {
        let headers = reason.map(|reason| vec![Header::Reason(reason.into())]);
        tokio::select! {
            result = self.dialog.bye_with_headers(headers) => {
                if let Err(error) = result {
                    debug!(call_id = %self.call_id, %error, "BYE did not complete");
                }
            }
            () = self.cancel.cancelled() => {
                debug!(call_id = %self.call_id, "endpoint stopped before the BYE was answered");
            }
        }
    }

    /// The runtime let go of the call: release the dialog the polite way.
    async fn abandon(&mut self) {
        match self.phase {
            Phase::Offered => {
                let _ = self
                    .dialog
                    .reject(Some(Rejection::TemporarilyUnavailable.status_code()), None);
            }
            Phase::Accepted { .. } | Phase::Confirmed => self.send_bye().await,
        }
    }
}

/// A URI as a header value in name-addr form (`<sip:...>`), so that its own
/// parameters stay with it; a value already in brackets is kept as is.
fn name_addr(uri: &str) -> String {
    let uri = uri.trim();
    if uri.starts_with('<') || uri.contains(" <") {
        uri.to_string()
    } else {
        format!("<{uri}>")
    }
}

fn sdp_headers() -> Vec<Header> {
    vec![Header::ContentType("application/sdp".into())]
}

/// `Allow` and `Supported` in our 200 OKs to INVITE, re-INVITE and UPDATE
/// (RFC 3261 §13.3.1.4 says a 2xx to INVITE should carry them).
fn answer_headers() -> Vec<Header> {
    vec![
        Header::Allow(super::ALLOWED_METHODS.into()),
        Header::Supported(super::SUPPORTED_OPTIONS.into()),
    ]
}

/// Answer an in-dialog request from its own task: rsipstack's handle waits on a
/// bounded channel, and this task must stay free to read the next state.
fn respond(handle: TransactionHandle, status: StatusCode, headers: Vec<Header>, body: Option<Vec<u8>>) {
    tokio::spawn(async move {
        let headers = (!headers.is_empty()).then_some(headers);
        if handle.respond(status, headers, body).await.is_err() {
            debug!("in-dialog request was gone before we answered it");
        }
    });
}

#[cfg(test)]
mod tests {
    //! Header values we build for REFER.
    use super::name_addr;

    #[test]
    fn uris_become_name_addr_once() {
        let cases = [
            ("sip:201@pbx.example", "<sip:201@pbx.example>"),
            (
                " sip:201@pbx.example;transport=tcp ",
                "<sip:201@pbx.example;transport=tcp>",
            ),
            ("<sip:201@pbx.example>", "<sip:201@pbx.example>"),
            ("\"Bakery\" <sip:201@pbx.example>", "\"Bakery\" <sip:201@pbx.example>"),
        ];
        for (uri, expected) in cases {
            assert_eq!(name_addr(uri), expected, "{uri}");
        }
    }
}
