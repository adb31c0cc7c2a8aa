//! Parameter binding, as PowerShell does it (about_Parameters,
//! about_Parameter_Sets): names without case and by unique prefix, switches,
//! positional arguments, pipeline input bound to `-Identity`, and mandatory
//! parameters. The messages are PowerShell's, so admins recognise them.

use chrono::{DateTime, Utc};
use mailroom_core::directory::Quota;
use mailroom_types::Secret;

use crate::error::{ExoError, ExoResult};
use crate::object::PsObject;
use crate::value::{Value, parse_datetime, parse_size};

/// What a parameter takes; decides binding (switches take no value) and the
/// type named in messages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Switch,
    Bool,
    Text,
    Texts,
    Identity,
    Identities,
    Size,
    Date,
    Secure,
    /// A list, or `@{Add=...; Remove=...}` (Exchange's multi-valued properties).
    MultiValued,
    /// One value out of a set (ValidateSet).
    Choice(&'static [&'static str]),
    /// Several values out of a set.
    Choices(&'static [&'static str]),
}

impl Kind {
    fn type_name(self) -> &'static str {
        match self {
            Kind::Switch => "System.Management.Automation.SwitchParameter",
            Kind::Bool => "System.Boolean",
            Kind::Text | Kind::Choice(_) => "System.String",
            Kind::Texts | Kind::Choices(_) => "System.String[]",
            Kind::Identity => "Identity",
            Kind::Identities => "Identity[]",
            Kind::Size => "Unlimited[ByteQuantifiedSize]",
            Kind::Date => "System.DateTime",
            Kind::Secure => "System.Security.SecureString",
            Kind::MultiValued => "MultiValuedProperty",
        }
    }
}

/// One parameter of a cmdlet.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: Kind,
    pub position: Option<u8>,
    pub mandatory: bool,
    /// Takes the object coming down the pipeline.
    pub pipeline: bool,
}

impl ParamSpec {
    pub const fn new(name: &'static str, kind: Kind) -> Self {
        ParamSpec { name, kind, position: None, mandatory: false, pipeline: false }
    }
    pub const fn at(mut self, position: u8) -> Self {
        self.position = Some(position);
        self
    }
    pub const fn mandatory(mut self) -> Self {
        self.mandatory = true;
        self
    }
    pub const fn takes_pipeline(mut self) -> Self {
        self.pipeline = true;
        self
    }
}

/// The parameters every changing cmdlet has (about_CommonParameters).
pub const WHAT_IF: ParamSpec = ParamSpec::new("WhatIf", Kind::Switch);
pub const CONFIRM: ParamSpec = ParamSpec::new("Confirm", Kind::Switch);

/// An argument after evaluation, before binding.
#[derive(Clone, Debug)]
pub enum ArgValue {
    Parameter { name: String, value: Option<Value> },
    Value(Value),
}

/// Arguments bound to a cmdlet's parameters.
#[derive(Debug)]
pub struct Bound {
    values: Vec<(&'static str, Value)>,
}

fn find_param<'a>(specs: &'a [ParamSpec], typed: &str) -> ExoResult<&'a ParamSpec> {
    if let Some(exact) = specs.iter().find(|p| p.name.eq_ignore_ascii_case(typed)) {
        return Ok(exact);
    }
    let lower = typed.to_lowercase();
    let matches: Vec<&ParamSpec> =
        specs.iter().filter(|p| p.name.to_lowercase().starts_with(&lower)).collect();
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(ExoError::binding(format!(
            "A parameter cannot be found that matches parameter name '{typed}'."
        ))),
        many => Err(ExoError::binding(format!(
            "Parameter cannot be processed because the parameter name '{typed}' is ambiguous. Possible matches include: {}.",
            many.iter().map(|p| format!("-{}", p.name)).collect::<Vec<_>>().join(" ")
        ))),
    }
}

