//! Bodies of in-dialog requests we read: INFO DTMF and NOTIFY sipfrag.

/// The digit carried by an INFO body, if its content type is one we take
/// (`application/dtmf-relay`: `Signal=5`, or `application/dtmf`: `5`).
/// Parameters of the content type and case are ignored.
pub fn parse_dtmf_info(content_type: &str, body: &str) -> Option<char> {
    let mime = content_type.split(';').next()?.trim().to_ascii_lowercase();
    let signal = match mime.as_str() {
        "application/dtmf-relay" => body.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            key.trim().eq_ignore_ascii_case("signal").then(|| value.trim())
        })?,
        "application/dtmf" => body.trim(),
        _ => return None,
    };
    digit_of(signal)
}

/// `0-9 * # A-D`, plus the event codes 10 (`*`) and 11 (`#`) some phones send.
fn digit_of(signal: &str) -> Option<char> {
    match signal {
        "10" => return Some('*'),
        "11" => return Some('#'),
        _ => {}
    }
    let mut chars = signal.chars();
    let c = chars.next()?.to_ascii_uppercase();
    if chars.next().is_some() {
        return None;
    }
    matches!(c, '0'..='9' | '*' | '#' | 'A'..='D').then_some(c)
}

/// The status code of a `message/sipfrag` body (RFC 3420) as sent in REFER
/// NOTIFYs: its first line must be a status line, `SIP/2.0 200 OK`.
pub fn parse_sipfrag_status(body: &str) -> Option<u16> {
    let line = body.lines().find(|l| !l.trim().is_empty())?;
    let mut parts = line.split_whitespace();
    if !parts.next()?.eq_ignore_ascii_case("SIP/2.0") {
        return None;
    }
    let code: u16 = parts.next()?.parse().ok()?;
    (100..700).contains(&code).then_some(code)
}

#[cfg(test)]
mod tests {
    //! The INFO and sipfrag parsers accept what phones send and refuse the rest.
    use super::*;

    #[test]
    fn dtmf_info_bodies() {
        let cases: &[(&str, &str, Option<char>)] = &[
            ("application/dtmf-relay", "Signal=5\r\nDuration=160\r\n", Some('5')),
            ("Application/DTMF-Relay; charset=x", "signal= #\r\n", Some('#')),
            ("application/dtmf-relay", "Signal=11\r\nDuration=100", Some('#')),
            ("application/dtmf-relay", "Signal=10", Some('*')),
            ("application/dtmf-relay", "Signal=d", Some('D')),
            ("application/dtmf-relay", "Duration=160", None),
            ("application/dtmf-relay", "Signal=55", None),
            ("application/dtmf-relay", "Signal=x", None),
            ("application/dtmf", "7\r\n", Some('7')),
            ("application/dtmf", "", None),
            ("text/plain", "Signal=5", None),
        ];
        for (content_type, body, expected) in cases {
            assert_eq!(parse_dtmf_info(content_type, body), *expected, "{content_type} {body:?}");
        }
    }

    #[test]
    fn sipfrag_status_lines() {
        let cases: &[(&str, Option<u16>)] = &[
            ("SIP/2.0 200 OK\r\n", Some(200)),
            ("SIP/2.0 100 Trying", Some(100)),
            ("\r\nSIP/2.0 486 Busy Here\r\nContent-Length: 0\r\n", Some(486)),
            ("sip/2.0 603 Decline", Some(603)),
            ("SIP/2.0 99 Odd", None),
            ("INVITE sip:a@b SIP/2.0", None),
            ("", None),
        ];
        for (body, expected) in cases {
            assert_eq!(parse_sipfrag_status(body), *expected, "{body:?}");
        }
    }
}
