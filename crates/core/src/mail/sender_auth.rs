//! Where inbound mail goes once its sender's authentication is known.
//!
//! The protocol edge works out SPF (RFC 7208), DKIM (RFC 6376) and DMARC
//! (RFC 7489) with DNS and reports the DMARC outcome here, with the spam
//! filter's verdict when one is configured; this module decides between the
//! Inbox, Junk Email, a temporary refusal and a refusal.
//!
//! DMARC's policy is the sending domain's request (RFC 7489 §6.3 `p=`); the
//! receiver applies it as its own policy allows (§6.7). `pct=` isn't
//! applied: DMARC's revision (RFC 9989) dropped it for test mode (`t=y`,
//! which lowers the policy one step). Each of our domains
//! chooses how much of it to honour ([`DmarcEnforcement`]): all of it (the
//! default, as large receivers do), quarantine at most, or none (only the
//! `Authentication-Results:` field records the failure). A DMARC error
//! (a DNS failure, a broken record) never refuses mail: the receiver can't
//! tell a forgery from a network problem (§6.6.3 asks to treat it as none).

/// DMARC's result for a message (RFC 7489 §11.2, RFC 8601 §2.7.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DmarcOutcome {
    Pass,
    /// Neither SPF nor DKIM passed aligned with the `From:` domain.
    Fail,
    /// The `From:` domain publishes no DMARC record (or the message names
    /// no single `From:` domain).
    None,
    /// A DNS failure; it might pass later.
    TempError,
    /// The domain's record can't be read.
    PermError,
}

/// What the `From:` domain asks receivers to do with mail that fails
/// (RFC 7489 §6.3 `p=` / `sp=`, after `pct=` and test mode).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DmarcPolicy {
    #[default]
    None,
    Quarantine,
    Reject,
}

/// How much of a sender's DMARC policy one of our domains honours for the
/// mail it receives.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum DmarcEnforcement {
    /// `p=reject` refuses, `p=quarantine` files into Junk Email.
    #[default]
    Enforce,
    /// Both file into Junk Email; nothing is refused.
    Quarantine,
    /// Nothing changes where mail goes; the result is only recorded.
    Monitor,
}

impl DmarcEnforcement {
    /// `enforce`, `quarantine` or `monitor` (the configuration's words).
    pub fn parse(text: &str) -> Option<DmarcEnforcement> {
        match text.trim().to_ascii_lowercase().as_str() {
            "enforce" => Some(DmarcEnforcement::Enforce),
            "quarantine" => Some(DmarcEnforcement::Quarantine),
            "monitor" => Some(DmarcEnforcement::Monitor),
            _ => None,
        }
    }

    /// The stricter of two (for a message to recipients in several of our
    /// domains: the sender asked for it, and one domain honours it).
    pub fn stricter(self, other: DmarcEnforcement) -> DmarcEnforcement {
        let rank = |e: DmarcEnforcement| match e {
            DmarcEnforcement::Enforce => 2,
            DmarcEnforcement::Quarantine => 1,
            DmarcEnforcement::Monitor => 0,
        };
        if rank(other) > rank(self) { other } else { self }
    }
}

/// A spam filter's verdict on a message (the filter's own words mapped).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FilterVerdict {
    /// Nothing to do, or no filter configured, or the filter couldn't be
    /// asked (then the message is accepted: mail is never lost because a
    /// filter is down).
    Clean,
    /// Spam: deliver it to Junk Email.
    Junk { reason: String },
    /// Try again later (greylisting, a soft reject).
    Defer { reason: String },
    /// Refuse it.
    Reject { reason: String },
}

/// What inbound mail's checks found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SenderChecks {
    pub dmarc: DmarcOutcome,
    pub policy: DmarcPolicy,
    /// The `From:` domain DMARC was evaluated for.
    pub from_domain: Option<String>,
    /// `From:` names addresses in more than one domain: DMARC can't judge
    /// it for one (RFC 7489 §6.6.1), so it counts as failing a `reject`.
    pub several_author_domains: bool,
    pub filter: FilterVerdict,
}

/// Where a message goes, or why it is refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Disposition {
    Inbox,
    /// Delivered to the recipients' Junk Email folders.
    Junk {
        reason: String,
    },
    /// `451 4.7.1`: nothing stored; the sender tries again.
    Defer {
        reason: String,
    },
    /// `550 5.7.1`: nothing stored; the sender is told.
    Refuse {
        reason: String,
    },
}

