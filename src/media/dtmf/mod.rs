//! DTMF in its three forms: RFC 4733 events, SIP INFO bodies, in-band tones.
//!
//! All three produce the same digit alphabet: `0-9`, `*`, `#`, `A-D` (as `char`).

pub mod inband;
pub mod info;
pub mod rfc4733;

/// The digit for an RFC 4733 event code (0-9, 10 = `*`, 11 = `#`, 12-15 = `A`-`D`).
pub fn event_to_digit(event: u8) -> Option<char> {
    match event {
        0..=9 => Some(char::from(b'0' + event)),
        10 => Some('*'),
        11 => Some('#'),
        12..=15 => Some(char::from(b'A' + event - 12)),
        _ => None,
    }
}

/// The RFC 4733 event code of a digit (inverse of [`event_to_digit`]; lowercase `a-d` accepted).
pub fn digit_to_event(digit: char) -> Option<u8> {
    match digit.to_ascii_uppercase() {
        d @ '0'..='9' => Some(d as u8 - b'0'),
        '*' => Some(10),
        '#' => Some(11),
        d @ 'A'..='D' => Some(d as u8 - b'A' + 12),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    //! Proves the event code <-> digit mapping is the RFC 4733 table and is a bijection on 0-15.
    use super::*;

    #[test]
    fn event_codes_map_to_digits_both_ways() {
        let table = "0123456789*#ABCD";
        for (code, digit) in table.chars().enumerate() {
            assert_eq!(event_to_digit(code as u8), Some(digit));
            assert_eq!(digit_to_event(digit), Some(code as u8));
        }
        assert_eq!(event_to_digit(16), None);
        assert_eq!(digit_to_event('E'), None);
        assert_eq!(digit_to_event('b'), Some(13));
    }
}
