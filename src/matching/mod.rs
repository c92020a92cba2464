//! From recognised text or keypad digits to directory entries.

use crate::directory::EntryId;

/// What the attendant should do with a recognition result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// Confident: transfer at once.
    Transfer(EntryId),
    /// Probably this entry: ask "Did you mean …?".
    Confirm(EntryId),
    /// Several entries share the name: offer a menu of them.
    Disambiguate(Vec<EntryId>),
    /// Nothing usable.
    NoMatch,
}
