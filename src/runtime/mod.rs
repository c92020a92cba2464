//! IO tasks: the server, and one task per call driving its [`crate::flow::Call`].
