//! One task per call: it owns the rsipstack dialog, answers in-dialog requests,
//! and turns everything into [`SipEvent`]s; [`SipCall`] is the runtime's handle.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use rsipstack::dialog::dialog::{DialogState, DialogStateReceiver, TerminatedReason, TransactionHandle};
use rsipstack::dialog::dialog_layer::DialogLayer;
use rsipstack::dialog::invite_dialog::InviteDialog;
use rsipstack::sip::prelude::HeadersExt;
use rsipstack::sip::{Header, Request, StatusCode};
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
    Reject(Rejection),
    Refer {
        refer_to: String,
        referred_by: Option<String>,
    },
    Hangup,
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
        self.send(Command::Reject(rejection))
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
        self.send(Command::Hangup)
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
    /// Our SDP, repeated in answers to session refreshes (re-INVITE / UPDATE).
    local_sdp: Option<String>,
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
    ) -> (SipCall, CallTask) {
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
            local_sdp: None,
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
                    self.emit(SipEvent::Answered);
                }
                // rsipstack re-announces Confirmed once an in-dialog request has
                // been answered on the wire: the moment to report what it said.
                Phase::Confirmed => {
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
            // Session refresh (re-INVITE or UPDATE): keep the session as negotiated.
            DialogState::Updated(_, request, handle) => {
                match (&self.local_sdp, request.body.is_empty()) {
                    (Some(sdp), false) => {
                        respond(handle, StatusCode::OK, sdp_headers(), Some(sdp.clone().into_bytes()))
                    }
                    _ => respond(handle, StatusCode::OK, vec![], None),
                }
                self.awaiting_response.push_back(None);
            }
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
                match self.dialog.accept(Some(sdp_headers()), Some(sdp.clone().into_bytes())) {
                    Ok(()) => {
                        self.local_sdp = Some(sdp);
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
            (Command::Reject(rejection), Phase::Offered) => {
                // The Terminated(UasDecline) state that follows ends the loop.
                if let Err(error) = self.dialog.reject(Some(rejection.status_code()), None) {
                    warn!(call_id = %self.call_id, %error, "cannot reject the INVITE");
                    return Some(Exit::Event(SipEvent::Ended));
                }
            }
            (Command::Refer { refer_to, referred_by }, Phase::Confirmed) => self.start_refer(refer_to, referred_by),
            (Command::Refer { .. }, _) => {
                // No dialog to transfer in yet: 481 is what a peer would answer.
                self.emit(SipEvent::ReferRefused { status: 481 });
            }
            (Command::Hangup, Phase::Offered) => {
                if let Err(error) = self
                    .dialog
                    .reject(Some(Rejection::TemporarilyUnavailable.status_code()), None)
                {
                    warn!(call_id = %self.call_id, %error, "cannot reject the INVITE");
                    return Some(Exit::Event(SipEvent::Ended));
                }
            }
            (Command::Hangup, Phase::Accepted { .. } | Phase::Confirmed) => {
                self.send_bye().await;
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
        tokio::select! {
            result = self.dialog.bye() => {
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
