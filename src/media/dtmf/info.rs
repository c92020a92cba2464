//! DTMF carried in SIP INFO bodies: `application/dtmf-relay` and `application/dtmf`.

use super::{digit_to_event, event_to_digit};

/// Why an INFO body gave no digit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InfoDtmfError {
    /// The Content-Type is not one of the two DTMF types.
    #[error("unsupported INFO content type {content_type:?}")]
    UnsupportedContentType {
        /// The Content-Type as received.
        content_type: String,
    },
    /// An `application/dtmf-relay` body without a `Signal=` line.
    #[error("dtmf-relay body has no Signal line")]
    MissingSignal,
    /// The signal is not a DTMF digit (nor an event code 0-15).
    #[error("invalid DTMF signal {signal:?}")]
    InvalidSignal {
        /// The signal text as received.
        signal: String,
    },
}

/// Extracts the digit from a SIP INFO body, given the request's Content-Type.
///
/// `application/dtmf-relay` (Cisco style): `Signal=5\r\nDuration=160`; keys are matched
/// case-insensitively and `Duration` is optional. `application/dtmf`: the body is the digit.
/// In both, a signal may be the digit itself (`*`, `#`, `A`) or its event code (`10` = `*`).
pub fn parse_info(content_type: &str, body: &str) -> Result<char, InfoDtmfError> {
    let mime = content_type.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/dtmf-relay") {
        let signal = body
            .lines()
            .filter_map(|line| line.split_once('='))
            .find(|(key, _)| key.trim().eq_ignore_ascii_case("signal"))
            .map(|(_, value)| value)
            .ok_or(InfoDtmfError::MissingSignal)?;
        parse_signal(signal)
    } else if mime.eq_ignore_ascii_case("application/dtmf") {
        parse_signal(body)
    } else {
        Err(InfoDtmfError::UnsupportedContentType {
            content_type: content_type.to_owned(),
        })
    }
}

fn parse_signal(raw: &str) -> Result<char, InfoDtmfError> {
    let signal = raw.trim();
    let invalid = || InfoDtmfError::InvalidSignal {
        signal: signal.to_owned(),
    };
    let mut chars = signal.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => digit_to_event(c)
            .and_then(event_to_digit)
            .ok_or_else(invalid),
        // Two characters: an event code such as `10` (`*`) or `11` (`#`).
        (Some(_), Some(_)) => signal
            .parse::<u8>()
            .ok()
            .and_then(event_to_digit)
            .ok_or_else(invalid),
        _ => Err(invalid()),
    }
}

#[cfg(test)]
mod tests {
    //! Proves both INFO body formats parse into digits and that garbage gives a precise error.
    use super::*;

    #[test]
    fn parses_valid_bodies() {
        let cases = [
            (
                "application/dtmf-relay",
                "Signal=5\r\nDuration=160\r\n",
                '5',
            ),
            ("application/dtmf-relay", "Signal= #\r\nDuration= 250", '#'),
            (
                "Application/DTMF-Relay; charset=utf-8",
                "signal=*\nduration=100\n",
                '*',
            ),
            (
                "application/dtmf-relay",
                "Duration=160\r\nSignal=11\r\n",
                '#',
            ),
            ("application/dtmf-relay", "Signal=10", '*'),
            ("application/dtmf-relay", "Signal=d", 'D'),
            ("application/dtmf", "5", '5'),
            ("application/dtmf", " 0\r\n", '0'),
            ("application/dtmf", "11", '#'),
        ];
        for (ct, body, digit) in cases {
            assert_eq!(parse_info(ct, body), Ok(digit), "{ct} {body:?}");
        }
    }

    #[test]
    fn rejects_garbage_precisely() {
        let invalid = |s: &str| InfoDtmfError::InvalidSignal {
            signal: s.to_owned(),
        };
        let cases = [
            (
                "text/plain",
                "5",
                InfoDtmfError::UnsupportedContentType {
                    content_type: "text/plain".into(),
                },
            ),
            (
                "application/dtmf-relay",
                "Duration=160",
                InfoDtmfError::MissingSignal,
            ),
            ("application/dtmf-relay", "", InfoDtmfError::MissingSignal),
            ("application/dtmf-relay", "Signal=", invalid("")),
            ("application/dtmf-relay", "Signal=X", invalid("X")),
            ("application/dtmf-relay", "Signal=16", invalid("16")),
            ("application/dtmf-relay", "Signal=55", invalid("55")),
            ("application/dtmf", "", invalid("")),
            ("application/dtmf", "12345", invalid("12345")),
            ("application/dtmf", "é", invalid("é")),
        ];
        for (ct, body, error) in cases {
            assert_eq!(parse_info(ct, body), Err(error), "{ct} {body:?}");
        }
    }
}
