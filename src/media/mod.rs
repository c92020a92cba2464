//! Media: SDP offer/answer, RTP, G.711, DTMF and prompt playback.
//!
//! Everything except [`session`] is sans-IO (no tokio, no sockets, no clock) and unit-tested
//! on its own. How a call uses it:
//!
//! ```text
//! INVITE with offer ──> sdp::negotiate(offer) ── Err(e) ──> reject with e.sip_status() (488/400)
//!                              │ Ok(negotiated)
//!                              v
//!      session::RtpSocket::bind(&config)           (even port in the configured range)
//!      sdp::answer_sdp(&negotiated, SocketAddr::new(advertised_ip, socket.local_addr().port()), id)
//!      let mut media = socket.start(&negotiated, &config);   (after the 200 OK is sent)
//!
//!      call task select! { media.next_event() => PlaybackFinished / Digit(c) / MediaTimeout, ... }
//!      media.play(prompts) / media.stop()                    (flow's Play / barge-in)
//!      media.subscribe_audio()                               (caller PCM for speech recognition)
//!      SIP INFO: dtmf::info::parse_info(content_type, body) -> digit, fed to the flow directly
//!      re-INVITE: media.command(MediaCommand::Renegotiate(..)), answer with sdp::answer_sdp_version
//!      BYE: media.shutdown().await (or drop `media`)
//! ```
//!
//! Owns SDP, RTP, G.711, DTMF and prompt audio. Uses `config` only; must not
//! import rsipstack, sqlx, axum, `flow`, `sip`, `runtime`, `admin` or `replay`.

pub mod dtmf;
pub mod g711;
pub mod prompt;
pub mod rtp;
pub mod sdp;
pub mod session;

#[cfg(test)]
mod test_pcap;
