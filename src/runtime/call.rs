//! The task that owns one call: SIP dialog handle, media session, flow, timer
//! and cancellation token, in one `select!` loop that only translates.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

use super::CallContext;
use crate::directory::Directory;
use crate::directory::prompts::resolve_prompt;
use crate::flow::{Action, Call, FlowSettings, Input, Output, Prompt};
use crate::media::prompt::PromptAudio;
use crate::media::sdp::{answer_sdp, negotiate};
use crate::media::session::{MediaEvent, MediaSession, RtpSocket};
use crate::sip::{IncomingCall, Rejection, SipCall, SipEvent};

/// Run one call from INVITE to release.
pub(super) async fn run(context: Arc<CallContext>, incoming: IncomingCall, cancel: CancellationToken) {
    let span = info_span!(
        "call",
        call_id = %incoming.call_id,
        store = incoming.dialled.as_deref().unwrap_or("-"),
        caller = %redact(incoming.caller.as_deref()),
    );
    async move {
        info!("INVITE received");
        let IncomingCall {
            offer,
            dialled,
            mut call,
            ..
        } = incoming;
        let setup = match set_up(&context, dialled.as_deref(), offer.as_deref()).await {
            Ok(setup) => setup,
            Err(rejection) => {
                info!(status = rejection.status(), "call refused");
                if call.reject(rejection).is_ok() {
                    // Wait for the rejection to be sent before dropping the handle.
                    while let Some(event) = call.next_event().await {
                        if event.is_terminal() {
                            break;
                        }
                    }
                }
                return;
            }
        };
        let CallSetup {
            directory,
            settings,
            prompts,
            rtp,
            answer,
            negotiated,
        } = setup;
        // Counted until this function returns, after the media shutdown below.
        let _rtp_open = context.rtp_sockets.hold();
        // All recognition slots taken: this call goes on with the keypad only.
        let settings = context.recognitions.settings_for_new_call(settings);
        if !ring(&mut call, context.answer_delay, &cancel).await {
            // Dropping the RTP socket and the SIP handle releases both.
            return;
        }
        let media = rtp.start(&negotiated, &context.media);
        if call.accept(answer).is_err() {
            info!("caller gone before the answer");
            media.shutdown().await;
            return;
        }
        let referred_by = format!("sip:{}@{}", directory.store.number, context.sip_addr);
        let flow = Call::new(now(), Arc::new(directory), settings);
        let mut driver = CallDriver {
            flow,
            call,
            media,
            prompts,
            context,
            referred_by,
            deadline: None,
            sip_ended: false,
        };
        driver.run(cancel).await;
        let CallDriver { call, media, .. } = driver;
        // Dropping the SIP handle ends the dialog if it is still up (BYE), and the
        // media shutdown waits until the RTP port is free again.
        drop(call);
        let stats = media.shutdown().await;
        info!(rtp = ?stats, "call released");
    }
    .instrument(span)
    .await
}

/// Ring for `delay` (nothing when zero). False if the caller hung up meanwhile
/// (CANCEL) or the server is stopping.
async fn ring(call: &mut SipCall, delay: std::time::Duration, cancel: &CancellationToken) -> bool {
    if delay.is_zero() {
        return true;
    }
    if call.ring().is_err() {
        return false;
    }
    let ringing = tokio::time::sleep(delay);
    tokio::pin!(ringing);
    loop {
        tokio::select! {
            () = &mut ringing => return true,
            () = cancel.cancelled() => return false,
            event = call.next_event() => match event {
                Some(event) if event.is_terminal() => {
                    info!(sip = ?event, "caller gone before the answer");
                    return false;
                }
                Some(event) => debug!(sip = ?event, "SIP event while ringing"),
                None => return false,
            },
        }
    }
}

/// Everything a call needs before it is answered.
struct CallSetup {
    directory: Directory,
    settings: FlowSettings,
    prompts: HashMap<Prompt, PromptAudio>,
    rtp: RtpSocket,
    answer: String,
    negotiated: crate::media::sdp::NegotiatedMedia,
}

/// Look up the store, check the offer, load the prompts, reserve an RTP port.
/// Each failure is the SIP rejection it deserves.
async fn set_up(context: &CallContext, dialled: Option<&str>, offer: Option<&str>) -> Result<CallSetup, Rejection> {
    let number = dialled.ok_or(Rejection::NotFound)?;
    let directory = match context.store.load_directory_by_number(number).await {
        Ok(Some(directory)) => directory,
        Ok(None) => return Err(Rejection::NotFound),
        Err(error) => {
            error!(%error, "cannot load the store's directory");
            return Err(Rejection::ServiceUnavailable);
        }
    };
    let negotiated = match offer.map(negotiate) {
        Some(Ok(negotiated)) => negotiated,
        Some(Err(error)) => {
            info!(%error, "unusable SDP offer");
            return Err(Rejection::from_status(error.sip_status()));
        }
        // We do not send offers in 200 OK: an INVITE without SDP is not for us.
        None => return Err(Rejection::NotAcceptableHere),
    };
    let settings = match context.store.store_settings(directory.store.id).await {
        Ok(overrides) => overrides.resolve(&context.flow_defaults).unwrap_or_else(|error| {
            warn!(%error, "store settings unusable: fleet defaults used");
            context.flow_defaults.clone()
        }),
        Err(error) => {
            warn!(%error, "cannot read store settings: fleet defaults used");
            context.flow_defaults.clone()
        }
    };
    let prompts = load_prompts(context, &directory).await?;
    let rtp = RtpSocket::bind(&context.media).map_err(|error| {
        error!(%error, "no RTP port");
        Rejection::ServiceUnavailable
    })?;
    let local_rtp = std::net::SocketAddr::new(context.public_ip, rtp.local_addr().port());
    let answer = answer_sdp(&negotiated, local_rtp, rand::random());
    Ok(CallSetup {
        directory,
        settings,
        prompts,
        rtp,
        answer,
        negotiated,
    })
}

