//! Load balancer ARNs and names, and the targets a user names on the command
//! line.
//!
//! Everything here is validated when it is built, by hand-written checks that
//! follow AWS's published formats, so code holding a [`ResourceArn`] or a
//! [`LoadBalancerName`] never has to check it again:
//!
//! - [`ResourceArn`]: the ARN of an *Application* Load Balancer,
//!   `arn:<partition>:elasticloadbalancing:<region>:<account-id>:loadbalancer/app/<name>/<id>`.
//!   AWS WAF can only be associated with Application Load Balancers, so ARNs of
//!   Network, Gateway and Classic Load Balancers, target groups, listeners and
//!   anything else are refused with an error saying what the ARN is instead.
//! - [`LoadBalancerName`]: an Elastic Load Balancing name (1 to 32 ASCII
//!   letters, digits and hyphens, no hyphen at either end, not beginning with
//!   `internal-`).
//! - [`LoadBalancerRef`]: one load balancer designated by ARN or by name.
//! - [`TargetRef`]: one load balancer to act on, as the user designated it
//!   (by name, ARN, or through a service of the config file), with its region.
//!
//! Parsing never trims or otherwise repairs its input: surrounding whitespace,
//! wrong case and trailing text are errors, not guesses. Every error is an
//! [`InvalidInput`] whose `subject` quotes the input (for example
//! `load balancer ARN "arn:aws:..."`) and whose `reason` names the part that is
//! wrong and what was expected there.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::InvalidInput;

/// The shape of an Application Load Balancer ARN, quoted in error messages.
const ARN_FORMAT: &str =
    "arn:<partition>:elasticloadbalancing:<region>:<account-id>:loadbalancer/app/<name>/<id>";

/// The only service an accepted ARN may name.
const ELB_SERVICE: &str = "elasticloadbalancing";

/// The longest load balancer name AWS allows, in characters.
const MAX_NAME_LEN: usize = 32;

/// The number of hexadecimal digits in a load balancer ID.
const ID_LEN: usize = 16;

/// The prefix AWS reserves for internal load balancers' DNS names.
const INTERNAL_PREFIX: &str = "internal-";

// ---------------------------------------------------------------------------
// LoadBalancerName
// ---------------------------------------------------------------------------

/// A valid Elastic Load Balancing load balancer name.
///
/// A caller may rely on the name being 1 to 32 characters long, made only of
/// ASCII letters, digits and hyphens, neither beginning nor ending with a
/// hyphen, and not beginning with `internal-` (checked regardless of case).
/// The name is kept exactly as given: comparison, ordering and hashing are
/// those of the string, so `My-LB` and `my-lb` are different values.
///
/// It displays and serializes as the bare name; deserializing goes through
/// [`LoadBalancerName::parse`], so a bad name in a file is an error.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LoadBalancerName(String);

impl LoadBalancerName {
    /// Parses and validates a load balancer name.
    ///
    /// The input is not trimmed. On failure the error's `subject` is
    /// `load balancer name "<input>"` and its `reason` names the broken rule.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        match name_problem(s) {
            None => Ok(Self(s.to_owned())),
            Some(reason) => Err(InvalidInput::new(
                format!("load balancer name {s:?}"),
                reason,
            )),
        }
    }

    /// The name, exactly as it was given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Says which load balancer naming rule `s` breaks, if any.
fn name_problem(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some(format!(
            "it is empty; a load balancer name has 1 to {MAX_NAME_LEN} characters"
        ));
    }
    if let Some((i, c)) = s
        .chars()
        .enumerate()
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        let what = if c.is_whitespace() {
            format!("whitespace ({c:?})")
        } else {
            format!("{c:?}")
        };
        let hint = if c == ':' {
            " (an ARN must begin with \"arn:\")"
        } else {
            ""
        };
        return Some(format!(
            "it contains {what} at position {}; a load balancer name may only contain \
             ASCII letters, digits and hyphens{hint}",
            i + 1
        ));
    }
    // Only ASCII from here on, so the length in bytes is the length in characters.
    if s.len() > MAX_NAME_LEN {
        return Some(format!(
            "it is {} characters long; a load balancer name has at most {MAX_NAME_LEN}",
            s.len()
        ));
    }
    if s.starts_with('-') {
        return Some(
            "it begins with a hyphen; a load balancer name must begin with a letter or digit"
                .to_owned(),
        );
    }
    if s.ends_with('-') {
        return Some(
            "it ends with a hyphen; a load balancer name must end with a letter or digit"
                .to_owned(),
        );
    }
    if s.len() >= INTERNAL_PREFIX.len()
        && s[..INTERNAL_PREFIX.len()].eq_ignore_ascii_case(INTERNAL_PREFIX)
    {
        return Some(format!(
            "it begins with {INTERNAL_PREFIX:?}, which AWS reserves for the DNS names of \
             internal load balancers; a load balancer name must not begin with it"
        ));
    }
    None
}

impl FromStr for LoadBalancerName {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for LoadBalancerName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for LoadBalancerName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl Serialize for LoadBalancerName {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for LoadBalancerName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// ResourceArn
// ---------------------------------------------------------------------------

/// The ARN of a resource AWS WAF protects in a Region (issue 22): an
/// Application Load Balancer, as before, or an API Gateway REST API stage,
/// an AppSync GraphQL API, a Cognito user pool, an App Runner service or a
/// Verified Access instance, each associated with a web ACL by
/// `AssociateWebACL` in the same way ([`ResourceKind`]).
///
/// An Application Load Balancer's ARN is
/// `arn:<partition>:elasticloadbalancing:<region>:<account-id>:loadbalancer/app/<name>/<id>`,
/// and a caller may rely on:
/// - the partition being `aws` or `aws-` followed by hyphen-separated groups of
///   lowercase letters (`aws-cn`, `aws-us-gov`, `aws-iso-b`, ...);
/// - the region being two or more hyphen-separated groups of lowercase letters
///   followed by a hyphen and a number (`us-east-1`, `us-gov-west-1`, ...);
/// - the account ID being exactly 12 ASCII digits (empty for an API Gateway
///   stage, whose ARN has none);
/// - the resource being `loadbalancer/app/<name>/<id>`, where `<name>` is a
///   valid [`LoadBalancerName`] and `<id>` is 16 lowercase hexadecimal digits,
///   with nothing after it; the other kinds' resources follow AWS's formats
///   (`/restapis/<api-id>/stages/<stage>`, `apis/<api-id>`,
///   `userpool/<pool-id>`, `service/<name>/<id>`,
///   `verified-access-instance/<id>`).
///
/// The ARN is kept exactly as given; comparison, ordering and hashing are
/// those of the ARN string. It displays and serializes as the ARN string;
/// deserializing goes through [`ResourceArn::parse`].
#[derive(Clone)]
pub struct ResourceArn {
    /// The whole ARN.
    arn: String,
    /// Byte ranges of the parts within `arn`, found by `parse`.
    partition: (usize, usize),
    region: (usize, usize),
    account: (usize, usize),
    name: (usize, usize),
    id: (usize, usize),
    kind: ResourceKind,
}

/// The former name of [`ResourceArn`], from when maint protected only
/// Application Load Balancers.
pub type LoadBalancerArn = ResourceArn;

/// The kinds of regional resource AWS WAF protects, each associated with a
/// web ACL by `AssociateWebACL` (CloudFront distributions, associated
/// through CloudFront, are not among them).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ResourceKind {
    /// An Application Load Balancer.
    LoadBalancer,
    /// An API Gateway REST API stage.
    ApiGatewayStage,
    /// An AppSync GraphQL API.
    #[serde(rename = "appsync_api")]
    AppSyncApi,
    /// A Cognito user pool (its hosted sign-in pages).
    CognitoUserPool,
    /// An App Runner service.
    AppRunnerService,
    /// A Verified Access instance.
    VerifiedAccessInstance,
    /// A CloudFront distribution: global, under a web ACL of scope
    /// CLOUDFRONT (in us-east-1), set through CloudFront's own API.
    #[serde(rename = "cloudfront_distribution")]
    CloudFrontDistribution,
}

impl ResourceKind {
    /// Every kind, in the order AWS's documentation lists them.
    pub const ALL: [ResourceKind; 7] = [
        ResourceKind::LoadBalancer,
        ResourceKind::ApiGatewayStage,
        ResourceKind::AppSyncApi,
        ResourceKind::CognitoUserPool,
        ResourceKind::AppRunnerService,
        ResourceKind::VerifiedAccessInstance,
        ResourceKind::CloudFrontDistribution,
    ];

