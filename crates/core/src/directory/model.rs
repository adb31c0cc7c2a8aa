//! The directory's objects as plain data.

use std::collections::BTreeSet;
use std::fmt;

use chrono::{DateTime, Utc};
use mailroom_types::{DomainName, EmailAddress, MailboxId, PrincipalId};

/// An accepted domain: mail for addresses in it is ours (SPEC §1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AcceptedDomain {
    pub name: DomainName,
    pub is_default: bool,
}

/// What a recipient is. Names follow Exchange's `RecipientTypeDetails`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RecipientKind {
    /// A person, with an account that signs in.
    UserMailbox,
    /// A mailbox a team shares; its account never signs in.
    SharedMailbox,
    /// A mail-enabled security group: may hold permissions, receives mail.
    SecurityGroup,
    /// A distribution list: receives mail, may not hold permissions.
    DistributionGroup,
}

impl RecipientKind {
    pub const ALL: [RecipientKind; 4] = [
        RecipientKind::UserMailbox,
        RecipientKind::SharedMailbox,
        RecipientKind::SecurityGroup,
        RecipientKind::DistributionGroup,
    ];
    pub const MAILBOXES: [RecipientKind; 2] = [RecipientKind::UserMailbox, RecipientKind::SharedMailbox];
    pub const GROUPS: [RecipientKind; 2] = [RecipientKind::SecurityGroup, RecipientKind::DistributionGroup];

    pub fn has_mailbox(self) -> bool {
        matches!(self, RecipientKind::UserMailbox | RecipientKind::SharedMailbox)
    }

    pub fn is_group(self) -> bool {
        matches!(self, RecipientKind::SecurityGroup | RecipientKind::DistributionGroup)
    }

    /// Exchange's `RecipientTypeDetails` value.
    pub fn exchange_name(self) -> &'static str {
        match self {
            RecipientKind::UserMailbox => "UserMailbox",
            RecipientKind::SharedMailbox => "SharedMailbox",
            RecipientKind::SecurityGroup => "MailUniversalSecurityGroup",
            RecipientKind::DistributionGroup => "MailUniversalDistributionGroup",
        }
    }

    /// The stable name used in storage.
    pub fn storage_name(self) -> &'static str {
        match self {
            RecipientKind::UserMailbox => "user",
            RecipientKind::SharedMailbox => "shared",
            RecipientKind::SecurityGroup => "security_group",
            RecipientKind::DistributionGroup => "distribution_group",
        }
    }

    pub fn from_storage_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.storage_name() == name)
    }

    /// Words for messages: "user mailbox", "security group", ...
    pub fn describe(self) -> &'static str {
        match self {
            RecipientKind::UserMailbox => "user mailbox",
            RecipientKind::SharedMailbox => "shared mailbox",
            RecipientKind::SecurityGroup => "security group",
            RecipientKind::DistributionGroup => "distribution group",
        }
    }
}

/// A recipient of the directory with its identity and addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recipient {
    pub id: PrincipalId,
    pub kind: RecipientKind,
    /// Unique name (Exchange `Name`).
    pub name: String,
    pub display_name: String,
    /// Unique alias (Exchange `Alias`), the default local part of addresses.
    pub alias: String,
    pub primary_address: EmailAddress,
    /// Proxy addresses besides the primary one.
    pub secondary_addresses: Vec<EmailAddress>,
}

impl Recipient {
    /// The mailbox of this recipient, if it is a user or shared mailbox.
    pub fn mailbox_id(&self) -> Option<MailboxId> {
        self.kind.has_mailbox().then_some(MailboxId(self.id.0))
    }

    /// Primary address first, then the secondary ones.
    pub fn addresses(&self) -> impl Iterator<Item = &EmailAddress> {
        std::iter::once(&self.primary_address).chain(self.secondary_addresses.iter())
    }

    pub fn has_address(&self, address: &EmailAddress) -> bool {
        self.addresses().any(|a| a == address)
    }
}

/// A PHC-format password hash (argon2id). Not secret, but never logged either.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(pub String);

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// Administrative roles (SPEC §1, Admin roles).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum AdminRole {
    GlobalAdmin,
    ExchangeAdmin,
}

