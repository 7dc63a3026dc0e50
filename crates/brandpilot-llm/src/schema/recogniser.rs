//! Test-only: a reader for the GBNF subset [`super::to_gbnf`] emits (rules, string
//! literals, character classes, rule references, groups, alternatives, `*`, `+`, `?`,
//! `{m}`, `{m,}`, `{m,n}`), a recogniser that decides by exhaustive backtracking whether a
//! string is a sentence of a grammar, and a random sentence generator.
//!
//! It follows llama.cpp's grammar reader in what it accepts (rule names of ASCII letters,
//! digits and `-`; the escapes `\x \u \U \t \r \n \\ \" \[ \] \-`) and refuses anything else,
//! so a grammar it reads is one llama.cpp would read too.

use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone)]
enum Expression {
    Literal(Vec<char>),
    Class {
        negated: bool,
        ranges: Vec<(char, char)>,
    },
    Rule(String),
    Sequence(Vec<Expression>),
    Alternatives(Vec<Expression>),
    Repeat(Box<Expression>, u64, Option<u64>),
}

#[derive(Debug)]
pub(super) struct Grammar {
    rules: HashMap<String, Expression>,
}

struct Reader<'a> {
    text: &'a [char],
    position: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.text.get(self.position).copied()
    }

    fn skip_spaces(&mut self, newlines: bool) {
        while let Some(character) = self.peek() {
            match character {
                ' ' | '\t' => self.position += 1,
                '\n' | '\r' if newlines => self.position += 1,
                '#' => {
                    while self.peek().is_some_and(|c| c != '\n') {
                        self.position += 1;
                    }
                }
                _ => break,
            }
        }
    }

    fn error(&self, message: &str) -> String {
        let context: String = self.text[self.position..].iter().take(30).collect();
        format!("{message} at {} ({context:?})", self.position)
    }

    fn name(&mut self) -> Result<String, String> {
        let start = self.position;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            self.position += 1;
        }
        if start == self.position {
            return Err(self.error("expected a rule name"));
        }
        Ok(self.text[start..self.position].iter().collect())
    }

    fn hex(&mut self, digits: usize) -> Result<char, String> {
        let end = self.position + digits;
        let text: String = self
            .text
            .get(self.position..end)
            .unwrap_or(&[])
            .iter()
            .collect();
        let code = u32::from_str_radix(&text, 16).map_err(|_| self.error("bad hex escape"))?;
        self.position = end;
        char::from_u32(code).ok_or_else(|| self.error("escape names no character"))
    }

    fn character(&mut self) -> Result<char, String> {
        let Some(character) = self.peek() else {
            return Err(self.error("unexpected end"));
        };
        self.position += 1;
        if character != '\\' {
            return Ok(character);
        }
        let Some(escaped) = self.peek() else {
            return Err(self.error("unexpected end in escape"));
        };
        self.position += 1;
        match escaped {
            'x' => self.hex(2),
            'u' => self.hex(4),
            'U' => self.hex(8),
            't' => Ok('\t'),
            'r' => Ok('\r'),
            'n' => Ok('\n'),
            '\\' | '"' | '[' | ']' | '-' => Ok(escaped),
            _ => Err(self.error("unknown escape")),
        }
    }

    fn count(&mut self) -> Result<u64, String> {
        let start = self.position;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.position += 1;
        }
        let digits: String = self.text[start..self.position].iter().collect();
        digits.parse().map_err(|_| self.error("expected a count"))
    }

    fn alternatives(&mut self, nested: bool) -> Result<Expression, String> {
        let mut alternatives = vec![self.sequence(nested)?];
        while self.peek() == Some('|') {
            self.position += 1;
            self.skip_spaces(true);
            alternatives.push(self.sequence(nested)?);
        }
        Ok(if alternatives.len() == 1 {
            alternatives.remove(0)
        } else {
            Expression::Alternatives(alternatives)
        })
    }

    fn sequence(&mut self, nested: bool) -> Result<Expression, String> {
        let mut elements: Vec<Expression> = Vec::new();
        loop {
            let element = match self.peek() {
                Some('"') => {
                    self.position += 1;
                    let mut characters = Vec::new();
                    while self.peek() != Some('"') {
                        characters.push(self.character()?);
                    }
                    self.position += 1;
                    Expression::Literal(characters)
                }
                Some('[') => {
                    self.position += 1;
                    let negated = self.peek() == Some('^');
                    if negated {
                        self.position += 1;
                    }
                    let mut ranges = Vec::new();
                    while self.peek() != Some(']') {
                        let low = self.character()?;
                        let high = if self.peek() == Some('-')
                            && self.text.get(self.position + 1) != Some(&']')
                        {
                            self.position += 1;
                            self.character()?
                        } else {
                            low
                        };
                        ranges.push((low, high));
                    }
                    self.position += 1;
                    Expression::Class { negated, ranges }
                }
                Some('(') => {
                    self.position += 1;
                    self.skip_spaces(true);
                    let inner = self.alternatives(true)?;
                    if self.peek() != Some(')') {
                        return Err(self.error("expected `)`"));
                    }
                    self.position += 1;
                    inner
                }
                Some(c) if c.is_ascii_alphanumeric() || c == '-' => Expression::Rule(self.name()?),
                Some(quantifier @ ('*' | '+' | '?' | '{')) => {
                    let Some(last) = elements.pop() else {
                        return Err(self.error("a quantifier with nothing before it"));
                    };
                    self.position += 1;
                    let (minimum, maximum) = match quantifier {
                        '*' => (0, None),
                        '+' => (1, None),
                        '?' => (0, Some(1)),
                        _ => {
                            self.skip_spaces(nested);
                            let minimum = self.count()?;
                            self.skip_spaces(nested);
                            let maximum = match self.peek() {
                                Some('}') => Some(minimum),
                                Some(',') => {
                                    self.position += 1;
                                    self.skip_spaces(nested);
                                    if self.peek() == Some('}') {
                                        None
                                    } else {
                                        let maximum = self.count()?;
                                        self.skip_spaces(nested);
                                        Some(maximum)
                                    }
                                }
                                _ => return Err(self.error("expected `}` or `,`")),
                            };
                            if self.peek() != Some('}') {
                                return Err(self.error("expected `}`"));
                            }
                            self.position += 1;
                            // llama.cpp's own limit on one repetition.
                            if minimum > 2000 || maximum.is_some_and(|maximum| maximum > 2000) {
                                return Err(self.error("a repetition llama.cpp refuses"));
                            }
                            (minimum, maximum)
                        }
                    };
                    Expression::Repeat(Box::new(last), minimum, maximum)
                }
                _ => break,
            };
            elements.push(element);
            self.skip_spaces(nested);
        }
        Ok(if elements.len() == 1 {
            elements.remove(0)
        } else {
            Expression::Sequence(elements)
        })
    }
}