    /// The kind as JSON gives it: `load_balancer`, `api_gateway_stage`,
    /// `appsync_api`, `cognito_user_pool`, `app_runner_service`,
    /// `verified_access_instance`, `cloudfront_distribution`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::LoadBalancer => "load_balancer",
            Self::ApiGatewayStage => "api_gateway_stage",
            Self::AppSyncApi => "appsync_api",
            Self::CognitoUserPool => "cognito_user_pool",
            Self::AppRunnerService => "app_runner_service",
            Self::VerifiedAccessInstance => "verified_access_instance",
            Self::CloudFrontDistribution => "cloudfront_distribution",
        }
    }

    /// The kind in words, for messages: "Application Load Balancer", ...
    pub fn describe(self) -> &'static str {
        match self {
            Self::LoadBalancer => "Application Load Balancer",
            Self::ApiGatewayStage => "API Gateway REST API stage",
            Self::AppSyncApi => "AppSync GraphQL API",
            Self::CognitoUserPool => "Cognito user pool",
            Self::AppRunnerService => "App Runner service",
            Self::VerifiedAccessInstance => "Verified Access instance",
            Self::CloudFrontDistribution => "CloudFront distribution",
        }
    }

    /// Whether the resource answers API clients rather than browsers (an
    /// API Gateway stage, an AppSync API): its maintenance response is JSON
    /// unless the window is given a page.
    pub fn serves_api(self) -> bool {
        matches!(self, Self::ApiGatewayStage | Self::AppSyncApi)
    }

    /// Whether the kind is global (a CloudFront distribution: web ACLs of
    /// scope CLOUDFRONT, in us-east-1) rather than regional (`AssociateWebACL`
    /// in the resource's Region). A window never mixes the two.
    pub fn is_global(self) -> bool {
        matches!(self, Self::CloudFrontDistribution)
    }

    /// AWS WAF's `ResourceType` for the kind (`ListResourcesForWebACL`;
    /// `CLOUDFRONT` names the scope, since WAF lists no distributions:
    /// CloudFront does).
    pub fn waf_resource_type(self) -> &'static str {
        match self {
            Self::LoadBalancer => "APPLICATION_LOAD_BALANCER",
            Self::ApiGatewayStage => "API_GATEWAY",
            Self::AppSyncApi => "APPSYNC",
            Self::CognitoUserPool => "COGNITO_USER_POOL",
            Self::AppRunnerService => "APP_RUNNER_SERVICE",
            Self::VerifiedAccessInstance => "VERIFIED_ACCESS_INSTANCE",
            Self::CloudFrontDistribution => "CLOUDFRONT",
        }
    }
}

impl fmt::Display for ResourceKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.describe())
    }
}

impl ResourceArn {
    /// Parses and validates the ARN of a resource AWS WAF protects in a
    /// Region (an Application Load Balancer or another [`ResourceKind`]).
    ///
    /// The input is not trimmed. On failure the error's `subject` is
    /// `load balancer ARN "<input>"` (`resource ARN "<input>"` for another
    /// service's) and its `reason` names the part that is wrong and what is
    /// expected there; the ARN of a Network, Gateway or Classic Load
    /// Balancer, a target group, a listener or a listener rule is refused
    /// with a reason saying so, and so is a resource of a service AWS WAF
    /// does not protect (an S3 bucket, ...).
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        let elb = s
            .split(':')
            .nth(2)
            .is_none_or(|service| service == ELB_SERVICE);
        let subject = if elb {
            "load balancer ARN"
        } else {
            "resource ARN"
        };
        parse_arn(s).map_err(|reason| InvalidInput::new(format!("{subject} {s:?}"), reason))
    }

    /// What kind of resource the ARN names.
    pub fn kind(&self) -> ResourceKind {
        self.kind
    }

    /// Whether it is an Application Load Balancer's ARN.
    pub fn is_load_balancer(&self) -> bool {
        self.kind == ResourceKind::LoadBalancer
    }

    /// The whole ARN, exactly as it was given.
    pub fn as_str(&self) -> &str {
        &self.arn
    }

    /// The partition, such as `aws`, `aws-cn` or `aws-us-gov`.
    pub fn partition(&self) -> &str {
        self.part(self.partition)
    }

    /// The region, such as `us-east-1` (empty for a CloudFront
    /// distribution, which is global).
    pub fn region(&self) -> &str {
        self.part(self.region)
    }

    /// The 12-digit ID of the account that owns the resource (empty for an
    /// API Gateway stage, whose ARN carries none).
    pub fn account_id(&self) -> &str {
        self.part(self.account)
    }

    /// The resource's name: a load balancer's (always a valid
    /// [`LoadBalancerName`]), a stage's, an App Runner service's; for the
    /// kinds whose ARN has no name, the kind's short word (`appsync`,
    /// `userpool`, `verified-access`).
    pub fn name(&self) -> &str {
        match self.kind {
            ResourceKind::AppSyncApi => "appsync",
            ResourceKind::CognitoUserPool => "userpool",
            ResourceKind::VerifiedAccessInstance => "verified-access",
            ResourceKind::CloudFrontDistribution => "distribution",
            _ => self.part(self.name),
        }
    }

    /// The resource's ID: a load balancer's 16 lowercase hexadecimal
    /// digits, a REST API's ID (of a stage), an AppSync API's, a user
    /// pool's, an App Runner service's, a Verified Access instance's, a
    /// CloudFront distribution's (`E2QWRUHAPOMQZL`).
    pub fn id(&self) -> &str {
        self.part(self.id)
    }

    fn part(&self, (start, end): (usize, usize)) -> &str {
        &self.arn[start..end]
    }
}

