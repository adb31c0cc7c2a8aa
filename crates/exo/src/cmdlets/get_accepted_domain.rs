//! `Get-AcceptedDomain`: the organisation's mail domains.

use super::{CmdletDef, CmdletId};
use crate::bind::{Bound, Kind, ParamSpec};
use crate::error::{ExoError, ExoResult};
use crate::object::{PsObject, PsValue};
use crate::shell::{CmdletOutput, Ctx};

const PARAMS: &[ParamSpec] = &[ParamSpec::new("Identity", Kind::Identity).at(0)];

pub const DEF: CmdletDef = CmdletDef::new("Get-AcceptedDomain", CmdletId::GetAcceptedDomain, PARAMS);

pub async fn run(ctx: &mut Ctx<'_>, args: Bound) -> ExoResult<CmdletOutput> {
    let only = args.text("Identity")?;
    let mut objects = Vec::new();
    for domain in ctx.dir.accepted_domains().await? {
        if only.as_ref().is_some_and(|o| !o.eq_ignore_ascii_case(domain.name.as_str())) {
            continue;
        }
        let props = vec![
            ("Name", PsValue::text(domain.name.as_str())),
            ("DomainName", PsValue::text(domain.name.as_str())),
            ("DomainType", PsValue::text("Authoritative")),
            ("Default", PsValue::Bool(domain.is_default)),
        ];
        objects.push(PsObject::new(
            "AcceptedDomain",
            domain.name.as_str(),
            props,
            &["Name", "DomainName", "DomainType", "Default"],
        ));
    }
    if let Some(identity) = only
        && objects.is_empty()
    {
        return Err(ExoError::Core(mailroom_core::CoreError::NotFound { identity }));
    }
    Ok(CmdletOutput::shown(objects))
}
