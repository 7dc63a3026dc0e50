//! GBNF expressions for numbers within bounds: the digit strings of every integer in a
//! range (no leading zeros), and from them bounded integers and bounded decimals. Every
//! number has at most [`MAX_DIGITS`] digits before and after the point, so a model cannot
//! write digits forever.
//!
//! Expressions returned here are safe to use as one element of a sequence: anything with
//! alternatives comes parenthesised.

/// The most digits a generated number has in its integer part, and in its fraction.
pub(super) const MAX_DIGITS: u32 = 16;

/// The largest integer part a generated number can have.
pub(super) const MAX_MAGNITUDE: u64 = 10u64.pow(MAX_DIGITS) - 1;

/// Integers in `low..=high`, each bound already within `±MAX_MAGNITUDE`.
pub(super) fn integer_range(low: i128, high: i128) -> String {
    let mut alternatives = Vec::new();
    if high >= 0 {
        alternatives.push(digits_in_range(magnitude(low.max(0)), magnitude(high)));
    }
    if low < 0 {
        // Negative zero is left out: `0` already covers it.
        let (smallest, largest) = (magnitude((-high).max(1)), magnitude(-low));
        alternatives.push(sequence(&[
            "\"-\"".to_owned(),
            digits_in_range(smallest, largest),
        ]));
    }
    any_of(alternatives)
}

/// Decimal numbers (no exponent) in `low..=high`, bounds integral and within
/// `±MAX_MAGNITUDE`.
pub(super) fn decimal_range(low: i128, high: i128) -> String {
    let mut alternatives = Vec::new();
    if high >= 0 {
        alternatives.push(decimal_magnitudes(magnitude(low.max(0)), magnitude(high)));
    }
    if low < 0 {
        // `-y` lies in the range for every `y` from `max(-high, 0)` to `-low`.
        let (smallest, largest) = (magnitude((-high).max(0)), magnitude(-low));
        alternatives.push(sequence(&[
            "\"-\"".to_owned(),
            decimal_magnitudes(smallest, largest),
        ]));
    }
    any_of(alternatives)
}

/// Non-negative decimals `y` with `low <= y <= high`: any fraction after an integer part
/// below `high`, only zeros after `high` itself.
fn decimal_magnitudes(low: u64, high: u64) -> String {
    let fraction = format!("( \".\" [0-9]{{1,{MAX_DIGITS}}} )?");
    let zero_fraction = format!("( \".\" \"0\"{{1,{MAX_DIGITS}}} )?");
    if low == high {
        return sequence(&[digits_in_range(high, high), zero_fraction]);
    }
    any_of(vec![
        sequence(&[digits_in_range(low, high - 1), fraction]),
        sequence(&[digits_in_range(high, high), zero_fraction]),
    ])
}

fn magnitude(value: i128) -> u64 {
    u64::try_from(value.clamp(0, i128::from(MAX_MAGNITUDE))).unwrap_or(MAX_MAGNITUDE)
}

/// The decimal digits of every integer in `low..=high` (`low <= high`), without leading
/// zeros: one alternative per digit count, the counts whose whole span is covered merged.
pub(super) fn digits_in_range(low: u64, high: u64) -> String {
    let mut alternatives = Vec::new();
    // Digit counts (of at least two digits) entirely inside the range, not yet emitted.
    let mut full_counts: Option<(u32, u32)> = None;
    let flush = |full_counts: &mut Option<(u32, u32)>, alternatives: &mut Vec<String>| {
        if let Some((first, last)) = full_counts.take() {
            let rest = if first == last {
                repeat_digits(first - 1)
            } else {
                format!("[0-9]{{{},{}}}", first - 1, last - 1)
            };
            alternatives.push(format!("[1-9] {rest}"));
        }
    };
    for count in digit_count(low)..=digit_count(high) {
        let span_start = if count == 1 { 0 } else { 10u64.pow(count - 1) };
        let span_end = 10u64.pow(count) - 1;
        let (from, to) = (low.max(span_start), high.min(span_end));
        if count >= 2 && from == span_start && to == span_end {
            full_counts = Some(match full_counts {
                Some((first, _)) => (first, count),
                None => (count, count),
            });
            continue;
        }
        flush(&mut full_counts, &mut alternatives);
        alternatives.push(same_length(
            from.to_string().as_bytes(),
            to.to_string().as_bytes(),
        ));
    }
    flush(&mut full_counts, &mut alternatives);
    any_of(alternatives)
}

fn digit_count(value: u64) -> u32 {
    value.checked_ilog10().unwrap_or(0) + 1
}

/// Digit strings of one length between `low` and `high` inclusive: split on the first digit
/// into the strings that start like `low`, the ones strictly between, and the ones that
/// start like `high`.
fn same_length(low: &[u8], high: &[u8]) -> String {
    if low.is_empty() {
        return String::new();
    }
    if low == high {
        return literal_digits(low);
    }
    let (first_low, first_high) = (low[0], high[0]);
    let (rest_low, rest_high) = (&low[1..], &high[1..]);
    let rest_length = rest_low.len();
    if first_low == first_high {
        return sequence(&[literal_digits(&low[..1]), same_length(rest_low, rest_high)]);
    }
    let low_rest_is_smallest = rest_low.iter().all(|&digit| digit == b'0');
    let high_rest_is_largest = rest_high.iter().all(|&digit| digit == b'9');
    let mut alternatives = Vec::new();
    let mut middle_start = first_low;
    let mut middle_end = first_high;
    if !low_rest_is_smallest {
        let nines = vec![b'9'; rest_length];
        alternatives.push(sequence(&[
            literal_digits(&low[..1]),
            same_length(rest_low, &nines),
        ]));
        middle_start += 1;
    }
    if !high_rest_is_largest {
        middle_end -= 1;
    }
    if middle_start <= middle_end {
        let first = if middle_start == middle_end {
            literal_digits(&[middle_start])
        } else {
            format!("[{}-{}]", middle_start as char, middle_end as char)
        };
        alternatives.push(sequence(&[first, repeat_digits(rest_length as u32)]));
    }
    if !high_rest_is_largest {
        let zeros = vec![b'0'; rest_length];
        alternatives.push(sequence(&[
            literal_digits(&high[..1]),
            same_length(&zeros, rest_high),
        ]));
    }
    any_of(alternatives)
}

fn literal_digits(digits: &[u8]) -> String {
    format!("\"{}\"", String::from_utf8_lossy(digits))
}

fn repeat_digits(count: u32) -> String {
    match count {
        0 => String::new(),
        1 => "[0-9]".to_owned(),
        _ => format!("[0-9]{{{count}}}"),
    }
}

/// Elements in sequence, empty ones left out.
fn sequence(elements: &[String]) -> String {
    elements
        .iter()
        .filter(|element| !element.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Alternatives, parenthesised when there is more than one.
fn any_of(alternatives: Vec<String>) -> String {
    match alternatives.len() {
        1 => alternatives.into_iter().next().unwrap_or_default(),
        _ => format!("( {} )", alternatives.join(" | ")),
    }
}
