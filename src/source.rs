//! Where the Corefile comes from (cli-and-endpoints.md §3 step 4, corefile.md §9): the
//! `-conf` file, `stdin`, `./Corefile`, or the built-in default.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::assemble::default_source;
use crate::corefile::Source;

/// How to (re)load the configuration; reload reads through the same origin as startup.
#[derive(Clone, Debug)]
pub enum ConfigOrigin {
    /// `-conf FILE`: a missing or unreadable file is an error.
    File(PathBuf),
    /// No `-conf`: `./Corefile` if it exists, else the built-in config.
    WorkingDir,
    /// `-conf stdin` (stdin not a terminal): read once; cannot be re-read on reload.
    Stdin(Vec<u8>),
}

/// Reading the Corefile failed; displayed as Go's `open FILE: no such file or directory`.
#[derive(Debug, thiserror::Error)]
#[error("open {path}: {reason}")]
pub struct LoadError {
    pub path: String,
    pub reason: String,
}

impl ConfigOrigin {
    /// Chooses the origin from the `-conf` flag.
    pub fn from_flag(conf: Option<&str>) -> std::io::Result<ConfigOrigin> {
        match conf {
            Some("stdin") if !std::io::stdin().is_terminal() => {
                let mut text = Vec::new();
                std::io::stdin().read_to_end(&mut text)?;
                Ok(ConfigOrigin::Stdin(text))
            }
            // `-conf stdin` on a terminal is treated as not given.
            Some("stdin") | None => Ok(ConfigOrigin::WorkingDir),
            Some(path) => Ok(ConfigOrigin::File(PathBuf::from(path))),
        }
    }

    pub fn can_reload(&self) -> bool {
        !matches!(self, ConfigOrigin::Stdin(_))
    }

    /// Reads the configuration now. `default_port` shapes the built-in configuration.
    pub fn load(&self, default_port: &str) -> Result<Source, LoadError> {
        match self {
            ConfigOrigin::File(path) => read_file(path, &path.display().to_string()),
            ConfigOrigin::WorkingDir => {
                let path = Path::new("Corefile");
                if path.exists() {
                    read_file(path, "Corefile")
                } else {
                    Ok(default_source(default_port))
                }
            }
            ConfigOrigin::Stdin(text) => Ok(Source {
                name: Arc::from("stdin"),
                text: text.clone(),
                dir: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
            }),
        }
    }
}

fn read_file(path: &Path, name: &str) -> Result<Source, LoadError> {
    let text = std::fs::read(path).map_err(|e| LoadError {
        path: name.to_string(),
        reason: go_reason(&e),
    })?;
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = absolute
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    Ok(Source {
        name: Arc::from(name),
        text,
        dir,
    })
}

/// The error text Go's `os.Open` gives, which scripts and tests grep for.
fn go_reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind;
    match e.kind() {
        ErrorKind::NotFound => "no such file or directory".into(),
        ErrorKind::PermissionDenied => "permission denied".into(),
        ErrorKind::IsADirectory => "is a directory".into(),
        _ => e.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_conf_file_reads_like_go() {
        let err = ConfigOrigin::File(PathBuf::from("/nonexistent/Corefile"))
            .load("53")
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "open /nonexistent/Corefile: no such file or directory"
        );
    }

    #[test]
    fn stdin_cannot_be_reloaded() {
        assert!(!ConfigOrigin::Stdin(Vec::new()).can_reload());
        assert!(ConfigOrigin::WorkingDir.can_reload());
    }
}
