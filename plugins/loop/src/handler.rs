//! The plugin in the chain: counts probe passes, never answers.

use std::sync::Arc;

use hickory_proto::rr::RecordType;
use plugin::{Next, Plugin, Reply, Request};

use crate::NAME;
use crate::state::LoopState;

pub struct Loop {
    state: Arc<LoopState>,
}

impl Loop {
    pub fn new(state: Arc<LoopState>) -> Loop {
        Loop { state }
    }
}

impl Plugin for Loop {
    fn name(&self) -> &'static str {
        NAME
    }

    /// Every query goes on untouched; HINFO queries are looked at first (step 5: non-HINFO,
    /// out-of-zone, or disabled: pass through).
    fn serve<'a>(&'a self, req: &'a Request, next: Next<'a>) -> Reply<'a> {
        if req.qtype() == RecordType::HINFO {
            self.state.observe(req);
        }
        next.serve(req)
    }
}
