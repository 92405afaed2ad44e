//! The plugin: reorders the records of the replies coming back up the chain.

use std::sync::Arc;

use arc_swap::ArcSwap;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use plugin::{Next, Outcome, Plugin, Reply, Request, Response};

use crate::NAME;
use crate::cidr::Cidr;
use crate::order;
use crate::weights::WeightTable;

/// What the plugin does to a reply.
pub enum Balance {
    /// §5.2, then §5.3 when `prefer` lists networks.
    RoundRobin { prefer: Vec<Cidr> },
    /// §5.4 with the weights the loader keeps current.
    Weighted(Arc<ArcSwap<WeightTable>>),
}

pub struct LoadBalance {
    balance: Balance,
}

impl LoadBalance {
    pub fn new(balance: Balance) -> Self {
        LoadBalance { balance }
    }

    /// Reorders a NOERROR reply to anything but a zone transfer (§5.1); any other reply is
    /// returned as it came.
    pub fn balance(&self, req: &Request, mut response: Response) -> Response {
        if response.rcode != ResponseCode::NoError {
            return response;
        }
        // The question the reply answers (a rewrite may have changed the client's).
        let qtype = response
            .question
            .as_deref()
            .map_or_else(|| req.qtype(), |q| q.query_type());
        if matches!(qtype, RecordType::AXFR | RecordType::IXFR) {
            return response;
        }
        let rng = &mut rand::rng();
        match &self.balance {
            Balance::RoundRobin { prefer } => {
                for section in [
                    &mut response.answers,
                    &mut response.authorities,
                    &mut response.additionals,
                ] {
                    if let Some(shuffled) = order::round_robin(section, rng) {
                        *section = shuffled;
                    }
                }
                if !prefer.is_empty() {
                    for section in [&mut response.answers, &mut response.additionals] {
                        if let Some(preferred) = order::prefer(section, prefer) {
                            *section = preferred;
                        }
                    }
                }
            }
            Balance::Weighted(table) => {
                if matches!(qtype, RecordType::A | RecordType::AAAA | RecordType::SRV) {
                    let table = table.load();
                    for section in [&mut response.answers, &mut response.additionals] {
                        if let Some(weighted) = order::weighted(section, &table, rng) {
                            *section = weighted;
                        }
                    }
                }
            }
        }
        response
    }
}

impl Plugin for LoadBalance {
    fn name(&self) -> &'static str {
        NAME
    }

    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        next.serve(req)
            .map(move |outcome: Outcome| outcome.map(|response| self.balance(req, response)))
    }
}
