//! `import PATTERN` of files (corefile.md §5): where the pattern is resolved, which patterns
//! are refused, and how each matching file becomes tokens.

use std::path::Path;
use std::sync::Arc;

use plugin::Token;

use super::Source;
use super::error::ParseProblem;
use super::glob::glob;
use super::lexer::lex;
use super::path_text::{clean, dir, join};

/// The tokens of every file matching `pattern`, files in lexical order, each token tagged
/// with its file's absolute path. `importing_file` is the file the `import` token came from:
/// relative patterns are relative to its directory.
pub fn import_files(
    pattern: &str,
    importing_file: &str,
    main: &Source,
) -> Result<Vec<Token>, ParseProblem> {
    let glob_pattern = if pattern.starts_with('/') {
        pattern.to_string()
    } else {
        join(&base_directory(importing_file, main)?, pattern)
    };
    // CoreDNS issue #2096: a pattern with many wildcards can take very long to expand. The
    // limits count over the whole absolute pattern, directory part included.
    let too_complex = glob_pattern.matches('*').count() > 1
        || glob_pattern.matches('?').count() > 1
        || (glob_pattern.contains('[') && glob_pattern.contains(']'));
    if too_complex {
        return Err(ParseProblem::GlobTooComplex(glob_pattern));
    }
    let matches =
        glob(&glob_pattern).map_err(|_| ParseProblem::BadImportPattern(pattern.to_string()))?;
    if matches.is_empty() {
        if glob_pattern.contains(['*', '?', '[', ']']) {
            // Managed clusters import `custom/*.server` whether or not anything is there.
            plugin::log::warning(
                None,
                format_args!("No files matching import glob pattern: {pattern}"),
            );
        } else {
            return Err(ParseProblem::ImportNotFound(pattern.to_string()));
        }
    }
    let mut tokens = Vec::new();
    for file in matches {
        tokens.extend(read_tokens(&file)?);
    }
    Ok(tokens)
}

/// The directory relative imports start from: the main Corefile's directory for its own
/// tokens, else the directory of the (absolute) imported file.
fn base_directory(importing_file: &str, main: &Source) -> Result<String, ParseProblem> {
    if importing_file != &*main.name {
        return Ok(dir(importing_file));
    }
    let main_dir: &Path = if main.dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        &main.dir
    };
    std::path::absolute(main_dir)
        .map(|d| clean(&d.to_string_lossy()))
        .map_err(|e| ParseProblem::NoBaseDirectory {
            file: main.name.to_string(),
            reason: e.to_string(),
        })
}

/// One imported file, lexed on its own; a directory or an unreadable file is an error.
fn read_tokens(file: &str) -> Result<Vec<Token>, ParseProblem> {
    let could_not = |e: std::io::Error| ParseProblem::CouldNotImport {
        path: file.to_string(),
        reason: format!("open {file}: {}", go_reason(&e)),
    };
    let metadata = std::fs::metadata(file).map_err(could_not)?;
    if metadata.is_dir() {
        return Err(ParseProblem::ImportIsDirectory(file.to_string()));
    }
    let bytes = std::fs::read(file).map_err(could_not)?;
    // Absolute and cleaned, so error messages name the file unambiguously (Caddy #1892).
    let name: Arc<str> = Arc::from(clean(file));
    Ok(lex(&bytes, &name))
}

/// The text Go's `os` errors end with, which users know from CoreDNS's messages.
fn go_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "no such file or directory".to_string(),
        ErrorKind::PermissionDenied => "permission denied".to_string(),
        ErrorKind::IsADirectory => "is a directory".to_string(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::corefile::test_dir::TestDir;

    fn main_in(dir: &TestDir) -> Source {
        Source {
            name: Arc::from("Corefile"),
            text: Vec::new(),
            dir: dir.path().to_path_buf(),
        }
    }

    fn texts(tokens: &[Token]) -> Vec<&str> {
        tokens.iter().map(|t| t.text.as_str()).collect()
    }

    #[test]
    fn relative_pattern_is_resolved_against_the_corefile_directory() {
        let dir = TestDir::new("import-rel");
        let path = dir.write("custom/x.conf", "log\nerrors");
        let tokens = import_files("custom/x.conf", "Corefile", &main_in(&dir)).expect("import");
        assert_eq!(texts(&tokens), vec!["log", "errors"]);
        assert_eq!(&*tokens[0].file, path.as_str());
        assert_eq!((tokens[0].line, tokens[1].line), (1, 2));
    }

    #[test]
    fn relative_pattern_in_an_imported_file_is_resolved_against_that_file() {
        let dir = TestDir::new("import-nested");
        dir.write("a/b/inner.conf", "whoami");
        let importing = format!("{}/a/outer.conf", dir.path_str());
        let tokens = import_files("b/inner.conf", &importing, &main_in(&dir)).expect("import");
        assert_eq!(texts(&tokens), vec!["whoami"]);
    }

    #[test]
    fn glob_imports_files_in_lexical_order() {
        let dir = TestDir::new("import-glob");
        dir.write("custom/b.server", "b.org");
        dir.write("custom/a.server", "a.org");
        dir.write("custom/c.override", "c.org");
        let tokens = import_files("custom/*.server", "Corefile", &main_in(&dir)).expect("import");
        assert_eq!(texts(&tokens), vec!["a.org", "b.org"]);
    }

    #[test]
    fn refuses_what_coredns_refuses() {
        let dir = TestDir::new("import-errors");
        let sub = dir.mkdir("sub");
        let root = dir.path_str();
        let main = main_in(&dir);
        let cases = [
            (
                "missing/x.conf",
                ParseProblem::ImportNotFound("missing/x.conf".into()),
            ),
            (
                "*/*.conf",
                ParseProblem::GlobTooComplex(format!("{root}/*/*.conf")),
            ),
            ("a??", ParseProblem::GlobTooComplex(format!("{root}/a??"))),
            (
                "[ab].conf",
                ParseProblem::GlobTooComplex(format!("{root}/[ab].conf")),
            ),
            ("a[b", ParseProblem::BadImportPattern("a[b".into())),
            ("sub", ParseProblem::ImportIsDirectory(sub.clone())),
            ("s*", ParseProblem::ImportIsDirectory(sub)),
        ];
        for (pattern, expected) in cases {
            assert_eq!(
                import_files(pattern, "Corefile", &main),
                Err(expected),
                "{pattern}"
            );
        }
    }

    #[test]
    fn glob_without_match_is_not_an_error() {
        let dir = TestDir::new("import-nomatch");
        let tokens = import_files("custom/*.nomatch", "Corefile", &main_in(&dir));
        assert_eq!(tokens, Ok(Vec::new()));
    }

    #[test]
    fn absolute_pattern_is_used_as_given() {
        let dir = TestDir::new("import-abs");
        let file = dir.write("x.conf", "log");
        let elsewhere = TestDir::new("import-abs-other");
        let tokens = import_files(&file, "Corefile", &main_in(&elsewhere)).expect("import");
        assert_eq!(texts(&tokens), vec!["log"]);
    }
}