/// Binds `args` (and an object from the pipeline) to `specs`.
pub fn bind(specs: &[ParamSpec], args: Vec<ArgValue>, pipeline_input: Option<&PsObject>) -> ExoResult<Bound> {
    let mut values: Vec<(&'static str, Value)> = Vec::new();
    let mut positional: Vec<Value> = Vec::new();
    let mut args = args.into_iter().peekable();
    while let Some(arg) = args.next() {
        match arg {
            ArgValue::Value(v) => positional.push(v),
            ArgValue::Parameter { name, value } => {
                let spec = find_param(specs, &name)?;
                if values.iter().any(|(n, _)| *n == spec.name) {
                    return Err(ExoError::binding(format!(
                        "Cannot bind parameter because parameter '{}' is specified more than once. To provide multiple values to parameters that can accept multiple values, use the array syntax. For example, \"-parameter value1,value2,value3\".",
                        spec.name
                    )));
                }
                let value = match (spec.kind, value) {
                    (Kind::Switch, None) => Value::Bool(true),
                    (Kind::Switch, Some(Value::Bool(b))) => Value::Bool(b),
                    (Kind::Switch, Some(other)) => {
                        return Err(ExoError::binding(format!(
                            "Cannot process argument transformation on parameter '{}'. Switch parameters take $true or $false after a colon (-{}:$false), not \"{}\".",
                            spec.name,
                            spec.name,
                            other.describe()
                        )));
                    }
                    (_, Some(v)) => v,
                    (_, None) => match args.next_if(|a| matches!(a, ArgValue::Value(_))) {
                        Some(ArgValue::Value(v)) => v,
                        _ => {
                            return Err(ExoError::binding(format!(
                                "Missing an argument for parameter '{}'. Specify a parameter of type '{}' and try again.",
                                spec.name,
                                spec.kind.type_name()
                            )));
                        }
                    },
                };
                values.push((spec.name, value));
            }
        }
    }
    let mut open: Vec<&ParamSpec> = specs.iter().filter(|p| p.position.is_some()).collect();
    open.sort_by_key(|p| p.position);
    let mut open = open
        .into_iter()
        .filter(|p| !values.iter().any(|(n, _)| *n == p.name))
        .collect::<Vec<_>>()
        .into_iter();
    for value in positional {
        match open.next() {
            Some(spec) => values.push((spec.name, value)),
            None => {
                // A stray word next to a password may be half of it (an
                // unquoted password with a space): never echo it.
                let shown = if specs.iter().any(|p| p.kind == Kind::Secure) {
                    "<not shown: this command takes a password>".to_string()
                } else {
                    value.describe()
                };
                return Err(ExoError::binding(format!(
                    "A positional parameter cannot be found that accepts argument '{shown}'."
                )));
            }
        }
    }
    if let Some(object) = pipeline_input {
        match specs.iter().find(|p| p.pipeline) {
            Some(spec) if !values.iter().any(|(n, _)| *n == spec.name) => {
                values.push((spec.name, Value::Object(Box::new(object.clone()))));
            }
            _ => {
                return Err(ExoError::binding(
                    "The input object cannot be bound to any parameters for the command either because the command does not take pipeline input or the input and its properties do not match any of the parameters that take pipeline input.",
                ));
            }
        }
    }
    let missing: Vec<&str> = specs
        .iter()
        .filter(|p| p.mandatory && !values.iter().any(|(n, _)| *n == p.name))
        .map(|p| p.name)
        .collect();
    if !missing.is_empty() {
        return Err(ExoError::binding(format!(
            "Cannot process command because of one or more missing mandatory parameters: {}.",
            missing.join(" ")
        )));
    }
    let bound = Bound { values };
    for spec in specs {
        bound.check_kind(spec)?;
    }
    Ok(bound)
}

fn cannot_convert(name: &str, detail: impl std::fmt::Display) -> ExoError {
    ExoError::binding(format!("Cannot process argument transformation on parameter '{name}'. {detail}"))
}

/// What `-EmailAddresses` and `-GrantSendOnBehalfTo` were given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MultiValue {
    Replace(Vec<String>),
    Modify { add: Vec<String>, remove: Vec<String> },
}

impl Bound {
    fn get(&self, name: &str) -> Option<&Value> {
        self.values.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }

    /// Whether the parameter was given at all.
    pub fn has(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    /// Converts eagerly so that a bad value fails before anything runs.
    fn check_kind(&self, spec: &ParamSpec) -> ExoResult<()> {
        if !self.has(spec.name) {
            return Ok(());
        }
        match spec.kind {
            Kind::Switch | Kind::Bool => self.bool(spec.name).map(|_| ()),
            Kind::Text => self.nullable_text(spec.name).map(|_| ()),
            Kind::Texts | Kind::Identities => self.texts(spec.name).map(|_| ()),
            Kind::Identity => self.nullable_text(spec.name).map(|_| ()),
            Kind::Size => self.size(spec.name).map(|_| ()),
            Kind::Date => self.date(spec.name).map(|_| ()),
            Kind::Secure => self.secure(spec.name).map(|_| ()),
            Kind::MultiValued => self.multi(spec.name).map(|_| ()),
            Kind::Choice(set) => self.choice(spec.name, set).map(|_| ()),
            Kind::Choices(set) => self.choices(spec.name, set).map(|_| ()),
        }
    }

    /// A switch or Boolean: `$true`/`$false`, or the numbers 1/0.
    pub fn bool(&self, name: &str) -> ExoResult<Option<bool>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Text { text, quoted: false }) if text == "1" || text == "0" => Ok(Some(text == "1")),
            Some(other) => Err(cannot_convert(
                name,
                format!(
                    "Cannot convert value \"{}\" to type \"System.Boolean\". Boolean parameters accept only Boolean values and numbers, such as $True, $False, 1 or 0.",
                    other.describe()
                ),
            )),
        }
    }

    pub fn switch(&self, name: &str) -> bool {
        matches!(self.get(name), Some(Value::Bool(true)))
    }

    /// Text or `$null` (given as `Some(None)`).
    pub fn nullable_text(&self, name: &str) -> ExoResult<Option<Option<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(None)),
            Some(Value::Array(items)) if items.len() != 1 => Err(cannot_convert(
                name,
                "Cannot convert the array to a single value: give one value, not a comma-separated list.",
            )),
            Some(Value::Array(items)) => Ok(Some(items[0].as_text())),
            Some(v) => match v.as_text() {
                Some(t) => Ok(Some(Some(t))),
                None => Err(cannot_convert(name, format!("Cannot convert \"{}\" to text.", v.describe()))),
            },
        }
    }

    /// Text that must not be `$null`.
    pub fn text(&self, name: &str) -> ExoResult<Option<String>> {
        match self.nullable_text(name)? {
            None => Ok(None),
            Some(Some(t)) => Ok(Some(t)),
            Some(None) => Err(ExoError::binding(format!(
                "Cannot validate argument on parameter '{name}'. The argument is null or empty. Provide an argument that is not null or empty, and then try the command again."
            ))),
        }
    }

    pub fn texts(&self, name: &str) -> ExoResult<Option<Vec<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Table(_)) => Err(cannot_convert(
                name,
                "A hashtable isn't a valid value here; give a value or a list of values.",
            )),
            Some(v) => v.as_text_list().map(Some).ok_or_else(|| {
                cannot_convert(name, format!("Cannot convert \"{}\" to a list of values.", v.describe()))
            }),
        }
    }

    pub fn size(&self, name: &str) -> ExoResult<Option<Quota>> {
        match self.text(name)? {
            None => Ok(None),
            Some(t) => parse_size(&t).map(Some).map_err(|e| cannot_convert(name, e)),
        }
    }

    /// A date, or `$null` (given as `Some(None)`).
    pub fn date(&self, name: &str) -> ExoResult<Option<Option<DateTime<Utc>>>> {
        match self.nullable_text(name)? {
            None => Ok(None),
            Some(None) => Ok(Some(None)),
            Some(Some(t)) => parse_datetime(&t).map(|d| Some(Some(d))).map_err(|e| cannot_convert(name, e)),
        }
    }

    /// A SecureString, or plain text (Exchange accepts both for `-Password`
    /// when a string is given in quotes).
    pub fn secure(&self, name: &str) -> ExoResult<Option<Secret<String>>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Secure(s)) => Ok(Some(s.clone())),
            Some(Value::Text { text, .. }) => Ok(Some(Secret::new(text.clone()))),
            Some(_) => Err(cannot_convert(
                name,
                "Give the password as (ConvertTo-SecureString -String '...' -AsPlainText -Force) or as a quoted string.",
            )),
        }
    }

    pub fn multi(&self, name: &str) -> ExoResult<Option<MultiValue>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Table(entries)) => {
                let (mut add, mut remove) = (Vec::new(), Vec::new());
                for (key, value) in entries {
                    let list = value.as_text_list().ok_or_else(|| {
                        cannot_convert(name, format!("Cannot convert \"{}\" to a list.", value.describe()))
                    })?;
                    if key.eq_ignore_ascii_case("add") {
                        add.extend(list);
                    } else if key.eq_ignore_ascii_case("remove") {
                        remove.extend(list);
                    } else {
                        return Err(cannot_convert(
                            name,
                            format!("The hash table key '{key}' isn't valid. Use @{{Add=...; Remove=...}}."),
                        ));
                    }
                }
                Ok(Some(MultiValue::Modify { add, remove }))
            }
            Some(_) => Ok(self.texts(name)?.map(MultiValue::Replace)),
        }
    }

    /// One value of `set`, returned in the set's spelling.
    pub fn choice(&self, name: &str, set: &'static [&'static str]) -> ExoResult<Option<&'static str>> {
        match self.text(name)? {
            None => Ok(None),
            Some(t) => set
                .iter()
                .copied()
                .find(|s| s.eq_ignore_ascii_case(&t))
                .map(Some)
                .ok_or_else(|| not_in_set(name, &t, set)),
        }
    }

    pub fn choices(&self, name: &str, set: &'static [&'static str]) -> ExoResult<Option<Vec<&'static str>>> {
        match self.texts(name)? {
            None => Ok(None),
            Some(list) => list
                .iter()
                .map(|t| {
                    set.iter()
                        .copied()
                        .find(|s| s.eq_ignore_ascii_case(t))
                        .ok_or_else(|| not_in_set(name, t, set))
                })
                .collect::<ExoResult<Vec<_>>>()
                .map(Some),
        }
    }
}

