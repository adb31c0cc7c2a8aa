//! Structured logs through `tracing`: human-readable by default, JSON with
//! `--log-json`; the level from `MAILROOM_LOG` (an env-filter directive).

use tracing_subscriber::EnvFilter;

pub fn init(json: bool, default_level: &str) {
    let filter = EnvFilter::try_from_env("MAILROOM_LOG").unwrap_or_else(|_| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second init (tests) is harmless; the first subscriber stays.
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
