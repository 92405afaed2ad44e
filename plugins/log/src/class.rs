//! `class CLASSES...`: which kinds of reply a rule logs.

use plugin::classify::ReplyClass;

/// A set of reply classes; `all` is its own member, as in CoreDNS (`class all denial` logs
/// everything).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClassSet {
    bits: u8,
}

const ALL: u8 = 1;
const SUCCESS: u8 = 2;
const DENIAL: u8 = 4;
const ERROR: u8 = 8;

/// A word after `class` that is not a class; displays as CoreDNS's `invalid Class: X`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid Class: {0}")]
pub struct InvalidClass(pub String);

impl ClassSet {
    /// Every reply (no `class` given).
    pub const ALL: ClassSet = ClassSet { bits: ALL };

    pub fn is_empty(self) -> bool {
        self.bits == 0
    }

    /// Adds `all`, `success`, `denial` or `error` (case-sensitive, as CoreDNS).
    pub fn add(&mut self, word: &str) -> Result<(), InvalidClass> {
        self.bits |= match word {
            "all" => ALL,
            "success" => SUCCESS,
            "denial" => DENIAL,
            "error" => ERROR,
            _ => return Err(InvalidClass(word.to_string())),
        };
        Ok(())
    }

    pub fn from_words<S: AsRef<str>>(words: &[S]) -> Result<ClassSet, InvalidClass> {
        let mut set = ClassSet::default();
        for word in words {
            set.add(word.as_ref())?;
        }
        Ok(set)
    }

    pub fn contains(self, class: ReplyClass) -> bool {
        let bit = match class {
            ReplyClass::Success => SUCCESS,
            ReplyClass::Denial => DENIAL,
            ReplyClass::Error => ERROR,
        };
        self.bits & (ALL | bit) != 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_contains_every_class() {
        let classes = [ReplyClass::Success, ReplyClass::Denial, ReplyClass::Error];
        for words in [&["all"][..], &["all", "denial"]] {
            let set = ClassSet::from_words(words).unwrap();
            assert!(classes.iter().all(|c| set.contains(*c)), "{words:?}");
        }
    }

    #[test]
    fn a_union_contains_its_members_only() {
        let set = ClassSet::from_words(&["denial", "error"]).unwrap();
        assert!(!set.contains(ReplyClass::Success));
        assert!(set.contains(ReplyClass::Denial));
        assert!(set.contains(ReplyClass::Error));
    }

    #[test]
    fn unknown_words_are_rejected() {
        assert_eq!(
            ClassSet::from_words(&["success", "Denial"]),
            Err(InvalidClass("Denial".into()))
        );
        assert_eq!(InvalidClass("x".into()).to_string(), "invalid Class: x");
    }
}
