//! `ConvertTo-SecureString -String '...' -AsPlainText -Force`, the way
//! Exchange scripts pass passwords. Inside `( )` it yields the password for
//! `-Password`; on its own it prints the type name, as PowerShell does.

use mailroom_types::Secret;

use super::{CmdletDef, CmdletId};
use crate::bind::{ArgValue, Bound, Kind, ParamSpec, bind};
use crate::error::{ExoError, ExoResult};
use crate::object::{PsObject, PsValue};
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new("String", Kind::Text).at(0).mandatory(),
    ParamSpec::new("AsPlainText", Kind::Switch),
    ParamSpec::new("Force", Kind::Switch),
];

pub const DEF: CmdletDef = CmdletDef::new("ConvertTo-SecureString", CmdletId::ConvertToSecureString, PARAMS);

fn from_bound(args: &Bound) -> ExoResult<Secret<String>> {
    if !args.switch("AsPlainText") {
        return Err(ExoError::invalid(
            "Without -AsPlainText, ConvertTo-SecureString expects an encrypted standard string, which Mailroom doesn't read. Use -AsPlainText -Force.",
        ));
    }
    Ok(Secret::new(args.text("String")?.unwrap_or_default()))
}

/// Evaluates the cmdlet's arguments to the password they carry.
pub fn secret(args: Vec<ArgValue>) -> ExoResult<Secret<String>> {
    from_bound(&bind(PARAMS, args, None)?)
}

pub async fn run(_ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    from_bound(&args)?;
    let object = PsObject::new(
        "System.Security.SecureString",
        "System.Security.SecureString",
        vec![("Type", PsValue::text("System.Security.SecureString"))],
        &["Type"],
    );
    Ok(CmdletOutput::shown(vec![object]))
}
