//! Fault injection between the SDK and moto: AWS failures that moto cannot
//! produce, sent over the wire exactly as AWS sends them.
//!
//! [`Faults::http_client`] wraps a plain HTTP client. A request whose WAF
//! operation (from the `X-Amz-Target` header of the awsJson protocol) has a
//! fault queued gets that fault's response instead of reaching moto, so the
//! SDK's own deserializer turns it into the same error it would build from
//! AWS. Every other request passes through to moto, so failures are tested
//! against moto's real state. A hook can also run just before a request is
//! forwarded, to let a concurrent writer in at exactly that moment.
//!
//! Updates reach moto with AWS's semantics ([`with_aws_update_semantics`]):
//! an `UpdateWebACL` or `UpdateIPSet` replaces the whole specification, so a
//! member it leaves out is cleared on AWS, while moto keeps it.
//!
//! Two calls moto lacks (it answers HTTP 500) can be answered here as AWS
//! would: `ListResourcesForWebACL` from moto's real associations
//! ([`Faults::answer_list_resources_for_web_acl`]) and `CheckCapacity` with
//! a WCU estimate or a fixed number ([`Faults::answer_check_capacity`],
//! [`Faults::answer_check_capacity_with`]). A fault queued for either wins
//! over the emulation.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use aws_sdk_wafv2::config::Region;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;

use crate::moto::server;

type Hook = Box<dyn FnOnce() + Send>;

struct Fault {
    operation: String,
    status: u16,
    body: String,
    remaining: usize,
}

#[derive(Default)]
struct State {
    faults: Vec<Fault>,
    hooks: Vec<(String, Hook)>,
    /// Run when a fault of the operation is answered.
    during: Vec<(String, Hook)>,
    served: BTreeMap<String, usize>,
    /// Answer `ListResourcesForWebACL` (which moto lacks) from moto's state.
    list_resources: bool,
    /// How to answer `CheckCapacity` (which moto lacks); `None`: forwarded.
    check_capacity: Option<CapacityAnswer>,
    /// Calls answered by an emulation, per operation.
    answered: BTreeMap<String, usize>,
    /// Every call that reached the connector, as IAM names its action
    /// (`wafv2:GetWebACL`, `cloudfront:UpdateDistribution`).
    actions: BTreeMap<String, usize>,
}

/// The answer to `CheckCapacity`.
#[derive(Clone, Copy, Debug)]
enum CapacityAnswer {
    /// [`estimate_wcu`] of the rules asked about.
    Estimate,
    /// Always this many WCU.
    Fixed(u64),
}

/// The most WCU one web ACL may use (AWS WAF quotas page).
pub const MAX_WEB_ACL_WCU: u64 = 5_000;

/// WCU of AWS's managed rule groups (their capacity as AWS's list of
/// managed rule groups publishes it); any other managed group counts 25.
const MANAGED_WCU: &[(&str, u64)] = &[
    ("AWSManagedRulesCommonRuleSet", 700),
    ("AWSManagedRulesAdminProtectionRuleSet", 100),
    ("AWSManagedRulesKnownBadInputsRuleSet", 200),
    ("AWSManagedRulesSQLiRuleSet", 200),
    ("AWSManagedRulesLinuxRuleSet", 200),
    ("AWSManagedRulesUnixRuleSet", 100),
    ("AWSManagedRulesAmazonIpReputationList", 25),
    ("AWSManagedRulesAnonymousIpList", 50),
    ("AWSManagedRulesBotControlRuleSet", 50),
];

