//! The standard `process_*` metrics every Prometheus client library exports, read at each
//! scrape: a restart shows as a new `process_start_time_seconds`, a leak as a growing resident
//! memory or file descriptor count. Names and meanings are those of the Go and Python clients.
//! The start time is there on every platform; the others where the system tells them (memory
//! and descriptors from Linux's `/proc`, CPU time and the descriptor limit on any Unix).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// The process' own metrics, without prefix.
#[derive(Debug)]
pub(crate) struct ProcessMetrics {
    /// Unix time, in seconds, at which the controller started.
    start_time_seconds: f64,
}

impl ProcessMetrics {
    /// Metrics of this process, started at `start_time_seconds` (Unix time).
    pub(crate) fn new(start_time_seconds: f64) -> ProcessMetrics {
        ProcessMetrics { start_time_seconds }
    }
}

/// What the system says about the process now; `None` where it says nothing.
#[derive(Debug, Default, Clone, Copy, PartialEq)]
struct Sample {
    cpu_seconds: Option<f64>,
    resident_memory_bytes: Option<f64>,
    virtual_memory_bytes: Option<f64>,
    open_fds: Option<f64>,
    max_fds: Option<f64>,
}

impl Collector for ProcessMetrics {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let sample = sample();
        if let Some(seconds) = sample.cpu_seconds {
            let counter = ConstCounter::new(seconds);
            let metric = encoder.encode_descriptor(
                "process_cpu_seconds",
                "Total user and system CPU time spent in seconds.",
                None,
                MetricType::Counter,
            )?;
            counter.encode(metric)?;
        }
        let gauges = [
            (
                "process_start_time_seconds",
                "Start time of the process since unix epoch in seconds.",
                Some(self.start_time_seconds),
            ),
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes.",
                sample.resident_memory_bytes,
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes.",
                sample.virtual_memory_bytes,
            ),
            ("process_open_fds", "Number of open file descriptors.", sample.open_fds),
            ("process_max_fds", "Maximum number of open file descriptors.", sample.max_fds),
        ];
        for (name, help, value) in gauges {
            if let Some(value) = value {
                let metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
                ConstGauge::new(value).encode(metric)?;
            }
        }
        Ok(())
    }
}

fn sample() -> Sample {
    #[allow(unused_mut)] // Nothing is sampled on a system that is neither Unix nor Linux.
    let mut sample = Sample::default();
    #[cfg(unix)]
    {
        sample.cpu_seconds = unix::cpu_seconds();
        sample.max_fds = unix::max_fds();
    }
    #[cfg(target_os = "linux")]
    {
        if let Ok(status) = std::fs::read_to_string("/proc/self/status") {
            sample.resident_memory_bytes = status_kilobytes(&status, "VmRSS:").map(|k| k * 1024.0);
            sample.virtual_memory_bytes = status_kilobytes(&status, "VmSize:").map(|k| k * 1024.0);
        }
        sample.open_fds =
            std::fs::read_dir("/proc/self/fd").ok().map(|entries| entries.count() as f64);
    }
    sample
}

/// The value of a `/proc/self/status` line such as `VmRSS: 10240 kB`, in kilobytes.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn status_kilobytes(status: &str, key: &str) -> Option<f64> {
    let line = status.lines().find_map(|line| line.strip_prefix(key))?;
    let mut words = line.split_whitespace();
    let value: f64 = words.next()?.parse().ok()?;
    (words.next() == Some("kB")).then_some(value)
}

#[cfg(unix)]
mod unix {
    /// User and system CPU time of every thread of the process, in seconds.
    pub(super) fn cpu_seconds() -> Option<f64> {
        // SAFETY: getrusage(2) fills the struct it is given and reads nothing else; a zeroed
        // rusage is a valid value of that plain C struct.
        let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
            return None;
        }
        let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
        Some(seconds(usage.ru_utime) + seconds(usage.ru_stime))
    }

    /// The soft limit on open file descriptors; `None` when unlimited.
    pub(super) fn max_fds() -> Option<f64> {
        // SAFETY: getrlimit(2) fills the struct it is given and reads nothing else.
        let mut limit: libc::rlimit = unsafe { std::mem::zeroed() };
        if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0
            || limit.rlim_cur == libc::RLIM_INFINITY
        {
            return None;
        }
        Some(limit.rlim_cur as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::registry::Registry;

    #[test]
    fn status_lines_are_read_in_kilobytes() {
        let status = "Name:\tworkmail\nVmSize:\t  123456 kB\nVmRSS:\t    2048 kB\nThreads:\t4\n";
        assert_eq!(status_kilobytes(status, "VmRSS:"), Some(2048.0));
        assert_eq!(status_kilobytes(status, "VmSize:"), Some(123_456.0));
        assert_eq!(status_kilobytes(status, "VmSwap:"), None);
        assert_eq!(status_kilobytes("VmRSS:\t2048 MB\n", "VmRSS:"), None);
        assert_eq!(status_kilobytes("VmRSS:\tlots kB\n", "VmRSS:"), None);
    }

    #[test]
    fn the_start_time_is_always_there_and_the_rest_where_the_system_tells() {
        let mut registry = Registry::default();
        registry.register_collector(Box::new(ProcessMetrics::new(1_700_000_000.5)));
        let mut text = String::new();
        prometheus_client::encoding::prometheus_text::encode(&mut text, &registry).unwrap();
        assert!(
            text.contains(
                "# TYPE process_start_time_seconds gauge\nprocess_start_time_seconds 1700000000.5\n"
            ),
            "{text}"
        );
        #[cfg(target_os = "linux")]
        for name in [
            "process_cpu_seconds_total ",
            "process_resident_memory_bytes ",
            "process_virtual_memory_bytes ",
            "process_open_fds ",
            "process_max_fds ",
        ] {
            assert!(text.lines().any(|l| l.starts_with(name)), "{name} in {text}");
        }
    }
}