impl AdminRole {
    pub const ALL: [AdminRole; 2] = [AdminRole::GlobalAdmin, AdminRole::ExchangeAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            AdminRole::GlobalAdmin => "global-admin",
            AdminRole::ExchangeAdmin => "exchange-admin",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for AdminRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The sign-in side of a mailbox recipient.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub principal: PrincipalId,
    /// `None`: no password can match (shared mailboxes, SPEC §1).
    pub password_hash: Option<PasswordHash>,
    pub sign_in_blocked: bool,
    pub roles: BTreeSet<AdminRole>,
    /// The SCRAM-SHA-256 verifier of the current password
    /// ([`crate::scram::ScramVerifier::encode`]); `None` until derived.
    pub scram_verifier: Option<String>,
}

/// An API token of the admin API (its secret is shown once and stored hashed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiToken {
    pub name: String,
    pub created: DateTime<Utc>,
    pub last_used: Option<DateTime<Utc>>,
}

/// A storage limit: a number of bytes or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quota {
    Unlimited,
    Bytes(u64),
}

impl Quota {
    pub const GB: u64 = 1 << 30;

    /// Parses an Exchange size (ByteQuantifiedSize: `49GB`, `49.5 GB`,
    /// `50 GB (53,687,091,200 bytes)`) or `Unlimited`; the error names what to write.
    pub fn parse(text: &str) -> Result<Quota, String> {
        let trimmed = text.trim();
        let invalid = || {
            format!(
                "\"{trimmed}\" isn't a valid size. Use a number with a unit such as 49GB, '49.5 GB', 1KB, or Unlimited."
            )
        };
        if trimmed.eq_ignore_ascii_case("unlimited") {
            return Ok(Quota::Unlimited);
        }
        // Exchange's printed form carries the exact byte count: "50 GB (53,687,091,200 bytes)".
        if let Some(open) = trimmed.find('(') {
            let inner = trimmed[open + 1..].trim_end_matches(')').trim();
            let digits = inner.strip_suffix("bytes").ok_or_else(invalid)?.trim().replace(',', "");
            return digits.parse::<u64>().map(Quota::Bytes).map_err(|_| invalid());
        }
        let split = trimmed.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(trimmed.len());
        let (number, unit) = trimmed.split_at(split);
        let multiplier: u64 = match unit.trim().to_ascii_uppercase().as_str() {
            "" | "B" => 1,
            "KB" => 1 << 10,
            "MB" => 1 << 20,
            "GB" => 1 << 30,
            "TB" => 1 << 40,
            _ => return Err(invalid()),
        };
        if number.is_empty() || number.matches('.').count() > 1 {
            return Err(invalid());
        }
        let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
        let whole: u64 = if whole.is_empty() { 0 } else { whole.parse().map_err(|_| invalid())? };
        let mut bytes = whole.checked_mul(multiplier).ok_or_else(invalid)?;
        if !fraction.is_empty() {
            // Decimal fraction of the unit, exact for up to 9 digits.
            let digits = &fraction[..fraction.len().min(9)];
            let scale = 10u128.pow(digits.len() as u32);
            let part: u128 = digits.parse().map_err(|_| invalid())?;
            bytes = bytes.checked_add((part * multiplier as u128 / scale) as u64).ok_or_else(invalid)?;
        }
        if bytes > i64::MAX as u64 {
            return Err(invalid());
        }
        Ok(Quota::Bytes(bytes))
    }

    /// Whether `usage` bytes are past this limit.
    pub fn exceeded_by(self, usage: u64) -> bool {
        match self {
            Quota::Unlimited => false,
            Quota::Bytes(limit) => usage >= limit,
        }
    }

    /// The limit as a number for ordering checks; unlimited sorts last.
    fn ceiling(self) -> u64 {
        match self {
            Quota::Unlimited => u64::MAX,
            Quota::Bytes(b) => b,
        }
    }
}

/// The three staged limits of SPEC §3, Storage quota.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct QuotaSettings {
    pub issue_warning: Quota,
    pub prohibit_send: Quota,
    pub prohibit_send_receive: Quota,
}

