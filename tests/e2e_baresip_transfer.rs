//! End to end with baresip as the caller: it dials the store, hears the
//! prompts, presses 1 (RFC 4733, through its `cons` control port), receives
//! the attendant's REFER to ext 201 and follows it by itself to a SIPp UAS
//! acting as the PBX extension, where the call completes (INVITE, 200, BYE).

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::attendant::{self as harness, TestOptions};
use common::{Sipp, free_udp_port, require_tool};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

/// Seconds of silence baresip sends as its microphone; it hangs up when the
/// file ends, on the attendant's leg and again on the transferred one.
const MICROPHONE_SECONDS: u32 = 4;

fn write_silence(path: &std::path::Path) {
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: 8000,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut writer = hound::WavWriter::create(path, spec).unwrap();
    for _ in 0..8000 * MICROPHONE_SECONDS {
        writer.write_sample(0i16).unwrap();
    }
    writer.finalize().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baresip_follows_the_refer_to_the_extension() {
    require_tool("baresip");
    let target = Sipp::builtin_uas();
    let attendant = harness::start(TestOptions {
        pbx: format!("127.0.0.1:{}", target.port),
        ..TestOptions::default()
    })
    .await;

    let dir = tempfile::tempdir().unwrap();
    let microphone = dir.path().join("microphone.wav");
    write_silence(&microphone);
    // baresip listens on UDP and TCP at this port: both must be free.
    let sip_port = common::free_udp_tcp_port();
    let cons_port = free_udp_port();
    let config = format!(
        "poll_method epoll\n\
         net_interface 127.0.0.1\n\
         sip_listen 127.0.0.1:{sip_port}\n\
         audio_source aufile,{mic}\n\
         audio_alert aufile,{mic}\n\
         module_path /usr/lib/baresip/modules\n\
         module g711.so\n\
         module aufile.so\n\
         module cons.so\n\
         module_app account.so\n\
         module_app menu.so\n\
         cons_listen 127.0.0.1:{cons_port}\n",
        mic = microphone.display()
    );
    std::fs::write(dir.path().join("config"), config).unwrap();
    std::fs::write(dir.path().join("accounts"), "<sip:0611223344@127.0.0.1>;regint=0\n").unwrap();

    let mut baresip = Command::new("baresip")
        .arg("-f")
        .arg(dir.path())
        .arg("-e")
        .arg(format!("/dial sip:{}@{}", harness::STORE_NUMBER, attendant.sip))
        .args(["-t", "10"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start baresip");
    let mut lines = BufReader::new(baresip.stdout.take().unwrap()).lines();
    let mut output = String::new();

    // Once the attendant answers, wait for the greeting and menu, then press 1.
    let answered = tokio::time::timeout(Duration::from_secs(10), async {
        while let Ok(Some(line)) = lines.next_line().await {
            output.push_str(&line);
            output.push('\n');
            if line.contains("Call established") {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(answered, Ok(true), "baresip's call was not answered:\n{output}");
    tokio::time::sleep(Duration::from_millis(900)).await;
    let cons = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    cons.send_to(b"1", ("127.0.0.1", cons_port)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    // End of key press: without it the digit never ends.
    cons.send_to(b"\x04", ("127.0.0.1", cons_port)).await.unwrap();

    let rest = tokio::time::timeout(Duration::from_secs(25), async {
        while let Ok(Some(line)) = lines.next_line().await {
            output.push_str(&line);
            output.push('\n');
        }
    })
    .await;
    assert!(rest.is_ok(), "baresip did not quit:\n{output}");
    let _ = baresip.wait().await;

    // The PBX extension got the call baresip placed after the REFER, and its BYE.
    let target_logs = target.logs();
    target.expect_success(Duration::from_secs(10)).await;
    assert!(
        target_logs.contains("INVITE sip:201@127.0.0.1"),
        "the transfer target was not called at ext 201:\n{target_logs}\n--- baresip:\n{output}"
    );
    assert!(
        output.contains("transfer"),
        "baresip did not report a transfer:\n{output}"
    );
    attendant.stop().await;
}
