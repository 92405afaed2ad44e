//! CoreDNS's command line, parsed the way Go's `flag` package does (cli-and-endpoints.md §2):
//! `-name` or `--name`, `-name value` or `-name=value`, booleans only as `-b` / `-b=false`,
//! parsing stops at the first non-flag or `--`.

/// The flags. `None` for a string flag means "not given".
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    pub conf: Option<String>,
    /// `-dns.port` / `-p`: the same variable, last one wins.
    pub dns_port: String,
    pub pidfile: Option<String>,
    pub plugins: bool,
    pub version: bool,
    pub quiet: bool,
    /// Non-flag arguments left over (CoreDNS rejects them after parsing).
    pub extra: Vec<String>,
}

/// What the command line asks for when it is not a normal start.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlagError {
    /// `-h`, `-help`: usage on stderr, exit 0.
    #[error("help requested")]
    Help,
    #[error("flag provided but not defined: -{0}")]
    Unknown(String),
    #[error("flag needs an argument: -{0}")]
    MissingValue(String),
    #[error("invalid boolean value {value:?} for -{name}: parse error")]
    BadBool { name: String, value: String },
    #[error("bad flag syntax: {0}")]
    BadSyntax(String),
}

impl FlagError {
    /// Go's exit codes: 0 for help, 2 for a bad command line.
    pub fn exit_code(&self) -> i32 {
        match self {
            FlagError::Help => 0,
            _ => 2,
        }
    }
}

/// The usage text, flags sorted by name, in Go's layout.
pub fn usage(program: &str) -> String {
    format!(
        "Usage of {program}:\n  -conf string\n    \tCorefile to load (default \"Corefile\")\n  -dns.port string\n    \tDefault port (default \"53\")\n  -p string\n    \tDefault port (default \"53\")\n  -pidfile string\n    \tPath to write pid file\n  -plugins\n    \tList installed plugins\n  -quiet\n    \tQuiet mode (no initialization output)\n  -version\n    \tShow version\n"
    )
}

/// Go's `strconv.ParseBool`.
fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

/// Parses the arguments after the program name.
pub fn parse(args: &[String]) -> Result<Flags, FlagError> {
    let mut flags = Flags {
        dns_port: "53".to_string(),
        ..Flags::default()
    };
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            break;
        }
        let Some(body) = arg.strip_prefix('-').filter(|b| !b.is_empty()) else {
            flags.extra.push(arg.clone());
            break;
        };
        let body = body.strip_prefix('-').unwrap_or(body);
        if body.is_empty() || body.starts_with('-') || body.starts_with('=') {
            return Err(FlagError::BadSyntax(arg.clone()));
        }
        let (name, inline) = match body.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (body, None),
        };
        let boolean = |target: &mut bool| -> Result<(), FlagError> {
            *target = match &inline {
                None => true,
                Some(v) => parse_bool(v).ok_or_else(|| FlagError::BadBool {
                    name: name.to_string(),
                    value: v.clone(),
                })?,
            };
            Ok(())
        };
        match name {
            "plugins" => boolean(&mut flags.plugins)?,
            "version" => boolean(&mut flags.version)?,
            "quiet" => boolean(&mut flags.quiet)?,
            "h" | "help" => return Err(FlagError::Help),
            "conf" | "dns.port" | "p" | "pidfile" => {
                let value = match inline {
                    Some(v) => v,
                    None => rest
                        .next()
                        .cloned()
                        .ok_or_else(|| FlagError::MissingValue(name.to_string()))?,
                };
                match name {
                    "conf" => flags.conf = Some(value),
                    "pidfile" => flags.pidfile = Some(value),
                    _ => flags.dns_port = value,
                }
            }
            _ => return Err(FlagError::Unknown(name.to_string())),
        }
    }
    flags.extra.extend(rest.cloned());
    Ok(flags)
}

/// Go's `%v` of a string slice: `[a b]`.
pub fn go_slice(items: &[String]) -> String {
    format!("[{}]", items.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn go_flag_forms() {
        let f = parse(&args("-conf /etc/coredns/Corefile --dns.port=1053 -quiet")).unwrap();
        assert_eq!(f.conf.as_deref(), Some("/etc/coredns/Corefile"));
        assert_eq!(f.dns_port, "1053");
        assert!(f.quiet);
    }

    #[test]
    fn p_and_dns_port_share_a_variable_last_wins() {
        assert_eq!(parse(&args("-p 1 -dns.port 2")).unwrap().dns_port, "2");
        assert_eq!(parse(&args("-dns.port 2 -p 1")).unwrap().dns_port, "1");
        assert_eq!(
            parse(&args("-conf a -conf b")).unwrap().conf.as_deref(),
            Some("b")
        );
    }

    #[test]
    fn booleans_take_no_separate_value() {
        let f = parse(&args("-quiet false")).unwrap();
        assert!(f.quiet);
        assert_eq!(f.extra, vec!["false"]);
        assert!(!parse(&args("-quiet=false")).unwrap().quiet);
        assert_eq!(
            parse(&args("-quiet=maybe")),
            Err(FlagError::BadBool {
                name: "quiet".into(),
                value: "maybe".into()
            })
        );
    }

    #[test]
    fn parsing_stops_at_first_non_flag_or_double_dash() {
        assert_eq!(parse(&args("a -quiet")).unwrap().extra, vec!["a", "-quiet"]);
        let f = parse(&args("-quiet -- -version")).unwrap();
        assert!(!f.version);
        assert_eq!(f.extra, vec!["-version"]);
    }

    #[test]
    fn errors_and_exit_codes() {
        let unknown = parse(&args("-x")).unwrap_err();
        assert_eq!(unknown.to_string(), "flag provided but not defined: -x");
        assert_eq!(unknown.exit_code(), 2);
        assert_eq!(
            parse(&args("-conf")),
            Err(FlagError::MissingValue("conf".into()))
        );
        assert_eq!(parse(&args("-h")).unwrap_err().exit_code(), 0);
        assert_eq!(parse(&args("--help")), Err(FlagError::Help));
        assert_eq!(
            parse(&args("---x")),
            Err(FlagError::BadSyntax("---x".into()))
        );
    }

    #[test]
    fn usage_lists_flags_sorted() {
        let text = usage("/coredns");
        assert!(text.starts_with("Usage of /coredns:\n  -conf string\n"));
        assert!(text.contains("  -plugins\n    \tList installed plugins\n"));
        assert_eq!(go_slice(&args("a b")), "[a b]");
    }
}