/// Every prompt of the store, read off the blocking pool. A missing or bad
/// file refuses the call (500) rather than leaving the caller in silence.
async fn load_prompts(context: &CallContext, directory: &Directory) -> Result<HashMap<Prompt, PromptAudio>, Rejection> {
    let paths: Vec<_> = Prompt::ALL
        .iter()
        .map(|&prompt| (prompt, resolve_prompt(&context.prompts_dir, &directory.store, prompt)))
        .collect();
    let loaded = tokio::task::spawn_blocking(move || {
        paths
            .into_iter()
            .map(|(prompt, path)| PromptAudio::load(&path).map(|audio| (prompt, audio)))
            .collect::<Result<HashMap<_, _>, _>>()
    })
    .await;
    match loaded {
        Ok(Ok(prompts)) => Ok(prompts),
        Ok(Err(error)) => {
            error!(%error, "cannot load the store's prompts");
            Err(Rejection::ServerError)
        }
        Err(error) => {
            error!(%error, "prompt loading task failed");
            Err(Rejection::ServerError)
        }
    }
}

/// The flow's clock: tokio's, so that paused-time tests drive it too.
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// The caller's number for logs: only its last two digits.
fn redact(number: Option<&str>) -> String {
    match number {
        None => "-".to_string(),
        Some(number) => {
            let keep = number.len().saturating_sub(2);
            let tail: String = number.chars().skip(keep).collect();
            format!("{}{tail}", "*".repeat(number.chars().count().saturating_sub(2)))
        }
    }
}

/// The flow input a SIP event stands for, if any (`None`: logged only).
fn sip_input(event: &SipEvent) -> Option<Input> {
    match *event {
        SipEvent::Answered => Some(Input::Answered),
        SipEvent::Cancelled | SipEvent::RemoteHangup => Some(Input::CallerHungUp),
        // No ACK, or the dialog died: for the flow, the caller is gone.
        SipEvent::AckTimeout | SipEvent::Ended => Some(Input::CallerHungUp),
        // Our own BYE or rejection: the flow asked for it and has ended already.
        SipEvent::LocalHangup => None,
        SipEvent::Digit(digit) => Some(Input::Digit(digit)),
        SipEvent::ReferAccepted { .. } => Some(Input::TransferAccepted),
        SipEvent::ReferRefused { status } => Some(Input::TransferFailed { status }),
        SipEvent::TransferProgress { status, .. } if (200..300).contains(&status) => Some(Input::TransferSucceeded),
        SipEvent::TransferProgress { status, .. } if status >= 300 => Some(Input::TransferFailed { status }),
        // 1xx progress: the transfer target is still being reached.
        SipEvent::TransferProgress { .. } => None,
    }
}

/// The flow input a media event stands for.
fn media_input(event: MediaEvent) -> Input {
    match event {
        MediaEvent::PlaybackFinished => Input::PlaybackFinished,
        MediaEvent::Digit(digit) => Input::Digit(digit),
        MediaEvent::MediaTimeout => Input::MediaLost,
    }
}

/// One answered call's loop state.
struct CallDriver {
    flow: Call,
    call: SipCall,
    media: MediaSession,
    prompts: HashMap<Prompt, PromptAudio>,
    context: Arc<CallContext>,
    referred_by: String,
    /// When the flow wants `Input::Timeout`.
    deadline: Option<Instant>,
    /// The dialog is gone: no more SIP events.
    sip_ended: bool,
}

