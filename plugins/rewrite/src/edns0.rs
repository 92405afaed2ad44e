//! `edns0` rules: add, replace or remove an EDNS0 option in the query, and undo the change in
//! the reply with `revert` (plugins-resolution.md §4.6; CoreDNS `rewrite/edns0.go`).

use std::net::IpAddr;

use hickory_proto::op::Edns;
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use plugin::Request;

use crate::error::RuleError;

/// Size of the OPT an `edns0` rule creates when the query has none (§4.6).
pub const CREATED_UDP_SIZE: u16 = 4096;
const NSID: u16 = 3;
const SUBNET: u16 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Set,
    Append,
    Replace,
    Unset,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Variable {
    Qname,
    Qtype,
    ClientIp,
    ClientPort,
    Protocol,
    ServerIp,
    ServerPort,
    /// `{plugin/label}`: this server keeps no request metadata, so the rule never applies
    /// (what CoreDNS does for unset metadata).
    Metadata(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Payload {
    Literal(Vec<u8>),
    Variable(Variable),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OptionKind {
    Local { code: u16, payload: Payload },
    Nsid,
    Subnet { v4_bits: u8, v6_bits: u8 },
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EdnsRule {
    pub kind: OptionKind,
    pub action: Action,
    pub revert: bool,
}

/// What `revert` undoes in the reply's OPT: the option code, and the values it had in the
/// query before the change (empty when the rule added it).
#[derive(Clone, Debug)]
pub struct Revert {
    pub code: u16,
    pub previous: Vec<EdnsOption>,
}

impl Revert {
    pub fn apply(&self, edns: &mut Edns) {
        let options = &mut edns.options_mut().options;
        if !options.iter().any(|(c, _)| u16::from(*c) == self.code) {
            return;
        }
        options.retain(|(c, _)| u16::from(*c) != self.code);
        for option in &self.previous {
            options.push((EdnsCode::from(self.code), option.clone()));
        }
    }
}

impl EdnsRule {
    /// `edns0 TYPE ACTION ARGS…` after the `edns0` keyword.
    pub fn parse(args: &[String]) -> Result<EdnsRule, RuleError> {
        if args.len() < 2 {
            return Err(RuleError::EdnsTooFew);
        }
        let kind_word = args[0].to_ascii_lowercase();
        let action = match args[1].to_ascii_lowercase().as_str() {
            "set" => Action::Set,
            "append" => Action::Append,
            "replace" => Action::Replace,
            "unset" => Action::Unset,
            other => return Err(RuleError::EdnsAction(other.to_string())),
        };
        let rest = &args[2..];
        if action == Action::Unset {
            let kind = match kind_word.as_str() {
                "local" if rest.len() == 1 => OptionKind::Local {
                    code: parse_code(&rest[0])?,
                    payload: Payload::Literal(Vec::new()),
                },
                "local" => return Err(RuleError::LocalUnsetArgs),
                "nsid" if rest.is_empty() => OptionKind::Nsid,
                "nsid" => return Err(RuleError::NsidUnsetArgs),
                "subnet" if rest.is_empty() => OptionKind::Subnet {
                    v4_bits: 0,
                    v6_bits: 0,
                },
                "subnet" => return Err(RuleError::SubnetUnsetArgs),
                _ => return Err(RuleError::RuleType(args[0].clone())),
            };
            return Ok(EdnsRule {
                kind,
                action,
                revert: false,
            });
        }
        let (rest, revert) = match rest.split_last() {
            Some((last, head)) if last.eq_ignore_ascii_case("revert") => (head, true),
            _ => (rest, false),
        };
        let kind = match kind_word.as_str() {
            "local" => {
                if rest.len() != 2 {
                    return Err(RuleError::LocalArgs);
                }
                OptionKind::Local {
                    code: parse_code(&rest[0])?,
                    payload: parse_payload(&rest[1])?,
                }
            }
            "nsid" => {
                if !rest.is_empty() {
                    return Err(RuleError::NsidArgs);
                }
                OptionKind::Nsid
            }
            "subnet" => {
                if rest.len() != 2 {
                    return Err(RuleError::SubnetArgs);
                }
                let v4_bits = rest[0].parse::<u8>().ok().filter(|b| *b <= 32);
                let v6_bits = rest[1].parse::<u8>().ok().filter(|b| *b <= 128);
                OptionKind::Subnet {
                    v4_bits: v4_bits.ok_or_else(|| RuleError::V4Bits(rest[0].clone()))?,
                    v6_bits: v6_bits.ok_or_else(|| RuleError::V6Bits(rest[1].clone()))?,
                }
            }
            _ => return Err(RuleError::RuleType(args[0].clone())),
        };
        Ok(EdnsRule {
            kind,
            action,
            revert,
        })
    }

    /// The `local` code this rule registers for mirroring (§0.4), if any.
    pub fn local_code(&self) -> Option<u16> {
        match &self.kind {
            OptionKind::Local { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// Edits `edns` (created by the caller when the query had none). Returns whether the
    /// rule matched (§4.6 table) and, with `revert`, what to undo in the reply.
    pub fn apply(
        &self,
        edns: &mut Edns,
        req: &Request,
        qname: &str,
        qtype: u16,
    ) -> (bool, Option<Revert>) {
        let (code, data, is_variable) = match &self.kind {
            OptionKind::Local { code, payload } => match payload {
                Payload::Literal(bytes) => (*code, bytes.clone(), false),
                Payload::Variable(var) => match variable(var, req, qname, qtype) {
                    Some(bytes) if !bytes.is_empty() || self.action == Action::Unset => {
                        (*code, bytes, true)
                    }
                    _ if self.action == Action::Unset => (*code, Vec::new(), true),
                    _ => return (false, None),
                },
            },
            OptionKind::Nsid => (NSID, Vec::new(), false),
            OptionKind::Subnet { v4_bits, v6_bits } => {
                (SUBNET, subnet(req.client().ip(), *v4_bits, *v6_bits), true)
            }
        };
        let options = &mut edns.options_mut().options;
        let previous: Vec<EdnsOption> = options
            .iter()
            .filter(|(c, _)| u16::from(*c) == code)
            .map(|(_, o)| o.clone())
            .collect();
        let present = !previous.is_empty();
        let new_option = || {
            (
                EdnsCode::from(code),
                EdnsOption::Unknown(code, data.clone()),
            )
        };
        let matched = match self.action {
            Action::Unset => {
                options.retain(|(c, _)| u16::from(*c) != code);
                true
            }
            Action::Set | Action::Replace if present => {
                for entry in options.iter_mut().filter(|(c, _)| u16::from(*c) == code) {
                    *entry = new_option();
                }
                true
            }
            Action::Replace => false,
            Action::Append if present && is_variable => false,
            Action::Set | Action::Append => {
                options.push(new_option());
                true
            }
        };
        let revert = (matched && self.revert && self.action != Action::Unset)
            .then_some(Revert { code, previous });
        (matched, revert)
    }
}

fn parse_code(text: &str) -> Result<u16, RuleError> {
    let parsed = match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u16::from_str_radix(hex, 16),
        None => text.parse::<u16>(),
    };
    parsed.map_err(|_| RuleError::EdnsCode(text.to_string()))
}

fn parse_payload(text: &str) -> Result<Payload, RuleError> {
    if let Some(hex) = text.strip_prefix("0x") {
        return decode_hex(hex)
            .map(Payload::Literal)
            .ok_or_else(|| RuleError::EdnsHex(text.to_string()));
    }
    if let Some(name) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        let var = match name {
            "qname" => Variable::Qname,
            "qtype" => Variable::Qtype,
            "client_ip" => Variable::ClientIp,
            "client_port" => Variable::ClientPort,
            "protocol" => Variable::Protocol,
            "server_ip" => Variable::ServerIp,
            "server_port" => Variable::ServerPort,
            other if other.contains('/') => Variable::Metadata(other.to_string()),
            _ => return Err(RuleError::Variable(text.to_string())),
        };
        return Ok(Payload::Variable(var));
    }
    Ok(Payload::Literal(text.as_bytes().to_vec()))
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect()
}

fn ip_bytes(ip: IpAddr) -> Vec<u8> {
    match ip {
        IpAddr::V4(v4) => v4.octets().to_vec(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.octets().to_vec(),
            None => v6.octets().to_vec(),
        },
    }
}

fn variable(var: &Variable, req: &Request, qname: &str, qtype: u16) -> Option<Vec<u8>> {
    Some(match var {
        Variable::Qname => qname.as_bytes().to_vec(),
        Variable::Qtype => qtype.to_be_bytes().to_vec(),
        Variable::ClientIp => ip_bytes(req.client().ip()),
        Variable::ClientPort => req.client().port().to_be_bytes().to_vec(),
        Variable::Protocol => req.transport().as_str().as_bytes().to_vec(),
        Variable::ServerIp => ip_bytes(req.local().ip()),
        Variable::ServerPort => req.local().port().to_be_bytes().to_vec(),
        Variable::Metadata(_) => return None,
    })
}

/// ECS option data for `ip` (RFC 7871 §6): family, source prefix, scope 0, the address masked
/// to the prefix, full length (§4.6: "not shortened").
fn subnet(ip: IpAddr, v4_bits: u8, v6_bits: u8) -> Vec<u8> {
    let (family, bits, mut addr) = match ip {
        IpAddr::V6(v6) if v6.to_ipv4_mapped().is_none() => (2u16, v6_bits, v6.octets().to_vec()),
        other => (1u16, v4_bits, ip_bytes(other)),
    };
    for (i, byte) in addr.iter_mut().enumerate() {
        let keep = usize::from(bits).saturating_sub(i * 8).min(8);
        *byte &= if keep == 0 { 0 } else { 0xffu8 << (8 - keep) };
    }
    let mut data = family.to_be_bytes().to_vec();
    data.extend([bits, 0]);
    data.extend(addr);
    data
}

/// An empty OPT like the one CoreDNS adds to a query without EDNS (§4.6).
pub fn created_opt() -> Edns {
    let mut edns = Edns::new();
    edns.set_max_payload(CREATED_UDP_SIZE);
    edns
}