impl Grammar {
    /// Reads a grammar; every referenced rule must be defined and `root` must exist.
    pub(super) fn parse(text: &str) -> Result<Self, String> {
        let characters: Vec<char> = text.chars().collect();
        let mut reader = Reader {
            text: &characters,
            position: 0,
        };
        let mut rules = HashMap::new();
        reader.skip_spaces(true);
        while reader.peek().is_some() {
            let name = reader.name()?;
            reader.skip_spaces(false);
            let arrow: String = characters
                .get(reader.position..reader.position + 3)
                .unwrap_or(&[])
                .iter()
                .collect();
            if arrow != "::=" {
                return Err(reader.error("expected `::=`"));
            }
            reader.position += 3;
            reader.skip_spaces(true);
            let body = reader.alternatives(false)?;
            match reader.peek() {
                None | Some('\n') | Some('\r') => {}
                Some(_) => return Err(reader.error("expected the end of the rule")),
            }
            if rules.insert(name.clone(), body).is_some() {
                return Err(format!("rule {name} is defined twice"));
            }
            reader.skip_spaces(true);
        }
        let grammar = Grammar { rules };
        if !grammar.rules.contains_key("root") {
            return Err("no root rule".to_owned());
        }
        for body in grammar.rules.values() {
            grammar.check_references(body)?;
        }
        Ok(grammar)
    }