/// An estimate of one statement's WCU (the JSON of a WAFv2 `Statement`),
/// after AWS's pricing rules and the same as `tests/moto/latency_proxy.py`'s:
/// an IP set match 1 (5 when the address comes from a header at position
/// `ANY`), a size constraint, geo or label match 1, a byte match 2, a regex
/// 3, a regex pattern set 25, SQLi 20, XSS 40, a rate-based rule 2 plus its
/// scope-down, and/or/not the sum of what they hold, a managed rule group
/// its published capacity, a rule group reference 100. Text
/// transformations are not priced.
pub fn statement_wcu(statement: &serde_json::Value) -> u64 {
    let Some((kind, body)) = statement.as_object().and_then(|o| o.iter().next()) else {
        return 0;
    };
    match kind.as_str() {
        "IPSetReferenceStatement" if body["IPSetForwardedIPConfig"]["Position"] == "ANY" => 5,
        "AndStatement" | "OrStatement" => body["Statements"]
            .as_array()
            .map_or(0, |all| all.iter().map(statement_wcu).sum()),
        "NotStatement" => statement_wcu(&body["Statement"]),
        "RateBasedStatement" => 2 + statement_wcu(&body["ScopeDownStatement"]),
        "ManagedRuleGroupStatement" => MANAGED_WCU
            .iter()
            .find(|(name, _)| body["Name"] == *name)
            .map_or(25, |(_, wcu)| *wcu),
        "RuleGroupReferenceStatement" => 100,
        "ByteMatchStatement" => 2,
        "RegexMatchStatement" => 3,
        "RegexPatternSetReferenceStatement" => 25,
        "SqliMatchStatement" => 20,
        "XssMatchStatement" => 40,
        _ => 1,
    }
}

/// The estimated WCU of a rule list (the JSON array of WAFv2 `Rule`s): the
/// sum of its rules' statements.
pub fn estimate_wcu(rules: &serde_json::Value) -> u64 {
    rules.as_array().map_or(0, |rules| {
        rules.iter().map(|r| statement_wcu(&r["Statement"])).sum()
    })
}

/// What an update clears on AWS when it leaves the member out (AWS WAF API
/// reference, UpdateWebACL and UpdateIPSet: the call "completely replaces
/// the mutable specifications"), as moto holds "none" for it; moto keeps a
/// member an update omits. The same as `tests/moto/latency_proxy.py`'s
/// `CLEARED_WHEN_OMITTED`.
fn cleared_when_omitted(operation: &str) -> serde_json::Value {
    match operation {
        "UpdateWebACL" => {
            serde_json::json!({"Description": "", "CustomResponseBodies": {}, "TokenDomains": []})
        }
        "UpdateIPSet" => serde_json::json!({"Description": ""}),
        _ => serde_json::json!({}),
    }
}

/// The body of a request of `operation` as moto must get it to end where
/// AWS would: for an update, every member AWS would clear because the
/// request leaves it out, sent as moto's "none". `None`: unchanged.
pub fn with_aws_update_semantics(operation: &str, body: &[u8]) -> Option<Vec<u8>> {
    let cleared = cleared_when_omitted(operation);
    let cleared = cleared.as_object().filter(|c| !c.is_empty())?;
    let mut params: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(body).ok()?;
    let mut changed = false;
    for (member, none) in cleared {
        if !params.contains_key(member) {
            params.insert(member.clone(), none.clone());
            changed = true;
        }
    }
    changed.then(|| serde_json::Value::Object(params).to_string().into_bytes())
}

/// Faults to inject into WAF calls; clones share the same queue.
#[derive(Clone, Default)]
pub struct Faults {
    state: Arc<Mutex<State>>,
    inner: Option<SharedHttpClient>,
}

impl fmt::Debug for Faults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Faults")
    }
}

/// The operation of a request: AWS WAF's (and any awsJson service's) from
/// `X-Amz-Target: AWSWAF_20190729.<Op>`; CloudFront's (restXml) from its
/// method and path (`PUT /2020-05-31/distribution/<id>/config` is
/// `UpdateDistribution`).
fn operation_of(request: &HttpRequest) -> Option<String> {
    if let Some(target) = request.headers().get("x-amz-target") {
        return target.rsplit('.').next().map(str::to_string);
    }
    // The URI is absolute (`http://host:port/2020-05-31/...`): its path.
    let uri = request.uri();
    let uri = uri.split_once("://").map_or(uri, |(_, rest)| rest);
    let path = uri
        .find('/')
        .map_or("", |i| &uri[i..])
        .split('?')
        .next()
        .unwrap_or_default();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let operation = match (request.method(), &parts[..]) {
        ("PUT", [_, "distribution", _, "config"]) => "UpdateDistribution",
        ("GET", [_, "distribution", _, "config"]) => "GetDistributionConfig",
        ("GET", [_, "distribution", _]) => "GetDistribution",
        ("GET", [_, "distribution"]) => "ListDistributions",
        _ => return None,
    };
    Some(operation.to_string())
}

