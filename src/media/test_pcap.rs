//! Test helper: RTP packets out of classic Ethernet/IPv4/UDP pcap files (SIPp's samples).

/// One captured RTP packet: payload type, sequence number, timestamp and payload.
pub(crate) struct CapturedRtp {
    pub payload_type: u8,
    pub timestamp: u32,
    pub payload: Vec<u8>,
}

/// The RTP packets of a little-endian, Ethernet link-type pcap (as SIPp ships them).
pub(crate) fn rtp_from_pcap(bytes: &[u8]) -> Vec<CapturedRtp> {
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    assert_eq!(
        u32::from_le_bytes(bytes[20..24].try_into().unwrap()),
        1,
        "Ethernet link type"
    );
    let mut out = vec![];
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let caplen = u32::from_le_bytes(bytes[at + 8..at + 12].try_into().unwrap()) as usize;
        let frame = &bytes[at + 16..at + 16 + caplen];
        at += 16 + caplen;
        // Ethernet header (14 bytes), IPv4 header (IHL words), UDP header (8 bytes).
        let ihl = usize::from(frame[14] & 0x0F) * 4;
        let rtp = &frame[14 + ihl + 8..];
        let csrc = usize::from(rtp[0] & 0x0F) * 4;
        out.push(CapturedRtp {
            payload_type: rtp[1] & 0x7F,
            timestamp: u32::from_be_bytes(rtp[4..8].try_into().unwrap()),
            payload: rtp[12 + csrc..].to_vec(),
        });
    }
    out
}

/// Reads `/usr/share/sip-tester/<name>` (Debian package sip-tester), `None` if absent.
pub(crate) fn sipp_pcap(name: &str) -> Option<Vec<CapturedRtp>> {
    let path = format!("/usr/share/sip-tester/{name}");
    match std::fs::read(&path) {
        Ok(bytes) => Some(rtp_from_pcap(&bytes)),
        Err(_) => {
            eprintln!("skipping {path}: sip-tester not installed");
            None
        }
    }
}
