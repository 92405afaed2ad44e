//! Go's `path/filepath` string functions (Unix): import patterns are strings, and CoreDNS
//! resolves, counts wildcards in and prints them after `filepath.Join` / `Abs` cleaned them.

/// Go's `filepath.Clean`: one slash between elements, no `.` elements, `..` resolved
/// lexically (`/..` stays `/`), `.` for an empty result.
pub fn clean(path: &str) -> String {
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_string(),
        (false, false) => joined,
    }
}

/// Go's `filepath.Join` of two elements: cleaned, empty elements ignored.
pub fn join(dir: &str, name: &str) -> String {
    match (dir.is_empty(), name.is_empty()) {
        (true, true) => String::new(),
        (true, false) => clean(name),
        (false, true) => clean(dir),
        (false, false) => clean(&format!("{dir}/{name}")),
    }
}

/// Go's `filepath.Split`: everything up to and including the last `/`, and the rest.
pub fn split(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    }
}

/// Go's `filepath.Dir`: the cleaned directory part.
pub fn dir(path: &str) -> String {
    clean(split(path).0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_matches_go() {
        let cases = [
            ("", "."),
            ("/", "/"),
            ("a//b/./c/", "a/b/c"),
            ("/a/../..", "/"),
            ("../a/../../b", "../../b"),
            (
                "/etc/coredns/./custom/*.server",
                "/etc/coredns/custom/*.server",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(clean(input), expected, "{input:?}");
        }
    }

    #[test]
    fn join_split_and_dir_match_go() {
        assert_eq!(
            join("/etc/coredns", "custom/x.conf"),
            "/etc/coredns/custom/x.conf"
        );
        assert_eq!(join("/etc/coredns", "../x"), "/etc/x");
        assert_eq!(split("/a/b*.c"), ("/a/", "b*.c"));
        assert_eq!(split("plain"), ("", "plain"));
        assert_eq!(dir("/etc/coredns/Corefile"), "/etc/coredns");
        assert_eq!(dir("/Corefile"), "/");
    }
}