impl Faults {
    /// An empty fault queue over a plain HTTP client (moto speaks HTTP).
    pub fn new() -> Self {
        Self {
            state: Arc::default(),
            inner: Some(aws_smithy_http_client::Builder::new().build_http()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next `times` calls of `operation` fail with AWS error `code`
    /// (HTTP 400, awsJson error body, a request id), as AWS sends it.
    pub fn inject(&self, operation: &str, code: &str, times: usize) {
        let body =
            format!(r#"{{"__type":"{code}","Message":"injected by the test harness: {code}"}}"#);
        self.respond(operation, 400, &body, times);
    }

    /// The next `times` calls of CloudFront `operation` fail with
    /// CloudFront error `code` and HTTP `status` (a restXml error body), as
    /// CloudFront sends it: `PreconditionFailed` (412) when the `IfMatch`
    /// ETag is no longer the distribution's.
    pub fn inject_cloudfront(&self, operation: &str, code: &str, status: u16, times: usize) {
        let body = format!(
            "<?xml version=\"1.0\"?><ErrorResponse \
             xmlns=\"http://cloudfront.amazonaws.com/doc/2020-05-31/\"><Error><Type>Sender</Type>\
             <Code>{code}</Code><Message>injected by the test harness: {code}</Message></Error>\
             <RequestId>00000000-0000-4000-8000-00000000fa17</RequestId></ErrorResponse>"
        );
        self.respond(operation, status, &body, times);
    }

    /// Every call of `operation` fails with `code` until [`Faults::clear`].
    pub fn always(&self, operation: &str, code: &str) {
        self.inject(operation, code, usize::MAX);
    }

    /// The next `times` calls of `operation` get this status and JSON body.
    pub fn respond(&self, operation: &str, status: u16, body: &str, times: usize) {
        self.lock().faults.push(Fault {
            operation: operation.to_string(),
            status,
            body: body.to_string(),
            remaining: times,
        });
    }

    /// Runs `hook` (synchronously) just before the next call of `operation`
    /// is forwarded to moto (or answered by an emulation, see
    /// [`Faults::answer_list_resources_for_web_acl`]).
    pub fn before(&self, operation: &str, hook: impl FnOnce() + Send + 'static) {
        self.lock()
            .hooks
            .push((operation.to_string(), Box::new(hook)));
    }

    /// Runs `hook` (synchronously) when the next injected fault of
    /// `operation` is answered, before the caller sees it: another writer
    /// acting while AWS throttles (or otherwise refuses) the caller's call,
    /// so during the wait that follows.
    pub fn during_fault(&self, operation: &str, hook: impl FnOnce() + Send + 'static) {
        self.lock()
            .during
            .push((operation.to_string(), Box::new(hook)));
    }

    /// Answers `ListResourcesForWebACL`, which moto does not implement (it
    /// answers HTTP 500), as AWS would: from moto's real associations, by
    /// asking moto `GetWebACLForResource` for every load balancer it has.
    /// Without this, maint's fallback (reading each member) is what runs.
    pub fn answer_list_resources_for_web_acl(&self) {
        self.lock().list_resources = true;
    }

    /// Answers `CheckCapacity`, which moto does not implement, with
    /// [`estimate_wcu`] of the rules in the request (`{"Capacity": N}`).
    pub fn answer_check_capacity(&self) {
        self.lock().check_capacity = Some(CapacityAnswer::Estimate);
    }

    /// Answers every `CheckCapacity` with `wcu`, whatever the rules (e.g.
    /// `MAX_WEB_ACL_WCU + 1` for a web ACL that would not fit).
    pub fn answer_check_capacity_with(&self, wcu: u64) {
        self.lock().check_capacity = Some(CapacityAnswer::Fixed(wcu));
    }

    /// How many calls of `operation` an emulation answered
    /// (`ListResourcesForWebACL`, `CheckCapacity`).
    pub fn answered(&self, operation: &str) -> usize {
        self.lock().answered.get(operation).copied().unwrap_or(0)
    }

    /// Drops every queued fault and hook.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.faults.clear();
        state.hooks.clear();
        state.during.clear();
    }

    /// Every AWS WAF and CloudFront call made through this client, as IAM
    /// names its action, with how many times.
    pub fn actions(&self) -> BTreeMap<String, usize> {
        self.lock().actions.clone()
    }

    /// How many injected responses `operation` got.
    pub fn served(&self, operation: &str) -> usize {
        self.lock().served.get(operation).copied().unwrap_or(0)
    }

    /// An HTTP client for an SDK client config: injects the queued faults,
    /// forwards everything else.
    pub fn http_client(&self) -> SharedHttpClient {
        SharedHttpClient::new(self.clone())
    }

    /// The fault to answer `operation` with (and the hook to run while it
    /// is answered), and the hook to run before it is forwarded.
    #[allow(clippy::type_complexity)]
    fn take(&self, operation: &str) -> (Option<(u16, String, Option<Hook>)>, Option<Hook>) {
        let mut state = self.lock();
        let hook = state
            .hooks
            .iter()
            .position(|(op, _)| op == operation)
            .map(|i| state.hooks.remove(i).1);
        let fault = state
            .faults
            .iter_mut()
            .find(|f| f.operation == operation && f.remaining > 0)
            .map(|f| {
                f.remaining -= 1;
                (f.status, f.body.clone())
            });
        let Some((status, body)) = fault else {
            return (None, hook);
        };
        *state.served.entry(operation.to_string()).or_default() += 1;
        let during = state
            .during
            .iter()
            .position(|(op, _)| op == operation)
            .map(|i| state.during.remove(i).1);
        (Some((status, body, during)), hook)
    }
}

impl HttpClient for Faults {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        let inner = self
            .inner
            .as_ref()
            .map(|c| c.http_connector(settings, components));
        SharedHttpConnector::new(FaultyConnector {
            faults: self.clone(),
            inner,
        })
    }
}

struct FaultyConnector {
    faults: Faults,
    inner: Option<SharedHttpConnector>,
}

impl fmt::Debug for FaultyConnector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FaultyConnector")
    }
}