impl Default for QuotaSettings {
    /// SPEC §3: 49 GB, 49.5 GB, 50 GB (Exchange Online's defaults).
    fn default() -> Self {
        QuotaSettings {
            issue_warning: Quota::Bytes(49 * Quota::GB),
            prohibit_send: Quota::Bytes(49 * Quota::GB + Quota::GB / 2),
            prohibit_send_receive: Quota::Bytes(50 * Quota::GB),
        }
    }
}

impl QuotaSettings {
    /// Exchange requires warning ≤ prohibit-send ≤ prohibit-send-receive.
    pub fn check_order(&self) -> Result<(), String> {
        let pairs = [
            ("IssueWarningQuota", self.issue_warning, "ProhibitSendQuota", self.prohibit_send),
            ("ProhibitSendQuota", self.prohibit_send, "ProhibitSendReceiveQuota", self.prohibit_send_receive),
            ("IssueWarningQuota", self.issue_warning, "ProhibitSendReceiveQuota", self.prohibit_send_receive),
        ];
        for (lower_name, lower, upper_name, upper) in pairs {
            if lower.ceiling() > upper.ceiling() {
                return Err(format!(
                    "The value of property \"{lower_name}\" must be less than or equal to that of property \"{upper_name}\". {lower_name}: {}, {upper_name}: {}.",
                    format_quota(lower),
                    format_quota(upper)
                ));
            }
        }
        Ok(())
    }
}

/// Exchange's way of printing a size: `49 GB (52,613,349,376 bytes)`.
pub fn format_quota(quota: Quota) -> String {
    match quota {
        Quota::Unlimited => "Unlimited".to_string(),
        Quota::Bytes(bytes) => format_size(bytes),
    }
}

/// `1.5 KB (1,536 bytes)`; units are binary, as in Exchange's ByteQuantifiedSize.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [(&str, u64); 5] =
        [("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)];
    let (unit, size) = UNITS.iter().copied().find(|&(_, size)| bytes >= size).unwrap_or(("B", 1));
    let scaled = if size == 1 {
        bytes.to_string()
    } else {
        // One decimal at most, dropped when it is zero: "49.5 GB", "50 GB".
        let tenths = (bytes as u128 * 10 + size as u128 / 2) / size as u128;
        if tenths.is_multiple_of(10) {
            (tenths / 10).to_string()
        } else {
            format!("{}.{}", tenths / 10, tenths % 10)
        }
    };
    format!("{scaled} {unit} ({} bytes)", group_thousands(bytes))
}

fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Per-mailbox settings of SPEC §3 (forwarding, sent items, quota) and §2.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailboxSettings {
    /// Forward to a recipient of the organisation (Exchange `ForwardingAddress`).
    pub forwarding_recipient: Option<PrincipalId>,
    /// Forward to any address (Exchange `ForwardingSmtpAddress`).
    pub forwarding_smtp_address: Option<EmailAddress>,
    pub deliver_to_mailbox_and_forward: bool,
    pub message_copy_for_sent_as: bool,
    pub message_copy_for_send_on_behalf: bool,
    pub quota: QuotaSettings,
    /// Beyond Exchange (SPEC §2): Full Access granted through a group automaps too.
    pub automap_groups: bool,
    /// How long expunged messages stay in Recoverable Items.
    pub retain_deleted_items_for: Retention,
    /// How much Recoverable Items may hold (Exchange's
    /// `RecoverableItemsQuota`, 30 GB unless set): past it, deletes are
    /// refused until something there is restored, purged or expires.
    pub recoverable_items_quota: Quota,
    /// Whether the activity trail records actions on this mailbox
    /// (Exchange's `AuditEnabled`; on unless turned off).
    pub audit_enabled: bool,
    /// How long trail entries are kept (Exchange's `AuditLogAgeLimit`, 90
    /// days unless set).
    pub audit_log_age_limit: Retention,
    /// `\Seen` is each member's own (`Set-Mailbox -SharedSeenState
    /// PerMember`, ours); off unless set: one read state for the mailbox,
    /// as in Exchange.
    pub per_member_seen: bool,
}

impl MailboxSettings {
    /// Exchange Online's `RecoverableItemsQuota`.
    pub const RECOVERABLE_ITEMS_QUOTA: Quota = Quota::Bytes(30 * Quota::GB);
}

impl Default for MailboxSettings {
    fn default() -> Self {
        MailboxSettings {
            forwarding_recipient: None,
            forwarding_smtp_address: None,
            deliver_to_mailbox_and_forward: false,
            message_copy_for_sent_as: false,
            message_copy_for_send_on_behalf: false,
            quota: QuotaSettings::default(),
            automap_groups: false,
            retain_deleted_items_for: Retention::default(),
            recoverable_items_quota: MailboxSettings::RECOVERABLE_ITEMS_QUOTA,
            audit_enabled: true,
            audit_log_age_limit: Retention::AUDIT_LOG_DEFAULT,
            per_member_seen: false,
        }
    }
}

/// How long expunged messages stay in Recoverable Items before they are
/// gone for good (Exchange's `RetainDeletedItemsFor`, a TimeSpan: 14 days
/// unless set, at most 24,855 days).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Retention {
    seconds: u64,
}

