//! `loadgen`: a UDP DNS load generator for `bench/`, for when dnsperf's own core is the
//! bottleneck. It takes dnsperf's options and query file and prints dnsperf's report lines,
//! so the bench scripts parse either.
//!
//!   loadgen -s 127.0.0.1 -p PORT -d FILE [-l SECONDS] [-c SOCKETS] [-q OUTSTANDING] [-t TIMEOUT]

mod blast;
mod flights;
mod queries;

use std::net::{IpAddr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use thiserror::Error;

use blast::{Outcome, Plan};

#[derive(Debug, Error)]
enum UsageError {
    #[error("option {0} needs a value")]
    MissingValue(String),
    #[error("option {option}: {value:?} is not valid")]
    BadValue { option: String, value: String },
    #[error("unknown option {0}")]
    Unknown(String),
    #[error("-d FILE (the query file) is required")]
    NoQueryFile,
}

struct Options {
    server: IpAddr,
    port: u16,
    query_file: String,
    seconds: f64,
    sockets: usize,
    outstanding: usize,
    timeout: f64,
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, UsageError> {
    let mut options = Options {
        server: IpAddr::from([127, 0, 0, 1]),
        port: 53,
        query_file: String::new(),
        seconds: 10.0,
        sockets: 4,
        outstanding: 100,
        timeout: 5.0,
    };
    while let Some(option) = args.next() {
        let value = args
            .next()
            .ok_or_else(|| UsageError::MissingValue(option.clone()))?;
        let bad = || UsageError::BadValue {
            option: option.clone(),
            value: value.clone(),
        };
        match option.as_str() {
            "-s" => options.server = value.parse().map_err(|_| bad())?,
            "-p" => options.port = value.parse().map_err(|_| bad())?,
            "-d" => options.query_file = value.clone(),
            "-l" => options.seconds = positive(&value).ok_or_else(bad)?,
            "-t" => options.timeout = positive(&value).ok_or_else(bad)?,
            "-c" => options.sockets = count(&value).ok_or_else(bad)?,
            "-q" => options.outstanding = count(&value).ok_or_else(bad)?,
            _ => return Err(UsageError::Unknown(option)),
        }
    }
    if options.query_file.is_empty() {
        return Err(UsageError::NoQueryFile);
    }
    Ok(options)
}

fn positive(value: &str) -> Option<f64> {
    value
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite() && *v > 0.0)
}

fn count(value: &str) -> Option<usize> {
    value.parse::<usize>().ok().filter(|v| *v > 0)
}

fn main() -> ExitCode {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("loadgen: {error}");
            return ExitCode::from(2);
        }
    };
    let queries = match std::fs::read_to_string(&options.query_file)
        .map_err(|error| error.to_string())
        .and_then(|text| queries::parse(&text).map_err(|error| error.to_string()))
    {
        Ok(queries) => queries,
        Err(error) => {
            eprintln!("loadgen: {}: {error}", options.query_file);
            return ExitCode::FAILURE;
        }
    };
    let plan = Plan {
        server: SocketAddr::new(options.server, options.port),
        queries,
        sockets: options.sockets,
        outstanding: options.outstanding,
        duration: Duration::from_secs_f64(options.seconds),
        timeout: Duration::from_secs_f64(options.timeout),
    };
    match blast::run(&plan) {
        Ok(outcome) => {
            print!("{}", report(&outcome));
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("loadgen: {error}");
            ExitCode::FAILURE
        }
    }
}

/// dnsperf's statistics lines (the ones `bench/lib.sh` reads), from `outcome`.
fn report(outcome: &Outcome) -> String {
    let tally = &outcome.tally;
    let percent = |n: u64| {
        if tally.sent == 0 {
            0.0
        } else {
            100.0 * n as f64 / tally.sent as f64
        }
    };
    let rcodes: Vec<String> = tally
        .rcodes
        .iter()
        .enumerate()
        .filter(|(_, n)| **n > 0)
        .map(|(code, n)| format!("{} {n}", rcode_name(code)))
        .collect();
    let seconds = outcome.window.as_secs_f64();
    let mut text = String::new();
    text += &format!("  Queries sent:         {}\n", tally.sent);
    text += &format!(
        "  Queries completed:    {} ({:.2}%)\n",
        tally.completed,
        percent(tally.completed)
    );
    text += &format!(
        "  Queries lost:         {} ({:.2}%)\n",
        tally.lost,
        percent(tally.lost)
    );
    text += &format!("  Unexpected replies:   {}\n", tally.unexpected);
    text += &format!("  Response codes:       {}\n", rcodes.join(", "));
    text += &format!("  Run time (s):         {seconds:.6}\n");
    text += &format!(
        "  Queries per second:   {:.6}\n",
        outcome.completed_in_window as f64 / seconds
    );
    text += &format!(
        "  Average Latency (s):  {:.6} (min {:.6}, max {:.6})\n",
        tally.average_latency(),
        tally.latency_min.unwrap_or_default().as_secs_f64(),
        tally.latency_max.as_secs_f64()
    );
    text += &format!("  Latency StdDev (s):   {:.6}\n", tally.latency_stddev());
    text
}

fn rcode_name(code: usize) -> String {
    const NAMES: [&str; 11] = [
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET",
        "NXRRSET", "NOTAUTH", "NOTZONE",
    ];
    NAMES
        .get(code)
        .map_or_else(|| format!("RCODE{code}"), |name| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(text: &str) -> impl Iterator<Item = String> {
        text.split_whitespace()
            .map(str::to_string)
            .collect::<Vec<_>>()
            .into_iter()
    }

    #[test]
    fn options_take_dnsperfs_letters() {
        let options =
            parse_options(args("-s ::1 -p 1053 -d q.txt -l 2.5 -c 2 -q 300 -t 1")).unwrap();
        assert_eq!(options.server, "::1".parse::<IpAddr>().unwrap());
        assert_eq!(
            (options.port, options.sockets, options.outstanding),
            (1053, 2, 300)
        );
        assert_eq!((options.seconds, options.timeout), (2.5, 1.0));
        assert_eq!(options.query_file, "q.txt");
    }

    #[test]
    fn bad_options_are_usage_errors() {
        let error = |text| parse_options(args(text)).err();
        assert!(matches!(error("-d q.txt -l"), Some(UsageError::MissingValue(o)) if o == "-l"));
        for text in [
            "-d q.txt -c 0",
            "-d q.txt -l -1",
            "-d q.txt -s host",
            "-d q.txt -p 70000",
        ] {
            assert!(
                matches!(error(text), Some(UsageError::BadValue { .. })),
                "{text}"
            );
        }
        assert!(matches!(error("-d q.txt -x 1"), Some(UsageError::Unknown(o)) if o == "-x"));
        assert!(matches!(error("-p 53"), Some(UsageError::NoQueryFile)));
    }
}
