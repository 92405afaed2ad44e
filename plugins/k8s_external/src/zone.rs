//! One zone k8s_external serves and the names built under it (kubernetes.md §14), made once
//! at setup.
//!
//! CoreDNS builds these names from the zone as configured (lower case), not as the client
//! spelled it: the SOA, the NS target, SRV and PTR targets. Answer owners are the query name
//! as spelled, and so is the zone part of the NS glue owner (`ns1.<apex>.` + the query name).

use hickory_proto::rr::Name;

use crate::config::K8sExternalError;

#[derive(Clone, Debug)]
pub struct Zone {
    /// Lower-case FQDN (`example.com.`), as configured.
    pub text: String,
    pub name: Name,
    /// `<apex>.<zone>` lower-cased, for "is the name under the apex" (CoreDNS compares names
    /// case-insensitively).
    pub apex_text: String,
    /// `ns1.<apex>.<zone>`: SOA MNAME and NS target.
    pub ns1: Name,
    /// `hostmaster.<apex>.<zone>`: SOA RNAME.
    pub hostmaster: Name,
    /// `ns1.<apex>` as a relative name, put in front of the query name for glue owners.
    pub ns1_relative: Name,
}

impl Zone {
    pub fn new(text: &str, apex: &str) -> Result<Zone, K8sExternalError> {
        let invalid = |e: hickory_proto::ProtoError| {
            K8sExternalError::Apex(apex.to_string(), format!("under {text}: {e}"))
        };
        let name = Name::from_ascii(text).map_err(invalid)?;
        let apex_relative = Name::from_ascii(apex).map_err(invalid)?;
        let apex_name = apex_relative.clone().append_name(&name).map_err(invalid)?;
        let ns1_relative = Name::from_ascii("ns1")
            .and_then(|n| n.append_name(&apex_relative))
            .map_err(invalid)?;
        let ns1 = ns1_relative.clone().append_name(&name).map_err(invalid)?;
        let hostmaster = Name::from_ascii("hostmaster")
            .and_then(|n| n.append_name(&apex_name))
            .map_err(invalid)?;
        let mut apex_text = apex_name.to_string();
        apex_text.make_ascii_lowercase();
        Ok(Zone {
            text: text.to_string(),
            name,
            apex_text,
            ns1,
            hostmaster,
            ns1_relative,
        })
    }

    /// The labels of `name_lower` (inside this zone) left of the zone, left to right:
    /// `svc.ns.example.com.` → `["svc", "ns"]`. Empty at the apex.
    pub fn labels_before<'n>(&self, name_lower: &'n str) -> Vec<&'n str> {
        let base = if self.text == "." {
            name_lower
        } else {
            &name_lower[..name_lower.len().saturating_sub(self.text.len())]
        };
        base.split('.').filter(|l| !l.is_empty()).collect()
    }

    /// `labels` followed by this zone: SRV and PTR targets (`svc.ns.example.com.`).
    pub fn join(&self, labels: &[&str]) -> Option<Name> {
        let mut relative = Name::from_labels(labels.iter().map(|l| l.as_bytes())).ok()?;
        relative.set_fqdn(false);
        relative.append_name(&self.name).ok()
    }

    /// The glue owner for an NS query at the apex: `ns1.<apex>.` + the query name as spelled.
    pub fn glue_owner(&self, qname: &Name) -> Name {
        self.ns1_relative
            .clone()
            .append_name(qname)
            .unwrap_or_else(|_| self.ns1.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_under_the_zone() {
        let zone = Zone::new("example.com.", "dns").unwrap();
        assert_eq!(zone.ns1.to_string(), "ns1.dns.example.com.");
        assert_eq!(zone.hostmaster.to_string(), "hostmaster.dns.example.com.");
        assert_eq!(zone.apex_text, "dns.example.com.");
        assert_eq!(
            zone.labels_before("x.svc.ns.example.com."),
            ["x", "svc", "ns"]
        );
        assert!(zone.labels_before("example.com.").is_empty());
        assert_eq!(
            zone.join(&["svc-ext", "testns"]).unwrap().to_string(),
            "svc-ext.testns.example.com."
        );
        let spelled = Name::from_ascii("ExAmPle.COM.").unwrap();
        assert_eq!(
            zone.glue_owner(&spelled).to_string(),
            "ns1.dns.ExAmPle.COM."
        );

        let root = Zone::new(".", "Ns.Apex").unwrap();
        assert_eq!(root.ns1.to_string(), "ns1.Ns.Apex.");
        assert_eq!(root.apex_text, "ns.apex.");
        assert_eq!(root.labels_before("svc.ns."), ["svc", "ns"]);
    }
}
