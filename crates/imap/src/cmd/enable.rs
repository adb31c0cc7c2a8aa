//! ENABLE (RFC 5161: CONDSTORE, QRESYNC, IMAP4rev2, UTF8=ACCEPT) and the CONDSTORE switch (RFC 7162 §3.1): enabled by
//! ENABLE CONDSTORE, by SELECT/EXAMINE (CONDSTORE), or by any command that
//! uses MODSEQs.

use imap_codec::imap_types::command::SelectParameter;
use imap_codec::imap_types::extensions::enable::CapabilityEnable;

use crate::respond::{Status, status, untagged};
use crate::session::Session;

/// What a client that knows the folder sent with SELECT (QRESYNC ...).
#[derive(Clone, Debug)]
pub(crate) struct Resync {
    pub uid_validity: u32,
    pub modseq: u64,
    pub known_uids: Option<imap_codec::imap_types::sequence::SequenceSet>,
}

impl Session {
    pub(crate) fn enable(&mut self, tag: &str, capabilities: &[CapabilityEnable<'_>]) {
        let mut enabled = Vec::new();
        for capability in capabilities {
            if matches!(capability, CapabilityEnable::CondStore) && !enabled.contains(&"CONDSTORE") {
                self.condstore = true;
                enabled.push("CONDSTORE");
            }
            // imap-types keeps QRESYNC and IMAP4rev2 as opaque atoms.
            let name = capability.to_string().to_ascii_uppercase();
            if name == "QRESYNC" && !enabled.contains(&"QRESYNC") {
                // RFC 7162 §3.2.3: QRESYNC implies CONDSTORE.
                self.condstore = true;
                self.qresync = true;
                enabled.push("QRESYNC");
            }
            if name == "IMAP4REV2" && !enabled.contains(&"IMAP4rev2") {
                self.rev2 = true;
                enabled.push("IMAP4rev2");
            }
            // RFC 6855 §3: names in UTF-8 from now on.
            if name == "UTF8=ACCEPT" && !enabled.contains(&"UTF8=ACCEPT") {
                self.utf8 = true;
                enabled.push("UTF8=ACCEPT");
            }
            // Anything else isn't offered here: RFC 5161 says to ignore it.
        }
        let line =
            if enabled.is_empty() { "ENABLED".to_string() } else { format!("ENABLED {}", enabled.join(" ")) };
        self.conn.send(&untagged(&line));
        self.conn.send(&status(Some(tag), Status::Ok, None, "ENABLE completed"));
    }

    /// SELECT/EXAMINE parameters: (CONDSTORE) enables it; (QRESYNC ...)
    /// needs ENABLE QRESYNC first (RFC 7162 §3.2.5) and is answered after
    /// the folder opens.
    pub(crate) fn select_parameters(
        &mut self,
        parameters: &[SelectParameter],
    ) -> Result<Option<Resync>, &'static str> {
        let mut resync = None;
        for parameter in parameters {
            match parameter {
                SelectParameter::CondStore => self.condstore = true,
                SelectParameter::QResync { .. } if !self.qresync => {
                    return Err("QRESYNC must be enabled first");
                }
                SelectParameter::QResync { uid_validity, mod_sequence_value, known_uids, .. } => {
                    resync = Some(Resync {
                        uid_validity: uid_validity.get(),
                        modseq: mod_sequence_value.get(),
                        known_uids: known_uids.clone(),
                    });
                }
            }
        }
        Ok(resync)
    }
}