/// An awsJson response with `status` and `body` (restXml when the body is
/// XML: CloudFront's errors).
fn json_response(status: u16, body: String) -> Response<SdkBody> {
    let content_type = if body.starts_with('<') {
        "text/xml"
    } else {
        "application/x-amz-json-1.1"
    };
    let mut response = Response::new(
        StatusCode::try_from(status).unwrap_or_else(|_| panic!("bad status {status}")),
        SdkBody::from(body),
    );
    response.headers_mut().insert("content-type", content_type);
    response
        .headers_mut()
        .insert("x-amzn-requestid", "00000000-0000-4000-8000-00000000fa17");
    response
}

/// `{"Capacity": N}` for a `CheckCapacity` request, as AWS answers it;
/// `WAFInvalidParameterException` without `Scope` or `Rules`.
fn check_capacity(answer: CapacityAnswer, body: &[u8]) -> Response<SdkBody> {
    let asked: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    if !asked["Rules"].is_array()
        || !matches!(asked["Scope"].as_str(), Some("REGIONAL" | "CLOUDFRONT"))
    {
        let body = r#"{"__type":"WAFInvalidParameterException","Message":"CheckCapacity needs Scope and Rules"}"#;
        return json_response(400, body.to_string());
    }
    let capacity = match answer {
        CapacityAnswer::Estimate => estimate_wcu(&asked["Rules"]),
        CapacityAnswer::Fixed(wcu) => wcu,
    };
    json_response(200, serde_json::json!({ "Capacity": capacity }).to_string())
}