    fn check_references(&self, expression: &Expression) -> Result<(), String> {
        match expression {
            Expression::Rule(name) if !self.rules.contains_key(name) => {
                Err(format!("rule {name} is used but not defined"))
            }
            Expression::Sequence(elements) | Expression::Alternatives(elements) => elements
                .iter()
                .try_for_each(|element| self.check_references(element)),
            Expression::Repeat(inner, _, _) => self.check_references(inner),
            _ => Ok(()),
        }
    }

    /// Whether `text` is a sentence of the grammar.
    pub(super) fn accepts(&self, text: &str) -> bool {
        let input: Vec<char> = text.chars().collect();
        let mut matcher = Matcher {
            grammar: self,
            input: &input,
            memo: HashMap::new(),
        };
        matcher
            .ends(&Expression::Rule("root".to_owned()), 0)
            .contains(&input.len())
    }

    /// A random sentence; `seed` makes it reproducible.
    pub(super) fn generate(&self, seed: u64) -> String {
        let mut generator = SentenceGenerator {
            grammar: self,
            rng: fastrand::Rng::with_seed(seed),
            output: String::new(),
            depth: 0,
        };
        generator.emit(&Expression::Rule("root".to_owned()));
        generator.output
    }
}

struct Matcher<'a> {
    grammar: &'a Grammar,
    input: &'a [char],
    /// Where each rule can end when it starts at a position; `None` while being computed
    /// (reaching it again would be left recursion).
    memo: HashMap<(String, usize), Option<BTreeSet<usize>>>,
}

impl Matcher<'_> {
    /// Every position a match of `expression` starting at `start` can end at.
    fn ends(&mut self, expression: &Expression, start: usize) -> BTreeSet<usize> {
        match expression {
            Expression::Literal(characters) => {
                let end = start + characters.len();
                if self.input.get(start..end) == Some(characters.as_slice()) {
                    BTreeSet::from([end])
                } else {
                    BTreeSet::new()
                }
            }
            Expression::Class { negated, ranges } => match self.input.get(start) {
                Some(&character)
                    if ranges
                        .iter()
                        .any(|&(low, high)| low <= character && character <= high)
                        != *negated =>
                {
                    BTreeSet::from([start + 1])
                }
                _ => BTreeSet::new(),
            },
            Expression::Rule(name) => {
                let key = (name.clone(), start);
                match self.memo.get(&key) {
                    Some(Some(ends)) => return ends.clone(),
                    Some(None) => panic!("left recursion through rule {name}"),
                    None => {}
                }
                self.memo.insert(key.clone(), None);
                let body = self.grammar.rules[name].clone();
                let ends = self.ends(&body, start);
                self.memo.insert(key, Some(ends.clone()));
                ends
            }
            Expression::Sequence(elements) => {
                let mut positions = BTreeSet::from([start]);
                for element in elements {
                    let mut next = BTreeSet::new();
                    for position in positions {
                        next.extend(self.ends(element, position));
                    }
                    positions = next;
                    if positions.is_empty() {
                        break;
                    }
                }
                positions
            }
            Expression::Alternatives(alternatives) => {
                let mut ends = BTreeSet::new();
                for alternative in alternatives {
                    ends.extend(self.ends(alternative, start));
                }
                ends
            }
            Expression::Repeat(inner, minimum, maximum) => {
                let mut ends = BTreeSet::new();
                if *minimum == 0 {
                    ends.insert(start);
                }
                let mut frontier = BTreeSet::from([start]);
                let mut reached_after_minimum: BTreeSet<usize> = BTreeSet::new();
                let mut count = 0u64;
                while !frontier.is_empty() && maximum.is_none_or(|maximum| count < maximum) {
                    count += 1;
                    let mut next = BTreeSet::new();
                    for position in &frontier {
                        next.extend(self.ends(inner, *position));
                    }
                    if count >= *minimum {
                        // Past the minimum, a position seen before adds nothing new: this
                        // also ends the loop for an unbounded repetition.
                        next.retain(|position| reached_after_minimum.insert(*position));
                        ends.extend(next.iter().copied());
                    }
                    frontier = next;
                }
                ends
            }
        }
    }
}

