//! One zone of the stanza with what every query in it needs built ahead: its label count, its
//! name, and its SOA authority section. The SOA goes into every negative answer (§4, §5.1),
//! the bulk of a cluster DNS server's traffic (search-path names under an `ndots:5` resolver),
//! so it is built when the serial moves, not per query.

use std::sync::RwLock;

use hickory_proto::rr::Name;
use plugin::Section;

use crate::answer::soa;

#[derive(Debug)]
pub struct ServedZone {
    /// Lower-case FQDN, as configured.
    pub zone: String,
    /// Labels of the zone, to cut it off the query name.
    pub labels: usize,
    /// The zone as a name in lower case: what a query spelling the zone in lower case (the
    /// common case) answers under. None if the configured text is no valid name.
    name: Option<Name>,
    /// The lower-case zone's SOA as an authority section, with the serial it was built for.
    soa: RwLock<Option<(u32, Section)>>,
}

impl ServedZone {
    pub fn new(zone: &str) -> Self {
        ServedZone {
            zone: zone.to_string(),
            labels: zone.split('.').filter(|l| !l.is_empty()).count(),
            name: Name::from_ascii(zone).ok().map(|mut n| {
                n.set_fqdn(true);
                n
            }),
            soa: RwLock::new(None),
        }
    }

    /// The zone as the client spelled it in `qname` (a name inside it): answers use the
    /// client's spelling (T29). `spelled_lower`: the zone's labels in `qname` hold no upper
    /// case letter, so the stored name serves without rebuilding.
    pub fn name_as_spelled(&self, qname: &Name, spelled_lower: bool) -> Name {
        match &self.name {
            Some(name) if spelled_lower => name.clone(),
            _ => qname.trim_to(self.labels),
        }
    }

    /// The authority section of a negative answer: the SOA of `zone_name` (the zone as the
    /// client spelled it, from [`ServedZone::name_as_spelled`]). `ttl` is the stanza's, the
    /// same on every call: the stored record is keyed by the serial alone.
    pub fn soa_section(
        &self,
        zone_name: &Name,
        spelled_lower: bool,
        ttl: u32,
        serial: u32,
    ) -> Section {
        if !spelled_lower || self.name.is_none() {
            return [soa(zone_name, ttl, serial)].into();
        }
        if let Some((built, section)) = &*self.soa.read().unwrap_or_else(|e| e.into_inner())
            && *built == serial
        {
            return section.clone();
        }
        // The serial moved (or first use): rebuild. Racing builders build the same record.
        let section: Section = [soa(zone_name, ttl, serial)].into();
        *self.soa.write().unwrap_or_else(|e| e.into_inner()) = Some((serial, section.clone()));
        section
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered(section: &Section) -> String {
        section.records()[0].to_string()
    }

    #[test]
    fn the_soa_is_reused_until_the_serial_moves_and_follows_the_spelling() {
        let zone = ServedZone::new("cluster.local.");
        assert_eq!(zone.labels, 2);
        let lower = Name::from_ascii("svc1.testns.svc.cluster.local.").unwrap();
        let lower_zone = zone.name_as_spelled(&lower, true);
        assert_eq!(lower_zone.to_string(), "cluster.local.");
        let first = zone.soa_section(&lower_zone, true, 5, 7);
        let again = zone.soa_section(&lower_zone, true, 5, 7);
        assert!(std::ptr::eq(first.records(), again.records()), "reused");
        let moved = zone.soa_section(&lower_zone, true, 5, 8);
        assert!(
            rendered(&moved).contains(" 8 7200 "),
            "{}",
            rendered(&moved)
        );

        let upper = Name::from_ascii("svc1.testns.svc.ClUsTeR.local.").unwrap();
        let upper_zone = zone.name_as_spelled(&upper, false);
        assert_eq!(upper_zone.to_string(), "ClUsTeR.local.");
        let spelled = zone.soa_section(&upper_zone, false, 5, 8);
        assert!(rendered(&spelled).starts_with("ClUsTeR.local. 5 IN SOA ns.dns.ClUsTeR.local."));
        // The client's spelling did not replace the stored lower-case record.
        let stored = zone.soa_section(&lower_zone, true, 5, 8);
        assert!(std::ptr::eq(moved.records(), stored.records()));
    }

    #[test]
    fn the_root_zone() {
        let zone = ServedZone::new(".");
        assert_eq!(zone.labels, 0);
        let q = Name::from_ascii("svc1.testns.svc.").unwrap();
        let name = zone.name_as_spelled(&q, true);
        assert!(name.is_root());
        let soa = zone.soa_section(&name, true, 5, 1);
        assert!(rendered(&soa).starts_with(". 5 IN SOA ns.dns. hostmaster. 1 "));
    }
}
