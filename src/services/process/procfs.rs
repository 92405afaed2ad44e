//! What the process collector reads from Linux's /proc, parsed from text (no `unsafe`, no
//! libc calls), so each parser is tested on a captured sample.

/// `USER_HZ`: the unit of the CPU times in /proc/[pid]/stat. It is part of the kernel's
/// userspace ABI and 100 on every Linux architecture (`sysconf(_SC_CLK_TCK)` would need
/// `unsafe`); the Prometheus Go client's procfs assumes the same.
const USER_HZ: f64 = 100.0;

/// The `process_*` values the Prometheus client reads from /proc. A value is `None` when its
/// file is unreadable (not Linux, /proc not mounted): the metric is then left out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    pub cpu_seconds: Option<f64>,
    pub open_fds: Option<u64>,
    pub max_fds: Option<u64>,
    pub virtual_memory_bytes: Option<u64>,
    pub virtual_memory_max_bytes: Option<f64>,
    pub resident_memory_bytes: Option<u64>,
    pub start_time_seconds: Option<f64>,
    pub threads: Option<u64>,
    pub network_receive_bytes: Option<u64>,
    pub network_transmit_bytes: Option<u64>,
}

impl Sample {
    pub fn read() -> Sample {
        let read = |path: &str| std::fs::read_to_string(path).ok();
        let mut sample = Sample::default();
        if let Some(stat) = read("/proc/self/stat").and_then(|s| Stat::parse(&s)) {
            sample.cpu_seconds = Some(stat.cpu_seconds());
            sample.virtual_memory_bytes = Some(stat.vsize);
            sample.start_time_seconds = read("/proc/stat")
                .and_then(|s| boot_time(&s))
                .map(|boot| boot + stat.start_ticks as f64 / USER_HZ);
        }
        if let Some(limits) = read("/proc/self/limits") {
            sample.max_fds = soft_limit(&limits, "Max open files");
            // A float as in Go, so "unlimited" prints as 1.8446744073709552e19.
            sample.virtual_memory_max_bytes =
                soft_limit(&limits, "Max address space").map(|v| v as f64);
        }
        if let Some(status) = read("/proc/self/status") {
            sample.resident_memory_bytes = status_field(&status, "VmRSS").map(|kb| kb * 1024);
            sample.threads = status_field(&status, "Threads");
        }
        if let Some(netstat) = read("/proc/self/net/netstat") {
            sample.network_receive_bytes = netstat_field(&netstat, "IpExt", "InOctets");
            sample.network_transmit_bytes = netstat_field(&netstat, "IpExt", "OutOctets");
        }
        sample.open_fds = std::fs::read_dir("/proc/self/fd")
            .ok()
            .map(|dir| dir.count() as u64);
        sample
    }
}

/// The fields of /proc/self/stat the collector uses (proc(5)).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub utime_ticks: u64,
    pub stime_ticks: u64,
    /// Start time in ticks after boot.
    pub start_ticks: u64,
    pub vsize: u64,
}

impl Stat {
    pub fn parse(text: &str) -> Option<Stat> {
        // `comm` (field 2) is in parentheses and may itself contain spaces or ')': the fields
        // that follow start after the last ')'. Then field N of proc(5) is at index N - 3.
        let rest = &text[text.rfind(')')? + 1..];
        let fields: Vec<&str> = rest.split_whitespace().collect();
        let field = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
        Some(Stat {
            utime_ticks: field(14)?,
            stime_ticks: field(15)?,
            start_ticks: field(22)?,
            vsize: field(23)?,
        })
    }

    pub fn cpu_seconds(&self) -> f64 {
        (self.utime_ticks + self.stime_ticks) as f64 / USER_HZ
    }
}

/// `btime` of /proc/stat: boot time in Unix seconds.
pub fn boot_time(proc_stat: &str) -> Option<f64> {
    proc_stat
        .lines()
        .find_map(|line| line.strip_prefix("btime "))
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(|secs| secs as f64)
}

