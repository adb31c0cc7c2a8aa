//! ENABLE (RFC 5161) and the CONDSTORE switch (RFC 7162 §3.1): enabled by
//! ENABLE CONDSTORE, by SELECT/EXAMINE (CONDSTORE), or by any command that
//! uses MODSEQs.

use imap_codec::imap_types::command::SelectParameter;
use imap_codec::imap_types::extensions::enable::CapabilityEnable;

use crate::respond::{Status, status, untagged};
use crate::session::Session;

impl Session {
    pub(crate) fn enable(&mut self, tag: &str, capabilities: &[CapabilityEnable<'_>]) {
        let mut enabled = Vec::new();
        for capability in capabilities {
            if matches!(capability, CapabilityEnable::CondStore) {
                self.condstore = true;
                enabled.push("CONDSTORE");
            }
            // Anything else isn't offered here: RFC 5161 says to ignore it.
        }
        let line =
            if enabled.is_empty() { "ENABLED".to_string() } else { format!("ENABLED {}", enabled.join(" ")) };
        self.conn.send(&untagged(&line));
        self.conn.send(&status(Some(tag), Status::Ok, None, "ENABLE completed"));
    }

    /// SELECT/EXAMINE parameters: (CONDSTORE) enables it; QRESYNC isn't offered.
    pub(crate) fn select_parameters(&mut self, parameters: &[SelectParameter]) -> Result<(), &'static str> {
        for parameter in parameters {
            match parameter {
                SelectParameter::CondStore => self.condstore = true,
                SelectParameter::QResync { .. } => {
                    return Err("QRESYNC must be enabled first, and isn't offered yet");
                }
            }
        }
        Ok(())
    }
}
