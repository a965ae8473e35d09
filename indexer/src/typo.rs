//! One typo in a Latin word, the first letter kept: `Lanzohu` finds `lanzhou`.
//!
//! tantivy's `FuzzyTermQuery` runs a Levenshtein automaton from the root of the field's term
//! dictionary. Its first step accepts any byte (a typo may be anywhere), so it walks into
//! every branch of the dictionary, and a title dictionary of a Chinese catalogue is mostly
//! CJK characters and words: on the 345,000-poem corpus that walk was 37 % of the CPU of a
//! search load (issue #16). Like Lucene's and Elasticsearch's `prefix_length`, [`TypoQuery`]
//! requires the first letter to be right and runs the automaton on the rest only, so the
//! walk stays inside the dictionary's branch of that letter. What that gives up: a typo in
//! the first letter (`aLnzhou`), which people make least.

use std::sync::{Arc, LazyLock};

use levenshtein_automata::{DFA, Distance, LevenshteinAutomatonBuilder, SINK_STATE};
use tantivy::query::{AutomatonWeight, EnableScoring, Query, Weight};
use tantivy::schema::Field;

/// Building the automaton builder is costly (it precomputes the transitions of distance 1
/// with transpositions); it is built once.
static BUILDER: LazyLock<LevenshteinAutomatonBuilder> =
    LazyLock::new(|| LevenshteinAutomatonBuilder::new(1, true));

/// Matches the terms of `field` that start with the word's first byte and are within one
/// edit (a transposition counts as one) of the word after it; scores like tantivy's fuzzy
/// query (a constant, boosted by the caller).
#[derive(Clone, Debug)]
pub(crate) struct TypoQuery {
    field: Field,
    word: String,
}

impl TypoQuery {
    /// The typo query of `word` in `field`; `word` should be at least two bytes long.
    pub(crate) fn new(field: Field, word: &str) -> TypoQuery {
        TypoQuery {
            field,
            word: word.to_string(),
        }
    }
}

impl Query for TypoQuery {
    fn weight(&self, _: EnableScoring<'_>) -> tantivy::Result<Box<dyn Weight>> {
        let (first, rest) = match self.word.as_bytes().split_first() {
            Some((first, _)) => (*first, self.word.get(1..).unwrap_or_default()),
            None => (0, ""),
        };
        let automaton = FirstByteThenTypo {
            first,
            rest: BUILDER.build_dfa(rest),
        };
        Ok(Box::new(AutomatonWeight::<FirstByteThenTypo>::new(
            self.field,
            Arc::new(automaton),
        )))
    }
}

/// The automaton: the first byte exactly, then the Levenshtein DFA of the rest.
struct FirstByteThenTypo {
    first: u8,
    rest: DFA,
}

/// Where the automaton is: before the first byte, or in the DFA.
#[derive(Clone, Copy)]
enum State {
    First,
    Rest(u32),
}

impl tantivy_fst::Automaton for FirstByteThenTypo {
    type State = State;

    fn start(&self) -> State {
        State::First
    }

    fn is_match(&self, state: &State) -> bool {
        match state {
            State::First => false,
            State::Rest(s) => matches!(self.rest.distance(*s), Distance::Exact(_)),
        }
    }

    fn can_match(&self, state: &State) -> bool {
        match state {
            State::First => true,
            State::Rest(s) => *s != SINK_STATE,
        }
    }

    fn accept(&self, state: &State, byte: u8) -> State {
        match state {
            State::First if byte == self.first => State::Rest(self.rest.initial_state()),
            State::First => State::Rest(SINK_STATE),
            State::Rest(s) => State::Rest(self.rest.transition(*s, byte)),
        }
    }
}

#[cfg(test)]
mod tests {
    use tantivy_fst::Automaton;

    use super::*;

    fn matches(word: &str, term: &str) -> bool {
        let query = FirstByteThenTypo {
            first: word.as_bytes()[0],
            rest: BUILDER.build_dfa(&word[1..]),
        };
        let mut state = query.start();
        for &byte in term.as_bytes() {
            if !query.can_match(&state) {
                return false;
            }
            state = query.accept(&state, byte);
        }
        query.is_match(&state)
    }

    #[test]
    fn one_edit_after_the_first_letter() {
        assert!(matches("lanzohu", "lanzhou"));
        assert!(matches("lanzhou", "lanzhou"));
        assert!(matches("lanzhouu", "lanzhou"));
        assert!(matches("lnzhou", "lanzhou"));
        assert!(!matches("lnzohu", "lanzhou"));
        assert!(!matches("aanzhou", "lanzhou"));
        assert!(!matches("lanzhou", "兰州"));
    }
}
