//! Bodies of in-dialog requests we read: NOTIFY sipfrag (INFO DTMF bodies are
//! parsed by [`crate::media::dtmf::info`]).

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
    //! The sipfrag parser reads the status line REFER NOTIFYs carry and refuses the rest.
    use super::*;

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