struct SentenceGenerator<'a> {
    grammar: &'a Grammar,
    rng: fastrand::Rng,
    output: String,
    depth: usize,
}

/// Characters a negated class draws from: plain text, JSON's awkward characters, multi-byte
/// ones and a control character.
const CHARACTER_POOL: &[char] = &[
    'a', 'Z', '0', ' ', '"', '\\', '/', '\n', '\u{1}', '\u{7f}', 'é', '☕', '😀', '{', ':',
];

impl SentenceGenerator<'_> {
    fn emit(&mut self, expression: &Expression) {
        match expression {
            Expression::Literal(characters) => self.output.extend(characters),
            Expression::Class { negated, ranges } => {
                let admitted = |character: char| {
                    ranges
                        .iter()
                        .any(|&(low, high)| low <= character && character <= high)
                        != *negated
                };
                let character = if *negated {
                    let pool: Vec<char> = CHARACTER_POOL
                        .iter()
                        .copied()
                        .filter(|c| admitted(*c))
                        .collect();
                    pool[self.rng.usize(..pool.len())]
                } else {
                    let (low, high) = ranges[self.rng.usize(..ranges.len())];
                    char::from_u32(self.rng.u32(low as u32..=high as u32)).unwrap_or(low)
                };
                self.output.push(character);
            }
            Expression::Rule(name) => {
                self.depth += 1;
                let body = self.grammar.rules[name].clone();
                self.emit(&body);
                self.depth -= 1;
            }
            Expression::Sequence(elements) => {
                elements.iter().for_each(|element| self.emit(element));
            }
            Expression::Alternatives(alternatives) => {
                // Deep down, prefer the first alternatives: in the grammars under test the
                // scalar ones come first, so recursion ends.
                let choice = if self.depth > 40 {
                    0
                } else {
                    self.rng.usize(..alternatives.len())
                };
                self.emit(&alternatives[choice]);
            }
            Expression::Repeat(inner, minimum, maximum) => {
                let extra_limit = if self.depth > 40 { 0 } else { 3 };
                let most = maximum
                    .unwrap_or(minimum + extra_limit)
                    .min(minimum + extra_limit);
                let count = self.rng.u64(*minimum..=most.max(*minimum));
                for _ in 0..count {
                    self.emit(inner);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_recognises_the_subset() {
        let grammar = Grammar::parse(concat!(
            "# a comment\n",
            "root ::= \"a\" ( item \",\" )* [^x\\x00-\\x1F] \"\\\"\" | num{2,3}\n",
            "item ::= [b-d] | \"\\u00e9\"\n",
            "num ::= [0-9]\n",
        ))
        .unwrap();
        for good in ["ay\"", "ab,é,y\"", "12", "123"] {
            assert!(grammar.accepts(good), "{good}");
        }
        for bad in ["ax\"", "a\u{1}\"", "ab,\"", "1", "1234", ""] {
            assert!(!grammar.accepts(bad), "{bad}");
        }
    }

    #[test]
    fn refuses_what_llama_cpp_refuses() {
        assert!(Grammar::parse("root ::= undefined\n").is_err());
        assert!(Grammar::parse("other ::= \"a\"\n").is_err());
        assert!(Grammar::parse("root ::= \"\\q\"\n").is_err());
        assert!(Grammar::parse("root_rule ::= \"a\"\nroot ::= \"a\"\n").is_err());
        assert!(Grammar::parse("root ::= \"a\"{0,5000}\n").is_err());
    }
}
