//! Where the cluster objects come from: the API server's watches (kube-rs) or a manifest
//! file. Each source turns its objects into [`crate::feed::Feed`] events for the cache.
