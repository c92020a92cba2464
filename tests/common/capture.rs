//! Packet capture on the loopback interface with tcpdump, read back as UDP
//! datagrams: evidence of the RTP a peer received.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// One captured UDP datagram.
#[derive(Debug, Clone)]
pub struct Datagram {
    pub src_port: u16,
    pub dst_port: u16,
    pub payload: Vec<u8>,
}

impl Datagram {
    /// RTP payload type and payload, if this looks like RTP version 2 (fixed
    /// 12-byte header, no CSRC or extension, as our sender writes).
    pub fn rtp(&self) -> Option<(u8, &[u8])> {
        let p = &self.payload;
        if p.len() < 12 || p[0] >> 6 != 2 || p[0] & 0x1f != 0 {
            return None;
        }
        Some((p[1] & 0x7f, &p[12..]))
    }
}

/// A running tcpdump, killed when dropped.
pub struct Capture {
    child: Child,
    path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Capture {
    /// Capture UDP on `lo` matching the BPF `filter`; returns once tcpdump listens.
    pub async fn start(filter: &str) -> Capture {
        super::require_tool("tcpdump");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("capture.pcap");
        let mut child = Command::new("tcpdump")
            .args(["-i", "lo", "--immediate-mode", "-U", "-n", "-s", "0", "-w"])
            .arg(&path)
            .arg(filter)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start tcpdump");
        let stderr = child.stderr.take().unwrap();
        let mut lines = BufReader::new(stderr).lines();
        let ready = tokio::time::timeout(Duration::from_secs(5), async {
            while let Ok(Some(line)) = lines.next_line().await {
                if line.contains("listening on") {
                    return true;
                }
            }
            false
        })
        .await;
        assert_eq!(
            ready,
            Ok(true),
            "tcpdump did not start listening (are we allowed to capture on lo?)"
        );
        // Keep draining stderr so tcpdump never blocks on it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Capture {
            child,
            path,
            _dir: dir,
        }
    }

    /// Stop capturing and return the datagrams, in capture order.
    pub async fn stop(mut self) -> Vec<Datagram> {
        // Immediate mode and -U write each packet as it comes; SIGTERM still lets
        // tcpdump drain what the kernel holds before it exits.
        if let Some(pid) = self.child.id() {
            let _ = Command::new("kill")
                .args(["-TERM", &pid.to_string()])
                .status()
                .await;
        }
        if tokio::time::timeout(Duration::from_secs(5), self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await.ok();
        }
        let data = std::fs::read(&self.path).expect("read the capture");
        parse_pcap(&data)
    }
}

/// Classic pcap, Ethernet (loopback) link type, IPv4/UDP only.
fn parse_pcap(data: &[u8]) -> Vec<Datagram> {
    let mut out = Vec::new();
    if data.len() < 24 {
        return out;
    }
    let le = data[0..4] == [0xd4, 0xc3, 0xb2, 0xa1];
    let u32_at = |b: &[u8]| {
        let a = [b[0], b[1], b[2], b[3]];
        if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        }
    };
    let mut offset = 24;
    while offset + 16 <= data.len() {
        let captured = u32_at(&data[offset + 8..]) as usize;
        let start = offset + 16;
        offset = start + captured;
        if offset > data.len() {
            break;
        }
        let frame = &data[start..offset];
        if frame.len() < 14 + 20 + 8 || frame[12..14] != [0x08, 0x00] {
            continue;
        }
        let ip = &frame[14..];
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        if ip[9] != 17 || ip.len() < ihl + 8 {
            continue;
        }
        let udp = &ip[ihl..];
        out.push(Datagram {
            src_port: u16::from_be_bytes([udp[0], udp[1]]),
            dst_port: u16::from_be_bytes([udp[2], udp[3]]),
            payload: udp[8..].to_vec(),
        });
    }
    out
}