/// Decides where a message goes from its checks and how much of a sender's
/// DMARC policy the recipients' domains honour. A refusal by either check
/// wins over junk; junk over the Inbox.
pub fn disposition(checks: &SenderChecks, enforcement: DmarcEnforcement) -> Disposition {
    let domain = checks.from_domain.as_deref().unwrap_or("the sender's domain");
    let dmarc = if checks.several_author_domains {
        // RFC 7489 §6.6.1 lets a receiver reject what names several
        // authors' domains: otherwise a forged domain beside another would
        // pass unjudged.
        let reason = "the message's From: names addresses in several domains, which DMARC can't authenticate";
        match enforcement {
            DmarcEnforcement::Enforce => Some(Disposition::Refuse { reason: reason.into() }),
            DmarcEnforcement::Quarantine => Some(Disposition::Junk { reason: reason.into() }),
            DmarcEnforcement::Monitor => None,
        }
    } else {
        match (checks.dmarc, checks.policy, enforcement) {
            (DmarcOutcome::Fail, _, DmarcEnforcement::Monitor)
            | (DmarcOutcome::Fail, DmarcPolicy::None, _) => None,
            (DmarcOutcome::Fail, DmarcPolicy::Reject, DmarcEnforcement::Enforce) => {
                Some(Disposition::Refuse {
                    reason: format!(
                        "the message failed DMARC authentication for {domain}, whose policy is to reject such mail"
                    ),
                })
            }
            (DmarcOutcome::Fail, _, _) => Some(Disposition::Junk {
                reason: format!("the message failed DMARC authentication for {domain}"),
            }),
            _ => None,
        }
    };
    let filter = match &checks.filter {
        FilterVerdict::Clean => None,
        FilterVerdict::Junk { reason } => Some(Disposition::Junk { reason: reason.clone() }),
        FilterVerdict::Defer { reason } => Some(Disposition::Defer { reason: reason.clone() }),
        FilterVerdict::Reject { reason } => Some(Disposition::Refuse { reason: reason.clone() }),
    };
    let weight = |d: &Disposition| match d {
        Disposition::Inbox => 0,
        Disposition::Junk { .. } => 1,
        Disposition::Defer { .. } => 2,
        Disposition::Refuse { .. } => 3,
    };
    [dmarc, filter].into_iter().flatten().max_by_key(weight).unwrap_or(Disposition::Inbox)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checks(dmarc: DmarcOutcome, policy: DmarcPolicy) -> SenderChecks {
        SenderChecks {
            dmarc,
            policy,
            from_domain: Some("fabrikam.example".into()),
            several_author_domains: false,
            filter: FilterVerdict::Clean,
        }
    }

    #[test]
    fn dmarc_policies_as_each_enforcement_honours_them() {
        use DmarcEnforcement::*;
        let reject = checks(DmarcOutcome::Fail, DmarcPolicy::Reject);
        assert!(matches!(disposition(&reject, Enforce), Disposition::Refuse { .. }));
        assert!(matches!(disposition(&reject, Quarantine), Disposition::Junk { .. }));
        assert_eq!(disposition(&reject, Monitor), Disposition::Inbox);
        let quarantine = checks(DmarcOutcome::Fail, DmarcPolicy::Quarantine);
        assert!(matches!(disposition(&quarantine, Enforce), Disposition::Junk { .. }));
        assert_eq!(disposition(&checks(DmarcOutcome::Fail, DmarcPolicy::None), Enforce), Disposition::Inbox);
        for outcome in
            [DmarcOutcome::Pass, DmarcOutcome::None, DmarcOutcome::TempError, DmarcOutcome::PermError]
        {
            assert_eq!(
                disposition(&checks(outcome, DmarcPolicy::Reject), Enforce),
                Disposition::Inbox,
                "{outcome:?}"
            );
        }
    }

    #[test]
    fn several_authors_domains_fail_as_a_reject_would() {
        let mut two = checks(DmarcOutcome::None, DmarcPolicy::None);
        two.several_author_domains = true;
        assert!(matches!(disposition(&two, DmarcEnforcement::Enforce), Disposition::Refuse { .. }));
        assert!(matches!(disposition(&two, DmarcEnforcement::Quarantine), Disposition::Junk { .. }));
        assert_eq!(disposition(&two, DmarcEnforcement::Monitor), Disposition::Inbox);
    }

    #[test]
    fn the_filter_and_dmarc_together() {
        let mut spam = checks(DmarcOutcome::Pass, DmarcPolicy::Reject);
        spam.filter = FilterVerdict::Junk { reason: "spam".into() };
        assert_eq!(
            disposition(&spam, DmarcEnforcement::Enforce),
            Disposition::Junk { reason: "spam".into() }
        );
        let mut both = checks(DmarcOutcome::Fail, DmarcPolicy::Quarantine);
        both.filter = FilterVerdict::Reject { reason: "virus".into() };
        assert_eq!(
            disposition(&both, DmarcEnforcement::Enforce),
            Disposition::Refuse { reason: "virus".into() }
        );
        let mut greylisted = checks(DmarcOutcome::Fail, DmarcPolicy::Quarantine);
        greylisted.filter = FilterVerdict::Defer { reason: "later".into() };
        assert!(matches!(disposition(&greylisted, DmarcEnforcement::Enforce), Disposition::Defer { .. }));
    }

    #[test]
    fn enforcement_words() {
        assert_eq!(DmarcEnforcement::parse(" Monitor "), Some(DmarcEnforcement::Monitor));
        assert_eq!(DmarcEnforcement::parse("strict"), None);
        assert_eq!(DmarcEnforcement::Monitor.stricter(DmarcEnforcement::Enforce), DmarcEnforcement::Enforce);
        assert_eq!(
            DmarcEnforcement::Quarantine.stricter(DmarcEnforcement::Monitor),
            DmarcEnforcement::Quarantine
        );
    }
}