fn not_in_set(name: &str, given: &str, set: &[&str]) -> ExoError {
    ExoError::binding(format!(
        "Cannot validate argument on parameter '{name}'. The argument \"{given}\" does not belong to the set \"{}\" specified by the ValidateSet attribute. Supply an argument that is in the set and then try the command again.",
        set.join(",")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPECS: &[ParamSpec] = &[
        ParamSpec::new("Identity", Kind::Identity).at(0).mandatory().takes_pipeline(),
        ParamSpec::new("IssueWarningQuota", Kind::Size),
        ParamSpec::new("ProhibitSendQuota", Kind::Size),
        ParamSpec::new("AutoMapping", Kind::Bool),
        ParamSpec::new("Shared", Kind::Switch),
        ParamSpec::new("Type", Kind::Choice(&["Regular", "Shared"])),
        ParamSpec::new("EmailAddresses", Kind::MultiValued),
    ];

    fn text(s: &str) -> Value {
        Value::Text { text: s.into(), quoted: false }
    }
    fn p(name: &str) -> ArgValue {
        ArgValue::Parameter { name: name.into(), value: None }
    }
    fn v(value: Value) -> ArgValue {
        ArgValue::Value(value)
    }

    #[test]
    fn binds_named_positional_switch_and_prefix() {
        let b = bind(
            SPECS,
            vec![v(text("sales")), p("iss"), v(text("49GB")), p("Shared"), p("type"), v(text("shared"))],
            None,
        )
        .unwrap();
        assert_eq!(b.text("Identity").unwrap(), Some("sales".into()));
        assert_eq!(b.size("IssueWarningQuota").unwrap(), Some(Quota::Bytes(49 << 30)));
        assert!(b.switch("Shared"));
        assert_eq!(b.choice("Type", &["Regular", "Shared"]).unwrap(), Some("Shared"));
        assert!(!b.has("AutoMapping"));
    }

    #[test]
    fn binding_errors_use_powershell_wording() {
        let cases: Vec<(Vec<ArgValue>, &str)> = vec![
            (
                vec![v(text("x")), p("Bogus"), v(text("1"))],
                "A parameter cannot be found that matches parameter name 'Bogus'.",
            ),
            (
                vec![v(text("x")), p("I")],
                "is ambiguous. Possible matches include: -Identity -IssueWarningQuota.",
            ),
            (
                vec![v(text("x")), p("IssueWarningQuota")],
                "Missing an argument for parameter 'IssueWarningQuota'.",
            ),
            (
                vec![v(text("x")), v(text("y"))],
                "A positional parameter cannot be found that accepts argument 'y'.",
            ),
            (vec![p("Shared")], "missing mandatory parameters: Identity."),
            (
                vec![v(text("x")), p("Identity"), v(text("y"))],
                "A positional parameter cannot be found that accepts argument 'x'.",
            ),
            (
                vec![v(text("x")), p("AutoMapping"), v(Value::Text { text: "true".into(), quoted: true })],
                "Boolean parameters accept only Boolean values",
            ),
            (vec![v(text("x")), p("Type"), v(text("Room"))], "does not belong to the set \"Regular,Shared\""),
            (vec![v(text("x")), p("IssueWarningQuota"), v(text("lots"))], "isn't a valid size"),
            (vec![v(text("x")), p("Shared"), p("Shared")], "is specified more than once"),
            (
                vec![v(text("x")), ArgValue::Parameter { name: "Shared".into(), value: Some(text("yes")) }],
                "Switch parameters take $true or $false",
            ),
            (
                vec![
                    v(text("x")),
                    p("EmailAddresses"),
                    v(Value::Table(vec![("Replace".into(), text("a@b.c"))])),
                ],
                "The hash table key 'Replace' isn't valid.",
            ),
        ];
        for (args, expected) in cases {
            let err = bind(SPECS, args, None).expect_err(expected);
            assert!(err.to_string().contains(expected), "expected {expected:?}, got {err}");
        }
    }

    #[test]
    fn stray_words_beside_a_password_are_not_echoed() {
        const WITH_PASSWORD: &[ParamSpec] =
            &[ParamSpec::new("Name", Kind::Text).at(0), ParamSpec::new("Password", Kind::Secure)];
        let err = bind(
            WITH_PASSWORD,
            vec![v(text("alice")), p("Password"), v(text("Secret")), v(text("half2"))],
            None,
        )
        .unwrap_err()
        .to_string();
        assert!(!err.contains("half2"), "{err}");
        assert!(err.contains("A positional parameter cannot be found"), "{err}");
    }

    #[test]
    fn pipeline_input_binds_identity_unless_given() {
        let object = PsObject::new("Mailbox", "sales@contoso.com", vec![], &[]);
        let b = bind(SPECS, vec![p("Shared")], Some(&object)).unwrap();
        assert_eq!(b.text("Identity").unwrap(), Some("sales@contoso.com".into()));
        let err = bind(SPECS, vec![v(text("x"))], Some(&object)).unwrap_err();
        assert!(err.to_string().contains("The input object cannot be bound"), "{err}");
    }

    #[test]
    fn switch_takes_colon_boolean_and_bool_takes_numbers() {
        let b = bind(
            SPECS,
            vec![
                v(text("x")),
                ArgValue::Parameter { name: "Shared".into(), value: Some(Value::Bool(false)) },
                p("AutoMapping"),
                v(text("0")),
            ],
            None,
        )
        .unwrap();
        assert!(!b.switch("Shared"));
        assert_eq!(b.bool("Shared").unwrap(), Some(false));
        assert_eq!(b.bool("AutoMapping").unwrap(), Some(false));
    }

    #[test]
    fn multi_valued_takes_lists_and_add_remove_tables() {
        let b = bind(
            SPECS,
            vec![
                v(text("x")),
                p("EmailAddresses"),
                v(Value::Array(vec![text("SMTP:a@b.c"), text("smtp:d@b.c")])),
            ],
            None,
        )
        .unwrap();
        assert_eq!(
            b.multi("EmailAddresses").unwrap(),
            Some(MultiValue::Replace(vec!["SMTP:a@b.c".into(), "smtp:d@b.c".into()]))
        );
        let b = bind(
            SPECS,
            vec![
                v(text("x")),
                p("EmailAddresses"),
                v(Value::Table(vec![
                    ("add".into(), Value::Array(vec![text("a@b.c"), text("e@b.c")])),
                    ("Remove".into(), text("d@b.c")),
                ])),
            ],
            None,
        )
        .unwrap();
        assert_eq!(
            b.multi("EmailAddresses").unwrap(),
            Some(MultiValue::Modify {
                add: vec!["a@b.c".into(), "e@b.c".into()],
                remove: vec!["d@b.c".into()]
            })
        );
    }
}