/// The soft limit of a /proc/self/limits row; `unlimited` is 2^64 - 1 (RLIM_INFINITY), as
/// Go reads it.
pub fn soft_limit(limits: &str, name: &str) -> Option<u64> {
    let row = limits.lines().find_map(|line| line.strip_prefix(name))?;
    match row.split_whitespace().next()? {
        "unlimited" => Some(u64::MAX),
        value => value.parse().ok(),
    }
}

/// A numeric field of /proc/self/status (`Threads:\t12`, `VmRSS:\t  1916 kB` → 1916).
pub fn status_field(status: &str, name: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        if key != name {
            return None;
        }
        value.split_whitespace().next()?.parse().ok()
    })
}

/// A counter of /proc/self/net/netstat, where each group is a line of names followed by a
/// line of values with the same `Group:` prefix.
pub fn netstat_field(netstat: &str, group: &str, name: &str) -> Option<u64> {
    let prefix = format!("{group}:");
    let mut rows = netstat.lines().filter(|l| l.starts_with(&prefix));
    let names = rows.next()?;
    let values = rows.next()?;
    let index = names.split_whitespace().skip(1).position(|n| n == name)?;
    values.split_whitespace().skip(1).nth(index)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_follow_the_last_parenthesis() {
        let text = "4242 (clus) (ter) dns) S 1 4242 4242 0 -1 4194560 2000 0 0 0 \
                    350 150 0 0 20 0 12 0 98765 123456789 4567 18446744073709551615 1 1 0 0 0 0 0 0 0";
        let stat = Stat::parse(text).unwrap();
        assert_eq!(
            stat,
            Stat {
                utime_ticks: 350,
                stime_ticks: 150,
                start_ticks: 98765,
                vsize: 123456789
            }
        );
        assert_eq!(stat.cpu_seconds(), 5.0);
        assert_eq!(Stat::parse("garbage"), None);
    }

    #[test]
    fn limits_read_the_soft_column() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units     \n\
                      Max open files            1024                 1048576              files     \n\
                      Max address space         unlimited            unlimited            bytes     \n";
        assert_eq!(soft_limit(limits, "Max open files"), Some(1024));
        assert_eq!(soft_limit(limits, "Max address space"), Some(u64::MAX));
        assert_eq!(soft_limit(limits, "Max processes"), None);
    }

    #[test]
    fn status_and_stat_fields() {
        let status = "Name:\tclusterdns\nVmSize:\t   3892 kB\nVmRSS:\t    1916 kB\nThreads:\t7\n";
        assert_eq!(status_field(status, "VmRSS"), Some(1916));
        assert_eq!(status_field(status, "Threads"), Some(7));
        assert_eq!(status_field(status, "Missing"), None);
        assert_eq!(
            boot_time("cpu  1 2 3\nbtime 1795642981\n"),
            Some(1795642981.0)
        );
    }

    #[test]
    fn netstat_pairs_names_with_values() {
        let netstat = "TcpExt: SyncookiesSent InOctets\nTcpExt: 9 9\n\
                       IpExt: InNoRoutes InOctets OutOctets\nIpExt: 0 76849138 200463\n";
        assert_eq!(netstat_field(netstat, "IpExt", "InOctets"), Some(76849138));
        assert_eq!(netstat_field(netstat, "IpExt", "OutOctets"), Some(200463));
        assert_eq!(netstat_field(netstat, "IpExt", "Nope"), None);
    }

    #[test]
    fn this_process_reads_sanely() {
        if !std::path::Path::new("/proc/self/stat").exists() {
            return; // Not Linux: nothing to read.
        }
        let s = Sample::read();
        assert!(s.open_fds.unwrap() >= 3, "stdin, stdout, stderr at least");
        assert!(s.max_fds.unwrap() >= s.open_fds.unwrap());
        assert!(s.resident_memory_bytes.unwrap() > 0);
        assert!(s.virtual_memory_bytes.unwrap() >= s.resident_memory_bytes.unwrap());
        assert!(s.threads.unwrap() >= 1);
        assert!(s.cpu_seconds.unwrap() >= 0.0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        // btime has whole seconds: a process started just now may appear up to 1 s early.
        let age = now - s.start_time_seconds.unwrap();
        assert!((-2.0..86_400.0).contains(&age), "started {age} s ago");
    }
}
