//! The search list of a `resolv.conf`-like file, read as miekg/dns `ClientConfigFromFile` does
//! (what CoreDNS's autopath uses): the last `search` or `domain` line decides; `domain X`
//! means the list `X`, a bare `domain` empties it. Other lines, comments included, are
//! ignored; no further validation.

use std::path::Path;

use plugin::os_error::go_reason;

/// Why the file could not be read, in Go's words (`open PATH: no such file or directory`).
#[derive(Debug, thiserror::Error)]
#[error("{op} {path}: {reason}")]
pub struct ReadError {
    op: &'static str,
    path: String,
    reason: String,
}

/// The search domains of `path` as written (not normalised).
pub fn search_domains(path: &str) -> Result<Vec<String>, ReadError> {
    let fail = |op, error: std::io::Error| ReadError {
        op,
        path: path.to_string(),
        reason: go_reason(&error),
    };
    let mut file = std::fs::File::open(Path::new(path)).map_err(|e| fail("open", e))?;
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(|e| fail("read", e))?;
    Ok(parse(&String::from_utf8_lossy(&bytes)))
}

/// The search list of a resolv.conf text.
pub fn parse(text: &str) -> Vec<String> {
    let mut search = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        match fields.next() {
            Some("domain") => search = fields.next().map(str::to_string).into_iter().collect(),
            Some("search") => search = fields.map(str::to_string).collect(),
            _ => {}
        }
    }
    search
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_search_or_domain_line_decides() {
        let cases: &[(&str, &[&str])] = &[
            (
                "nameserver 1.2.3.4\ndomain foo.com\nsearch bar.com baz.com\noptions ndots:5\n",
                &["bar.com", "baz.com"],
            ),
            ("search bar.com\ndomain foo.com\n", &["foo.com"]),
            ("search bar.com\ndomain\n", &[]),
            ("search\n", &[]),
            (
                "  search\ta.example   b.example  \n",
                &["a.example", "b.example"],
            ),
            ("# search commented.out\n; search also.out\n", &[]),
            ("nameserver 10.96.0.10\n", &[]),
            ("", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), *want, "{text:?}");
        }
    }

    #[test]
    fn read_errors_read_like_go() {
        let err = search_domains("/nonexistent/resolv.conf").unwrap_err();
        assert_eq!(
            err.to_string(),
            "open /nonexistent/resolv.conf: no such file or directory"
        );
        let dir = std::env::temp_dir();
        let dir = dir.to_str().unwrap();
        let err = search_domains(dir).unwrap_err();
        assert_eq!(err.to_string(), format!("read {dir}: is a directory"));
    }
}
