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

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::HttpRequest;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;

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
    served: BTreeMap<String, usize>,
    /// Answer `ListResourcesForWebACL` (which moto lacks) from moto's state.
    list_resources: bool,
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

/// The WAF operation of a request, from `X-Amz-Target: AWSWAF_20190729.<Op>`.
fn operation_of(request: &HttpRequest) -> Option<String> {
    let target = request.headers().get("x-amz-target")?;
    target.rsplit('.').next().map(str::to_string)
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
    /// is forwarded to moto.
    pub fn before(&self, operation: &str, hook: impl FnOnce() + Send + 'static) {
        self.lock()
            .hooks
            .push((operation.to_string(), Box::new(hook)));
    }

    /// Answers `ListResourcesForWebACL`, which moto does not implement (it
    /// answers HTTP 500), as AWS would: from moto's real associations, by
    /// asking moto `GetWebACLForResource` for every load balancer it has.
    /// Without this, maint's fallback (reading each member) is what runs.
    pub fn answer_list_resources_for_web_acl(&self) {
        self.lock().list_resources = true;
    }

    /// Drops every queued fault and hook.
    pub fn clear(&self) {
        let mut state = self.lock();
        state.faults.clear();
        state.hooks.clear();
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

    fn take(&self, operation: &str) -> (Option<(u16, String)>, Option<Hook>) {
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
        if fault.is_some() {
            *state.served.entry(operation.to_string()).or_default() += 1;
        }
        (fault, hook)
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

/// `{"ResourceArns": [...]}`: the load balancers moto has associated with
/// the web ACL the request names.
async fn list_resources_for_web_acl(body: Vec<u8>) -> Response<SdkBody> {
    let asked: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let acl = asked["WebACLArn"].as_str().unwrap_or_default().to_string();
    let elb = crate::seed::elb_client();
    let waf = crate::seed::waf_client();
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
    let body = serde_json::json!({ "ResourceArns": arns }).to_string();
    let mut response = Response::new(
        StatusCode::try_from(200).unwrap_or_else(|_| panic!("status 200")),
        SdkBody::from(body),
    );
    response
        .headers_mut()
        .insert("content-type", "application/x-amz-json-1.1");
    response
}

impl HttpConnector for FaultyConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let operation = operation_of(&request).unwrap_or_default();
        if operation == "ListResourcesForWebACL" && self.faults.lock().list_resources {
            let body = request.body().bytes().unwrap_or_default().to_vec();
            return HttpConnectorFuture::new(
                async move { Ok(list_resources_for_web_acl(body).await) },
            );
        }
        let (fault, hook) = self.faults.take(&operation);
        if let Some((status, body)) = fault {
            let mut response = Response::new(
                StatusCode::try_from(status).unwrap_or_else(|_| panic!("bad status {status}")),
                SdkBody::from(body),
            );
            response
                .headers_mut()
                .insert("content-type", "application/x-amz-json-1.1");
            response
                .headers_mut()
                .insert("x-amzn-requestid", "00000000-0000-4000-8000-00000000fa17");
            return HttpConnectorFuture::ready(Ok(response));
        }
        if let Some(hook) = hook {
            hook();
        }
        match &self.inner {
            Some(inner) => inner.call(request),
            None => panic!("Faults::default() has no HTTP client; use Faults::new()"),
        }
    }
}