impl CallDriver {
    async fn run(&mut self, cancel: CancellationToken) {
        self.drain();
        let mut media_ended = false;
        while !self.flow.is_ended() {
            let deadline = self.deadline.map(tokio::time::Instant::from_std);
            let timer = async move {
                match deadline {
                    Some(deadline) => tokio::time::sleep_until(deadline).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                // Timers first: the flow expects a due timeout before other inputs.
                biased;
                () = cancel.cancelled() => {
                    info!("server shutting down: ending the call");
                    return;
                }
                () = timer => self.feed(Input::Timeout),
                event = self.call.next_event(), if !self.sip_ended => match event {
                    Some(event) => {
                        info!(sip = ?event, "SIP event");
                        self.sip_ended = event.is_terminal();
                        if let Some(input) = sip_input(&event) {
                            self.feed(input);
                        }
                    }
                    None => {
                        self.sip_ended = true;
                        self.feed(Input::CallerHungUp);
                    }
                },
                event = self.media.next_event(), if !media_ended => match event {
                    Some(event) => {
                        info!(media = ?event, "media event");
                        self.feed(media_input(event));
                    }
                    None => {
                        warn!("media session ended on its own");
                        media_ended = true;
                        self.feed(Input::MediaLost);
                    }
                },
            }
        }
    }

    fn feed(&mut self, input: Input) {
        self.flow.handle(now(), input);
        self.drain();
    }

    /// Run the flow's outputs until it names its next deadline; inputs that
    /// actions answer at once are fed afterwards, in order.
    fn drain(&mut self) {
        let mut answers = std::collections::VecDeque::new();
        loop {
            match self.flow.poll() {
                Output::Action(action) => {
                    info!(?action, "flow action");
                    answers.extend(self.execute(action));
                }
                Output::Event(event) => info!(flow = ?event, "flow event"),
                Output::Timeout(deadline) => {
                    self.deadline = deadline;
                    match answers.pop_front() {
                        Some(input) => self.flow.handle(now(), input),
                        None => return,
                    }
                }
            }
        }
    }

    /// Carry out one action; returns the input it is answered with at once, if any.
    fn execute(&mut self, action: Action) -> Option<Input> {
        match action {
            Action::Play(prompts) => {
                let mut audio = Vec::with_capacity(prompts.len());
                for prompt in &prompts {
                    match self.prompts.get(prompt) {
                        Some(prompt_audio) => audio.push(prompt_audio.clone()),
                        None => warn!(?prompt, "no audio for this prompt: skipped"),
                    }
                }
                if self.media.play(audio).is_err() {
                    warn!("media session gone: cannot play");
                }
            }
            Action::StopPlayback => {
                if self.media.stop().is_err() {
                    debug!("media session gone: nothing to stop");
                }
            }
            Action::Transfer(target) => {
                let uri = self.context.pbx.target_uri(&target);
                info!(%uri, "REFER");
                if self.call.refer(uri, Some(self.referred_by.clone())).is_err() {
                    // The dialog is gone; its terminal event reaches the flow.
                    debug!("dialog gone: REFER not sent");
                }
            }
            Action::Hangup => {
                if !self.sip_ended && self.call.hangup().is_err() {
                    debug!("dialog already gone");
                }
            }
            // Calls are built without a speech interpreter, so the flow should not
            // ask; if it does, it hears at once that nothing was recognised and
            // goes on with the keypad.
            Action::StartRecognition { grammar } => {
                warn!(?grammar, "no speech recognition in this runtime: answering NoSpeech");
                return Some(Input::NoSpeech);
            }
            Action::StopRecognition => {}
        }
        None
    }
}

#[cfg(test)]
mod tests {
    //! The runtime's translation tables: SIP and media events to flow inputs,
    //! and caller-number redaction.
    use super::*;

    #[test]
    fn sip_events_become_flow_inputs() {
        let cases = [
            (SipEvent::Answered, Some(Input::Answered)),
            (SipEvent::Cancelled, Some(Input::CallerHungUp)),
            (SipEvent::RemoteHangup, Some(Input::CallerHungUp)),
            (SipEvent::AckTimeout, Some(Input::CallerHungUp)),
            (SipEvent::Ended, Some(Input::CallerHungUp)),
            (SipEvent::LocalHangup, None),
            (SipEvent::Digit('7'), Some(Input::Digit('7'))),
            (SipEvent::ReferAccepted { status: 202 }, Some(Input::TransferAccepted)),
            (
                SipEvent::ReferRefused { status: 603 },
                Some(Input::TransferFailed { status: 603 }),
            ),
            (
                SipEvent::TransferProgress {
                    status: 100,
                    subscription_terminated: false,
                },
                None,
            ),
            (
                SipEvent::TransferProgress {
                    status: 180,
                    subscription_terminated: false,
                },
                None,
            ),
            (
                SipEvent::TransferProgress {
                    status: 200,
                    subscription_terminated: true,
                },
                Some(Input::TransferSucceeded),
            ),
            (
                SipEvent::TransferProgress {
                    status: 486,
                    subscription_terminated: true,
                },
                Some(Input::TransferFailed { status: 486 }),
            ),
        ];
        for (event, expected) in cases {
            assert_eq!(sip_input(&event), expected, "{event:?}");
        }
    }

    #[test]
    fn media_events_become_flow_inputs() {
        let cases = [
            (MediaEvent::PlaybackFinished, Input::PlaybackFinished),
            (MediaEvent::Digit('#'), Input::Digit('#')),
            (MediaEvent::MediaTimeout, Input::MediaLost),
        ];
        for (event, expected) in cases {
            assert_eq!(media_input(event), expected, "{event:?}");
        }
    }

    #[test]
    fn caller_numbers_are_redacted() {
        let cases = [
            (None, "-"),
            (Some("0611223344"), "********44"),
            (Some("7"), "7"),
            (Some(""), ""),
        ];
        for (number, expected) in cases {
            assert_eq!(redact(number), expected, "{number:?}");
        }
    }
}
