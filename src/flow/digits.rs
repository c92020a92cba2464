//! What keypad digits select: menu keys, extensions typed directly, `0` for the
//! operator, and the spell key (keypad name search) when a store has one.
//!
//! A [`KeyMap`] is built once per call from its [`Directory`] (a call keeps its
//! directory version), so resolving digits is a map lookup.
//!
//! # Collisions
//! One digit string selects at most one thing. When several claim the same string,
//! the more general one wins: `0` is always the store's operator, then a menu key,
//! then the spell key, then an extension (the first enabled entry in directory
//! order). Disabled entries and empty extensions are not reachable. The spell key
//! comes from settings, possibly fleet-wide, and a menu option is the store's
//! own choice: a store that puts an option on the same digit keeps its option.
//!
//! A menu key that is also the start of a longer extension (key `1`, extension `12`)
//! gets no priority: the caller may be typing the extension, so the call waits for
//! another digit, `#` or the inter-digit timeout, and only then takes the key.
//! Stores that want their menu keys to act at once should not give extensions that
//! start with a menu key (the same holds for `0` and extensions starting with `0`).

use std::collections::BTreeMap;
use std::ops::Bound;

use crate::directory::{Directory, EntryId, TransferTarget};

/// What a complete digit string selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Choice {
    /// What the call does.
    pub(crate) action: KeyAction,
    /// How the caller got there (for tests and logs).
    pub(crate) via: ChoiceVia,
}

/// What selecting a [`Choice`] does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum KeyAction {
    /// Transfer the call there.
    Transfer(TransferTarget),
    /// Start a keypad name search (`flow::spelling`).
    SpellName,
}

/// Which rule of the key map selected a [`Choice`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ChoiceVia {
    Operator,
    MenuKey(char),
    SpellKey(char),
    Extension(EntryId),
}

/// Result of looking up the digits collected so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lookup<'a> {
    /// The digits select this and nothing longer starts with them: act at once.
    Complete(&'a Choice),
    /// Something longer starts with the digits: wait for more, `#` or the
    /// inter-digit timeout. `exact` is what they select if entry stops here.
    Pending { exact: Option<&'a Choice> },
    /// Nothing is or starts with these digits: an invalid choice, no need to wait.
    NoMatch,
}

/// Digit strings a caller can type, and what each selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct KeyMap {
    keys: BTreeMap<String, Choice>,
}

/// The key that always selects the store's operator.
pub(crate) const OPERATOR_KEY: &str = "0";

impl KeyMap {
    /// The keys of this directory (and the spell key, if any), collisions
    /// settled as the module docs say.
    pub(crate) fn new(directory: &Directory, spell_key: Option<char>) -> KeyMap {
        let mut keys = BTreeMap::new();
        // Lowest priority first, each later rule overwriting: extensions (first
        // entry kept), then the spell key, then menu keys, then the operator.
        for entry in directory.entries.iter().filter(|entry| entry.enabled) {
            let Some(extension) = entry.extension.as_deref().filter(|ext| !ext.is_empty()) else {
                continue;
            };
            keys.entry(extension.to_owned()).or_insert_with(|| Choice {
                action: KeyAction::Transfer(entry.target.clone()),
                via: ChoiceVia::Extension(entry.id),
            });
        }
        if let Some(key) = spell_key {
            keys.insert(
                key.to_string(),
                Choice {
                    action: KeyAction::SpellName,
                    via: ChoiceVia::SpellKey(key),
                },
            );
        }
        for option in &directory.menu {
            keys.insert(
                option.digit.to_string(),
                Choice {
                    action: KeyAction::Transfer(option.target.clone()),
                    via: ChoiceVia::MenuKey(option.digit),
                },
            );
        }
        keys.insert(
            OPERATOR_KEY.to_owned(),
            Choice {
                action: KeyAction::Transfer(directory.store.operator.clone()),
                via: ChoiceVia::Operator,
            },
        );
        KeyMap { keys }
    }

    /// Where the digits collected so far stand.
    pub(crate) fn lookup(&self, digits: &str) -> Lookup<'_> {
        let exact = self.keys.get(digits);
        // Keys that start with `digits` sort right after it, so the first key
        // greater than `digits` tells whether any longer key starts with it.
        let longer = self
            .keys
            .range::<str, _>((Bound::Excluded(digits), Bound::Unbounded))
            .next()
            .is_some_and(|(key, _)| key.starts_with(digits));
        match (exact, longer) {
            (_, true) => Lookup::Pending { exact },
            (Some(choice), false) => Lookup::Complete(choice),
            (None, false) => Lookup::NoMatch,
        }
    }

    /// What the digits select when entry ends (`#` or inter-digit timeout).
    pub(crate) fn exact(&self, digits: &str) -> Option<&Choice> {
        self.keys.get(digits)
    }
}

#[cfg(test)]
mod tests {
    //! Digit resolution: prefixes wait, exact unique matches act, collisions follow the documented priority.