/// Byte range of `part` within `whole`; `part` must be a subslice of `whole`.
fn span(whole: &str, part: &str) -> (usize, usize) {
    let start = part.as_ptr() as usize - whole.as_ptr() as usize;
    (start, start + part.len())
}

/// Validates `s` as an ALB ARN, returning the reason on failure.
fn parse_arn(s: &str) -> Result<ResourceArn, String> {
    if s.is_empty() {
        return Err(format!("it is empty; expected {ARN_FORMAT}"));
    }
    if s.trim() != s {
        return Err("it has leading or trailing whitespace; an ARN contains no whitespace".into());
    }
    if let Some((i, c)) = s.chars().enumerate().find(|(_, c)| c.is_whitespace()) {
        return Err(format!(
            "it contains whitespace ({c:?}) at position {}; an ARN contains no whitespace",
            i + 1
        ));
    }

    let fields: Vec<&str> = s.splitn(6, ':').collect();
    let [prefix, partition, service, region, account, resource] = fields[..] else {
        return Err(format!(
            "it has {} colon-separated field(s) but an ARN has 6; expected {ARN_FORMAT}",
            fields.len()
        ));
    };

    if prefix != "arn" {
        return Err(format!(
            "it begins with {prefix:?} instead of \"arn\"; expected {ARN_FORMAT}"
        ));
    }
    if !is_valid_partition(partition) {
        return Err(format!(
            "partition {partition:?} is not valid; expected \"aws\" or \"aws-\" followed by \
             lowercase letters, such as \"aws-cn\" or \"aws-us-gov\""
        ));
    }
    if !WAF_SERVICES.iter().any(|(known, _)| *known == service) {
        return Err(not_protected(service));
    }
    if service == CLOUDFRONT_SERVICE {
        if !region.is_empty() {
            return Err(format!(
                "region {region:?}: a CloudFront distribution is global and its ARN names no \
                 Region; expected {CLOUDFRONT_FORMAT}"
            ));
        }
    } else if let Some(problem) = region_problem(region) {
        return Err(format!(
            "region {region:?} is not valid: {problem}; expected lowercase letter groups \
             separated by hyphens and ending in a number, such as \"us-east-1\" or \
             \"us-gov-west-1\""
        ));
    }
    if service == "apigateway" {
        if !account.is_empty() {
            return Err(format!(
                "account ID {account:?}: an API Gateway ARN has none; expected \
                 {APIGW_FORMAT}"
            ));
        }
    } else if let Some(problem) = account_problem(account) {
        return Err(format!(
            "account ID {account:?} is not valid: {problem}; expected exactly 12 digits"
        ));
    }
    let (kind, name, id) = if service == ELB_SERVICE {
        let (name, id) = split_resource(resource)?;
        if let Some(problem) = name_problem(name) {
            return Err(format!(
                "load balancer name {name:?} in the resource is not valid: {problem}"
            ));
        }
        check_id(id)?;
        (ResourceKind::LoadBalancer, name, id)
    } else {
        other_resource(service, resource)?
    };
    Ok(ResourceArn {
        arn: s.to_owned(),
        partition: span(s, partition),
        region: span(s, region),
        account: span(s, account),
        name: span(s, name),
        id: span(s, id),
        kind,
    })
}

/// The services whose regional resources AWS WAF protects, with the
/// shape of their ARNs' resource part, quoted in error messages.
const WAF_SERVICES: [(&str, &str); 7] = [
    (ELB_SERVICE, "loadbalancer/app/<name>/<id>"),
    ("apigateway", "/restapis/<api-id>/stages/<stage>"),
    ("appsync", "apis/<api-id>"),
    ("cognito-idp", "userpool/<user-pool-id>"),
    ("apprunner", "service/<name>/<id>"),
    ("ec2", "verified-access-instance/<id>"),
    (CLOUDFRONT_SERVICE, "distribution/<distribution-id>"),
];

/// CloudFront's service name in ARNs.
const CLOUDFRONT_SERVICE: &str = "cloudfront";

/// A CloudFront distribution's ARN, quoted in error messages.
const CLOUDFRONT_FORMAT: &str = "arn:<partition>:cloudfront::<account-id>:distribution/<id>";

/// Whether `s` has the shape of a CloudFront distribution ID: 13 to 15
/// capital letters and digits, beginning with a letter and with at least
/// one digit (`E2QWRUHAPOMQZL`, `EDFDVBD6EXAMPLE`; AWS's begin with `E`,
/// emulators' not always). Such a name is taken as a distribution, not a
/// load balancer (see [`LoadBalancerRef::parse`]); a load balancer of that
/// very shape (capitals only, no hyphen) is named by its ARN.
pub fn is_distribution_id(s: &str) -> bool {
    (13..=15).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_uppercase())
        && s.chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        && s.chars().any(|c| c.is_ascii_digit())
}

/// Whether `s` is a DNS name with at least one dot (a CloudFront
/// distribution's alternate domain name, such as `www.example.com`, or a
/// wildcard `*.example.com`): labels of ASCII letters, digits and hyphens.
pub fn is_domain_name(s: &str) -> bool {
    let s = s.strip_prefix("*.").unwrap_or(s);
    s.len() <= 253
        && s.contains('.')
        && s.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// An API Gateway REST API stage's ARN, quoted in error messages.
const APIGW_FORMAT: &str = "arn:<partition>:apigateway:<region>::/restapis/<api-id>/stages/<stage>";

/// The refusal of an ARN of a service whose resources AWS WAF does not
/// protect in a Region.
fn not_protected(service: &str) -> String {
    format!(
        "service {service:?} is not one whose resources AWS WAF protects; expected an \
         Application Load Balancer (elasticloadbalancing), an API Gateway REST API stage \
         (apigateway), an AppSync GraphQL API (appsync), a Cognito user pool (cognito-idp), an \
         App Runner service (apprunner), a Verified Access instance (ec2) or a CloudFront \
         distribution (cloudfront)"
    )
}

/// Whether `s` is 1 to `max` characters of ASCII letters, digits and
/// `extra`.
fn is_token(s: &str, max: usize, extra: &[char]) -> bool {
    (1..=max).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || extra.contains(&c))
}