impl Default for Retention {
    fn default() -> Self {
        Retention { seconds: 14 * Retention::DAY }
    }
}

impl Retention {
    const DAY: u64 = 86_400;
    /// Exchange's `AuditLogAgeLimit` unless set: 90 days.
    pub const AUDIT_LOG_DEFAULT: Retention = Retention { seconds: 90 * Retention::DAY };
    /// Exchange's upper bound.
    pub const MAX_DAYS: u64 = 24_855;

    pub fn from_seconds(seconds: u64) -> Result<Self, String> {
        if seconds > Self::MAX_DAYS * Self::DAY {
            return Err(format!("RetainDeletedItemsFor is at most {} days.", Self::MAX_DAYS));
        }
        Ok(Retention { seconds })
    }

    pub fn seconds(self) -> u64 {
        self.seconds
    }

    /// A TimeSpan as PowerShell reads one: `14` (days), `14.00:00:00`
    /// (days.hours:minutes:seconds), `01:30` or `00:00:05`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || {
            format!(
                "\"{text}\" isn't a time span: write days (\"14\"), or days.hours:minutes:seconds (\"14.00:00:00\", \"0.00:00:30\")."
            )
        };
        let text = text.trim();
        let number = |part: &str, max: u64| -> Result<u64, String> {
            let value: u64 = part.parse().map_err(|_| bad())?;
            if value > max || part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            Ok(value)
        };
        let (days, clock) = match text.split_once('.') {
            Some((days, clock)) => (number(days, Self::MAX_DAYS)?, Some(clock)),
            None if text.contains(':') => (0, Some(text)),
            None => (number(text, Self::MAX_DAYS)?, None),
        };
        let mut seconds = days * Self::DAY;
        if let Some(clock) = clock {
            let parts: Vec<&str> = clock.split(':').collect();
            if !(2..=3).contains(&parts.len()) {
                return Err(bad());
            }
            seconds += number(parts[0], 23)? * 3600 + number(parts[1], 59)? * 60;
            if let Some(s) = parts.get(2) {
                seconds += number(s, 59)?;
            }
        }
        Self::from_seconds(seconds)
    }

    /// As Exchange prints a TimeSpan: `14.00:00:00`.
    pub fn timespan(self) -> String {
        let s = self.seconds;
        format!("{}.{:02}:{:02}:{:02}", s / Self::DAY, s % Self::DAY / 3600, s % 3600 / 60, s % 60)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AutoReplyState {
    Disabled,
    Enabled,
    Scheduled,
}

impl AutoReplyState {
    pub const ALL: [AutoReplyState; 3] =
        [AutoReplyState::Disabled, AutoReplyState::Enabled, AutoReplyState::Scheduled];
    pub fn as_str(self) -> &'static str {
        match self {
            AutoReplyState::Disabled => "Disabled",
            AutoReplyState::Enabled => "Enabled",
            AutoReplyState::Scheduled => "Scheduled",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(text))
    }
}

/// Who outside the organisation gets the external message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternalAudience {
    None,
    /// Senders in the mailbox's contacts.
    Known,
    All,
}

