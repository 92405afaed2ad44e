//! Go's `filepath.Glob` for import patterns: which files match, in which order.
//!
//! Same results as Go: directory entries sorted by name, hidden files matched by `*`, `\`
//! escaping the next character, a pattern without wildcards returned as is when the path
//! exists (even a dangling symlink), I/O errors ignored. Character classes are not supported:
//! the import code rejects `[...]` before globbing (CoreDNS issue #2096), so a `[` left here is
//! an unclosed class, which Go reports as a bad pattern too.

use std::fs;

use super::path_text::{join, split};

/// Go's `filepath.ErrBadPattern`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadPattern;

/// Go refuses patterns with this many nested wildcard directories.
const MAX_DEPTH: usize = 10_000;

/// All paths matching `pattern`, in Go's order.
pub fn glob(pattern: &str) -> Result<Vec<String>, BadPattern> {
    validate(pattern)?;
    if !has_meta(pattern) {
        return Ok(if fs::symlink_metadata(pattern).is_ok() {
            vec![pattern.to_string()]
        } else {
            Vec::new()
        });
    }
    // Go recurses on the directory part while it still has wildcards; unrolled here so a
    // long pattern cannot exhaust the stack.
    let mut remaining_files: Vec<&str> = Vec::new();
    let mut current: &str = pattern;
    let mut matches = Vec::new();
    loop {
        let (dir, file) = split(current);
        let dir = clean_glob_path(dir);
        if !has_meta(dir) {
            glob_in(dir, file, &mut matches);
            break;
        }
        if dir == current || remaining_files.len() >= MAX_DEPTH {
            return Err(BadPattern);
        }
        remaining_files.push(file);
        current = dir;
    }
    for file in remaining_files.into_iter().rev() {
        let mut next = Vec::new();
        for dir in &matches {
            glob_in(dir, file, &mut next);
        }
        matches = next;
    }
    Ok(matches)
}

fn has_meta(s: &str) -> bool {
    s.contains(['*', '?', '[', '\\'])
}

/// Go's `Match(pattern, "")` check: a trailing `\` or a `[` (an unclosed class here) is bad.
fn validate(pattern: &str) -> Result<(), BadPattern> {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                chars.next().ok_or(BadPattern)?;
            }
            '[' => return Err(BadPattern),
            _ => {}
        }
    }
    Ok(())
}

/// Go's `cleanGlobPath`: only the trailing separator goes.
fn clean_glob_path(dir: &str) -> &str {
    match dir {
        "" => ".",
        "/" => "/",
        d => &d[..d.len() - 1],
    }
}

/// Appends the entries of `dir` whose names match `pattern`, sorted by name. A missing or
/// unreadable directory, and names that are not UTF-8, match nothing.
fn glob_in(dir: &str, pattern: &str, matches: &mut Vec<String>) {
    let is_dir = fs::metadata(dir).is_ok_and(|m| m.is_dir());
    if !is_dir {
        return;
    }
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    let mut names: Vec<String> = entries
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    let pattern = Element::parse(pattern);
    for name in names {
        if matches_name(&pattern, &name.chars().collect::<Vec<_>>()) {
            matches.push(join(dir, &name));
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Element {
    /// `*`: any run of characters.
    Star,
    /// `?`: one character.
    Any,
    Literal(char),
}

impl Element {
    fn parse(pattern: &str) -> Vec<Element> {
        let mut out = Vec::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            out.push(match c {
                '*' => Element::Star,
                '?' => Element::Any,
                // Validated: a backslash is always followed by the character it escapes.
                '\\' => Element::Literal(chars.next().unwrap_or('\\')),
                c => Element::Literal(c),
            });
        }
        out
    }
}

/// Wildcard match with backtracking to the last `*` (linear for the one `*` imports allow).
fn matches_name(pattern: &[Element], name: &[char]) -> bool {
    let (mut p, mut n) = (0, 0);
    let mut last_star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(Element::Any) => {
                p += 1;
                n += 1;
            }
            Some(Element::Literal(c)) if *c == name[n] => {
                p += 1;
                n += 1;
            }
            Some(Element::Star) => {
                last_star = Some((p, n));
                p += 1;
            }
            _ => match last_star {
                Some((star, start)) => {
                    p = star + 1;
                    n = start + 1;
                    last_star = Some((star, start + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|e| *e == Element::Star)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corefile::test_dir::TestDir;

    fn matches(pattern: &str, name: &str) -> bool {
        matches_name(&Element::parse(pattern), &name.chars().collect::<Vec<_>>())
    }

    #[test]
    fn wildcards_match_like_go() {
        let cases = [
            ("*.server", "a.server", true),
            ("*.server", ".hidden.server", true),
            ("*.server", "a.server.bak", false),
            ("a?c", "abc", true),
            ("a?c", "ac", false),
            ("a?c", "aéc", true),
            (r"a\*c", "a*c", true),
            (r"a\*c", "abc", false),
            ("*", "", true),
            ("x*y*", "xay", true),
        ];
        for (pattern, name, expected) in cases {
            assert_eq!(matches(pattern, name), expected, "{pattern} vs {name}");
        }
    }

    #[test]
    fn malformed_patterns_are_bad() {
        assert_eq!(glob("/tmp/a[b"), Err(BadPattern));
        assert_eq!(glob("/tmp/a\\"), Err(BadPattern));
    }

    #[test]
    fn globs_files_sorted_and_through_wildcard_directories() {
        let dir = TestDir::new("glob");
        dir.write("b.server", "");
        dir.write("a.server", "");
        dir.write("c.other", "");
        dir.write("sub1/x.conf", "");
        dir.write("sub2/x.conf", "");
        let root = dir.path_str();
        assert_eq!(
            glob(&format!("{root}/*.server")),
            Ok(vec![format!("{root}/a.server"), format!("{root}/b.server")])
        );
        assert_eq!(
            glob(&format!("{root}/sub?/x.conf")),
            Ok(vec![
                format!("{root}/sub1/x.conf"),
                format!("{root}/sub2/x.conf")
            ])
        );
        assert_eq!(glob(&format!("{root}/*.nomatch")), Ok(vec![]));
        assert_eq!(
            glob(&format!("{root}/c.other")),
            Ok(vec![format!("{root}/c.other")])
        );
        assert_eq!(glob(&format!("{root}/missing")), Ok(vec![]));
    }
}