/// The kind, name and ID of a resource of a service other than ELB, or
/// what is wrong with it.
fn other_resource<'a>(
    service: &str,
    resource: &'a str,
) -> Result<(ResourceKind, &'a str, &'a str), String> {
    let format = WAF_SERVICES
        .iter()
        .find(|(known, _)| *known == service)
        .map_or("", |(_, format)| format);
    let wrong = |what: &str| format!("{what}; expected the resource {format}");
    let parts: Vec<&'a str> = resource.split('/').collect();
    match (service, &parts[..]) {
        ("apigateway", ["", "restapis", api, "stages", stage]) => {
            if !is_token(api, 64, &[]) {
                return Err(wrong(&format!("REST API ID {api:?} is not valid")));
            }
            if !is_token(stage, 128, &['-', '_']) {
                return Err(wrong(&format!("stage name {stage:?} is not valid")));
            }
            Ok((ResourceKind::ApiGatewayStage, stage, api))
        }
        ("apigateway", ["", "restapis", _]) | ("apigateway", ["", "restapis", _, ..]) => Err(
            wrong("this is a REST API, not one of its stages; AWS WAF protects a stage"),
        ),
        ("appsync", ["apis", api]) if is_token(api, 64, &[]) => {
            Ok((ResourceKind::AppSyncApi, resource, api))
        }
        ("cognito-idp", ["userpool", pool]) if is_token(pool, 64, &['_', '-']) => {
            Ok((ResourceKind::CognitoUserPool, resource, pool))
        }
        ("apprunner", ["service", name, id])
            if is_token(name, 40, &['-', '_']) && is_token(id, 32, &[]) =>
        {
            Ok((ResourceKind::AppRunnerService, name, id))
        }
        ("ec2", ["verified-access-instance", id]) if is_token(id, 64, &['-']) => {
            Ok((ResourceKind::VerifiedAccessInstance, resource, id))
        }
        (CLOUDFRONT_SERVICE, ["distribution", id])
            if is_token(id, 64, &[]) && !id.chars().any(|c| c.is_ascii_lowercase()) =>
        {
            Ok((ResourceKind::CloudFrontDistribution, resource, id))
        }
        ("ec2", _) => Err(wrong(&format!(
            "resource {resource:?} is not a Verified Access instance, the only EC2 resource \
             AWS WAF protects"
        ))),
        _ => Err(wrong(&format!("resource {resource:?} is not valid"))),
    }
}

/// `aws`, or `aws` followed by one or more `-<lowercase letters>` groups.
fn is_valid_partition(p: &str) -> bool {
    match p.strip_prefix("aws") {
        Some("") => true,
        Some(rest) => match rest.strip_prefix('-') {
            Some(groups) => groups
                .split('-')
                .all(|g| !g.is_empty() && g.bytes().all(|b| b.is_ascii_lowercase())),
            None => false,
        },
        None => false,
    }
}

/// Checks an AWS Region name given by a user (`--region`, `AWS_REGION`, a
/// profile's region, Python's `region=`): lowercase letter groups and a
/// number, such as `us-east-1`, the rule an ARN's region follows too.
pub fn check_region(region: &str) -> Result<(), InvalidInput> {
    match region_problem(region) {
        None => Ok(()),
        Some(problem) => Err(InvalidInput::new(
            format!("AWS region {region:?}"),
            format!("{problem}; expected a region such as \"us-east-1\""),
        )),
    }
}

/// Says what is wrong with a region, if anything.
fn region_problem(r: &str) -> Option<&'static str> {
    if r.is_empty() {
        return Some("it is empty");
    }
    if r.bytes().any(|b| b.is_ascii_uppercase()) {
        return Some("regions are lowercase");
    }
    let groups: Vec<&str> = r.split('-').collect();
    if groups.iter().any(|g| g.is_empty()) {
        return Some("it has an empty group between hyphens");
    }
    let Some((number, letters)) = groups.split_last() else {
        return Some("it is empty");
    };
    if !number.bytes().all(|b| b.is_ascii_digit()) {
        return Some("its last hyphen-separated group is not a number");
    }
    if letters.len() < 2 {
        return Some("it needs at least two letter groups before the number");
    }
    if !letters
        .iter()
        .all(|g| g.bytes().all(|b| b.is_ascii_lowercase()))
    {
        return Some("only lowercase letters may come before the number");
    }
    None
}

/// Says what is wrong with an account ID, if anything.
fn account_problem(a: &str) -> Option<String> {
    if a.is_empty() {
        return Some("it is empty".into());
    }
    if let Some(c) = a.chars().find(|c| !c.is_ascii_digit()) {
        return Some(format!("it contains {c:?}, which is not a digit"));
    }
    if a.len() != 12 {
        return Some(format!("it has {} digits", a.len()));
    }
    None
}

/// Splits the resource part `loadbalancer/app/<name>/<id>` into name and id,
/// or says what the resource is instead.
fn split_resource(resource: &str) -> Result<(&str, &str), String> {
    const NOT_APP: &str = "AWS WAF can only be associated with Application Load Balancers \
                           (loadbalancer/app/...)";
    let Some(rest) = resource.strip_prefix("loadbalancer/") else {
        let kind = match resource.split('/').next().unwrap_or_default() {
            "" => {
                return Err(
                    "the resource is empty; expected loadbalancer/app/<name>/<id>".to_owned(),
                )
            }
            "targetgroup" => Some("a target group"),
            "listener" => Some("a listener"),
            "listener-rule" => Some("a listener rule"),
            "truststore" => Some("a trust store"),
            _ => None,
        };
        return Err(match kind {
            Some(kind) => format!(
                "this is the ARN of {kind}, not of a load balancer; expected the resource \
                 loadbalancer/app/<name>/<id> of an Application Load Balancer"
            ),
            None => format!(
                "resource {resource:?} is not a load balancer; expected \
                 loadbalancer/app/<name>/<id>"
            ),
        });
    };

    let (kind, after_kind) = match rest.split_once('/') {
        Some((kind, after)) => (kind, Some(after)),
        None => (rest, None),
    };
    match (kind, after_kind) {
        ("", None) => Err(
            "the resource \"loadbalancer/\" lacks the load balancer type, name and ID; \
             expected loadbalancer/app/<name>/<id>"
                .into(),
        ),
        ("net", _) => Err(format!(
            "this is the ARN of a Network Load Balancer (loadbalancer/net/...); {NOT_APP}"
        )),
        ("gwy", _) => Err(format!(
            "this is the ARN of a Gateway Load Balancer (loadbalancer/gwy/...); {NOT_APP}"
        )),
        ("app", None) | ("app", Some("")) => Err(
            "the resource lacks the load balancer name and ID; expected \
             loadbalancer/app/<name>/<id>"
                .into(),
        ),
        (_, None) => Err(format!(
            "this looks like the ARN of a Classic Load Balancer (loadbalancer/<name>, with no \
             type); {NOT_APP}"
        )),
        ("app", Some(after)) => match after.split_once('/') {
            Some((name, id)) => Ok((name, id)),
            None => Err(format!(
                "the resource lacks the load balancer ID after the name {after:?}; expected \
                 loadbalancer/app/<name>/<id> with a {ID_LEN}-digit hexadecimal ID"
            )),
        },
        (other, Some(_)) => Err(format!(
            "load balancer type {other:?} is not valid; expected \"app\" (Application Load \
             Balancer) as in loadbalancer/app/<name>/<id>"
        )),
    }
}

