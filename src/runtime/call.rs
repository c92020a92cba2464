//! The task that owns one call: SIP dialog handle, media session, flow, timer
//! and cancellation token, in one `select!` loop that only translates.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{Instrument, debug, error, info, info_span, warn};

use super::CallContext;
use super::records::CallLog;
use crate::asr::Recognition;
use crate::directory::Directory;
use crate::directory::prompts::{OPTION_KEYS, option_key_file, resolve_prompt};
use crate::flow::{Action, Call, FlowSettings, Input, Output, Prompt};
use crate::media::prompt::PromptAudio;
use crate::recording::LiveRecording;
use crate::recording::sidecar::ListenEnd;
use crate::media::sdp::{LocalSdp, NegotiatedMedia, SdpError, accept_answer, negotiate};
use crate::media::session::{MediaCommand, MediaEvent, MediaSession, RtpSocket};
use crate::sip::{IncomingCall, Rejection, SessionRefusal, SipCall, SipEvent};
use crate::speech::decode::{DecodeError, DecodeStream};
use crate::speech::stream::{SpeechStream, StreamEvent, frame_alignment};
use crate::speech::understand::StoreSpeech;

/// Run one call in its own task, so that a panic in it stays there: unwinding
/// drops the call's SIP handle (its dialog ends, with a BYE if answered) and
/// its media session (the RTP port is freed), and the panic is logged here
/// instead of going to stderr unseen. Other calls and the server go on.
pub(super) async fn supervise(context: Arc<CallContext>, incoming: IncomingCall, cancel: CancellationToken) {
    let call_id = incoming.call_id.clone();
    if let Err(error) = tokio::spawn(run(context, incoming, cancel)).await
        && error.is_panic()
    {
        let payload = error.into_panic();
        let message = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        error!(call_id, panic = message, "call task panicked: call released, server unaffected");
    }
}

