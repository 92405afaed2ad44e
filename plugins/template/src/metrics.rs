//! The template metrics of metrics.md §5: `coredns_template_matches_total`,
//! `coredns_template_template_failures_total` and `coredns_template_rr_failures_total`.

use std::sync::Arc;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

use plugin::metrics::MetricSet;

// Label fields in alphabetical order: the order the text format prints them (metrics.md §1).

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct MatchLabels {
    pub class: Arc<str>,
    pub server: Arc<str>,
    pub r#type: Arc<str>,
    pub view: Arc<str>,
    pub zone: Arc<str>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    pub class: Arc<str>,
    pub section: &'static str,
    pub server: Arc<str>,
    pub template: Arc<str>,
    pub r#type: Arc<str>,
    pub view: Arc<str>,
    pub zone: Arc<str>,
}

pub struct TemplateMetrics {
    /// A template's regex matched the query.
    pub matches: Family<MatchLabels, Counter>,
    /// Executing a template failed.
    pub template_failures: Family<FailureLabels, Counter>,
    /// A template's output did not parse as an RR.
    pub rr_failures: Family<FailureLabels, Counter>,
}

impl MetricSet for TemplateMetrics {
    fn register(r: &mut Registry) -> Self {
        let m = TemplateMetrics {
            matches: Family::default(),
            template_failures: Family::default(),
            rr_failures: Family::default(),
        };
        r.register(
            "coredns_template_matches",
            "Counter of template regex matches.",
            m.matches.clone(),
        );
        r.register(
            "coredns_template_template_failures",
            "Counter of go template failures.",
            m.template_failures.clone(),
        );
        r.register(
            "coredns_template_rr_failures",
            "Counter of mis-templated RRs.",
            m.rr_failures.clone(),
        );
        m
    }
}