/// `{"ResourceArns": [...]}`: every load balancer in the web ACL's region
/// that moto has associated with the web ACL the request names (however
/// many share it, maint's or not). AWS lists one `ResourceType` per call
/// (load balancers when none is given); this emulation knows only load
/// balancers, and answers no resources of another type.
async fn list_resources_for_web_acl(body: Vec<u8>) -> Response<SdkBody> {
    let asked: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let kind = asked["ResourceType"]
        .as_str()
        .unwrap_or("APPLICATION_LOAD_BALANCER");
    if kind != "APPLICATION_LOAD_BALANCER" {
        return json_response(200, serde_json::json!({ "ResourceArns": [] }).to_string());
    }
    let acl = asked["WebACLArn"].as_str().unwrap_or_default().to_string();
    // arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>
    let region = acl
        .split(':')
        .nth(3)
        .unwrap_or(crate::moto::REGION)
        .to_string();
    let config = server().sdk_config();
    let elb = aws_sdk_elasticloadbalancingv2::Client::from_conf(
        aws_sdk_elasticloadbalancingv2::config::Builder::from(&config)
            .region(Region::new(region.clone()))
            .build(),
    );
    let waf = aws_sdk_wafv2::Client::from_conf(
        aws_sdk_wafv2::config::Builder::from(&config)
            .region(Region::new(region))
            .build(),
    );
    let mut arns = Vec::new();
    let mut marker = None;
    loop {
        let page = elb
            .describe_load_balancers()
            .set_marker(marker)
            .send()
            .await
            .unwrap_or_else(|e| panic!("moto DescribeLoadBalancers: {e}"));
        for lb in page.load_balancers() {
            let arn = lb.load_balancer_arn().unwrap_or_default();
            let associated = waf
                .get_web_acl_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .ok()
                .and_then(|out| out.web_acl().map(|a| a.arn().to_string()));
            if associated.as_deref() == Some(acl.as_str()) {
                arns.push(arn.to_string());
            }
        }
        marker = page.next_marker().map(str::to_string);
        if marker.is_none() {
            break;
        }
    }
    json_response(200, serde_json::json!({ "ResourceArns": arns }).to_string())
}

/// The IAM action of a request (`wafv2:<Op>`, `cloudfront:<Op>`), when
/// its service is one [`operation_of`] names.
fn action_of(request: &HttpRequest, operation: &str) -> Option<String> {
    let service = match request.headers().get("x-amz-target") {
        Some(target) if target.starts_with("AWSWAF") => "wafv2",
        Some(_) => return None,
        None => "cloudfront",
    };
    (!operation.is_empty()).then(|| format!("{service}:{operation}"))
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = operation_of(&request).unwrap_or_default();
        if let Some(action) = action_of(&request, &operation) {
            *self.faults.lock().actions.entry(action).or_default() += 1;
        }
        let (fault, hook) = self.faults.take(&operation);
        if let Some((status, body, during)) = fault {
            if let Some(during) = during {
                during();
            }
            return HttpConnectorFuture::ready(Ok(json_response(status, body)));
        }
        let (list_resources, capacity) = {
            let state = self.faults.lock();
            (state.list_resources, state.check_capacity)
        };
        let emulated = match operation.as_str() {
            "ListResourcesForWebACL" => list_resources,
            "CheckCapacity" => capacity.is_some(),
            _ => false,
        };
        if emulated {
            *self
                .faults
                .lock()
                .answered
                .entry(operation.clone())
                .or_default() += 1;
            if let Some(hook) = hook {
                hook();
            }
            let body = request.body().bytes().unwrap_or_default().to_vec();
            return match capacity.filter(|_| operation == "CheckCapacity") {
                Some(answer) => HttpConnectorFuture::ready(Ok(check_capacity(answer, &body))),
                None => {
                    HttpConnectorFuture::new(
                        async move { Ok(list_resources_for_web_acl(body).await) },
                    )
                }
            };
        }
        if let Some(hook) = hook {
            hook();
        }
        let mut request = request;
        let rewritten = request
            .body()
            .bytes()
            .and_then(|body| with_aws_update_semantics(&operation, body));
        if let Some(body) = rewritten {
            request
                .headers_mut()
                .insert("content-length", body.len().to_string());
            *request.body_mut() = SdkBody::from(body);
        }
        match &self.inner {
            Some(inner) => inner.call(request),
            None => panic!("Faults::default() has no HTTP client; use Faults::new()"),
        }
    }
}
