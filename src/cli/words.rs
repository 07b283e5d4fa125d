//! clap's parser of a word argument (`--cause us`, `--fit off-target` …):
//! parsed by the word enum's own `FromStr` (so the messages stay ours), and
//! telling clap the words, so that `--help` lists them and the completion
//! scripts offer them instead of file names (issue 12.6).

use std::ffi::OsStr;
use std::str::FromStr;

use clap::builder::{PossibleValue, StringValueParser, TypedValueParser};

/// A `TypedValueParser` for a word enum `T` whose words are `words`.
#[derive(Clone)]
pub struct Words<T> {
    words: &'static [&'static str],
    _t: std::marker::PhantomData<fn() -> T>,
}

/// The parser of `--cause`, `--fit`, `--kind` …: `words::<Cause>(Cause::WORDS)`.
pub fn words<T>(words: &'static [&'static str]) -> Words<T> {
    Words {
        words,
        _t: std::marker::PhantomData,
    }
}

impl<T> TypedValueParser for Words<T>
where
    T: FromStr + Clone + Send + Sync + 'static,
    T::Err: Into<Box<dyn std::error::Error + Send + Sync + 'static>>,
{
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<T, clap::Error> {
        // Through clap's own adapter: the same "invalid value 'x' for
        // '--cause <CAUSE>': …" as before, with our words after it.
        StringValueParser::new()
            .try_map(|s| s.parse::<T>())
            .parse_ref(cmd, arg, value)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(self.words.iter().map(|w| PossibleValue::new(*w))))
    }
}
