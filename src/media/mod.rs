//! Media: SDP offer/answer, RTP, G.711, DTMF and prompt playback.

pub mod dtmf;
pub mod g711;
pub mod prompt;
pub mod rtp;
pub mod sdp;
pub mod session;

#[cfg(test)]
mod test_pcap;
