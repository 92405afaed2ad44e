//! The process: start the configuration, print the banner, then react to reload ticks and
//! signals until shutdown (cli-and-endpoints.md §3 and §5).

use std::sync::Arc;
use std::time::Duration;

use plugin::metrics::MetricsHub;
use tokio::signal::unix::{SignalKind, signal};

use crate::assemble::{self, Options};
use crate::flags::Flags;
use crate::reload::{self, ReloadError, Reloader};
use crate::source::ConfigOrigin;
use crate::supervisor::{StartError, Supervisor};
use crate::{registry, services, version};

/// Exit status of the process.
pub type ExitCode = i32;

/// Startup failure: printed on stderr without prefix, exit 1 (corefile.md §11).
fn fatal(message: impl std::fmt::Display) -> ExitCode {
    eprintln!("{message}");
    1
}

fn process_env(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// `-dns.port` must be a port number (CoreDNS fails later with Go's resolver message).
fn check_port(port: &str) -> Result<(), String> {
    port.parse::<u16>()
        .map(|_| ())
        .map_err(|_| format!("address tcp/{port}: unknown port"))
}

/// Zones that are not RFC 1035 "preferred syntax" get a warning before the banner line.
fn preferred_syntax(zone: &str) -> bool {
    if zone == "." || zone.ends_with(".arpa.") {
        return true;
    }
    zone.trim_end_matches('.').split('.').all(|label| {
        let bytes = label.as_bytes();
        !bytes.is_empty()
            && bytes.len() <= 63
            && bytes[0].is_ascii_alphabetic()
            && bytes
                .iter()
                .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
            && bytes[bytes.len() - 1].is_ascii_alphanumeric()
    })
}

fn print_banner(lines: &[String]) {
    for line in lines {
        let zone = line.split(':').next().unwrap_or("");
        if !preferred_syntax(zone) {
            println!("Warning: Domain {zone:?} does not follow RFC1035 preferred syntax");
        }
        println!("{line}");
    }
}

/// Runs the server until it is told to stop; returns the exit status.
pub async fn run(flags: Flags) -> ExitCode {
    if let Err(message) = check_port(&flags.dns_port) {
        return fatal(message);
    }
    let mut signals = match Signals::install() {
        Ok(s) => s,
        Err(e) => return fatal(format!("cannot install signal handlers: {e}")),
    };
    let metrics = Arc::new(MetricsHub::new());
    registry::register_all_metrics(&metrics);
    services::process::register_process_metrics(&metrics);

    let origin = match ConfigOrigin::from_flag(flags.conf.as_deref()) {
        Ok(origin) => origin,
        Err(e) => return fatal(e),
    };
    let source = match origin.load(&flags.dns_port) {
        Ok(source) => source,
        Err(e) => return fatal(e),
    };
    let options = Options {
        default_port: &flags.dns_port,
        metrics: metrics.clone(),
        env: &process_env,
    };
    let instance = match assemble::assemble(&source, &options) {
        Ok(instance) => instance,
        Err(e) => return fatal(e),
    };
    let digest = instance.digest.clone();
    let banner = instance.banner.clone();
    let reload_used = instance.services.reload.is_some();
    let mut stop = None;
    let started = Supervisor::start(
        instance,
        metrics.clone(),
        wait_for_stop(&mut signals, &mut stop),
    )
    .await;
    let mut supervisor = match started {
        Ok(s) => s,
        // A stop signal while plugins held serving back (kubernetes.md §9): nothing served
        // DNS yet, the instance is retired; leave as the signal says.
        Err(StartError::Interrupted) => {
            if let Some(stop) = stop {
                log_stop(stop);
            }
            return 0;
        }
        Err(e) => return fatal(e),
    };
    if !flags.quiet {
        print_banner(&banner);
    }
    if reload_used {
        plugin::log::info(
            Some("reload"),
            format_args!("Running configuration SHA512 = {digest}"),
        );
    }
    if !flags.quiet {
        for line in version::lines() {
            println!("{line}");
        }
    }
    let pidfile = flags.pidfile.clone();
    if let Some(path) = &pidfile
        && let Err(e) = std::fs::write(path, format!("{}\n", std::process::id()))
    {
        plugin::log::error(None, format_args!("Could not write pidfile: {e}"));
    }
    let remove_pidfile = move || {
        if let Some(path) = &pidfile {
            let _ = std::fs::remove_file(path);
        }
    };

    let mut reloader = Reloader::new(origin, flags.dns_port.clone(), metrics, digest);
    loop {
        let period = supervisor.instance().services.reload.map(reload::period);
        let tick = async {
            match period {
                Some(p) => tokio::time::sleep(p).await,
                None => std::future::pending().await,
            }
        };
        // Set by a stop signal, also one that arrives while a reload waits for the new
        // instance's `before_serving` gates (that reload is then abandoned).
        let mut stop = None;
        tokio::select! {
            _ = tick => {
                reloader.check(&mut supervisor, wait_for_stop(&mut signals, &mut stop)).await;
            }
            _ = signals.usr1.recv() => {
                plugin::log::info(None, format_args!("SIGUSR1: Reloading"));
                let interrupt = wait_for_stop(&mut signals, &mut stop);
                match reloader.reload_now(&mut supervisor, interrupt).await {
                    Ok(()) | Err(ReloadError::Start(StartError::Interrupted)) => {}
                    Err(e) => plugin::log::error(None, format_args!("SIGUSR1: {e}")),
                }
            }
            _ = signals.usr2.recv() => {
                // Zero-downtime binary upgrade is a CoreDNS-on-VMs feature; in Kubernetes the
                // Deployment rolls pods instead.
                plugin::log::info(None, format_args!("SIGUSR2: binary upgrade is not supported, ignored"));
            }
            _ = signals.hup.recv() => {
                // CoreDNS ignores SIGHUP (cli-and-endpoints.md §5); handling it keeps the
                // default action (terminate) away.
            }
            _ = signals.quit.recv() => stop = Some(Stop::Quit),
            _ = signals.term.recv() => stop = Some(Stop::Term),
            _ = signals.int.recv() => stop = Some(Stop::Int),
        }
        if let Some(stop) = stop {
            return shut_down(stop, supervisor, &mut signals, remove_pidfile).await;
        }
    }
}

/// A signal that ends the process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stop {
    /// SIGTERM: the full shutdown sequence, listeners stopped gracefully.
    Term,
    /// SIGINT: the shutdown sequence; a second SIGINT forces the exit.
    Int,
    /// SIGQUIT: exit at once.
    Quit,
}

