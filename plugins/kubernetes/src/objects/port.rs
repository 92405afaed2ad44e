//! A port as DNS sees it, shared by Services and EndpointSlices (kubernetes.md §11.1).

/// The port number stored for a Service or slice without ports, so that A/AAAA still find
/// the name; SRV skips it (kubernetes.md §3.1, §3.4).
pub const SENTINEL_PORT: i32 = -1;

/// The protocol as the API spells it. The three the API accepts are kept without allocation;
/// anything else (or an absent protocol in a hand-written manifest) as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
    Sctp,
    Other(Box<str>),
}

impl Protocol {
    pub fn from_api(text: Option<&str>) -> Protocol {
        match text.unwrap_or("") {
            "TCP" => Protocol::Tcp,
            "UDP" => Protocol::Udp,
            "SCTP" => Protocol::Sctp,
            other => Protocol::Other(other.into()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            Protocol::Tcp => "TCP",
            Protocol::Udp => "UDP",
            Protocol::Sctp => "SCTP",
            Protocol::Other(text) => text,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Port {
    /// `""` for an unnamed port.
    pub name: Box<str>,
    pub protocol: Protocol,
    /// [`SENTINEL_PORT`] for the placeholder of an object without ports (or a slice port
    /// whose number is null).
    pub port: i32,
}

impl Port {
    /// The placeholder port of an object that lists none.
    pub fn sentinel() -> Port {
        Port {
            name: "".into(),
            protocol: Protocol::Other("".into()),
            port: SENTINEL_PORT,
        }
    }

    /// kubernetes.md §2: port and protocol labels match the port's name and protocol
    /// case-insensitively; an empty label matches every port.
    pub fn matches(&self, port: &str, protocol: &str) -> bool {
        (port.is_empty() || port.eq_ignore_ascii_case(&self.name))
            && (protocol.is_empty() || protocol.eq_ignore_ascii_case(self.protocol.as_str()))
    }

    /// The SRV port number, or None for the sentinel (and numbers outside 0..=65535, which
    /// the API never produces).
    pub fn srv_port(&self) -> Option<u16> {
        u16::try_from(self.port).ok()
    }
}

/// `ports` as stored: the given list, or the one sentinel when it is empty.
pub fn with_sentinel(ports: Vec<Port>) -> Box<[Port]> {
    if ports.is_empty() {
        Box::new([Port::sentinel()])
    } else {
        ports.into_boxed_slice()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_match_case_insensitively_and_empty_matches_all() {
        let http = Port {
            name: "http".into(),
            protocol: Protocol::Tcp,
            port: 80,
        };
        assert!(http.matches("", ""));
        assert!(http.matches("HtTp", "tCp"));
        assert!(!http.matches("https", "tcp"));
        assert!(!http.matches("http", "udp"));
        let unnamed = Port {
            name: "".into(),
            ..http.clone()
        };
        assert!(unnamed.matches("", "tcp"));
        assert!(!unnamed.matches("http", ""));
        assert!(Port::sentinel().matches("", ""));
        assert_eq!(Port::sentinel().srv_port(), None);
        assert_eq!(http.srv_port(), Some(80));
    }
}
