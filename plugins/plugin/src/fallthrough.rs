//! `fallthrough [ZONES...]`: which names a plugin passes to the next one instead of answering
//! NXDOMAIN (CoreDNS `plugin/pkg/fall`).

use crate::zones::{is_subdomain, normalize};

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fallthrough {
    /// Empty: fall through nowhere. `["."]`: everywhere.
    zones: Vec<String>,
}

impl Fallthrough {
    /// No fallthrough (the option absent).
    pub fn none() -> Self {
        Fallthrough::default()
    }

    /// `fallthrough` with `args`: no args means every name.
    pub fn from_args(args: &[String]) -> Self {
        if args.is_empty() {
            return Fallthrough {
                zones: vec![".".to_string()],
            };
        }
        Fallthrough {
            zones: args.iter().map(|z| normalize(z)).collect(),
        }
    }

    /// True when a name this plugin cannot answer goes to the next plugin.
    pub fn through(&self, qname_lower: &str) -> bool {
        self.zones.iter().any(|z| is_subdomain(z, qname_lower))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_coredns() {
        assert!(!Fallthrough::none().through("a.example.org."));
        assert!(Fallthrough::from_args(&[]).through("a.example.org."));
        let fall = Fallthrough::from_args(&["in-addr.arpa".to_string()]);
        assert!(fall.through("1.0.0.10.in-addr.arpa."));
        assert!(!fall.through("a.example.org."));
    }
}