/// Checks a load balancer ID: exactly 16 lowercase hex digits and nothing more.
fn check_id(id: &str) -> Result<(), String> {
    let is_hex = |b: &u8| b.is_ascii_digit() || (b'a'..=b'f').contains(b);
    let bytes = id.as_bytes();
    let hex_len = bytes.iter().take_while(|b| is_hex(b)).count();
    if hex_len == bytes.len() && hex_len == ID_LEN {
        return Ok(());
    }
    if id.is_empty() {
        return Err(format!(
            "the load balancer ID is empty; expected {ID_LEN} lowercase hexadecimal digits"
        ));
    }
    if hex_len == ID_LEN {
        // The first ID_LEN bytes are ASCII, so this is a character boundary.
        let trailing = &id[ID_LEN..];
        return Err(format!(
            "unexpected text {trailing:?} after the {ID_LEN}-digit load balancer ID; \
             the ARN must end with the ID"
        ));
    }
    if hex_len == bytes.len() {
        return Err(format!(
            "load balancer ID {id:?} has {hex_len} hexadecimal digits; expected exactly {ID_LEN}"
        ));
    }
    let hint = if id.bytes().all(|b| b.is_ascii_hexdigit()) {
        " (hexadecimal digits must be lowercase)"
    } else {
        ""
    };
    Err(format!(
        "load balancer ID {id:?} is not valid; expected {ID_LEN} lowercase hexadecimal digits \
         (0-9, a-f){hint}"
    ))
}

impl fmt::Debug for ResourceArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ResourceArn").field(&self.arn).finish()
    }
}

impl PartialEq for ResourceArn {
    fn eq(&self, other: &Self) -> bool {
        self.arn == other.arn
    }
}

impl Eq for ResourceArn {}

impl Hash for ResourceArn {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.arn.hash(state);
    }
}

impl PartialOrd for ResourceArn {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for ResourceArn {
    fn cmp(&self, other: &Self) -> Ordering {
        self.arn.cmp(&other.arn)
    }
}

impl FromStr for ResourceArn {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for ResourceArn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.arn)
    }
}

impl AsRef<str> for ResourceArn {
    fn as_ref(&self) -> &str {
        &self.arn
    }
}

impl Serialize for ResourceArn {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.arn)
    }
}

impl<'de> Deserialize<'de> for ResourceArn {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

// ---------------------------------------------------------------------------
// LoadBalancerRef and Target
// ---------------------------------------------------------------------------

/// One load balancer, designated by the user either by ARN or by name.
///
/// A name alone says nothing about account or region; resolving it is up to
/// the backend. It displays and serializes as the ARN or the name;
/// deserializing goes through [`LoadBalancerRef::parse`].
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LoadBalancerRef {
    /// Designated by its full ARN.
    Arn(ResourceArn),
    /// Designated by its name.
    Name(LoadBalancerName),
    /// A CloudFront distribution designated by its ID (`E2QWRUHAPOMQZL`)
    /// or one of its alternate domain names (`www.example.com`), looked up
    /// in CloudFront.
    Distribution(String),
}

impl LoadBalancerRef {
    /// Parses a load balancer ARN or name.
    ///
    /// Input beginning with `arn:` (in any case) is parsed as a
    /// [`ResourceArn`], and its errors are those of
    /// [`ResourceArn::parse`]; a CloudFront distribution's ID
    /// ([`is_distribution_id`]) or a domain name ([`is_domain_name`]: a
    /// load balancer name has no dots) designates a distribution; anything
    /// else is parsed as a [`LoadBalancerName`]. The input is not trimmed.
    pub fn parse(s: &str) -> Result<Self, InvalidInput> {
        let looks_like_arn = s.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("arn:"));
        if looks_like_arn {
            ResourceArn::parse(s).map(Self::Arn)
        } else if is_distribution_id(s) || is_domain_name(s) {
            Ok(Self::Distribution(s.to_owned()))
        } else {
            LoadBalancerName::parse(s).map(Self::Name)
        }
    }

    /// Whether it designates a CloudFront distribution (by ARN, ID or
    /// alternate domain name), whose web ACL is global.
    pub fn is_global(&self) -> bool {
        match self {
            Self::Arn(arn) => arn.kind().is_global(),
            Self::Name(_) => false,
            Self::Distribution(_) => true,
        }
    }

    /// The ARN or name, as given.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Arn(arn) => arn.as_str(),
            Self::Name(name) => name.as_str(),
            Self::Distribution(given) => given,
        }
    }

    /// The load balancer's name: the name itself, or the name inside the
    /// ARN (a distribution's ID or domain name, as given).
    pub fn name(&self) -> &str {
        match self {
            Self::Arn(arn) => arn.name(),
            Self::Name(name) => name.as_str(),
            Self::Distribution(given) => given,
        }
    }

    /// The ARN, when the load balancer was designated by ARN.
    pub fn arn(&self) -> Option<&ResourceArn> {
        match self {
            Self::Arn(arn) => Some(arn),
            Self::Name(_) | Self::Distribution(_) => None,
        }
    }
}

impl From<ResourceArn> for LoadBalancerRef {
    fn from(arn: ResourceArn) -> Self {
        Self::Arn(arn)
    }
}

impl From<LoadBalancerName> for LoadBalancerRef {
    fn from(name: LoadBalancerName) -> Self {
        Self::Name(name)
    }
}

impl FromStr for LoadBalancerRef {
    type Err = InvalidInput;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for LoadBalancerRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for LoadBalancerRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for LoadBalancerRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// One load balancer to act on, as the user designated it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetRef {
    /// What the user typed: a service name, a load balancer name or an ARN.
    pub given: String,
    /// The config service it came from, if any.
    pub service: Option<String>,
    /// The load balancer.
    pub load_balancer: LoadBalancerRef,
    /// The region to look in (`None`: the AWS configuration's default).
    pub region: Option<String>,
    /// The config account to act in (`None`: the account of the
    /// credentials maint runs with).
    pub account: Option<String>,
}

impl TargetRef {
    /// How to name this target in output: the service and load balancer
    /// when it came from a service, else what the user typed.
    pub fn label(&self) -> String {
        match &self.service {
            Some(service) => format!("{service}/{}", self.load_balancer),
            None => self.given.clone(),
        }
    }
}

/// What a target that was not found is, in words: "load balancer" for a
/// name or a load balancer's ARN, the kind of any other resource's ARN.
pub(crate) fn not_found_what(target: &str) -> &'static str {
    match LoadBalancerRef::parse(target) {
        Ok(LoadBalancerRef::Arn(arn)) if !arn.is_load_balancer() => arn.kind().describe(),
        Ok(LoadBalancerRef::Distribution(_)) => ResourceKind::CloudFrontDistribution.describe(),
        _ => "load balancer",
    }
}

/// The refusal for a load balancer that is not an Application Load Balancer.
#[cfg_attr(not(any(feature = "aws", feature = "testing")), allow(dead_code))]
pub(crate) fn not_an_alb(target: &str, kind: &str) -> InvalidInput {
    InvalidInput::new(
        format!("target {target}"),
        format!(
            "it is a {kind} load balancer; AWS WAF can only be associated with Application Load Balancers"
        ),
    )
}