fn log_stop(stop: Stop) {
    let line = match stop {
        Stop::Term => "SIGTERM: Shutting down servers then terminating",
        Stop::Int => "SIGINT: Shutting down",
        Stop::Quit => "SIGQUIT: Quitting process immediately",
    };
    plugin::log::info(None, format_args!("{line}"));
}

/// Resolves when a stop signal arrives, recording which in `stop`. Passed to waits that a
/// stop must cut short (`before_serving` gates at start and on reload).
async fn wait_for_stop(signals: &mut Signals, stop: &mut Option<Stop>) {
    *stop = Some(signals.next_stop().await);
}

/// cli-and-endpoints.md §5: what each stop signal does to the running server.
async fn shut_down(
    stop: Stop,
    supervisor: Supervisor,
    signals: &mut Signals,
    remove_pidfile: impl FnOnce(),
) -> ExitCode {
    log_stop(stop);
    match stop {
        Stop::Quit => {
            remove_pidfile();
            0
        }
        Stop::Term => {
            // A second SIGTERM during lameduck has no effect: nothing listens for it now.
            supervisor.shutdown(true, remove_pidfile).await;
            0
        }
        Stop::Int => {
            let shutdown = supervisor.shutdown(false, remove_pidfile);
            tokio::select! {
                _ = shutdown => 0,
                _ = signals.int.recv() => {
                    plugin::log::info(None, format_args!("SIGINT: Force quit"));
                    2
                }
            }
        }
    }
}

struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
    quit: tokio::signal::unix::Signal,
    usr1: tokio::signal::unix::Signal,
    usr2: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
}

impl Signals {
    /// The next SIGTERM, SIGINT or SIGQUIT.
    async fn next_stop(&mut self) -> Stop {
        tokio::select! {
            _ = self.term.recv() => Stop::Term,
            _ = self.int.recv() => Stop::Int,
            _ = self.quit.recv() => Stop::Quit,
        }
    }

    fn install() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
            quit: signal(SignalKind::quit())?,
            usr1: signal(SignalKind::user_defined1())?,
            usr2: signal(SignalKind::user_defined2())?,
            hup: signal(SignalKind::hangup())?,
        })
    }
}

/// Grace for the runtime's own shutdown after `run` returned.
pub const RUNTIME_SHUTDOWN: Duration = Duration::from_secs(1);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1035_preferred_syntax() {
        assert!(preferred_syntax("."));
        assert!(preferred_syntax("example.org."));
        assert!(preferred_syntax("0.0.10.in-addr.arpa."));
        assert!(!preferred_syntax("example.org{."));
        assert!(!preferred_syntax("_tcp.example.org."));
    }

    #[test]
    fn dns_port_must_be_a_number() {
        assert!(check_port("1053").is_ok());
        assert_eq!(
            check_port("abc").unwrap_err(),
            "address tcp/abc: unknown port"
        );
    }
}
