//! Keypad name search (issue 3): the caller spells the first letters of a
//! name on the keypad (`2` = abc … `9` = wxyz) and presses `#`.
//!
//! ```text
//!   Menu ─spell key─► Spelling ─#, InterDigit─► search
//!                      │ * ─► Menu               one entry ────► Transferring
//!                      │ 0 ─► operator           2 to 9 ───────► ChoosingName ─key n─► Transferring
//!                      │                         none, too many, # alone, silence:
//!                      │                           retry counted, Spelling again;
//!                      │                           past max_retries: the operator
//! ```
//!
//! # How a caller gets here
//! The store's settings name a menu key, [`FlowSettings::spell_key`] (`1`-`9`,
//! off by default), and the call is given a [`NameSearch`] over its directory
//! version ([`Call::with_name_search`]). A settings key rather than a new kind
//! of menu option: it needs no schema change, a fleet can turn it on for every
//! store in the configuration, and a store can override it like any other flow
//! setting. The key is resolved with the menu's keys ([`super::digits`]): the
//! operator `0` and the store's own menu options win over it, an extension
//! that starts with it makes the call wait for more digits. A key pressed while
//! speech is asking for a name goes to the menu, so the spell key works there
//! too. Speech does not fall back to spelling: it falls back to the menu, which
//! offers the key along with departments that spelling would not suggest.
//!
//! # Spelling
//! `[SpellName]` plays; `NoInput` is armed when it ends. Keys `2`-`9` collect
//! digits (barging in), each arming `InterDigit`; `#` or `InterDigit` ends the
//! entry and searches. `*` goes back to the menu (no retry spent: the caller
//! asked for it), `0` goes to the operator. `1` and `A`-`D` carry no letters:
//! they are reported as ignored and change nothing.
//!
//! The search ([`NameSearch::keypad_search`]) matches the start of any word of
//! an enabled entry's name ("627" finds "Marc" and "Martin"); entries that are
//! disabled in the call's directory are dropped. One entry: transfer, after
//! `[Transferring]`. Two to nine: `[NamesMatch, DisambiguationOption…]`, and
//! key `n` picks the n-th. None (`NoNameMatch`), more than nine
//! (`TooManyNames`), `#` alone (`InvalidChoice`) and silence (`NoInput`) each
//! spend a retry of the call (the menu's count) and play `[cause, SpellName]`;
//! past `max_retries` the call goes to the operator after `[cause, Transferring]`.
//!
//! # Choosing among matches
//! Key `n` of the offered ones transfers; `*` replays the choices; `#` spells
//! again (no retry: none of them was the one); `0` is the operator; any other
//! key, or silence, spends a retry and asks to spell again.

use std::fmt;

use crate::directory::EntryId;

use super::call::Call;
use super::digits::{Choice, KeyAction};
use super::speech::{MAX_OPTIONS, key_index};
use super::state::State;
use super::{CallEvent, Input, Prompt, TimerKind};

#[cfg(doc)]
use super::FlowSettings;

/// Finds entries by the keypad digits of their names' first letters: the seam
/// between the flow and the name index (`crate::matching::NameIndex` in
/// production), so that the flow builds no index and does no IO.
pub trait NameSearch: fmt::Debug + Send + Sync {
    /// Entries one of whose name words starts with letters typed as `digits`
    /// (`2`-`9`), in a stable order (the order they are offered in).
    fn keypad_search(&self, digits: &str) -> Vec<EntryId>;
}

/// A key of the DTMF menu that settings can give a function: `1` to `9`
/// (`0` is the operator, `*` and `#` edit the entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "char", into = "char")]
pub struct MenuKey(char);

/// A [`MenuKey`] that is not `1`-`9`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a menu key is one of 1 to 9, not {key:?}")]
pub struct InvalidMenuKey {
    pub key: char,
}

impl MenuKey {
    /// The key `key`, if it is `1`-`9`.
    pub fn new(key: char) -> Result<MenuKey, InvalidMenuKey> {
        if matches!(key, '1'..='9') {
            Ok(MenuKey(key))
        } else {
            Err(InvalidMenuKey { key })
        }
    }

    /// The key's digit.
    pub fn digit(self) -> char {
        self.0
    }
}

impl TryFrom<char> for MenuKey {
    type Error = InvalidMenuKey;

    fn try_from(key: char) -> Result<MenuKey, InvalidMenuKey> {
        MenuKey::new(key)
    }
}

impl From<MenuKey> for char {
    fn from(key: MenuKey) -> char {
        key.0
    }
}

/// Construction and the handlers of keypad name search.
impl Call {
    /// Lets the call search names by keypad with `search` when
    /// `FlowSettings::spell_key` is set. Call before the first input.
    #[must_use]
    pub fn with_name_search(mut self, search: std::sync::Arc<dyn NameSearch>) -> Call {
        self.name_search = Some(search);
        let spell_key = self.settings.spell_key.map(MenuKey::digit);
        self.keys = super::digits::KeyMap::new(&self.directory, spell_key);
        self
    }

    /// Whether this call offers keypad name search.
    pub fn spelling_active(&self) -> bool {
        self.settings.spell_key.is_some() && self.name_search.is_some()
    }

    /// A complete menu entry selected `choice`.
    pub(super) fn take_choice(&mut self, choice: &Choice, retries: u32) {
        match &choice.action {
            KeyAction::Transfer(_) => self.start_choice_transfer(choice, retries),
            KeyAction::SpellName => {
                self.play(vec![Prompt::SpellName]);
                self.set_state(State::Spelling {
                    retries,
                    digits: String::new(),
                });
            }
        }
    }

