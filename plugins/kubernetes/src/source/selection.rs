//! Which objects a source delivers (kubernetes.md §10 "Watches"): the selectors of
//! [`WatchScope`], checked once at setup, in the two forms the sources need — the text the API
//! server gets as query parameters, and a matcher for the manifest source.

use super::error::SourceError;
use super::selector::LabelSelector;
use crate::settings::WatchScope;

#[derive(Clone, Debug)]
pub(crate) struct Selection {
    /// `labels`: Services, EndpointSlices and Pods.
    pub(crate) labels: Option<Selector>,
    /// `namespace_labels`: Namespaces.
    pub(crate) namespace_labels: Option<Selector>,
    pub(crate) endpoint_slices: bool,
    pub(crate) pods: bool,
}

#[derive(Clone, Debug)]
pub(crate) struct Selector {
    pub(crate) text: String,
    pub(crate) matcher: LabelSelector,
}

impl Selection {
    pub(crate) fn new(scope: &WatchScope) -> Result<Selection, SourceError> {
        Ok(Selection {
            labels: selector(scope.labels.as_deref())?,
            namespace_labels: selector(scope.namespace_labels.as_deref())?,
            endpoint_slices: scope.endpoint_slices,
            pods: scope.pods,
        })
    }
}

/// A blank selector selects everything: it is left out of the requests altogether.
fn selector(text: Option<&str>) -> Result<Option<Selector>, SourceError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let matcher = LabelSelector::parse(text).map_err(|e| SourceError::Selector {
        selector: text.to_owned(),
        reason: e.to_string(),
    })?;
    Ok(Some(Selector {
        text: text.to_owned(),
        matcher,
    }))
}

impl Selector {
    pub(crate) fn matches(
        selector: Option<&Selector>,
        labels: Option<&std::collections::BTreeMap<String, String>>,
    ) -> bool {
        selector.is_none_or(|s| s.matcher.matches(labels))
    }
}
