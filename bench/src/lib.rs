//! Shared pieces of the benchmarks: the disk's fsync rate (the baseline
//! every durable-write figure is stated against) and a throwaway
//! organisation to serve.

use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// How many `write(4 KiB) + fsync` a second the disk under `dir` sustains,
/// measured for `duration`. This is what "one fsync per message" would cap
/// delivery at.
pub fn fsync_rate(dir: &Path, duration: Duration) -> std::io::Result<f64> {
    let path = dir.join("fsync-probe");
    let mut file = std::fs::File::create(&path)?;
    let block = [0x5au8; 4096];
    let start = Instant::now();
    let mut count = 0u64;
    while start.elapsed() < duration {
        file.write_all(&block)?;
        file.sync_data()?;
        count += 1;
    }
    let rate = count as f64 / start.elapsed().as_secs_f64();
    drop(file);
    std::fs::remove_file(&path)?;
    Ok(rate)
}

/// Parses `--name value` from the arguments, with a default.
pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Reads one SMTP reply (all its lines) and fails unless it has `code`.
pub async fn expect(
    read: &mut tokio::io::BufReader<tokio::net::tcp::OwnedReadHalf>,
    code: u16,
) -> anyhow::Result<()> {
    use tokio::io::AsyncBufReadExt;
    loop {
        let mut line = String::new();
        if read.read_line(&mut line).await? == 0 {
            anyhow::bail!("connection closed while waiting for {code}");
        }
        let got: Option<u16> = line.get(..3).and_then(|c| c.parse().ok());
        if got != Some(code) {
            anyhow::bail!("expected {code}, got {}", line.trim_end());
        }
        if line.as_bytes().get(3) != Some(&b'-') {
            return Ok(());
        }
    }
}