/// Run one call from INVITE to release.
async fn run(context: Arc<CallContext>, incoming: IncomingCall, cancel: CancellationToken) {
    let span = info_span!(
        "call",
        call_id = %incoming.call_id,
        store = incoming.dialled.as_deref().unwrap_or("-"),
        caller = %redact(incoming.caller.as_deref()),
    );
    async move {
        info!("INVITE received");
        let invite_at = Instant::now();
        // Counted in `attendant_calls_active` until this task ends.
        let _active = crate::ops::metrics::call_started();
        // Wall clock for the call record only: the flow runs on `now()`.
        let started_at = jiff::Timestamp::now();
        let IncomingCall {
            offer,
            dialled,
            caller,
            remote,
            mut call,
            ..
        } = incoming;
        let setup = match set_up(&context, dialled.as_deref(), offer.as_deref()).await {
            Ok(setup) => setup,
            Err(refusal) => {
                crate::ops::metrics::call_ended("refused");
                let sent = match refusal {
                    Refusal::Plain(rejection) => {
                        info!(status = rejection.status(), "call refused");
                        call.reject(rejection)
                    }
                    Refusal::Session(refusal) => {
                        info!(status = refusal.rejection.status(), warning = %refusal.text, "call refused");
                        call.reject_session(refusal)
                    }
                };
                if sent.is_ok() {
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
            speech,
            spelling,
            rtp,
            answer,
            negotiated,
            local_sdp,
            after_hours,
        } = setup;
        crate::ops::metrics::call_set_up(invite_at.elapsed());
        let log = CallLog::new(directory.clone(), caller.as_deref(), started_at, after_hours.is_some());
        // Counted until this function returns, after the media shutdown below.
        let _rtp_open = context.rtp_sockets.hold();
        // All recognition slots taken: this call goes on with the keypad only.
        let settings = context.recognitions.settings_for_new_call(settings);
        if !ring(&mut call, context.answer_delay, &cancel).await {
            context.records.submit(log.unanswered());
            // Dropping the RTP socket and the SIP handle releases both.
            return;
        }
        let trunk = remote.and_then(|remote| crate::config::Config::trunk_for(&context.trunks, remote.ip()));
        if let Some(trunk) = trunk {
            debug!(trunk = %trunk.name, symmetric_rtp = trunk.symmetric_rtp, "call from a configured trunk");
        }
        let media = rtp.start_latching(&negotiated, &context.media, trunk.and_then(|t| t.latching()));
        // The caller's audio from its first packet: the call's audio clock
        // counts every sample, so that recognitions cut frames on one grid.
        let audio = media.subscribe_audio();
        if call.accept(answer).is_err() {
            info!("caller gone before the answer");
            context.records.submit(log.unanswered());
            media.shutdown().await;
            return;
        }
        let referred_by = format!("sip:{}@{}", directory.store.number, context.sip_addr);
        let endpoint = settings.endpoint.clone();
        let recording = speech.store.clone().and_then(|store| {
            let call_id = call.call_id().to_owned();
            LiveRecording::start(&context.recorder, &settings.recording, store.clone(), store.thresholds(), endpoint.clone(), &call_id, std::time::SystemTime::now())
        });
        let mut flow = Call::new(now(), directory, settings);
        if let Some(speech) = &speech.store {
            flow = flow.with_speech(speech.interpreter());
        }
        if let Some(route) = after_hours {
            flow = flow.closed(route);
        }
        if let Some(spelling) = &spelling {
            flow = flow.with_name_search(spelling.search.clone());
        }
        let (results_tx, results) = mpsc::unbounded_channel();
        let mut driver = CallDriver {
            flow,
            call,
            media,
            prompts,
            speech,
            spelling,
            endpoint,
            audio: Some(audio),
            heard: 0,
            listening: None,
            generation: 0,
            results_tx,
            results,
            speech_ended_at: None,
            refer_sent_at: None,
            recording,
            context,
            referred_by,
            deadline: None,
            sip_ended: false,
            log,
            local_sdp,
            answer_refused: false,
        };
        driver.run(cancel).await;
        if let Some(recording) = driver.recording.take() {
            // File IO: on the blocking pool; a failed recording never fails the call.
            match tokio::task::spawn_blocking(move || recording.save(std::time::SystemTime::now())).await {
                Ok(Ok(saved)) => debug!(?saved, "call recorded"),
                Ok(Err(error)) => warn!(%error, "cannot save the call recording"),
                Err(error) => warn!(%error, "call recording task failed"),
            }
        }
        let CallDriver { call, media, log, context, .. } = driver;
        // Off the call's path: queued for the writer, never awaited.
        context.records.submit(log.finish());
        // Dropping the SIP handle ends the dialog if it is still up (BYE), and the
        // media shutdown waits until the RTP port is free again.
        drop(call);
        let stats = media.shutdown().await;
        if let Some(stats) = &stats {
            crate::ops::metrics::rtp_received(stats.accepted, stats.lost, stats.late_or_duplicate);
        }
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
    directory: Arc<Directory>,
    settings: FlowSettings,
    prompts: HashMap<Prompt, PromptAudio>,
    speech: CallSpeech,
    spelling: Option<super::spelling::CallSpelling>,
    rtp: RtpSocket,
    /// The SDP of our 200 OK: our answer, or our offer when the INVITE had none.
    answer: String,
    /// What the media starts with (nothing to send or expect until the ACK's
    /// answer, for a delayed offer).
    negotiated: NegotiatedMedia,
    /// Our SDP's `o=` line and the last SDP we sent, for later answers.
    local_sdp: LocalSdp,
    /// The store is closed now: where the call goes instead (`flow::Call::closed`).
    after_hours: Option<crate::directory::hours::AfterHoursRoute>,
}

/// Why a call is refused before it is answered.
enum Refusal {
    Plain(Rejection),
    /// The offer is unusable: the rejection carries a `Warning` saying why.
    Session(SessionRefusal),
}

impl From<Rejection> for Refusal {
    fn from(rejection: Rejection) -> Refusal {
        Refusal::Plain(rejection)
    }
}

/// The refusal of an SDP offer or answer, with the `Warning` that says why.
fn session_refusal(error: &SdpError) -> SessionRefusal {
    SessionRefusal {
        rejection: Rejection::from_status(error.sip_status()),
        warn_code: error.warn_code(),
        text: error.to_string(),
    }
}

/// Look up the store, check the offer, load the prompts, reserve an RTP port.
/// Each failure is the SIP rejection it deserves.
async fn set_up(context: &CallContext, dialled: Option<&str>, offer: Option<&str>) -> Result<CallSetup, Refusal> {
    let number = dialled.ok_or(Rejection::NotFound)?;
    let directory = match context.store.load_directory_by_number(number).await {
        Ok(Some(directory)) => directory,
        Ok(None) => return Err(Rejection::NotFound.into()),
        Err(error) => {
            error!(%error, "cannot load the store's directory");
            return Err(Rejection::ServiceUnavailable.into());
        }
    };
    let negotiated = match offer.map(negotiate) {
        Some(Ok(negotiated)) => Some(negotiated),
        Some(Err(error)) => {
            info!(%error, "unusable SDP offer");
            return Err(Refusal::Session(session_refusal(&error)));
        }
        // Delayed offer (RFC 3261 §13.2.1): our offer goes in the 200 OK, the
        // caller's answer comes in the ACK.
        None => None,
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
    // The freshly loaded directory, not speech's: its version keys the hours cache.
    let after_hours = super::hours::route_now(&context.hours, &context.store, &directory).await;
    // With speech, the call runs on the directory version its speech was compiled
    // from (decisions name entries of that version), kept to the end of the call.
    let store_speech = settings
        .speech_enabled
        .then(|| context.speech.current(directory.store.id))
        .flatten();
    let directory = match &store_speech {
        Some(speech) => speech.directory().clone(),
        None => Arc::new(directory),
    };
    let prompts = load_prompts(context, &directory).await.map_err(Refusal::Plain)?;
    let spelling =
        super::spelling::prepare(&context.keypad, &context.prompts_dir, &directory, &settings, store_speech.as_ref()).await;
    let speech = match store_speech {
        Some(store) => load_speech_prompts(context, &directory, store).await,
        None => CallSpeech::default(),
    };
    let rtp = RtpSocket::bind(&context.media).map_err(|error| {
        error!(%error, "no RTP port");
        Rejection::ServiceUnavailable
    })?;
    let local_rtp = std::net::SocketAddr::new(context.public_ip, rtp.local_addr().port());
    // A u32 leaves room to count versions up without ever wrapping.
    let mut local_sdp = LocalSdp::new(local_rtp, u64::from(rand::random::<u32>()));
    let (answer, negotiated) = match negotiated {
        Some(negotiated) => (local_sdp.answer(&negotiated), negotiated),
        None => (local_sdp.offer(), NegotiatedMedia::awaiting_answer()),
    };
    Ok(CallSetup {
        directory,
        settings,
        prompts,
        speech,
        spelling,
        rtp,
        answer,
        negotiated,
        local_sdp,
        after_hours,
    })
}

/// Every prompt of the store, read off the blocking pool. A missing or bad
/// file refuses the call (500) rather than leaving the caller in silence.
async fn load_prompts(context: &CallContext, directory: &Directory) -> Result<HashMap<Prompt, PromptAudio>, Rejection> {
    let paths: Vec<_> = Prompt::ALL
        .iter()
        .map(|&prompt| (prompt, resolve_prompt(&context.prompts_dir, &directory.store, prompt)))
        .collect();
    let cache = context.prompt_cache.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        paths
            .into_iter()
            .map(|(prompt, path)| cache.load(&path).map(|audio| (prompt, audio)))
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

/// A call's speech: the store's set-up at call start and the prompt audio
/// speech adds. Empty when the call runs DTMF only.
#[derive(Default)]
struct CallSpeech {
    store: Option<Arc<StoreSpeech>>,
    /// `ask_name`, `not_understood`, `disambiguation`.
    prompts: HashMap<Prompt, PromptAudio>,
    /// Said after an entry's name to confirm it.
    did_you_mean: Option<PromptAudio>,
    /// "press N", said after an entry's name in a disambiguation menu.
    options: HashMap<char, PromptAudio>,
}

/// The speech prompts of the store's language, read off the blocking pool. A
/// missing one is logged and skipped when played: speech still works.
async fn load_speech_prompts(context: &CallContext, directory: &Directory, store: Arc<StoreSpeech>) -> CallSpeech {
    let fixed: Vec<(Prompt, std::path::PathBuf)> = [Prompt::AskName, Prompt::AskFullName, Prompt::NotUnderstood, Prompt::Disambiguation]
        .into_iter()
        .map(|prompt| (prompt, resolve_prompt(&context.prompts_dir, &directory.store, prompt)))
        .collect();
    let did_you_mean = resolve_prompt(&context.prompts_dir, &directory.store, Prompt::DidYouMean(crate::directory::EntryId(0)));
    let options: Vec<(char, std::path::PathBuf)> = OPTION_KEYS
        .into_iter()
        .map(|key| (key, context.prompts_dir.join(option_key_file(directory.store.language, key))))
        .collect();
    let cache = context.prompt_cache.clone();
    let loaded = tokio::task::spawn_blocking(move || {
        let load = |path: &std::path::Path| match cache.load(path) {
            Ok(audio) => Some(audio),
            Err(error) => {
                warn!(%error, "speech prompt missing: it will be skipped");
                None
            }
        };
        let prompts = fixed.iter().filter_map(|(prompt, path)| Some((*prompt, load(path)?))).collect();
        let options = options.iter().filter_map(|(key, path)| Some((*key, load(path)?))).collect();
        (prompts, load(&did_you_mean), options)
    })
    .await;
    match loaded {
        Ok((prompts, did_you_mean, options)) => CallSpeech {
            store: Some(store),
            prompts,
            did_you_mean,
            options,
        },
        Err(error) => {
            error!(%error, "speech prompt loading task failed: speech prompts skipped");
            CallSpeech { store: Some(store), ..CallSpeech::default() }
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
        // Offer/answer is the media adapter's business (CallDriver), not the flow's.
        SipEvent::SessionOffer { .. } | SipEvent::SessionAnswer { .. } => None,
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

/// A recognition listening to the caller: audio goes through the endpointer
/// and, from speech onset, to the decode workers, until the utterance ends
/// (then its decoding is finished, and listening stops).
struct Listening {
    generation: u64,
    /// Samples of the next frames to leave out: the endpointer's frames fall
    /// on the call's frame grid (`speech::stream::frame_alignment`).
    skip: usize,
    stream: SpeechStream,
    /// The utterance in progress being decoded (none before speech starts).
    decoding: Option<DecodeStream>,
    /// One of `limits.max_recognitions`, held from listening to the end of decoding.
    permit: crate::runtime::RecognitionPermit,
}

/// A decoded utterance, tagged with the recognition it belongs to.
type Decoded = (u64, Result<Recognition, DecodeError>);

/// The next frame of the caller's audio (pending once the media has ended).
async fn next_frame(audio: &mut Option<broadcast::Receiver<Vec<i16>>>) -> Result<Vec<i16>, broadcast::error::RecvError> {
    match audio {
        Some(audio) => audio.recv().await,
        None => std::future::pending().await,
    }
}

/// One answered call's loop state.
struct CallDriver {
    flow: Call,
    call: SipCall,
    media: MediaSession,
    prompts: HashMap<Prompt, PromptAudio>,
    speech: CallSpeech,
    /// Keypad name search, when the store has a spell key.
    spelling: Option<super::spelling::CallSpelling>,
    endpoint: crate::speech::endpoint::EndpointSettings,
    /// The caller's audio, from the start of the media (none once it closed).
    audio: Option<broadcast::Receiver<Vec<i16>>>,
    /// Samples of caller audio received so far: the call's audio clock.
    heard: u64,
    listening: Option<Listening>,
    /// Counts recognitions started and abandoned: a decoded result whose
    /// generation is not current belongs to an abandoned recognition and is
    /// dropped (the flow's contract: results carry no id of their own).
    generation: u64,
    results_tx: mpsc::UnboundedSender<Decoded>,
    results: mpsc::UnboundedReceiver<Decoded>,
    /// When the endpointer last declared the end of an utterance: the start of
    /// the end-of-speech-to-REFER latency.
    speech_ended_at: Option<Instant>,
    /// When the REFER went out: the start of the transfer latency.
    refer_sent_at: Option<Instant>,
    /// The QA recording of this call, when its store records.
    recording: Option<LiveRecording>,
    context: Arc<CallContext>,
    referred_by: String,
    /// When the flow wants `Input::Timeout`.
    deadline: Option<Instant>,
    /// The dialog is gone: no more SIP events.
    sip_ended: bool,
    /// What the call heard, understood and did, for its record.
    log: CallLog,
    /// Our side of the SDP, for answers to re-INVITEs and UPDATEs.
    local_sdp: LocalSdp,
    /// The caller's answer (in the ACK) was unusable: we sent BYE, and the
    /// flow hears that the call has no media once it is answered.
    answer_refused: bool,
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
                        match &event {
                            // SDP bodies: whole only at debug level.
                            SipEvent::SessionOffer { .. } | SipEvent::SessionAnswer { .. } => debug!(sip = ?event, "SIP event"),
                            _ => info!(sip = ?event, "SIP event"),
                        }
                        if event == SipEvent::Answered && super::fault::take_armed_panic() {
                            panic!("injected fault: call task panic");
                        }
                        self.sip_ended = event.is_terminal();
                        self.time_transfer(&event);
                        match event {
                            SipEvent::SessionOffer { offer } => self.on_session_offer(offer),
                            SipEvent::SessionAnswer { answer } => self.on_session_answer(answer),
                            event => {
                                if let Some(input) = sip_input(&event) {
                                    self.feed(input);
                                }
                                if event == SipEvent::Answered && self.answer_refused {
                                    self.feed(Input::MediaLost);
                                }
                            }
                        }
                    }
                    None => {
                        self.sip_ended = true;
                        self.feed(Input::CallerHungUp);
                    }
                },
                frame = next_frame(&mut self.audio) => match frame {
                    Ok(frame) => {
                        self.heard += frame.len() as u64;
                        self.on_audio(frame);
                    }
                    Err(broadcast::error::RecvError::Lagged(lost)) => {
                        // 20 ms frames: the clock stays about right.
                        self.heard += lost * 160;
                        warn!(lost, "speech audio reader fell behind: frames lost");
                    }
                    Err(broadcast::error::RecvError::Closed) => {
                        self.audio = None;
                        if self.listening.take().is_some() {
                            self.listen_ended("the media ended");
                            self.feed(Input::NoSpeech);
                        }
                    }
                },
                Some((generation, result)) = self.results.recv() => self.on_decoded(generation, result),
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

    /// A re-INVITE or UPDATE: hold, resume, a new address. The media follows
    /// the new offer (direction, peer address, codec) and the answer says what
    /// we do; an unusable offer is refused and the session stays as it was.
    fn on_session_offer(&mut self, offer: Option<String>) {
        let Some(offer) = offer else {
            // A re-INVITE without SDP: our offer, the answer comes in its ACK.
            let sdp = self.local_sdp.offer();
            if self.call.answer_session(sdp).is_err() {
                debug!("dialog gone: session offer not answered");
            }
            return;
        };
        match negotiate(&offer) {
            Ok(negotiated) => {
                let answer = self.local_sdp.answer(&negotiated);
                info!(
                    remote = ?negotiated.remote_rtp,
                    direction = negotiated.remote_direction.as_str(),
                    version = self.local_sdp.version(),
                    "session renegotiated"
                );
                if self.media.command(MediaCommand::Renegotiate(Box::new(negotiated))).is_err() {
                    warn!("media session gone: cannot renegotiate");
                }
                if self.call.answer_session(answer).is_err() {
                    debug!("dialog gone: session offer not answered");
                }
            }
            Err(error) => {
                info!(%error, "unusable SDP in re-INVITE or UPDATE: refused, session unchanged");
                if self.call.refuse_session(session_refusal(&error)).is_err() {
                    debug!("dialog gone: session offer not refused");
                }
            }
        }
    }

    /// The caller's answer to our offer, from an ACK. Unusable (or missing):
    /// the call cannot have media, so it ends with a BYE saying why.
    fn on_session_answer(&mut self, answer: Option<String>) {
        let error = match answer.as_deref().map(accept_answer) {
            Some(Ok(negotiated)) => {
                info!(remote = ?negotiated.remote_rtp, codec = ?negotiated.codec, "SDP answer from the ACK");
                if self.media.command(MediaCommand::Renegotiate(Box::new(negotiated))).is_err() {
                    warn!("media session gone: cannot apply the answer");
                }
                return;
            }
            Some(Err(error)) => error.to_string(),
            None => "no SDP answer in the ACK".to_owned(),
        };
        warn!(%error, "unusable SDP answer: hanging up");
        self.answer_refused = true;
        let text: String = error.chars().filter(|c| !matches!(c, '"' | '\\' | '\r' | '\n')).collect();
        if self.call.hangup_with_reason(format!("SIP;cause=488;text=\"{text}\"")).is_err() {
            debug!("dialog already gone");
        }
    }

    /// Caller audio during a recognition: endpointed, and streamed to the
    /// decode workers from speech onset, so that at the end of speech only the
    /// engine's finalisation is left.
    fn on_audio(&mut self, mut frame: Vec<i16>) {
        let Some(listening) = self.listening.as_mut() else { return };
        if listening.skip > 0 {
            let skipped = listening.skip.min(frame.len());
            frame.drain(..skipped);
            listening.skip -= skipped;
            if let Some(recording) = self.recording.as_mut().filter(|_| listening.skip == 0) {
                recording.listening(self.heard - frame.len() as u64);
            }
        }
        let frame = frame.as_slice();
        if frame.is_empty() {
            return;
        }
        if let Some(recording) = self.recording.as_mut() {
            recording.audio(frame);
        }
        let generation = listening.generation;
        let events = match listening.stream.push(frame) {
            Ok(events) => events,
            Err(error) => {
                warn!(%error, "endpointer failed: no speech");
                self.listening = None;
                self.listen_ended("the endpointer failed");
                self.feed(Input::NoSpeech);
                return;
            }
        };
        for event in events {
            // Feeding the flow may stop or restart the recognition: the rest of
            // these events belong to the old one.
            let Some(listening) = self.listening.as_mut().filter(|l| l.generation == generation) else {
                return;
            };
            match event {
                StreamEvent::SpeechStarted => {
                    info!("speech started");
                    listening.decoding = self.speech.store.clone().and_then(|speech| {
                        self.context
                            .decoders
                            .open(Box::new(move || speech.recognizer()))
                            .inspect_err(|error| warn!(%error, "cannot start decoding: the utterance will not be recognised"))
                            .ok()
                    });
                    self.feed(Input::SpeechStarted);
                }
                StreamEvent::Audio(block) => {
                    let Some(decoding) = listening.decoding.as_ref() else { continue };
                    if let Err(error) = decoding.push(block) {
                        // Only this call gives up speech; the workers catch up
                        // with the others.
                        warn!(%error, "decoding cannot keep up: no speech for this call");
                        self.listening = None;
                        self.listen_ended("decoding could not keep up");
                        self.feed(Input::NoSpeech);
                        return;
                    }
                }
                StreamEvent::NoiseDiscarded => {
                    debug!("noise discarded");
                    // Dropping the stream abandons its decoding.
                    listening.decoding = None;
                }
                StreamEvent::Ended(utterance) => {
                    self.speech_ended_at = Some(now());
                    let Some(Listening { decoding, permit, .. }) = self.listening.take() else { return };
                    if let Some(recording) = self.recording.as_mut() {
                        recording.utterance_ended(&utterance);
                    }
                    let Some(decoding) = decoding else {
                        if let Some(recording) = self.recording.as_mut() {
                            recording.listen_ended(ListenEnd::DecodeFailed { reason: "no decoder could be started".into() });
                        }
                        self.feed(Input::NoSpeech);
                        return;
                    };
                    info!(samples = utterance.pcm.len(), truncated = utterance.truncated, "utterance ended: finishing decoding");
                    let results = self.results_tx.clone();
                    let ended_at = Instant::now();
                    decoding.finish(Box::new(move |result| {
                        crate::ops::metrics::decoded(ended_at.elapsed());
                        drop(permit);
                        // The call may have ended meanwhile: nobody to tell.
                        let _ = results.send((generation, result));
                    }));
                    return;
                }
            }
        }
    }

    /// Records the transfer latency once the transfer's outcome is known: the
    /// REFER refused, or the final NOTIFY (2xx: the target answered).
    fn time_transfer(&mut self, event: &SipEvent) {
        let result = match *event {
            SipEvent::ReferRefused { .. } => "refused",
            SipEvent::TransferProgress { status, .. } if (200..300).contains(&status) => "succeeded",
            SipEvent::TransferProgress { status, .. } if status >= 300 => "failed",
            _ => return,
        };
        if let Some(sent) = self.refer_sent_at.take() {
            crate::ops::metrics::transfer_done(result, sent.elapsed());
        }
    }

    /// The recording's note of why the current recognition heard no utterance.
    fn listen_ended(&mut self, why: &str) {
        if let Some(recording) = self.recording.as_mut() {
            recording.listen_ended(ListenEnd::Stopped { why: why.to_owned() });
        }
    }

    /// A decoded utterance: the answer to the current recognition, or stale.
    fn on_decoded(&mut self, generation: u64, result: Result<Recognition, DecodeError>) {
        if generation != self.generation {
            debug!(generation, current = self.generation, "result of an abandoned recognition dropped");
            return;
        }
        let decode_ms = self.speech_ended_at.map(|ended| now().saturating_duration_since(ended).as_millis());
        match result {
            Ok(recognition) => {
                info!(best = ?recognition.best().map(|h| (&h.text, h.confidence)), ?decode_ms, "recognized");
                if let Some(recording) = self.recording.as_mut() {
                    recording.recognized(&recognition, decode_ms.map(|ms| ms as f64));
                }
                self.feed(Input::Recognized(recognition));
            }
            Err(error) => {
                warn!(%error, "recognition failed: no speech");
                if let Some(recording) = self.recording.as_mut() {
                    recording.listen_ended(ListenEnd::DecodeFailed { reason: error.to_string() });
                }
                self.feed(Input::NoSpeech);
            }
        }
    }

    /// The audio of `prompt`: entry prompts are the entry's spoken name and a fragment.
    fn prompt_audio(&self, prompt: Prompt, audio: &mut Vec<PromptAudio>) {
        let spelling = self.spelling.as_ref();
        let name = |entry| {
            let speech = self.speech.store.as_ref().and_then(|s| s.name_audio(entry));
            speech.or_else(|| spelling.and_then(|s| s.name(entry))).cloned()
        };
        let parts: Vec<Option<PromptAudio>> = match prompt {
            Prompt::DidYouMean(entry) => vec![name(entry), self.speech.did_you_mean.clone()],
            Prompt::DisambiguationOption { key, entry } => {
                let option = self.speech.options.get(&key).or_else(|| spelling.and_then(|s| s.option(key)));
                vec![name(entry), option.cloned()]
            }
            other => {
                let fixed = self.prompts.get(&other).or_else(|| self.speech.prompts.get(&other));
                vec![fixed.or_else(|| spelling.and_then(|s| s.prompt(other))).cloned()]
            }
        };
        for part in parts {
            match part {
                Some(part) => audio.push(part),
                None => warn!(?prompt, "no audio for (part of) this prompt: skipped"),
            }
        }
    }

    fn feed(&mut self, input: Input) {
        if let (Input::Digit(digit), Some(recording)) = (&input, self.recording.as_mut()) {
            recording.digit(*digit);
        }
        if matches!(input, Input::Digit(_)) {
            // A key decides from here on: a transfer is no longer speech's latency.
            self.speech_ended_at = None;
        }
        self.log.input(&input);
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
                Output::Event(event) => {
                    info!(flow = ?event, "flow event");
                    self.log.event(&event);
                }
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
                    self.prompt_audio(*prompt, &mut audio);
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
                if let Some(recording) = self.recording.as_mut() {
                    recording.transferred(&target);
                }
                match self.speech_ended_at.take() {
                    Some(ended) => info!(
                        %uri,
                        end_of_speech_to_refer_ms = now().saturating_duration_since(ended).as_millis() as u64,
                        "REFER"
                    ),
                    None => info!(%uri, "REFER"),
                }
                self.refer_sent_at = Some(Instant::now());
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
            // One grammar serves both modes: the store's grammar holds its yes/no
            // words, and the interpreter reads names or yes/no as the flow asks.
            Action::StartRecognition { grammar } => {
                self.generation += 1;
                self.listening = None;
                // A new question: an earlier utterance no longer leads to a transfer.
                self.speech_ended_at = None;
                if self.speech.store.is_none() {
                    // Only calls with speech get an interpreter, so the flow should
                    // not ask; if it does, nothing was recognised: the keypad.
                    warn!(?grammar, "no speech for this call: answering NoSpeech");
                    return Some(Input::NoSpeech);
                }
                let Some(permit) = self.context.recognitions.try_acquire() else {
                    // Every recognition slot is busy: this caller gets the keypad
                    // rather than waiting in silence for another call's decode.
                    warn!(?grammar, "all recognitions busy: answering NoSpeech");
                    return Some(Input::NoSpeech);
                };
                self.listen_ended("a new recognition started");
                let tail = self.speech.store.as_ref().and_then(|speech| speech.decoded_end_silence());
                match SpeechStream::new(self.endpoint.clone(), tail) {
                    Ok(stream) => {
                        let skip = frame_alignment(self.heard);
                        if skip == 0
                            && let Some(recording) = self.recording.as_mut()
                        {
                            recording.listening(self.heard);
                        }
                        self.listening = Some(Listening {
                            generation: self.generation,
                            skip,
                            stream,
                            decoding: None,
                            permit,
                        });
                    }
                    Err(error) => {
                        warn!(%error, "cannot start the endpointer: no speech");
                        return Some(Input::NoSpeech);
                    }
                }
            }
            Action::StopRecognition => {
                self.generation += 1;
                if self.listening.take().is_some() {
                    self.listen_ended("the flow stopped listening (a key, a timeout or the end of the call)");
                }
            }
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