    /// A key while spelling or choosing among matches.
    pub(super) fn on_spelling_digit(&mut self, digit: char, input: &Input) {
        match &self.state {
            State::Spelling { retries, digits } => {
                let (retries, mut digits) = (*retries, digits.clone());
                if !matches!(digit, '0' | '2'..='9' | '*' | '#') {
                    // No letters on this key: nothing to add, nothing to stop.
                    return self.ignore(input);
                }
                self.stop_playback();
                self.stop_dialog_timers();
                match digit {
                    '*' => {
                        self.play(vec![Prompt::Menu]);
                        self.set_state(State::Menu {
                            retries,
                            digits: String::new(),
                        });
                    }
                    '#' => self.search_spelled(retries, digits),
                    '0' => self.transfer_to_operator(retries),
                    _ => {
                        digits.push(digit);
                        self.arm(TimerKind::InterDigit);
                        self.set_state(State::Spelling { retries, digits });
                    }
                }
            }
            State::ChoosingName { entries, retries } => {
                let (entries, retries) = (entries.clone(), *retries);
                self.stop_playback();
                self.stop_dialog_timers();
                match (digit, key_index(digit, entries.len())) {
                    (_, Some(index)) => match self.entry_target(entries[index]) {
                        Some(target) => self.start_entry_transfer(entries[index], target, retries),
                        // Offered entries were checked when offered; the directory is fixed.
                        None => self.spelling_retry(retries, Prompt::InvalidChoice),
                    },
                    ('*', None) => self.play(choice_prompts(&entries)),
                    ('#', None) => {
                        self.play(vec![Prompt::SpellName]);
                        self.set_state(State::Spelling {
                            retries,
                            digits: String::new(),
                        });
                    }
                    ('0', None) => self.transfer_to_operator(retries),
                    (_, None) => {
                        self.event(CallEvent::InvalidChoice(digit.to_string()));
                        self.spelling_retry(retries, Prompt::InvalidChoice);
                    }
                }
            }
            // Only the two states above route keys here.
            _ => self.ignore(input),
        }
    }

    /// `NoInput` or `InterDigit` fired while spelling or choosing. Returns
    /// whether it applied to the state.
    pub(super) fn on_spelling_timer(&mut self, kind: TimerKind) -> bool {
        match (kind, &self.state) {
            (TimerKind::NoInput, State::Spelling { retries, digits }) if digits.is_empty() => {
                self.spelling_retry(*retries, Prompt::NoInput);
            }
            (TimerKind::NoInput, State::ChoosingName { retries, .. }) => {
                self.spelling_retry(*retries, Prompt::NoInput);
            }
            (TimerKind::InterDigit, State::Spelling { retries, digits }) if !digits.is_empty() => {
                let (retries, digits) = (*retries, digits.clone());
                self.search_spelled(retries, digits);
            }
            _ => return false,
        }
        true
    }

    /// The spelled entry ends: search, then transfer, offer, or ask again.
    fn search_spelled(&mut self, retries: u32, digits: String) {
        self.event(CallEvent::DigitsCollected(digits.clone()));
        if digits.is_empty() {
            self.event(CallEvent::InvalidChoice(digits));
            return self.spelling_retry(retries, Prompt::InvalidChoice);
        }
        let found = match &self.name_search {
            Some(search) => search.keypad_search(&digits),
            // Spelling is only entered with a search present.
            None => Vec::new(),
        };
        let mut entries: Vec<EntryId> = Vec::new();
        for entry in found {
            if self.entry_target(entry).is_some() && !entries.contains(&entry) {
                entries.push(entry);
            }
        }
        self.event(CallEvent::KeypadSearch {
            digits,
            entries: entries.clone(),
        });
        match entries.as_slice() {
            [] => self.spelling_retry(retries, Prompt::NoNameMatch),
            [entry] => match self.entry_target(*entry) {
                Some(target) => self.start_entry_transfer(*entry, target, retries),
                // Checked just above.
                None => self.spelling_retry(retries, Prompt::NoNameMatch),
            },
            several if several.len() <= MAX_OPTIONS => {
                self.play(choice_prompts(several));
                self.set_state(State::ChoosingName { entries, retries });
            }
            _ => self.spelling_retry(retries, Prompt::TooManyNames),
        }
    }

    /// Spell again after `cause`, or go to the operator when retries run out.
    fn spelling_retry(&mut self, retries: u32, cause: Prompt) {
        self.spend_retry(retries, cause, |retries| {
            (
                Prompt::SpellName,
                State::Spelling {
                    retries,
                    digits: String::new(),
                },
            )
        });
    }

    /// `0`: the operator, as everywhere in the menu.
    fn transfer_to_operator(&mut self, retries: u32) {
        self.event(CallEvent::DigitsCollected("0".to_owned()));
        let operator = self.directory.store.operator.clone();
        self.start_transfer(operator, retries, None);
    }
}

/// "Several names match", then one option per entry, keys from `1`.
fn choice_prompts(entries: &[EntryId]) -> Vec<Prompt> {
    let options = entries
        .iter()
        .zip('1'..='9')
        .map(|(&entry, key)| Prompt::DisambiguationOption { key, entry });
    std::iter::once(Prompt::NamesMatch).chain(options).collect()
}
