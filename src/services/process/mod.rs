//! The standard process metrics (metrics.md §6), read from /proc on every scrape as the
//! Prometheus Go client's process collector does.
//!
//! Go-runtime families are not faked (no GC or heap internals). Two are kept because
//! dashboards plot them and they have an honest meaning here:
//! * `go_threads`: OS threads of the process (`Threads:` of /proc/self/status), as in Go.
//! * `go_goroutines`: live tokio tasks of the runtime (`RuntimeMetrics::num_alive_tasks`):
//!   every query over TCP, HTTP connection and background loop is a task, the nearest thing
//!   to a goroutine. UDP queries served inline by a listener task are not counted, as Go's
//!   count would not include work that has no goroutine either. Left out when no tokio
//!   runtime is reachable.

mod procfs;

use std::fmt;

use plugin::metrics::MetricsHub;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{
    DescriptorEncoder, EncodeCounterValue, EncodeGaugeValue, EncodeMetric,
};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use tokio::runtime::Handle;

pub use procfs::Sample;

/// Registers the process collector with the process registry (once, at startup).
pub fn register_process_metrics(hub: &MetricsHub) {
    let collector = ProcessCollector {
        runtime: Handle::try_current().ok(),
    };
    hub.with_registry(|registry| registry.register_collector(Box::new(collector)));
}

#[derive(Debug)]
struct ProcessCollector {
    /// The runtime whose tasks `go_goroutines` counts; else the one encoding runs in.
    runtime: Option<Handle>,
}

impl ProcessCollector {
    fn live_tasks(&self) -> Option<u64> {
        let handle = self
            .runtime
            .clone()
            .or_else(|| Handle::try_current().ok())?;
        Some(handle.metrics().num_alive_tasks() as u64)
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> fmt::Result {
        let s = Sample::read();
        let e = &mut encoder;
        // Counter names without `_total`: the encoder appends it.
        counter(
            e,
            "process_cpu_seconds",
            "Total user and system CPU time spent in seconds.",
            s.cpu_seconds,
        )?;
        gauge(
            e,
            "process_open_fds",
            "Number of open file descriptors.",
            s.open_fds,
        )?;
        gauge(
            e,
            "process_max_fds",
            "Maximum number of open file descriptors.",
            s.max_fds,
        )?;
        gauge(
            e,
            "process_virtual_memory_bytes",
            "Virtual memory size in bytes.",
            s.virtual_memory_bytes,
        )?;
        gauge(
            e,
            "process_virtual_memory_max_bytes",
            "Maximum amount of virtual memory available in bytes.",
            s.virtual_memory_max_bytes,
        )?;
        gauge(
            e,
            "process_resident_memory_bytes",
            "Resident memory size in bytes.",
            s.resident_memory_bytes,
        )?;
        gauge(
            e,
            "process_start_time_seconds",
            "Start time of the process since unix epoch in seconds.",
            s.start_time_seconds,
        )?;
        counter(
            e,
            "process_network_receive_bytes",
            "Number of bytes received by the process over the network.",
            s.network_receive_bytes,
        )?;
        counter(
            e,
            "process_network_transmit_bytes",
            "Number of bytes sent by the process over the network.",
            s.network_transmit_bytes,
        )?;
        gauge(e, "go_threads", "Number of OS threads created.", s.threads)?;
        gauge(
            e,
            "go_goroutines",
            "Number of live tokio tasks (the nearest thing to goroutines in this process).",
            self.live_tasks(),
        )
    }
}

fn gauge<N: EncodeGaugeValue + fmt::Debug>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: Option<N>,
) -> fmt::Result {
    let Some(value) = value else { return Ok(()) };
    let metric = ConstGauge::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

fn counter<N: EncodeCounterValue + fmt::Debug>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    value: Option<N>,
) -> fmt::Result {
    let Some(value) = value else { return Ok(()) };
    let metric = ConstCounter::new(value);
    metric.encode(encoder.encode_descriptor(name, help, None, metric.metric_type())?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exposition(hub: &MetricsHub) -> String {
        let mut out = String::new();
        hub.with_registry(|r| prometheus_client::encoding::prometheus_text::encode(&mut out, r))
            .unwrap();
        out
    }

    fn value(text: &str, name: &str) -> Option<f64> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(' ')?.parse().ok())
    }

    #[tokio::test]
    async fn families_are_exported_with_their_go_names() {
        let hub = MetricsHub::new();
        register_process_metrics(&hub);
        let (release, wait) = tokio::sync::oneshot::channel::<()>();
        let waiting = tokio::spawn(async move {
            let _ = wait.await;
        });
        let text = exposition(&hub);
        let _ = release.send(());
        waiting.await.unwrap();
        if !std::path::Path::new("/proc/self/stat").exists() {
            return; // Not Linux: only go_goroutines.
        }
        let cases = [
            ("process_cpu_seconds_total", "counter"),
            ("process_open_fds", "gauge"),
            ("process_max_fds", "gauge"),
            ("process_virtual_memory_bytes", "gauge"),
            ("process_virtual_memory_max_bytes", "gauge"),
            ("process_resident_memory_bytes", "gauge"),
            ("process_start_time_seconds", "gauge"),
            ("process_network_receive_bytes_total", "counter"),
            ("process_network_transmit_bytes_total", "counter"),
            ("go_threads", "gauge"),
            ("go_goroutines", "gauge"),
        ];
        for (name, kind) in cases {
            assert!(
                text.contains(&format!("# TYPE {name} {kind}\n")),
                "{name} {kind} in\n{text}"
            );
            assert!(
                value(&text, name).is_some(),
                "{name} has a value in\n{text}"
            );
        }
        assert!(value(&text, "process_open_fds").unwrap() >= 3.0);
        assert!(value(&text, "go_threads").unwrap() >= 1.0);
        assert!(
            value(&text, "go_goroutines").unwrap() >= 1.0,
            "the waiting task is alive"
        );
        assert!(value(&text, "process_resident_memory_bytes").unwrap() > 1e5);
        // RLIMIT_AS is usually unlimited: 2^64 as a float, which must print so it parses back.
        assert_eq!(
            value(&text, "process_virtual_memory_max_bytes"),
            Sample::read().virtual_memory_max_bytes
        );
    }
}
