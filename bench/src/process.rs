//! The process under test, seen from outside: CPU time and resident memory from `/proc`, CPU
//! pinning, and a description of the machine for the report.

use std::process::{Child, Command};
use std::time::Instant;

use serde::Serialize;

/// CPU time and memory of one process at one moment.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Instant,
    /// User plus system CPU time of every thread, in seconds.
    pub cpu_seconds: f64,
    /// Resident set size, bytes.
    pub rss_bytes: u64,
}

/// Reads `/proc/<pid>/stat` (utime + stime) and `/proc/<pid>/status` (VmRSS).
pub fn sample(pid: u32) -> std::io::Result<Sample> {
    let at = Instant::now();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let cpu_seconds = cpu_seconds_from_stat(&stat).ok_or_else(|| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            "unreadable /proc/<pid>/stat",
        )
    })?;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let rss_bytes = rss_bytes_from_status(&status).unwrap_or(0);
    Ok(Sample {
        at,
        cpu_seconds,
        rss_bytes,
    })
}

fn clock_ticks_per_second() -> f64 {
    // SAFETY: sysconf has no preconditions; it only reads a system constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    if ticks > 0 { ticks as f64 } else { 100.0 }
}

/// utime + stime (fields 14 and 15) in seconds. The command name (field 2) may hold spaces and
/// parentheses, so fields are counted after its closing parenthesis.
fn cpu_seconds_from_stat(stat: &str) -> Option<f64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // After the name, field 3 (state) is index 0, so field n is index n - 3.
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some((utime + stime) as f64 / clock_ticks_per_second())
}

fn rss_bytes_from_status(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// CPUs this process may run on.
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity writes at most its size.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return Vec::new();
        }
        (0..libc::CPU_SETSIZE as usize)
            .filter(|&cpu| libc::CPU_ISSET(cpu, &set))
            .collect()
    }
}

/// Pins the calling thread (pid 0) or process `pid` to `cpus`.
pub fn pin(pid: libc::pid_t, cpus: &[usize]) -> std::io::Result<()> {
    // SAFETY: as in `allowed_cpus`; CPU_SET stays within the set for cpus below CPU_SETSIZE.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        for &cpu in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            libc::CPU_SET(cpu, &mut set);
        }
        if libc::sched_setaffinity(pid, std::mem::size_of::<libc::cpu_set_t>(), &set) != 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Which cores the SFU under test and the load generator get: the SFU one core of its own, the
/// generator the rest. On a one-core machine both share it (and the report says so).
#[derive(Debug, Clone, Serialize)]
pub struct CorePlan {
    pub sfu: Vec<usize>,
    pub generator: Vec<usize>,
}

impl CorePlan {
    pub fn for_this_machine() -> CorePlan {
        let cpus = allowed_cpus();
        match cpus.as_slice() {
            [] => CorePlan {
                sfu: vec![],
                generator: vec![],
            },
            [only] => CorePlan {
                sfu: vec![*only],
                generator: vec![*only],
            },
            [first, rest @ ..] => CorePlan {
                sfu: vec![*first],
                generator: rest.to_vec(),
            },
        }
    }

    /// Whether the SFU and the generator run on different cores.
    pub fn separated(&self) -> bool {
        !self.sfu.is_empty() && self.sfu.iter().all(|c| !self.generator.contains(c))
    }
}

/// Spawns `command` pinned to `cpus` from its first instruction, so every thread it starts
/// inherits the pinning (pinning a running process would move only its main thread).
pub fn spawn_pinned(command: &mut Command, cpus: &[usize]) -> std::io::Result<Child> {
    use std::os::unix::process::CommandExt;
    let cpus = cpus.to_vec();
    if !cpus.is_empty() {
        // SAFETY: the closure only calls sched_setaffinity, which is async-signal-safe, and
        // allocates nothing (the vector was moved in before fork).
        unsafe {
            command.pre_exec(move || pin(0, &cpus));
        }
    }
    command.spawn()
}

/// The machine, for the report: the figures only mean something beside it.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    pub cpu_model: String,
    pub cores: usize,
    pub kernel: String,
}

impl Machine {
    pub fn this() -> Machine {
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_else(|| "unknown".to_owned());
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_owned())
            .unwrap_or_else(|_| "unknown".to_owned());
        Machine {
            cpu_model,
            cores,
            kernel,
        }
    }
}

impl std::fmt::Display for Machine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, {} cores, Linux {}",
            self.cpu_model, self.cores, self.kernel
        )
    }
}

/// The machine's load average (1, 5 and 15 minutes) at the start and at the end of the command:
/// on a shared machine it tells how much else ran while measuring.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct LoadAverage {
    pub at_start: [f64; 3],
    pub at_end: [f64; 3],
}

/// `/proc/loadavg`'s three averages; zeros where it cannot be read.
pub fn load_average_now() -> [f64; 3] {
    let text = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut out = [0.0; 3];
    for (slot, field) in out.iter_mut().zip(text.split_whitespace()) {
        *slot = field.parse().unwrap_or(0.0);
    }
    out
}

impl std::fmt::Display for LoadAverage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let [a, b, c] = self.at_start;
        let [x, y, z] = self.at_end;
        write!(
            f,
            "{a:.2} {b:.2} {c:.2} at the start, {x:.2} {y:.2} {z:.2} at the end"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stat_fields_are_counted_after_a_command_name_with_spaces() {
        let stat = "42 (my (odd) proc) S 1 2 3 4 5 6 7 8 9 10 250 50 0 0 20 0 4 0";
        let ticks = clock_ticks_per_second();
        assert_eq!(cpu_seconds_from_stat(stat), Some(300.0 / ticks));
    }

    #[test]
    fn this_process_has_cpu_time_and_memory() {
        let s = sample(std::process::id()).unwrap();
        assert!(s.rss_bytes > 0);
        assert!(s.cpu_seconds >= 0.0);
        assert_eq!(
            rss_bytes_from_status("VmRSS:\t  1234 kB\n"),
            Some(1234 * 1024)
        );
    }
}
