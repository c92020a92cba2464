//! Open files: the limit is raised at start-up toward what `max_calls` and
//! the TCP caps need, and where the hard limit is too low the TCP cap gives
//! way, so signalling can never take the descriptors the calls' media needs.
//!
//! Many systems start services with a soft limit of 1,024 open files. A call
//! holds an RTP socket and, while it records, a file; a TCP peer holds one
//! descriptor per connection. Without this budget, 1,020 idle TCP connections
//! left the next UDP call without an RTP socket (503).

use tracing::{info, warn};

/// Descriptors kept for everything but calls and TCP connections: the
/// database pool, the SIP and admin sockets, tokio, the ASR models, logs,
/// admin connections.
pub const BASE_FILES: u64 = 256;

/// Descriptors one call may hold: its RTP socket and its recording.
pub const FILES_PER_CALL: u64 = 2;

/// What the open-file limit allows, worked out from the limits alone (no IO).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilePlan {
    /// What `max_calls` and `max_tcp_connections` need in all.
    pub needed: u64,
    /// The soft limit to set: `needed`, or the hard limit if that is lower;
    /// never below the soft limit already in force.
    pub soft: u64,
    /// The TCP cap that fits: `max_tcp_connections`, or less when the hard
    /// limit is too low (calls are served first).
    pub tcp_connections: usize,
}

impl FilePlan {
    /// Plan for `max_calls` calls and `max_tcp` connections under the
    /// current `soft` and `hard` limits.
    pub fn new(soft: u64, hard: u64, max_calls: usize, max_tcp: usize) -> FilePlan {
        let calls = BASE_FILES.saturating_add((max_calls as u64).saturating_mul(FILES_PER_CALL));
        let needed = calls.saturating_add(max_tcp as u64);
        let target = needed.min(hard).max(soft);
        let room_for_tcp = target.saturating_sub(calls);
        FilePlan {
            needed,
            soft: target,
            tcp_connections: usize::try_from(room_for_tcp)
                .unwrap_or(usize::MAX)
                .min(max_tcp),
        }
    }
}

/// Raise the soft open-file limit as [`FilePlan`] says and return the TCP cap
/// that fits. Logs the change, and warns with the figure to set when the hard
/// limit is too low. Where limits cannot be read, trusts the configuration.
pub fn reserve(max_calls: usize, max_tcp: usize) -> usize {
    let (soft, hard) = match rlimit::getrlimit(rlimit::Resource::NOFILE) {
        Ok(limits) => limits,
        Err(error) => {
            warn!(%error, "cannot read the open-file limit; TCP connections capped by configuration only");
            return max_tcp;
        }
    };
    let plan = FilePlan::new(soft, hard, max_calls, max_tcp);
    if plan.soft > soft {
        match rlimit::setrlimit(rlimit::Resource::NOFILE, plan.soft, hard) {
            Ok(()) => info!(from = soft, to = plan.soft, hard, "open-file limit raised"),
            Err(error) => {
                warn!(%error, soft, wanted = plan.soft, "cannot raise the open-file limit");
                let plan = FilePlan::new(soft, soft, max_calls, max_tcp);
                warn_if_short(&plan, soft, max_calls, max_tcp);
                return plan.tcp_connections;
            }
        }
    }
    warn_if_short(&plan, hard, max_calls, max_tcp);
    plan.tcp_connections
}

fn warn_if_short(plan: &FilePlan, hard: u64, max_calls: usize, max_tcp: usize) {
    if plan.soft >= plan.needed {
        return;
    }
    let needed = plan.needed;
    if plan.tcp_connections == 0 {
        warn!(
            limit = plan.soft,
            needed,
            max_calls,
            "open-file limit {} is too low even for limits.max_calls = {max_calls}: SIP over TCP refused, calls may fail for want of RTP sockets; \
             raise the hard limit to {needed} (LimitNOFILE={needed} in a systemd unit, ulimit -Hn {needed})",
            plan.soft
        );
    } else {
        warn!(
            limit = plan.soft,
            hard,
            needed,
            tcp_connections = plan.tcp_connections,
            "open-file limit {} is below the {needed} that limits.max_calls = {max_calls} and limits.max_tcp_connections = {max_tcp} need: \
             TCP connections capped at {} so calls keep their descriptors; raise the hard limit to {needed} \
             (LimitNOFILE={needed} in a systemd unit, ulimit -Hn {needed})",
            plan.soft,
            plan.tcp_connections
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_raises_the_soft_limit_to_what_is_needed_when_the_hard_limit_allows() {
        // 256 + 200 calls * 2 + 256 TCP = 912.
        let plan = FilePlan::new(512, 524_288, 200, 256);
        assert_eq!(
            plan,
            FilePlan {
                needed: 912,
                soft: 912,
                tcp_connections: 256
            }
        );
    }

    #[test]
    fn plan_never_lowers_a_soft_limit_already_high_enough() {
        let plan = FilePlan::new(65_536, 524_288, 200, 256);
        assert_eq!(plan.soft, 65_536);
        assert_eq!(plan.tcp_connections, 256);
    }

    #[test]
    fn plan_lowers_the_tcp_cap_when_the_hard_limit_is_too_low_so_calls_keep_theirs() {
        // Hard 1,024 with 300 calls: 256 + 600 = 856 for calls, 168 left for TCP.
        let plan = FilePlan::new(1024, 1024, 300, 256);
        assert_eq!(
            plan,
            FilePlan {
                needed: 1112,
                soft: 1024,
                tcp_connections: 168
            }
        );
        // No room at all: no TCP.
        let plan = FilePlan::new(512, 512, 200, 256);
        assert_eq!(plan.tcp_connections, 0);
    }
}
