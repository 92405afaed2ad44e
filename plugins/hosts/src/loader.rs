//! Reading the hosts file: at setup, then every `reload` interval when its modification time
//! or size changed (plugins-resolution.md §3.4). A file that cannot be read leaves the last
//! answers in place.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;

use crate::hostsfile::{self, HostsMap, ParseOptions};
use crate::metrics::{HostsMetrics, HostsfileLabels};
use crate::table::Table;

/// What identifies one version of the file (CoreDNS compares mtime and size).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Stamp {
    modified: SystemTime,
    size: u64,
}

/// Owns the file side of the data and publishes new tables to the plugin.
pub struct Loader {
    pub path: PathBuf,
    pub zones: Vec<String>,
    pub auto_reverse: bool,
    pub ttl: u32,
    pub inline: HostsMap,
    pub table: Arc<ArcSwap<Table>>,
    pub metrics: Arc<HostsMetrics>,
    last: Option<Stamp>,
}

impl Loader {
    pub fn new(
        path: PathBuf,
        zones: Vec<String>,
        auto_reverse: bool,
        ttl: u32,
        inline: HostsMap,
        metrics: Arc<HostsMetrics>,
    ) -> Loader {
        let table = Arc::new(ArcSwap::from_pointee(Table::build(
            &HostsMap::default(),
            &inline,
            ttl,
        )));
        Loader {
            path,
            zones,
            auto_reverse,
            ttl,
            inline,
            table,
            metrics,
            last: None,
        }
    }

    /// Reads the file if it changed (blocking I/O: setup time only). True when re-parsed.
    pub fn read_blocking(&mut self) -> bool {
        let Ok(meta) = std::fs::metadata(&self.path) else {
            return false;
        };
        let Some(stamp) = self.changed(&meta) else {
            return false;
        };
        match std::fs::read(&self.path) {
            Ok(data) => self.apply(&data, stamp),
            Err(_) => false,
        }
    }

    /// The same, for the reload task.
    pub async fn read(&mut self) -> bool {
        let Ok(meta) = tokio::fs::metadata(&self.path).await else {
            return false;
        };
        let Some(stamp) = self.changed(&meta) else {
            return false;
        };
        match tokio::fs::read(&self.path).await {
            Ok(data) => self.apply(&data, stamp),
            Err(_) => false,
        }
    }

    fn changed(&self, meta: &std::fs::Metadata) -> Option<Stamp> {
        // A directory cannot be read as a file: same as an unreadable file.
        if meta.is_dir() {
            return None;
        }
        let stamp = Stamp {
            modified: meta.modified().unwrap_or(UNIX_EPOCH),
            size: meta.len(),
        };
        (self.last != Some(stamp)).then_some(stamp)
    }

    fn apply(&mut self, data: &[u8], stamp: Stamp) -> bool {
        let file = hostsfile::parse(
            data,
            ParseOptions {
                zones: &self.zones,
                auto_reverse: self.auto_reverse,
            },
        );
        let entries = file.len() + self.inline.len();
        self.table
            .store(Arc::new(Table::build(&file, &self.inline, self.ttl)));
        self.last = Some(stamp);
        self.metrics
            .entries
            .get_or_create(&HostsfileLabels {
                hostsfile: self.path.display().to_string(),
            })
            .set(entries as f64);
        let seconds = stamp
            .modified
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        self.metrics.reload_timestamp.set(seconds);
        true
    }

    /// Re-reads every `period` until the instance stops (the caller spawns this on
    /// `setup.tasks()`).
    pub async fn run(mut self, period: Duration) {
        let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            self.read().await;
        }
    }
}
