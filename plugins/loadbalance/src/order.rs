//! The three reorderings of a section (plugins-resolution.md §5.2–§5.4), computed as a
//! permutation of the section's presentation order: records are never copied, the result is
//! a [`Section::with_order`] over the same shared records.

use hickory_proto::rr::{RData, Record, RecordType};
use plugin::Section;
use rand::seq::SliceRandom;
use rand::{Rng, RngExt};

use crate::cidr::Cidr;
use crate::weights::WeightTable;

/// The groups CoreDNS sorts records into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Cname,
    Address,
    Mx,
    Other,
}

fn kind(record: &Record) -> Kind {
    match record.record_type() {
        RecordType::CNAME => Kind::Cname,
        RecordType::A | RecordType::AAAA => Kind::Address,
        RecordType::MX => Kind::Mx,
        _ => Kind::Other,
    }
}

fn address(record: &Record) -> Option<std::net::IpAddr> {
    match &record.data {
        RData::A(a) => Some(a.0.into()),
        RData::AAAA(aaaa) => Some(aaaa.0.into()),
        _ => None,
    }
}

/// The presentation order as stored indexes, or `None` when the section cannot be given an
/// order (more records than a `u16` counts: no DNS message holds that many).
fn current_order(section: &Section) -> Option<Vec<u16>> {
    section.order().map(|i| u16::try_from(i).ok()).collect()
}

/// The records of `order` split into their groups, each keeping the order it had.
struct Groups {
    cname: Vec<u16>,
    address: Vec<u16>,
    mx: Vec<u16>,
    other: Vec<u16>,
}

impl Groups {
    fn of(section: &Section, order: &[u16]) -> Groups {
        let mut groups = Groups {
            cname: Vec::new(),
            address: Vec::new(),
            mx: Vec::new(),
            other: Vec::new(),
        };
        let records = section.records();
        for &i in order {
            let group = match kind(&records[usize::from(i)]) {
                Kind::Cname => &mut groups.cname,
                Kind::Address => &mut groups.address,
                Kind::Mx => &mut groups.mx,
                Kind::Other => &mut groups.other,
            };
            group.push(i);
        }
        groups
    }
}

fn concat(parts: [Vec<u16>; 4]) -> Vec<u16> {
    let mut out = Vec::with_capacity(parts.iter().map(Vec::len).sum());
    for part in parts {
        out.extend(part);
    }
    out
}

/// §5.2: a section of only A or only AAAA records is shuffled whole; any other section of
/// two or more records becomes CNAMEs, other types, the A and AAAA records shuffled
/// together, the MX records shuffled. `None`: the section stays as it is.
pub fn round_robin(section: &Section, rng: &mut impl Rng) -> Option<Section> {
    if section.len() <= 1 {
        return None;
    }
    let mut order = current_order(section)?;
    let records = section.records();
    let first = records[usize::from(order[0])].record_type();
    let all_same = order
        .iter()
        .all(|&i| records[usize::from(i)].record_type() == first);
    if all_same && matches!(first, RecordType::A | RecordType::AAAA) {
        order.shuffle(rng);
        return Some(section.with_order(order));
    }
    let mut groups = Groups::of(section, &order);
    groups.address.shuffle(rng);
    groups.mx.shuffle(rng);
    Some(section.with_order(concat([
        groups.cname,
        groups.other,
        groups.address,
        groups.mx,
    ])))
}

/// §5.3, after the shuffle: CNAMEs, the addresses in the first network, … in the last
/// network, the other addresses, MX, then the other types. Within each group the current
/// order is kept.
pub fn prefer(section: &Section, networks: &[Cidr]) -> Option<Section> {
    if section.len() <= 1 {
        return None;
    }
    let order = current_order(section)?;
    let groups = Groups::of(section, &order);
    let records = section.records();
    let mut addresses = Vec::with_capacity(groups.address.len());
    let mut taken = vec![false; groups.address.len()];
    for network in networks {
        for (slot, &i) in groups.address.iter().enumerate() {
            let inside = address(&records[usize::from(i)]).is_some_and(|ip| network.contains(ip));
            if inside && !taken[slot] {
                taken[slot] = true;
                addresses.push(i);
            }
        }
    }
    addresses.extend(
        groups
            .address
            .iter()
            .zip(&taken)
            .filter(|(_, taken)| !**taken)
            .map(|(&i, _)| i),
    );
    Some(section.with_order(concat([groups.cname, addresses, groups.mx, groups.other])))
}

/// §5.4: CNAMEs, other types, addresses, MX; then one address, drawn with probability
/// proportional to its weight, swaps places with the first address. A section without
/// addresses stays as it is.
pub fn weighted(section: &Section, weights: &WeightTable, rng: &mut impl Rng) -> Option<Section> {
    let order = current_order(section)?;
    let mut groups = Groups::of(section, &order);
    if groups.address.is_empty() {
        return None;
    }
    let records = section.records();
    let weight_of = |i: u16| {
        let record = &records[usize::from(i)];
        address(record).map_or(1, |ip| u32::from(weights.weight(&record.name, ip)))
    };
    let total: u32 = groups.address.iter().map(|&i| weight_of(i)).sum();
    let mut draw = rng.random_range(0..total);
    let top = groups
        .address
        .iter()
        .position(|&i| {
            let weight = weight_of(i);
            if draw < weight {
                return true;
            }
            draw -= weight;
            false
        })
        .unwrap_or(0);
    groups.address.swap(0, top);
    Some(section.with_order(concat([
        groups.cname,
        groups.other,
        groups.address,
        groups.mx,
    ])))
}
