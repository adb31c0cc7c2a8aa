//! The syntax tree of the PowerShell subset the cmdlet mode accepts.

/// One line (or `;`-separated part of one) of a script.
#[derive(Clone, Debug, PartialEq)]
pub struct Pipeline {
    pub commands: Vec<Command>,
}

/// `Verb-Noun -Param value positional ...`
#[derive(Clone, Debug, PartialEq)]
pub struct Command {
    pub name: String,
    pub args: Vec<Arg>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Arg {
    /// `-Name`, or `-Name:value` when `value` is set.
    Parameter { name: String, value: Option<Expr> },
    /// A value: bound to the preceding parameter, or positionally.
    Value(Expr),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// `'single'` or `"double"` quoted text.
    Quoted(String),
    /// An unquoted word: `Sales`, `info@contoso.com`, `49GB`, `SMTP:x@y.com`.
    Bare(String),
    /// `$true`, `$false`, `$null`, or another variable (refused at evaluation).
    Variable(String),
    /// `a,b,c` or `@(a, b)`.
    Array(Vec<Expr>),
    /// `@{Add="a","b"; Remove="c"}` with keys in source order.
    Hashtable(Vec<(String, Expr)>),
    /// `(ConvertTo-SecureString ...)`: a pipeline evaluated for its value.
    SubExpression(Box<Pipeline>),
}
