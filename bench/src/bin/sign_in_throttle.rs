//! What the sign-in throttle costs a sign-in, under 200 attempts at once.
//!
//! Three figures from one run, each next to its baseline:
//! - the full sign-in (`Directory::sign_in`: the throttle's bookkeeping, then
//!   the argon2 check) of 200 users at once from 200 addresses, against the
//!   same 200 checks without the throttle (`Directory::authenticate`);
//! - the bookkeeping alone (one `begin` + `finish`) with 200 threads at once,
//!   from 200 addresses and all from one, against an uncontended pair;
//! - the attack: 200 wrong guesses at once from one address — how many are
//!   checked now, queued, or refused unchecked, and how long a refusal takes.
//!
//!     cargo run --release -p mailroom-bench --bin sign_in_throttle -- [--attempts 200] [--rounds 2000]

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use mailroom_bench::{PASSWORD, arg};
use mailroom_core::throttle::{AccountKey, Admission, SignInThrottle};
use mailroom_types::{PrincipalId, Secret};

fn main() -> Result<()> {
    let attempts: usize = arg("--attempts", 200);
    let rounds: usize = arg("--rounds", 2000);
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    runtime.block_on(full_sign_ins(attempts))?;
    bookkeeping(attempts, rounds);
    attack(attempts);
    Ok(())
}

fn address(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, (n >> 16) as u8, (n >> 8) as u8, n as u8))
}

/// 200 users sign in at once, each from its own address: with the throttle
/// (`sign_in`) and without (`authenticate`), same store, same run.
async fn full_sign_ins(attempts: usize) -> Result<()> {
    let tmp = tempfile::tempdir_in(std::env::var_os("BENCH_DIR").unwrap_or_else(|| ".".into()))?;
    let aliases: Vec<String> = (0..attempts).map(|n| format!("user{n}")).collect();
    let alias_refs: Vec<&str> = aliases.iter().map(String::as_str).collect();
    let org = mailroom_bench::organisation(tmp.path(), &alias_refs).await?;
    let password = Secret::new(PASSWORD.to_string());
    let logins: Vec<String> = aliases.iter().map(|a| format!("{a}@bench.example")).collect();
    // Warm the password threads and the store.
    org.dir.authenticate(&logins[0], &password).await?;
    let mut rows = Vec::new();
    for throttled in [false, true] {
        let started = Instant::now();
        let mut tasks = Vec::new();
        for (n, login) in logins.iter().enumerate() {
            let (dir, login, password) = (org.dir.clone(), login.clone(), password.clone());
            tasks.push(tokio::spawn(async move {
                if throttled {
                    dir.sign_in(address(n), &login, &password, tokio::time::sleep).await.is_ok()
                } else {
                    dir.authenticate(&login, &password).await.is_ok()
                }
            }));
        }
        let mut ok = 0;
        for task in tasks {
            ok += usize::from(task.await?);
        }
        assert_eq!(ok, attempts, "every sign-in succeeds");
        rows.push(started.elapsed());
    }
    let (plain, throttled) = (rows[0], rows[1]);
    println!("{attempts} sign-ins at once, each from its own address (argon2 at the production cost):");
    println!(
        "  without the throttle  {:>8.1} ms in all, {:>6.2} ms per sign-in",
        ms(plain),
        ms(plain) / attempts as f64
    );
    println!(
        "  with the throttle     {:>8.1} ms in all, {:>6.2} ms per sign-in  ({:.3}x)",
        ms(throttled),
        ms(throttled) / attempts as f64,
        throttled.as_secs_f64() / plain.as_secs_f64()
    );
    Ok(())
}

/// `begin` + `finish` pairs per second: alone, then 200 threads at once
/// from 200 addresses, then 200 threads from one address at one account.
fn bookkeeping(threads: usize, rounds: usize) {
    let alone = {
        let throttle = SignInThrottle::default();
        let started = Instant::now();
        for n in 0..rounds * threads / 10 {
            let attempt =
                throttle.begin(address(n % 1000), AccountKey::Principal(PrincipalId((n % 1000) as i64)));
            throttle.finish(attempt, true);
        }
        started.elapsed() / (rounds * threads / 10) as u32
    };
    let contended = |one_source: bool| {
        let throttle = Arc::new(SignInThrottle::default());
        let barrier = Arc::new(std::sync::Barrier::new(threads));
        let started = Instant::now();
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let (throttle, barrier) = (throttle.clone(), barrier.clone());
                std::thread::spawn(move || {
                    barrier.wait();
                    for _ in 0..rounds {
                        let (ip, account) = if one_source {
                            (address(0), AccountKey::Principal(PrincipalId(1)))
                        } else {
                            (address(t), AccountKey::Principal(PrincipalId(t as i64)))
                        };
                        let attempt = throttle.begin(ip, account);
                        // Successes: the bookkeeping is measured, not the queue.
                        throttle.finish(attempt, true);
                    }
                })
            })
            .collect();
        for handle in handles {
            let _ = handle.join();
        }
        started.elapsed() / (threads * rounds) as u32
    };
    let spread = contended(false);
    let one = contended(true);
    println!("throttle bookkeeping (begin + finish), {threads} threads x {rounds} rounds on 2 cores:");
    println!("  one thread alone             {:>8.0} ns per sign-in", ns(alone));
    println!(
        "  {threads} threads, {threads} addresses   {:>8.0} ns per sign-in ({:.1}x)",
        ns(spread),
        ns(spread) / ns(alone)
    );
    println!(
        "  {threads} threads, one address      {:>8.0} ns per sign-in ({:.1}x)",
        ns(one),
        ns(one) / ns(alone)
    );
}

/// 200 wrong guesses at once from one address.
fn attack(attempts: usize) {
    let throttle = SignInThrottle::default();
    let started = Instant::now();
    let admitted: Vec<_> = (0..attempts)
        .map(|n| throttle.begin(address(7), AccountKey::unknown(&format!("guess{n}@bench.example"))))
        .collect();
    let took = started.elapsed();
    let now = admitted.iter().filter(|a| a.admission == Admission::After(Duration::ZERO)).count();
    let queued: Vec<String> = admitted
        .iter()
        .filter_map(|a| match a.admission {
            Admission::After(wait) if !wait.is_zero() => Some(format!("{:.1}", wait.as_secs_f64())),
            _ => None,
        })
        .collect();
    let refused = admitted.iter().filter(|a| a.admission == Admission::Refused).count();
    println!("{attempts} wrong guesses at once from one address:");
    println!(
        "  checked at once {now}, queued {} (at {} s), refused unchecked {refused}",
        queued.len(),
        queued.join(", ")
    );
    println!(
        "  deciding all {attempts} took {:.1} µs ({:.0} ns each)",
        took.as_secs_f64() * 1e6,
        ns(took) / attempts as f64
    );
    for attempt in admitted {
        throttle.finish(attempt, false);
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn ns(d: Duration) -> f64 {
    d.as_secs_f64() * 1e9
}