    use super::*;
    use crate::flow::tests::harness::{directory, ext};

    /// [`Lookup`] with owned choices, so that expectations can be built inline.
    #[derive(Debug, PartialEq)]
    enum Owned {
        Complete(Choice),
        Pending(Option<Choice>),
        NoMatch,
    }

    fn owned(lookup: Lookup<'_>) -> Owned {
        match lookup {
            Lookup::Complete(choice) => Owned::Complete(choice.clone()),
            Lookup::Pending { exact } => Owned::Pending(exact.cloned()),
            Lookup::NoMatch => Owned::NoMatch,
        }
    }

    #[test]
    fn lookup_follows_prefix_rules() {
        let keys = KeyMap::new(&directory(), None);
        let menu = |digit: char, target: &str| Choice {
            action: KeyAction::Transfer(ext(target)),
            via: ChoiceVia::MenuKey(digit),
        };
        let entry = |id: i64, target: &str| Choice {
            action: KeyAction::Transfer(ext(target)),
            via: ChoiceVia::Extension(EntryId(id)),
        };
        let operator = Choice {
            action: KeyAction::Transfer(ext("9000")),
            via: ChoiceVia::Operator,
        };
        let cases = [
            ("operator key acts at once", "0", Owned::Complete(operator)),
            (
                "menu key acts at once",
                "2",
                Owned::Complete(menu('2', "202")),
            ),
            (
                "menu key beats an equal extension",
                "5",
                Owned::Complete(menu('5', "205")),
            ),
            (
                "menu key that starts an extension waits",
                "1",
                Owned::Pending(Some(menu('1', "201"))),
            ),
            (
                "the longer extension completes",
                "12",
                Owned::Complete(entry(3, "12")),
            ),
            ("prefix of extensions only waits", "3", Owned::Pending(None)),
            // Entries 1 and 6 both have extension 31: the first one wins.
            (
                "exact extension that starts a longer one waits",
                "31",
                Owned::Pending(Some(entry(1, "31"))),
            ),
            (
                "longest extension completes",
                "315",
                Owned::Complete(entry(2, "315")),
            ),
            ("past the longest extension", "3150", Owned::NoMatch),
            ("disabled entry is unreachable", "4", Owned::NoMatch),
            ("unknown key", "9", Owned::NoMatch),
            ("letters select nothing", "A", Owned::NoMatch),
        ];
        for (name, digits, expected) in cases {
            assert_eq!(owned(keys.lookup(digits)), expected, "{name}: {digits:?}");
        }
        assert_eq!(keys.exact("1"), Some(&menu('1', "201")));
        assert_eq!(keys.exact("3"), None);
    }

    #[test]
    fn operator_key_waits_when_an_extension_starts_with_zero() {
        let mut directory = directory();
        directory.entries[0].extension = Some("07".into());
        let keys = KeyMap::new(&directory, None);
        let operator = Choice {
            action: KeyAction::Transfer(ext("9000")),
            via: ChoiceVia::Operator,
        };
        assert_eq!(
            keys.lookup("0"),
            Lookup::Pending {
                exact: Some(&operator)
            }
        );
        assert_eq!(
            keys.lookup("07"),
            Lookup::Complete(&Choice {
                action: KeyAction::Transfer(ext("31")),
                via: ChoiceVia::Extension(EntryId(1))
            })
        );
    }

    #[test]
    fn operator_key_beats_an_extension_zero() {
        let mut directory = directory();
        directory.entries[0].extension = Some("0".into());
        let keys = KeyMap::new(&directory, None);
        assert_eq!(
            keys.exact("0").map(|choice| choice.via),
            Some(ChoiceVia::Operator)
        );
    }

    #[test]
    fn spell_key_ranks_below_menu_keys_and_above_extensions() {
        let spell = |key: char| Choice {
            action: KeyAction::SpellName,
            via: ChoiceVia::SpellKey(key),
        };
        let cases = [
            ("free key acts at once", '9', "9", Owned::Complete(spell('9'))),
            (
                "a menu option on the same digit wins",
                '2',
                "2",
                Owned::Complete(Choice {
                    action: KeyAction::Transfer(ext("202")),
                    via: ChoiceVia::MenuKey('2'),
                }),
            ),
            (
                "a key that starts extensions waits",
                '3',
                "3",
                Owned::Pending(Some(spell('3'))),
            ),
            (
                "the operator is never the spell key",
                '9',
                "0",
                Owned::Complete(Choice {
                    action: KeyAction::Transfer(ext("9000")),
                    via: ChoiceVia::Operator,
                }),
            ),
        ];
        for (name, key, digits, expected) in cases {
            let keys = KeyMap::new(&directory(), Some(key));
            assert_eq!(owned(keys.lookup(digits)), expected, "{name}");
        }
        assert_eq!(
            KeyMap::new(&directory(), Some('3')).exact("31").map(|c| c.via),
            Some(ChoiceVia::Extension(EntryId(1))),
            "extensions starting with the spell key stay reachable"
        );
    }
}
