//! Environment substitution in a token (corefile.md §3): `{%NAME%}` first, then `{$NAME}`.
//!
//! The result stays one token whatever it contains. After each replacement the token is
//! scanned again from the start, so a value that contains a reference is expanded too; where
//! CoreDNS loops forever on a self-referencing value, we stop with an error.

/// More replacements than this in one token means a variable refers to itself.
pub const MAX_REPLACEMENTS: usize = 1000;
/// A token growing past this many bytes means a variable refers to itself more than once.
pub const MAX_EXPANDED_LEN: usize = 64 * 1024;

/// The substitution did not end within [`MAX_REPLACEMENTS`] / [`MAX_EXPANDED_LEN`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Runaway;

/// Replaces every `{%NAME%}` and `{$NAME}` in `text` with `lookup(NAME)` (unset → empty).
/// Malformed references (`{$}`, `{%}`, `{%X}`) stay as text.
pub fn substitute(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Result<String, Runaway> {
    if !text.contains('{') {
        return Ok(text.to_string());
    }
    let mut budget = MAX_REPLACEMENTS;
    let windows_form = replace_references(text.to_string(), "{%", "%}", lookup, &mut budget)?;
    replace_references(windows_form, "{$", "}", lookup, &mut budget)
}

/// One form of reference, as Caddy's `replaceEnvReferences`: find the first start marker,
/// the first end marker after it, replace every occurrence of that reference, rescan. A
/// reference with an empty name ends the scan for this form.
fn replace_references(
    mut s: String,
    start: &str,
    end: &str,
    lookup: &dyn Fn(&str) -> Option<String>,
    budget: &mut usize,
) -> Result<String, Runaway> {
    while let Some(index) = s.find(start) {
        // Searched from the start marker itself, so in `{%}` the `%}` overlaps `{%`.
        let Some(offset) = s[index..].find(end) else {
            break;
        };
        let end_index = index + offset;
        if end_index <= index + start.len() {
            break;
        }
        let reference = s[index..end_index + end.len()].to_string();
        let name = &reference[start.len()..reference.len() - end.len()];
        let value = lookup(name).unwrap_or_default();
        s = s.replace(&reference, &value);
        *budget = budget.checked_sub(1).ok_or(Runaway)?;
        if s.len() > MAX_EXPANDED_LEN {
            return Err(Runaway);
        }
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(name: &str) -> Option<String> {
        let value = match name {
            "ZONE" => "example.org",
            "PORT" => "1053",
            "X" => "rect",
            "UP" => "1.1.1.1 8.8.8.8",
            "NESTED" => "{$ZONE}",
            "PERCENT_INSIDE" => "{%ZONE%}",
            "SELF" => "a{$SELF}",
            "DOUBLE" => "{$DOUBLE}{$DOUBLE}",
            "BRACE" => "{",
            "VAR:default" => "literal-name",
            _ => return None,
        };
        Some(value.to_string())
    }

    #[test]
    fn substitutes_both_forms_and_leaves_malformed_references() {
        let cases: &[(&str, &str, &str)] = &[
            ("unix form", "{$ZONE}", "example.org"),
            ("windows form", "{%ZONE%}", "example.org"),
            (
                "mixed with text (§12 #20)",
                "{$ZONE}:1053",
                "example.org:1053",
            ),
            (
                "both forms in one token",
                "{$ZONE}:{%PORT%}",
                "example.org:1053",
            ),
            ("inside a word", "di{$X}", "direct"),
            ("unset is empty (§12 #24)", "{$UNSET}", ""),
            ("no default syntax (§12 #23)", "{$ZONE:default}", ""),
            (
                "colon is part of the name",
                "{$VAR:default}",
                "literal-name",
            ),
            (
                "value with spaces stays one token (§12 #22)",
                "{$UP}",
                "1.1.1.1 8.8.8.8",
            ),
            ("value is rescanned", "{$NESTED}", "example.org"),
            (
                "percent form is done before dollar form",
                "{$PERCENT_INSIDE}",
                "{%ZONE%}",
            ),
            ("empty dollar name stays", "{$}", "{$}"),
            ("empty percent name stays", "{%}", "{%}"),
            ("unclosed percent stays", "{%X}", "{%X}"),
            ("unclosed dollar stays", "{$X", "{$X"),
            ("brace in a value is text", "{$BRACE}", "{"),
            ("every occurrence is replaced", "{$X}-{$X}", "rect-rect"),
            ("no reference", "plain", "plain"),
        ];
        for (name, input, expected) in cases {
            assert_eq!(substitute(input, &env).as_deref(), Ok(*expected), "{name}");
        }
    }

    #[test]
    fn malformed_reference_ends_the_scan_of_its_form_only() {
        // Caddy stops the `{$` scan at `{$}`; the `{%` scan ran before and is unaffected.
        assert_eq!(
            substitute("{$}{$X}{%X%}", &env).as_deref(),
            Ok("{$}{$X}rect")
        );
    }

    #[test]
    fn self_referencing_variable_is_an_error_not_a_hang() {
        assert_eq!(substitute("{$SELF}", &env), Err(Runaway));
        assert_eq!(substitute("{$DOUBLE}", &env), Err(Runaway));
    }
}
