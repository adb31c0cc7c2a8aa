//! A sink SMTP server on `127.0.0.1:0`: the "remote" server the tests of
//! outbound mail point `[outbound] smarthost` at. It accepts everything
//! except recipients whose local part says otherwise — `perm…` gets
//! `550 5.1.1` always, `temp…` gets `451 4.4.1` at the first attempt and
//! `250` after — and keeps every message it accepted, with the name the
//! client gave in EHLO (which node sent it, when several do).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One message the sink accepted.
#[derive(Clone, Debug)]
pub struct Received {
    /// The envelope sender.
    pub from: String,
    /// The recipients it accepted for this message.
    pub rcpts: Vec<String>,
    /// The message as received, dot-stuffing undone.
    pub data: String,
    /// The client's EHLO (or HELO) name.
    pub helo: String,
    /// When it was accepted: just before the `250` to the final dot.
    pub at: Instant,
}

/// A running sink; its listener thread lives as long as the test.
#[derive(Debug)]
pub struct Sink {
    pub addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    /// While false, every connection is turned away with `421` (a
    /// temporary failure) — the sink keeps its port meanwhile.
    pub open: Arc<AtomicBool>,
}

/// How one sink answers.
#[derive(Clone, Copy, Debug)]
struct Behaviour {
    /// Whether EHLO offers 8BITMIME.
    eight_bit: bool,
    /// How long it takes over each message after the final dot, before
    /// it accepts it: a slow server keeps the sender's transactions open.
    pause: Duration,
}

impl Sink {
    pub fn start() -> Sink {
        Sink::serving(Behaviour { eight_bit: true, pause: Duration::ZERO })
    }

    /// A sink that doesn't offer 8BITMIME.
    pub fn seven_bit() -> Sink {
        Sink::serving(Behaviour { eight_bit: false, pause: Duration::ZERO })
    }

    /// A sink that takes `pause` over every message before accepting it.
    pub fn slow(pause: Duration) -> Sink {
        Sink::serving(Behaviour { eight_bit: true, pause })
    }

    fn serving(behaviour: Behaviour) -> Sink {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the sink");
        let addr = listener.local_addr().expect("the sink's address");
        let open = Arc::new(AtomicBool::new(true));
        let is_open = open.clone();
        let received = Arc::new(Mutex::new(Vec::new()));
        let attempts = Arc::new(Mutex::new(HashMap::<String, u32>::new()));
        let store = received.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { return };
                if !is_open.load(Ordering::SeqCst) {
                    let _ = stream.write_all(b"421 4.3.2 not now\r\n");
                    continue;
                }
                let (store, attempts) = (store.clone(), attempts.clone());
                std::thread::spawn(move || serve(stream, &store, &attempts, behaviour));
            }
        });
        Sink { addr, received, open }
    }

    /// Everything accepted so far, in the order it was accepted.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }
}

/// One connection, until QUIT or the client is gone.
fn serve(
    stream: TcpStream,
    store: &Mutex<Vec<Received>>,
    attempts: &Mutex<HashMap<String, u32>>,
    how: Behaviour,
) {
    let Ok(mut out) = stream.try_clone() else { return };
    let mut lines = BufReader::new(stream);
    let mut say = |text: &str| out.write_all(format!("{text}\r\n").as_bytes()).is_ok();
    say("220 sink.example ESMTP");
    let (mut helo, mut from, mut rcpts) = (String::new(), String::new(), Vec::new());
    loop {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let upper = line.to_ascii_uppercase();
        let arg = line
            .split_once(':')
            .map(|(_, a)| a.trim().trim_matches(['<', '>']).to_string())
            .unwrap_or_default();
        let ok = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            helo = line.get(5..).unwrap_or_default().trim().to_string();
            if how.eight_bit {
                say("250-sink.example\r\n250-AUTH PLAIN\r\n250 8BITMIME")
            } else {
                say("250-sink.example\r\n250 AUTH PLAIN")
            }
        } else if upper.starts_with("AUTH PLAIN ") {
            // \0relay\0relay-pass
            if line.trim_end().ends_with(" AHJlbGF5AHJlbGF5LXBhc3M=") {
                say("235 2.7.0 ok")
            } else {
                say("535 5.7.8 bad credentials")
            }
        } else if upper.starts_with("MAIL FROM") {
            from = arg.split('>').next().unwrap_or_default().to_string();
            rcpts.clear();
            say("250 2.1.0 ok")
        } else if upper.starts_with("RCPT TO") {
            let count = {
                let mut seen = attempts.lock().unwrap_or_else(PoisonError::into_inner);
                let n = seen.entry(arg.clone()).or_insert(0);
                *n += 1;
                *n
            };
            if arg.starts_with("perm") {
                say("550 5.1.1 no such user here")
            } else if arg.starts_with("temp") && count == 1 {
                say("451 4.4.1 try again later")
            } else {
                rcpts.push(arg);
                say("250 2.1.5 ok")
            }
        } else if upper.starts_with("DATA") {
            say("354 go ahead");
            let mut data = String::new();
            loop {
                let mut l = String::new();
                if lines.read_line(&mut l).unwrap_or(0) == 0 {
                    return;
                }
                if l == ".\r\n" {
                    break;
                }
                data.push_str(l.strip_prefix('.').filter(|_| l.starts_with("..")).unwrap_or(&l));
            }
            std::thread::sleep(how.pause);
            let received = Received {
                from: from.clone(),
                rcpts: rcpts.clone(),
                data,
                helo: helo.clone(),
                at: Instant::now(),
            };
            store.lock().unwrap_or_else(PoisonError::into_inner).push(received);
            say("250 2.0.0 queued as sink")
        } else if upper.starts_with("QUIT") {
            say("221 bye");
            return;
        } else {
            say("250 ok")
        };
        if !ok {
            return;
        }
    }
}
