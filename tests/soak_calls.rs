//! Soak: about 2,000 short calls through SIPp, ending every way a call ends
//! (caller BYE, transfer, CANCEL, lost ACK, RTP silence, failed transfer),
//! leave nothing behind: the server's counts return to zero, and the process's
//! open file descriptors and tokio tasks return exactly to their baseline,
//! its resident memory to within a tolerance.

mod common;

use std::time::Duration;

use common::Sipp;
use common::attendant::{self as harness, TestAttendant, TestOptions};

/// Open file descriptors of this process, each with what it points to.
fn open_fds() -> Vec<String> {
    let mut fds: Vec<String> = std::fs::read_dir("/proc/self/fd")
        .expect("read /proc/self/fd")
        .flatten()
        .map(|entry| {
            let target = std::fs::read_link(entry.path()).map(|t| t.display().to_string());
            format!(
                "{} -> {}",
                entry.file_name().to_string_lossy(),
                target.unwrap_or_default()
            )
        })
        .collect();
    fds.sort();
    fds
}

/// Resident set size of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// (fds, tokio tasks, RSS KiB) once the attendant holds nothing: its counts
/// at zero, then the tasks back to `tasks_at_most` (rsipstack keeps each
/// finished UDP transaction for Timer J/K, up to 32 s, before releasing it).
async fn settled(attendant: &TestAttendant, tasks_at_most: usize) -> (Vec<String>, usize, u64) {
    let idle = |s: &attendant::runtime::Stats| {
        (
            s.active_calls,
            s.sip_calls,
            s.active_dialogs,
            s.open_rtp_sockets,
        ) == (0, 0, 0, 0)
    };
    attendant
        .wait_for_stats(Duration::from_secs(60), idle)
        .await;
    attendant
        .wait_for_stats(Duration::from_secs(60), |s| {
            s.runtime_tasks <= tasks_at_most
        })
        .await;
    (
        open_fds(),
        attendant.server().stats().runtime_tasks,
        rss_kib(),
    )
}

/// One SIPp load: scenario, calls, calls per second.
const LOADS: [(&str, &str, &str); 6] = [
    ("uac_caller_bye.xml", "1600", "25"),
    ("caller_dtmf_transfer.xml", "200", "3"),
    ("uac_cancel.xml", "100", "2"),
    ("uac_no_ack.xml", "40", "1"),
    ("caller_waits_for_bye.xml", "40", "1"),
    ("caller_transfer_notify_486.xml", "40", "1"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_calls_leave_no_socket_task_or_memory_behind() {
    let attendant = harness::start(TestOptions {
        // Ringing lets the CANCEL scenario cancel before the answer.
        answer_delay: Duration::from_millis(400),
        ack_timeout: Duration::from_secs(1),
        // Ends the silent callers (caller_waits_for_bye) quickly.
        rtp_inactivity: Duration::from_secs(3),
        ..TestOptions::default()
    })
    .await;
    let limit = Duration::from_secs(150);

    // Warm-up: lazily built state (thread pools, caches) is part of the baseline.
    Sipp::uac(
        "uac_caller_bye.xml",
        attendant.sip,
        harness::STORE_NUMBER,
        &["-m", "20", "-r", "10"],
    )
    .expect_success(limit)
    .await;
    let (fds, tasks, rss) = settled(&attendant, usize::MAX).await;
    let baseline_tasks = {
        // The warm-up's transactions may still be winding down: take the
        // lowest task count seen once they have.
        let (_, settled_tasks, _) = settled(&attendant, tasks).await;
        settled_tasks
    };
    eprintln!(
        "baseline: {} fds, {baseline_tasks} tasks, {rss} KiB RSS",
        fds.len()
    );

    let runs: Vec<Sipp> = LOADS
        .iter()
        .map(|(scenario, calls, rate)| {
            Sipp::uac(
                scenario,
                attendant.sip,
                harness::STORE_NUMBER,
                &["-m", calls, "-r", rate, "-l", "300", "-timeout", "140s"],
            )
        })
        .collect();
    for (sipp, (scenario, ..)) in runs.into_iter().zip(LOADS) {
        sipp.expect_success(limit).await;
        eprintln!("{scenario}: all calls completed");
    }

    let (after_fds, after_tasks, after_rss) = settled(&attendant, baseline_tasks).await;
    eprintln!(
        "after: {} fds, {after_tasks} tasks, {after_rss} KiB RSS",
        after_fds.len()
    );
    // The SQLite pool opens connections (database + WAL file each) as calls
    // overlap, up to sqlx's default of 10, and keeps them: bounded, not a leak.
    // Everything else (sockets, pipes, eventfds) must be exactly as before.
    let is_database = |fd: &&String| fd.contains("attendant.db");
    let others = |fds: &[String]| {
        fds.iter()
            .filter(|fd| !is_database(fd))
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(
        others(&after_fds),
        others(&fds),
        "open file descriptors other than the database's"
    );
    let database_fds = after_fds.iter().filter(is_database).count();
    assert!(
        database_fds <= 2 * 10 + 1,
        "database descriptors beyond the pool's bound: {after_fds:?}"
    );
    assert_eq!(after_tasks, baseline_tasks, "tokio tasks");
    // Allocator caches may keep some freed memory; a leak of even 10 KiB per
    // call would be 20 MiB here.
    let tolerance_kib = 16 * 1024;
    assert!(
        after_rss <= rss + tolerance_kib,
        "RSS grew from {rss} KiB to {after_rss} KiB (tolerance {tolerance_kib} KiB)"
    );
    attendant.stop().await;
}