impl ExternalAudience {
    pub const ALL: [ExternalAudience; 3] =
        [ExternalAudience::None, ExternalAudience::Known, ExternalAudience::All];
    pub fn as_str(self) -> &'static str {
        match self {
            ExternalAudience::None => "None",
            ExternalAudience::Known => "Known",
            ExternalAudience::All => "All",
        }
    }
    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(text))
    }
}

/// Automatic replies (SPEC §3), as `Set-MailboxAutoReplyConfiguration` sets them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AutoReplyConfig {
    pub state: AutoReplyState,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub internal_message: String,
    pub external_message: String,
    pub external_audience: ExternalAudience,
}

impl Default for AutoReplyConfig {
    /// Exchange's defaults: off, external audience All, no messages.
    fn default() -> Self {
        AutoReplyConfig {
            state: AutoReplyState::Disabled,
            start_time: None,
            end_time: None,
            internal_message: String::new(),
            external_message: String::new(),
            external_audience: ExternalAudience::All,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_print_like_exchange() {
        assert_eq!(format_size(49 * Quota::GB), "49 GB (52,613,349,376 bytes)");
        assert_eq!(format_size(49 * Quota::GB + Quota::GB / 2), "49.5 GB (53,150,220,288 bytes)");
        assert_eq!(format_size(1024), "1 KB (1,024 bytes)");
        assert_eq!(format_size(1536), "1.5 KB (1,536 bytes)");
        assert_eq!(format_size(0), "0 B (0 bytes)");
        assert_eq!(format_size(999), "999 B (999 bytes)");
        assert_eq!(format_quota(Quota::Unlimited), "Unlimited");
    }

    #[test]
    fn quota_order_is_enforced() {
        assert!(QuotaSettings::default().check_order().is_ok());
        let mut q = QuotaSettings { prohibit_send: Quota::Bytes(60 * Quota::GB), ..Default::default() };
        let err = q.check_order().unwrap_err();
        assert!(err.contains("\"ProhibitSendQuota\" must be less than or equal to that of property \"ProhibitSendReceiveQuota\""), "{err}");
        q.prohibit_send_receive = Quota::Unlimited;
        assert!(q.check_order().is_ok());
        q.issue_warning = Quota::Unlimited;
        assert!(q.check_order().is_err());
    }

    #[test]
    fn quota_exceeded_at_the_limit() {
        assert!(Quota::Bytes(10).exceeded_by(10));
        assert!(!Quota::Bytes(10).exceeded_by(9));
        assert!(!Quota::Unlimited.exceeded_by(u64::MAX));
    }

    #[test]
    fn kinds_round_trip_their_storage_names() {
        for kind in RecipientKind::ALL {
            assert_eq!(RecipientKind::from_storage_name(kind.storage_name()), Some(kind));
        }
        assert_eq!(RecipientKind::from_storage_name("room"), None);
        assert_eq!(AdminRole::parse("Global-Admin"), Some(AdminRole::GlobalAdmin));
        assert_eq!(AdminRole::parse("helpdesk"), None);
    }

    #[test]
    fn retention_reads_and_writes_timespans_as_exchange_does() {
        assert_eq!(Retention::default().timespan(), "14.00:00:00");
        assert_eq!(Retention::parse("30").map(Retention::seconds), Ok(30 * 86_400));
        assert_eq!(Retention::parse("14.00:00:00"), Ok(Retention::default()));
        assert_eq!(Retention::parse("0.00:00:05").map(Retention::seconds), Ok(5));
        assert_eq!(Retention::parse("00:00:05").map(Retention::seconds), Ok(5));
        assert_eq!(Retention::parse("01:30").map(Retention::seconds), Ok(5400));
        assert_eq!(Retention::parse("1.02:03:04").map(Retention::timespan).as_deref(), Ok("1.02:03:04"));
        assert_eq!(Retention::parse("24855").map(Retention::seconds), Ok(24_855 * 86_400));
        for bad in ["", "-1", "24856", "14 days", "1.24:00:00", "00:60", "1:2:3:4", "0.", "+5", "1.00:00:60"]
        {
            assert!(Retention::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }
}
