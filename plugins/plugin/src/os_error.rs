//! Operating-system errors as CoreDNS prints them: Go's `syscall.Errno` texts are lower case
//! (`address already in use`, `no such file or directory`), and users and scripts grep for
//! them in logs and exit messages.

/// The lower-case errno text Go prints, without Rust's `(os error N)` suffix.
pub fn go_reason(error: &std::io::Error) -> String {
    let text = error.to_string();
    let text = text.split(" (os error").next().unwrap_or(&text);
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Error;

    #[test]
    fn os_errors_read_like_go() {
        let cases = [
            (Error::from_raw_os_error(98), "address already in use"),
            (Error::from_raw_os_error(2), "no such file or directory"),
            (Error::from_raw_os_error(13), "permission denied"),
            (Error::other("Odd thing"), "odd thing"),
            (Error::other(""), ""),
        ];
        for (error, want) in cases {
            assert_eq!(go_reason(&error), want, "{error:?}");
        }
    }
}
