//! DTMF in its three forms: RFC 4733 events, SIP INFO bodies, in-band tones.
