//! Why a `rewrite` line is rejected. Texts are CoreDNS's (`rewrite/*.go`), so operators can grep
//! for them; the setup puts the Corefile line in front (§4.8).

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RuleError {
    #[error("no rule type specified for rewrite")]
    NoRuleType,
    #[error("{0} rule must begin with a rule type")]
    ModeWithoutType(&'static str),
    #[error("response rewrites must begin with a name rule")]
    AnswerFirst,
    #[error("{0} rules must have exactly two arguments")]
    TwoArguments(String),
    #[error("invalid rule type {0:?}")]
    RuleType(String),
    #[error("too few arguments for a name rule")]
    NameTooFew,
    #[error(
        "name rule supports only exact, prefix, suffix, substring, and regex name matching, received: {0}"
    )]
    NameMatchType(String),
    #[error("{rule} rule supports only exact, prefix, suffix, substring, and regex name matching")]
    MatchType { rule: &'static str },
    #[error("invalid arguments for {0} rule")]
    AnswerArguments(String),
    #[error("exceeded the number of arguments for a non-answer rule argument for {0} rule")]
    NotAnAnswer(String),
    #[error("type missing for answer rule for {0} rule")]
    AnswerTypeMissing(String),
    #[error("{kind} answer rule for {rule} rule: 2 arguments required")]
    AnswerTwoArguments { kind: String, rule: String },
    #[error("{kind} answer rule for {rule} rule: {source}")]
    AnswerRegex {
        kind: String,
        rule: String,
        source: Box<RuleError>,
    },
    #[error("invalid type {kind:?} for answer rule for {rule} rule")]
    AnswerType { kind: String, rule: String },
    #[error("auto name answer rule cannot be combined with explicit name anwer rules")]
    AutoWithName,
    #[error("regex pattern too long in a {rule} rule: {len} > 10000")]
    RegexTooLong { rule: &'static str, len: usize },
    #[error("invalid regex pattern in a {rule} rule: {pattern}")]
    BadRegex { rule: &'static str, pattern: String },
    #[error("invalid regex matching pattern: {0}")]
    InvalidPattern(String),
    #[error(
        "the rewrite regex pattern ({to}) uses more subexpressions than its corresponding matching regex pattern ({from})"
    )]
    TooManyGroups { to: String, from: String },
    #[error("invalid type {0:?}")]
    Type(String),
    #[error("invalid class {0:?}")]
    Class(String),
    #[error("too few ({count}) arguments for a {rule} rule")]
    TooFew { rule: &'static str, count: usize },
    #[error("many few arguments for a {0} rule")]
    TooMany(&'static str),
    #[error("invalid TTL '{0}' for a ttl rule")]
    Ttl(String),
    #[error("invalid matching RCODE '{0}' for a rcode rule")]
    RcodeFrom(String),
    #[error("invalid replacement RCODE '{0}' for a rcode rule")]
    RcodeTo(String),
    #[error("unknown cname rewrite type: {0}")]
    CnameType(String),
    #[error("too few arguments for an EDNS0 rule")]
    EdnsTooFew,
    #[error("invalid action: {0:?}")]
    EdnsAction(String),
    #[error("EDNS0 local rules require three or four args")]
    LocalArgs,
    #[error("EDNS0 NSID rules can accept no more than one arg")]
    NsidArgs,
    #[error("EDNS0 subnet rules require three or four args")]
    SubnetArgs,
    #[error("local unset action requires exactly two arguments")]
    LocalUnsetArgs,
    #[error("nsid unset action requires exactly one argument")]
    NsidUnsetArgs,
    #[error("subnet unset action requires exactly one argument")]
    SubnetUnsetArgs,
    #[error("invalid EDNS0 code {0:?}")]
    EdnsCode(String),
    #[error("invalid hex data {0:?}")]
    EdnsHex(String),
    #[error("unsupported variable name {0:?}")]
    Variable(String),
    #[error("invalid IPv4 bit mask length {0}")]
    V4Bits(String),
    #[error("invalid IPv6 bit mask length {0}")]
    V6Bits(String),
}
