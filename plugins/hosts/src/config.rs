//! `hosts [FILE [ZONES...]] { ... }` (plugins-resolution.md §3.1), with CoreDNS's error texts.

use std::path::PathBuf;
use std::time::Duration;

use plugin::{ConfigError, Dispenser, Fallthrough};

/// The default file, the container's own hosts file.
pub const DEFAULT_PATH: &str = "/etc/hosts";
pub const DEFAULT_TTL: u32 = 3600;
pub const DEFAULT_RELOAD: Duration = Duration::from_secs(5);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostsConfig {
    pub path: PathBuf,
    /// Lower-case FQDNs: names outside are dropped, queries outside go on (except PTR).
    pub zones: Vec<String>,
    /// Inline entry lines, each joined with single spaces.
    pub inline: Vec<String>,
    pub ttl: u32,
    /// False with `no_reverse`: no PTR data.
    pub auto_reverse: bool,
    /// Zero: the file is read once.
    pub reload: Duration,
    pub fall: Fallthrough,
    pub fallthrough_unsupported: bool,
}

/// Reads the block's `hosts` line; a second `hosts` in the block is `ConfigError::Once`.
pub fn parse(d: &mut Dispenser, block_zones: &[String]) -> Result<HostsConfig, ConfigError> {
    let mut config = HostsConfig {
        path: PathBuf::from(DEFAULT_PATH),
        zones: block_zones.to_vec(),
        inline: Vec::new(),
        ttl: DEFAULT_TTL,
        auto_reverse: true,
        reload: DEFAULT_RELOAD,
        fall: Fallthrough::none(),
        fallthrough_unsupported: false,
    };
    let mut fallthrough_seen = false;
    while d.next_once()? {
        let mut args = d.remaining_args().into_iter();
        if let Some(path) = args.next() {
            // Relative paths stay relative to the working directory: `root` is not built.
            config.path = PathBuf::from(path);
            check_file(d, &config.path)?;
        }
        // A CIDR stands for its reverse zones (plugins-resolution.md §0.3).
        let zones: Vec<String> = args
            .flat_map(|z| plugin::reverse_zones::expand(&z))
            .collect();
        if !zones.is_empty() {
            config.zones = zones;
        }
        while d.next_block() {
            match d.val() {
                "fallthrough" => {
                    config.fall = Fallthrough::from_args(&d.remaining_args());
                    fallthrough_seen = true;
                }
                "fallthrough_unsupported" => {
                    if !d.remaining_args().is_empty() {
                        return Err(d.arg_err().into());
                    }
                    config.fallthrough_unsupported = true;
                }
                // Extra arguments on the line are left for the next round, as CoreDNS does.
                "no_reverse" => config.auto_reverse = false,
                "ttl" => config.ttl = ttl(d)?,
                "reload" => config.reload = reload(d)?,
                // Anything else is an inline entry, until `fallthrough` has been seen (§3.5).
                first if !fallthrough_seen => {
                    let mut line = first.to_string();
                    for arg in d.remaining_args() {
                        line.push(' ');
                        line.push_str(&arg);
                    }
                    config.inline.push(line);
                }
                other => {
                    return Err(d.err(format!("unknown property '{other}'")).into());
                }
            }
        }
    }
    if config.fallthrough_unsupported && !fallthrough_seen {
        return Err(d.err("fallthrough_unsupported requires fallthrough").into());
    }
    Ok(config)
}

/// A missing file is only a warning (it may appear later); any other access error is fatal.
fn check_file(d: &Dispenser, path: &std::path::Path) -> Result<(), ConfigError> {
    match std::fs::metadata(path) {
        Ok(meta) if meta.is_dir() => {
            plugin::log::warning(
                Some(crate::NAME),
                format_args!("Hosts file {:?} is a directory", path.display().to_string()),
            );
            Ok(())
        }
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            plugin::log::warning(
                Some(crate::NAME),
                format_args!("File does not exist: {}", path.display()),
            );
            Ok(())
        }
        Err(e) => Err(d
            .err(format!(
                "unable to access hosts file '{}': {e}",
                path.display()
            ))
            .into()),
    }
}

fn ttl(d: &mut Dispenser) -> Result<u32, ConfigError> {
    let args = d.remaining_args();
    let Some(first) = args.first() else {
        return Err(d.err("ttl needs a time in second").into());
    };
    let Ok(ttl) = first.parse::<i64>() else {
        return Err(d.err("ttl needs a number of second").into());
    };
    if !(1..=65535).contains(&ttl) {
        return Err(d.err("ttl provided is invalid").into());
    }
    Ok(ttl as u32)
}

fn reload(d: &mut Dispenser) -> Result<Duration, ConfigError> {
    let args = d.remaining_args();
    let [value] = args.as_slice() else {
        return Err(d
            .err("reload needs a duration (zero seconds to disable)")
            .into());
    };
    match plugin::duration::parse(value) {
        Ok(duration) => Ok(duration),
        Err(plugin::duration::DurationError::Negative(_)) => Err(d
            .err(format!("invalid negative duration for reload '{value}'"))
            .into()),
        Err(_) => Err(d
            .err(format!("invalid duration for reload '{value}'"))
            .into()),
    }
}
