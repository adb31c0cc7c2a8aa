//! Mail authentication for Mailroom, and the DNS it needs (mail-auth on
//! ring; hickory's resolver):
//!
//! - [`Dns`]: the server's one resolver (`[dns] nameservers`, or the
//!   system's), shared by MX routing and every check here.
//! - DKIM: the accepted domains' DKIM keys made and rotated,
//!   their DNS records written, outgoing mail signed ([`sign_outgoing`]).
//! - [`records`]: every DNS record a domain needs for mail (MX, SPF, DKIM,
//!   DMARC, MTA-STS, TLS-RPT), and a check of them against live DNS.
//! - [`verify()`]: inbound mail's SPF, DKIM, DMARC and ARC, written into an
//!   `Authentication-Results:` field and reported to `core`, which decides
//!   where the message goes; forwarded copies sealed with ARC.

mod dkim;
mod dns;
pub mod records;
mod verify;

pub use dkim::{
    DkimError, ensure_keys, generate, generate_at, record_name, record_text, sign, sign_outgoing, zone_lines,
};
pub use dns::{Dns, DnsError};
pub use verify::{Arrival, Verified, strip_forged_results, verify};
