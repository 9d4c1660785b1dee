//! What the load generator measures besides its own timings: the server's
//! CPU time and memory from `/proc`, and latency percentiles.

use std::time::Duration;

/// CPU time and memory of a set of server processes at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct ProcSample {
    /// User + system CPU time of all processes, in seconds.
    pub cpu_seconds: f64,
    /// Sum of the current resident sets (VmRSS), in KiB.
    pub rss_kib: u64,
    /// Sum of the peak resident sets (VmHWM), in KiB.
    pub hwm_kib: u64,
}

/// Clock ticks per second of `/proc/PID/stat` times. `getconf` asks the
/// C library without `unsafe`; every Linux we run on says 100.
pub fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|t| *t > 0.0)
        .unwrap_or(100.0)
}

/// utime + stime (fields 14 and 15) from the text of `/proc/PID/stat`, in ticks.
/// The command name (field 2) may contain spaces and parentheses, so fields
/// are counted after its last `)`.
pub fn parse_stat_ticks(stat: &str) -> Option<u64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // After ")" the fields start at number 3 (state), so field n is at n - 3.
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

/// A `Key:   1234 kB` line of `/proc/PID/status`, in KiB.
pub fn parse_status_kib(status: &str, key: &str) -> Option<u64> {
    status.lines().find_map(|l| {
        let value = l.strip_prefix(key)?.strip_prefix(':')?;
        value.split_whitespace().next()?.parse().ok()
    })
}

/// Reads the processes now. A process that has gone counts as zero.
pub fn sample(pids: &[u32], ticks: f64) -> ProcSample {
    let mut s = ProcSample::default();
    for pid in pids {
        if let Some(t) = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok().as_deref().and_then(parse_stat_ticks)
        {
            s.cpu_seconds += t as f64 / ticks;
        }
        if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            s.rss_kib += parse_status_kib(&status, "VmRSS").unwrap_or(0);
            s.hwm_kib += parse_status_kib(&status, "VmHWM").unwrap_or(0);
        }
    }
    s
}

/// Busy and total jiffies of the whole machine (first line of `/proc/stat`).
pub fn machine_jiffies() -> Option<(u64, u64)> {
    let text = std::fs::read_to_string("/proc/stat").ok()?;
    let line = text.lines().next()?.strip_prefix("cpu ")?;
    let v: Vec<u64> = line.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    let total: u64 = v.iter().sum();
    // idle and iowait are fields 4 and 5.
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    Some((total - idle, total))
}

/// The `q` quantile (0..=1) of sorted latencies, nearest-rank.
pub fn quantile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (q * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_times_are_read_after_the_command_name() {
        // A name with a space and a parenthesis must not shift the fields.
        let stat = "4242 (tun nus) x) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 10 1000 50";
        assert_eq!(parse_stat_ticks(stat), Some(325));
        assert_eq!(parse_stat_ticks("garbage"), None);
    }

    #[test]
    fn status_values_are_read_in_kib() {
        let status = "Name:\ttunnus\nVmHWM:\t   51234 kB\nVmRSS:\t   40000 kB\n";
        assert_eq!(parse_status_kib(status, "VmHWM"), Some(51234));
        assert_eq!(parse_status_kib(status, "VmRSS"), Some(40000));
        assert_eq!(parse_status_kib(status, "VmSwap"), None);
    }

    #[test]
    fn quantiles_use_the_nearest_rank() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&v, 0.5), Duration::from_millis(50));
        assert_eq!(quantile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(quantile(&v, 1.0), Duration::from_millis(100));
        assert_eq!(quantile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn this_process_can_be_sampled() {
        let s = sample(&[std::process::id()], clock_ticks());
        assert!(s.rss_kib > 0 && s.hwm_kib >= s.rss_kib, "{s:?}");
    }
}
