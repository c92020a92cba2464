//! SIP user agent on rsipstack: the only module that touches rsipstack.