/// The refusal for an ARN outside the region a backend works in.
#[cfg_attr(not(any(feature = "aws", feature = "testing")), allow(dead_code))]
pub(crate) fn wrong_region(lb: &ResourceArn, region: &str) -> InvalidInput {
    InvalidInput::new(
        format!("target {lb}"),
        format!(
            "the {} is in region {}, but maint is working in {region}; pass {}",
            if lb.is_load_balancer() {
                "load balancer"
            } else {
                lb.kind().describe()
            },
            lb.region(),
            crate::error::Argument::Region.given(lb.region())
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ARN: &str =
        "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/my-lb/50dc6c495c0c9188";

    fn arn_with(resource: &str) -> String {
        format!("arn:aws:elasticloadbalancing:us-east-1:123456789012:{resource}")
    }

    /// Parses `s` as an ARN that must be refused; returns the reason.
    fn arn_err(s: &str) -> String {
        let err = ResourceArn::parse(s).expect_err(s);
        assert_eq!(err.subject, format!("load balancer ARN {s:?}"));
        err.reason
    }

    fn name_err(s: &str) -> String {
        let err = LoadBalancerName::parse(s).expect_err(s);
        assert_eq!(err.subject, format!("load balancer name {s:?}"));
        err.reason
    }

    #[test]
    fn valid_arns_round_trip() {
        let cases = [
            (ARN, "aws", "us-east-1", "123456789012", "my-lb", "50dc6c495c0c9188"),
            (
                "arn:aws-cn:elasticloadbalancing:cn-north-1:000000000001:loadbalancer/app/Web01/0123456789abcdef",
                "aws-cn",
                "cn-north-1",
                "000000000001",
                "Web01",
                "0123456789abcdef",
            ),
            (
                "arn:aws-us-gov:elasticloadbalancing:us-gov-west-1:999999999999:loadbalancer/app/a/ffffffffffffffff",
                "aws-us-gov",
                "us-gov-west-1",
                "999999999999",
                "a",
                "ffffffffffffffff",
            ),
            (
                "arn:aws-iso-b:elasticloadbalancing:us-isob-east-1:123456789012:loadbalancer/app/x-y-z/aaaaaaaaaaaaaaaa",
                "aws-iso-b",
                "us-isob-east-1",
                "123456789012",
                "x-y-z",
                "aaaaaaaaaaaaaaaa",
            ),
            (
                "arn:aws:elasticloadbalancing:eu-central-2:123456789012:loadbalancer/app/abcdefghijklmnopqrstuvwxyz012345/1234567890abcdef",
                "aws",
                "eu-central-2",
                "123456789012",
                "abcdefghijklmnopqrstuvwxyz012345",
                "1234567890abcdef",
            ),
        ];
        for (s, partition, region, account, name, id) in cases {
            let arn = ResourceArn::parse(s).expect(s);
            assert_eq!(arn.as_str(), s);
            assert_eq!(arn.to_string(), s);
            assert_eq!(arn.partition(), partition);
            assert_eq!(arn.region(), region);
            assert_eq!(arn.account_id(), account);
            assert_eq!(arn.name(), name);
            assert_eq!(arn.id(), id);
            let again: ResourceArn = arn.to_string().parse().expect("round trip");
            assert_eq!(again, arn);
        }
    }

    #[test]
    fn arns_compare_hash_and_display_as_text() {
        use std::collections::HashSet;
        let a = ResourceArn::parse(ARN).expect("valid");
        let b =
            ResourceArn::parse(&arn_with("loadbalancer/app/zz/50dc6c495c0c9188")).expect("valid");
        assert!(a < b);
        assert_eq!(a.clone(), a);
        let set: HashSet<_> = [a.clone(), a.clone(), b].into_iter().collect();
        assert_eq!(set.len(), 2);
        assert_eq!(format!("{a:?}"), format!("ResourceArn({ARN:?})"));
    }

    #[test]
    fn refuses_network_load_balancer() {
        let r = arn_err(&arn_with("loadbalancer/net/my-nlb/50dc6c495c0c9188"));
        assert!(r.contains("Network Load Balancer"), "{r}");
        assert!(r.contains("AWS WAF can only be associated with Application Load Balancers"));
    }

    #[test]
    fn refuses_gateway_load_balancer() {
        let r = arn_err(&arn_with("loadbalancer/gwy/my-gwlb/50dc6c495c0c9188"));
        assert!(r.contains("Gateway Load Balancer"), "{r}");
        assert!(r.contains("AWS WAF can only be associated with Application Load Balancers"));
    }

    #[test]
    fn refuses_classic_load_balancer() {
        let r = arn_err(&arn_with("loadbalancer/my-classic-lb"));
        assert!(r.contains("Classic Load Balancer"), "{r}");
        assert!(r.contains("AWS WAF can only be associated with Application Load Balancers"));
    }

    #[test]
    fn refuses_other_resources() {
        let r = arn_err(&arn_with("targetgroup/my-tg/50dc6c495c0c9188"));
        assert!(r.contains("target group"), "{r}");
        let r = arn_err(&arn_with(
            "listener/app/my-lb/50dc6c495c0c9188/f2f7dc8efc522ab2",
        ));
        assert!(r.contains("a listener,"), "{r}");
        let r = arn_err(&arn_with(
            "listener-rule/app/my-lb/50dc6c495c0c9188/f2f7dc8efc522ab2/9683b2d02a6cabee",
        ));
        assert!(r.contains("listener rule"), "{r}");
        let r = arn_err(&arn_with("something/else"));
        assert!(r.contains("not a load balancer"), "{r}");
        let r = arn_err(&arn_with(""));
        assert!(r.contains("resource is empty"), "{r}");
        let r = arn_err(&arn_with("loadbalancer/"));
        assert!(r.contains("lacks the load balancer type"), "{r}");
        let r = arn_err(&arn_with("loadbalancer/app"));
        assert!(r.contains("lacks the load balancer name and ID"), "{r}");
        let r = arn_err(&arn_with("loadbalancer/app/"));
        assert!(r.contains("lacks the load balancer name and ID"), "{r}");
        let r = arn_err(&arn_with("loadbalancer/app/my-lb"));
        assert!(r.contains("lacks the load balancer ID"), "{r}");
        let r = arn_err(&arn_with("loadbalancer/xyz/my-lb/50dc6c495c0c9188"));
        assert!(r.contains("type \"xyz\""), "{r}");
        let instance = "arn:aws:ec2:us-east-1:123456789012:instance/i-0123456789abcdef0";
        let err = ResourceArn::parse(instance).expect_err(instance);
        assert_eq!(err.subject, format!("resource ARN {instance:?}"));
        assert!(
            err.reason.contains("not a Verified Access instance"),
            "{err}"
        );
    }

    #[test]
    fn every_regional_kind_aws_waf_protects_is_a_target() {
        let cases = [
            (
                "arn:aws:apigateway:eu-west-1::/restapis/a1b2c3d4e5/stages/prod",
                ResourceKind::ApiGatewayStage,
                "",
                "prod",
                "a1b2c3d4e5",
            ),
            (
                "arn:aws:appsync:eu-west-1:123456789012:apis/abcdefghijklmnopqrstuvwxyz",
                ResourceKind::AppSyncApi,
                "123456789012",
                "appsync",
                "abcdefghijklmnopqrstuvwxyz",
            ),
            (
                "arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_AbCdEfGhI",
                ResourceKind::CognitoUserPool,
                "123456789012",
                "userpool",
                "eu-west-1_AbCdEfGhI",
            ),
            (
                "arn:aws:apprunner:eu-west-1:123456789012:service/shop-web/8fe1e10304f84fd2b0df550fe98a71fa",
                ResourceKind::AppRunnerService,
                "123456789012",
                "shop-web",
                "8fe1e10304f84fd2b0df550fe98a71fa",
            ),
            (
                "arn:aws:ec2:eu-west-1:123456789012:verified-access-instance/vai-0ce000c0b7643abea",
                ResourceKind::VerifiedAccessInstance,
                "123456789012",
                "verified-access",
                "vai-0ce000c0b7643abea",
            ),
        ];
        for (arn, kind, account, name, id) in cases {
            let parsed = ResourceArn::parse(arn).unwrap_or_else(|e| panic!("{arn}: {e}"));
            assert_eq!(parsed.kind(), kind, "{arn}");
            assert!(!parsed.is_load_balancer());
            assert_eq!(parsed.region(), "eu-west-1");
            assert_eq!(parsed.account_id(), account);
            assert_eq!((parsed.name(), parsed.id()), (name, id), "{arn}");
            assert_eq!(parsed.as_str(), arn);
            // Named on its own, each is a window of a name WAF accepts.
            let window = crate::maintenance::Window::of_load_balancer(&parsed);
            assert!(
                window.name().len() <= 128
                    && window
                        .name()
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c)),
                "{}",
                window.name()
            );
            assert!(
                matches!(LoadBalancerRef::parse(arn), Ok(LoadBalancerRef::Arn(a)) if a == parsed)
            );
        }
        assert!(ResourceArn::parse(ARN).expect("an ALB").is_load_balancer());
        assert!(
            ResourceKind::ApiGatewayStage.serves_api() && ResourceKind::AppSyncApi.serves_api()
        );
        assert!(!ResourceKind::LoadBalancer.serves_api());
        for kind in ResourceKind::ALL {
            let json = serde_json::to_value(kind).expect("a kind serializes");
            assert_eq!(json, kind.as_str(), "JSON and as_str agree");
        }
    }

    #[test]
    fn a_resource_aws_waf_does_not_protect_is_refused_naming_what_it_protects() {
        for (arn, says) in [
            (
                "arn:aws:s3:::my-bucket",
                "service \"s3\" is not one whose resources AWS WAF protects",
            ),
            (
                "arn:aws:cloudfront:us-east-1:123456789012:distribution/E2QWRUHAPOMQZL",
                "a CloudFront distribution is global",
            ),
            (
                "arn:aws:cloudfront::123456789012:streaming-distribution/E2QWRUHAPOMQZL",
                "expected the resource distribution/<distribution-id>",
            ),
            (
                "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5",
                "a REST API, not one of its stages",
            ),
            (
                "arn:aws:apigateway:us-east-1:123456789012:/restapis/a1b2c3d4e5/stages/prod",
                "an API Gateway ARN has none",
            ),
            (
                "arn:aws:appsync:us-east-1:123456789012:apis/",
                "expected the resource apis/<api-id>",
            ),
            (
                "arn:aws:apprunner:us-east-1:123456789012:service/web",
                "service/<name>/<id>",
            ),
        ] {
            let err = ResourceArn::parse(arn).expect_err(arn);
            assert_eq!(err.subject, format!("resource ARN {arn:?}"));
            assert!(err.reason.contains(says), "{arn}: {}", err.reason);
        }
        // Bad input, before any AWS call: exit 2.
        let err = crate::Error::from(ResourceArn::parse("arn:aws:s3:::my-bucket").expect_err("s3"));
        assert_eq!(err.kind(), crate::ErrorKind::InvalidInput);
    }

    #[test]
    fn a_cloudfront_distribution_is_named_by_arn_id_or_domain_name() {
        let arn = "arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL";
        let parsed = ResourceArn::parse(arn).expect("a distribution ARN");
        assert_eq!(parsed.kind(), ResourceKind::CloudFrontDistribution);
        assert_eq!(parsed.id(), "E2QWRUHAPOMQZL");
        assert_eq!(parsed.region(), "");
        assert_eq!(parsed.account_id(), "123456789012");
        assert!(parsed.kind().is_global() && !parsed.kind().serves_api());
        assert_eq!(
            serde_json::to_string(&parsed.kind()).expect("JSON"),
            "\"cloudfront_distribution\""
        );
        for given in [
            "E2QWRUHAPOMQZL",
            "EDFDVBD6EXAMPLE",
            "www.example.com",
            "*.example.com",
        ] {
            let r = LoadBalancerRef::parse(given).expect("a distribution");
            assert_eq!(r, LoadBalancerRef::Distribution(given.into()), "{given}");
            assert!(r.is_global());
        }
        // Load balancer names stay names: hyphens, lowercase, no digit, too short.
        for name in ["shop-web", "ESHOPWEBPRODALB", "e2qwruhapomqzl", "E2QWRU"] {
            let r = LoadBalancerRef::parse(name).expect("a name");
            assert!(matches!(r, LoadBalancerRef::Name(_)), "{name}");
            assert!(!r.is_global());
        }
        // Not a domain name either: still a bad load balancer name.
        assert!(LoadBalancerRef::parse("www..example.com").is_err());
        assert!(LoadBalancerRef::parse("-bad.example.com").is_err());
    }

    #[test]
    fn a_target_not_found_is_named_by_its_kind() {
        let missing = |target: &str| {
            crate::Error::TargetNotFound {
                target: target.into(),
            }
            .to_string()
        };
        assert_eq!(missing("shop"), "load balancer not found: shop");
        assert_eq!(
            missing("www.example.com"),
            "CloudFront distribution not found: www.example.com"
        );
        let stage = "arn:aws:apigateway:us-east-1::/restapis/a1b2c3d4e5/stages/prod";
        assert_eq!(
            missing(stage),
            format!("API Gateway REST API stage not found: {stage}")
        );
    }

    #[test]
    fn refuses_bad_prefix_and_partition() {
        let r = arn_err(&ARN.replacen("arn:", "ARN:", 1));
        assert!(r.contains("begins with \"ARN\""), "{r}");
        for p in [
            "", "AWS", "aw", "aws-", "aws--cn", "aws-cn-", "aws-c1", "awscn",
        ] {
            let s = ARN.replacen(":aws:", &format!(":{p}:"), 1);
            let r = arn_err(&s);
            assert!(r.contains(&format!("partition {p:?}")), "{p}: {r}");
        }
    }

    #[test]
    fn refuses_bad_region() {
        for region in [
            "",
            "us-east",
            "useast1",
            "us-east-1a",
            "US-EAST-1",
            "us--east-1",
            "us-east-",
            "-us-east-1",
            "1-east-1",
            "us_east-1",
            "east-1",
        ] {
            let s = ARN.replacen("us-east-1", region, 1);
            let r = arn_err(&s);
            assert!(r.contains(&format!("region {region:?}")), "{region}: {r}");
            assert!(r.contains("us-east-1"), "{r}");
        }
        let r = arn_err(&ARN.replacen("us-east-1", "US-EAST-1", 1));
        assert!(r.contains("lowercase"), "{r}");
    }

    #[test]
    fn refuses_bad_account() {
        for account in ["", "12345678901", "1234567890123", "12345678901a", "１２３"] {
            let s = ARN.replacen("123456789012", account, 1);
            let r = arn_err(&s);
            assert!(
                r.contains(&format!("account ID {account:?}")),
                "{account}: {r}"
            );
            assert!(r.contains("exactly 12 digits"), "{r}");
        }
    }

    #[test]
    fn refuses_bad_id() {
        for (id, expect) in [
            ("", "ID is empty"),
            ("50dc6c495c0c918", "has 15 hexadecimal digits"),
            ("50dc6c495c0c91888", "has 17 hexadecimal digits"),
            ("50DC6C495C0C9188", "must be lowercase"),
            ("50dc6c495c0c918g", "16 lowercase hexadecimal digits"),
        ] {
            let r = arn_err(&arn_with(&format!("loadbalancer/app/my-lb/{id}")));
            assert!(r.contains(expect), "{id}: {r}");
        }
    }

    #[test]
    fn refuses_bad_name_in_arn() {
        for name in ["my_lb", "-lb", "lb-", "internal-lb", &"a".repeat(33)] {
            let r = arn_err(&arn_with(&format!(
                "loadbalancer/app/{name}/50dc6c495c0c9188"
            )));
            assert!(
                r.contains(&format!("load balancer name {name:?}")),
                "{name}: {r}"
            );
        }
        let r = arn_err(&arn_with("loadbalancer/app//50dc6c495c0c9188"));
        assert!(r.contains("is empty"), "{r}");
    }

    #[test]
    fn refuses_empty_whitespace_and_trailing_garbage() {
        let r = arn_err("");
        assert!(r.contains("empty") && r.contains(ARN_FORMAT), "{r}");
        for s in [format!(" {ARN}"), format!("{ARN}\n"), format!("{ARN} ")] {
            let r = arn_err(&s);
            assert!(r.contains("leading or trailing whitespace"), "{r}");
        }
        let r = arn_err(&ARN.replacen("my-lb", "my lb", 1));
        assert!(r.contains("whitespace (' ') at position"), "{r}");
        for trailing in ["/", "/extra", ":x", "#"] {
            let r = arn_err(&format!("{ARN}{trailing}"));
            assert!(
                r.contains(&format!("unexpected text {trailing:?} after")),
                "{trailing}: {r}"
            );
        }
        let r = arn_err("arn:aws:elasticloadbalancing:us-east-1:123456789012");
        assert!(r.contains("has 5 colon-separated field(s)"), "{r}");
        let r = arn_err("not an arn");
        assert!(r.contains("whitespace"), "{r}");
        let r = arn_err("my-lb");
        assert!(r.contains("has 1 colon-separated field(s)"), "{r}");
    }

    #[test]
    fn load_balancer_names_follow_elbs_rules() {
        for ok in [
            "a",
            "A",
            "0",
            "my-lb",
            "My-LB-01",
            "a-b",
            "internal",
            "xinternal-a",
        ] {
            let n = LoadBalancerName::parse(ok).expect(ok);
            assert_eq!(n.as_str(), ok);
            assert_eq!(n.to_string(), ok);
            assert_eq!(ok.parse::<LoadBalancerName>().expect(ok), n);
        }
        let max = "a".repeat(32);
        assert!(LoadBalancerName::parse(&max).is_ok());

        assert!(name_err(&"a".repeat(33)).contains("33 characters long"));
        assert!(name_err("").contains("empty"));
        assert!(name_err("-lb").contains("begins with a hyphen"));
        assert!(name_err("lb-").contains("ends with a hyphen"));
        assert!(name_err("-").contains("begins with a hyphen"));
        assert!(name_err("internal-lb").contains("\"internal-\""));
        assert!(name_err("Internal-lb").contains("\"internal-\""));
        let r = name_err("my_lb");
        assert!(r.contains("'_' at position 3"), "{r}");
        assert!(r.contains("letters, digits and hyphens"), "{r}");
        assert!(name_err(" lb").contains("whitespace"));
        assert!(name_err("lb\n").contains("whitespace"));
        assert!(name_err("lé").contains("'é' at position 2"));
        assert!(name_err("aws:lb").contains("must begin with \"arn:\""));
    }

    #[test]
    fn a_reference_is_an_arn_or_a_name() {
        let r = LoadBalancerRef::parse(ARN).expect("arn");
        assert!(matches!(r, LoadBalancerRef::Arn(_)));
        assert_eq!(r.to_string(), ARN);
        assert_eq!(r.name(), "my-lb");
        assert!(r.arn().is_some());

        let r = LoadBalancerRef::parse("my-lb").expect("name");
        assert!(matches!(r, LoadBalancerRef::Name(_)));
        assert_eq!(r.to_string(), "my-lb");
        assert_eq!(r.name(), "my-lb");
        assert!(r.arn().is_none());

        // ARN errors come from ARN parsing, name errors from name parsing.
        let e = LoadBalancerRef::parse(&arn_with("loadbalancer/net/n/50dc6c495c0c9188"))
            .expect_err("nlb");
        assert!(e.subject.starts_with("load balancer ARN"));
        assert!(e.reason.contains("Network Load Balancer"));
        let e = LoadBalancerRef::parse("ARN:aws").expect_err("upper");
        assert!(e.subject.starts_with("load balancer ARN"));
        let e = LoadBalancerRef::parse("bad_name").expect_err("name");
        assert!(e.subject.starts_with("load balancer name"));
        assert!(LoadBalancerRef::parse("").is_err());
    }

    #[test]
    fn an_arn_round_trips_through_serde() {
        let arn = ResourceArn::parse(ARN).expect("valid");
        let json = serde_json::to_string(&arn).expect("serialize");
        assert_eq!(json, format!("{ARN:?}"));
        let back: ResourceArn = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, arn);

        let name = LoadBalancerName::parse("my-lb").expect("valid");
        let json = serde_json::to_string(&name).expect("serialize");
        assert_eq!(json, "\"my-lb\"");
        let back: LoadBalancerName = serde_json::from_str(&json).expect("deserialize");
        assert_eq!(back, name);

        for s in [ARN, "my-lb"] {
            let r = LoadBalancerRef::parse(s).expect("valid");
            let json = serde_json::to_string(&r).expect("serialize");
            let back: LoadBalancerRef = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, r);
        }
    }

    #[test]
    fn serde_rejects_an_invalid_arn() {
        let bad = arn_with("loadbalancer/net/my-nlb/50dc6c495c0c9188");
        let err = serde_json::from_str::<ResourceArn>(&format!("{bad:?}")).expect_err("bad arn");
        let msg = err.to_string();
        assert!(msg.contains("Network Load Balancer"), "{msg}");
        assert!(msg.contains("invalid load balancer ARN"), "{msg}");
        assert!(serde_json::from_str::<ResourceArn>("42").is_err());
        assert!(serde_json::from_str::<LoadBalancerName>("\"internal-x\"").is_err());
        assert!(serde_json::from_str::<LoadBalancerRef>("\"bad_name\"").is_err());
    }
}
