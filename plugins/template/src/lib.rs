//! The `template` directive: answers synthesised from the query name with regexes and text
//! templates (plugins-resolution.md §6).
#![forbid(unsafe_code)]

mod data;
mod metrics;
mod mnemonics;
mod options;
mod rr_text;
mod template;
mod text_template;

use plugin::{ConfigError, Setup};

pub use metrics::TemplateMetrics;
pub use options::{Config, ExtendedError, MAX_REGEX_LEN, Rule, parse};
pub use rr_text::{DEFAULT_TTL, RrError, parse_rr};
pub use template::TemplateHandler;
pub use text_template::{Template, TemplateParseError};

pub const NAME: &str = "template";

/// Adds one handler for every `template` line of the block (§0.1: templates are tried in
/// written order).
pub fn setup(s: &mut Setup<'_>) -> Result<(), ConfigError> {
    let zones = s.zones();
    let config = parse(&mut s.d, &zones)?;
    let metrics = s.metrics().get::<TemplateMetrics>();
    let handler = TemplateHandler::new(config, s.upstream(), metrics);
    s.add_plugin(handler);
    Ok(())
}

/// Registers the template metric families (metrics.md §5, template).
pub fn register_metrics(hub: &plugin::metrics::MetricsHub) {
    hub.get::<TemplateMetrics>();
}

#[cfg(test)]
mod tests;
