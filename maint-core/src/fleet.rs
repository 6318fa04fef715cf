//! Acting on many targets at once, as the CLI and the Python package do:
//! turning what the user named (service names from the config file, load
//! balancer names, ARNs) into load balancers in their regions, then running
//! one operation on each, concurrently within a bound, yielding each
//! target's outcome as it completes. One target's failure never hides the
//! others'.
//!
//! Built on the [`MaintenanceBackend`] trait, outside it: one backend per
//! region, made on first use by a [`BackendFactory`].

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use futures::stream::{self, Stream, StreamExt};
use tokio::sync::Mutex;

use crate::allowlist::Allowlist;
use crate::backend::{Leftover, MaintenanceBackend, MaintenanceSpec, Mode, Reason};
use crate::config::Service;
use crate::config::{did_you_mean, Config};
use crate::error::InvalidInput;
use crate::response::{
    ContentType, MaintenanceResponse, ResponseBody, ResponseHeader, ResponseStatus,
};
use crate::target::{LoadBalancerArn, LoadBalancerRef};
use crate::{Error, Result};
use chrono::{DateTime, Utc};

/// How many targets are acted on at once by default. Each target's calls
/// are sequential (about 4 per operation), so this bounds the calls in
/// flight; beyond it WAF's own write-rate limits decide, and throttled calls
/// back off with jitter. 32 keeps 50 targets within two rounds of calls.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// A future that makes the backend for a region.
pub type BackendFuture = Pin<Box<dyn Future<Output = Result<Arc<dyn MaintenanceBackend>>> + Send>>;

/// Makes the backend for a region (`None`: the region the AWS configuration
/// chain gives).
pub type BackendFactory = Box<dyn Fn(Option<String>) -> BackendFuture + Send + Sync>;

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

/// A load balancer found in AWS, with the backend of its region.
pub type Found = (LoadBalancerArn, Arc<dyn MaintenanceBackend>);

/// A target found (or not) in AWS.
pub struct Resolved {
    /// The target.
    pub target: TargetRef,
    /// Its ARN and the backend of its region, or why it could not be found.
    pub result: Result<Found>,
}

/// The targets of one command and the backends that reach them.
pub struct Fleet {
    config: Option<Config>,
    region: Option<String>,
    factory: BackendFactory,
    backends: Mutex<HashMap<Option<String>, Arc<dyn MaintenanceBackend>>>,
    concurrency: usize,
}

impl Fleet {
    /// A fleet. `region` is the explicit region (a `--region` flag), which
    /// wins over the config file's default; a service's own region and an
    /// ARN's region win over both.
    pub fn new(config: Option<Config>, region: Option<String>, factory: BackendFactory) -> Self {
        Self {
            config,
            region,
            factory,
            backends: Mutex::new(HashMap::new()),
            concurrency: DEFAULT_CONCURRENCY,
        }
    }

    /// Sets how many targets are acted on at once (at least 1).
    pub fn with_concurrency(mut self, concurrency: usize) -> Self {
        self.concurrency = concurrency.max(1);
        self
    }

    /// The config file, when one was loaded.
    pub fn config(&self) -> Option<&Config> {
        self.config.as_ref()
    }

    /// The region for load balancer names that come with none: the
    /// explicit region, else the config file's (`None`: the AWS chain's).
    pub fn default_region(&self) -> Option<String> {
        self.region
            .clone()
            .or_else(|| self.config.as_ref().and_then(|c| c.region.clone()))
    }

    /// The backend for a region, made on first use.
    pub async fn backend(&self, region: Option<String>) -> Result<Arc<dyn MaintenanceBackend>> {
        let mut backends = self.backends.lock().await;
        if let Some(b) = backends.get(&region) {
            return Ok(b.clone());
        }
        let backend = (self.factory)(region.clone()).await?;
        backends.insert(region, backend.clone());
        Ok(backend)
    }

    /// Expands what the user named into load balancers, checking every
    /// name before anything talks to AWS. A service name expands to its load
    /// balancers. No targets means every service of the config file.
    pub fn expand(&self, targets: &[String]) -> Result<Vec<TargetRef>> {
        let services = self.config.as_ref().map(|c| &c.services);
        let given: Vec<String> = if targets.is_empty() {
            match services {
                Some(s) if !s.is_empty() => s.keys().cloned().collect(),
                _ => {
                    return Err(Error::invalid(
                        "targets",
                        "none given, and no services in a config file to default to",
                    ))
                }
            }
        } else {
            targets.to_vec()
        };
        let mut refs = Vec::new();
        let mut problems = Vec::new();
        for t in &given {
            if let Some(service) = services.and_then(|s| s.get(t)) {
                let region = service.region.clone().or_else(|| self.default_region());
                for lb in &service.load_balancers {
                    refs.push(TargetRef {
                        given: t.clone(),
                        service: Some(service.name.clone()),
                        region: match lb {
                            LoadBalancerRef::Arn(arn) => Some(arn.region().to_string()),
                            LoadBalancerRef::Name(_) => region.clone(),
                        },
                        load_balancer: lb.clone(),
                    });
                }
                continue;
            }
            match LoadBalancerRef::parse(t) {
                Ok(lb) => refs.push(TargetRef {
                    given: t.clone(),
                    service: None,
                    region: match &lb {
                        LoadBalancerRef::Arn(arn) => Some(arn.region().to_string()),
                        LoadBalancerRef::Name(_) => self.default_region(),
                    },
                    load_balancer: lb,
                }),
                Err(e) => {
                    let hint = services
                        .and_then(|s| did_you_mean(t, s.keys().map(String::as_str)))
                        .map(|s| format!(" (did you mean the service {s:?}?)"))
                        .unwrap_or_default();
                    problems.push(format!("{t:?}: {}{hint}", e.reason));
                }
            }
        }
        if !problems.is_empty() {
            let services_note = match services {
                Some(s) if !s.is_empty() => "",
                _ => " (no config file services to match)",
            };
            return Err(Error::invalid(
                format!("target{}", if problems.len() > 1 { "s" } else { "" }),
                format!(
                    "not a service, load balancer name or ARN{services_note}: {}",
                    problems.join("; ")
                ),
            ));
        }
        // The same load balancer named twice (say, by a service and by
        // name) is acted on once.
        let mut seen = std::collections::HashSet::new();
        refs.retain(|r| seen.insert((r.region.clone(), r.load_balancer.to_string())));
        Ok(refs)
    }

    /// Finds each target in AWS: one batched look-up per region.
    pub async fn resolve(&self, targets: Vec<TargetRef>) -> Vec<Resolved> {
        let mut by_region: HashMap<Option<String>, Vec<usize>> = HashMap::new();
        for (i, t) in targets.iter().enumerate() {
            by_region.entry(t.region.clone()).or_default().push(i);
        }
        let mut results: Vec<Option<Result<Found>>> = targets.iter().map(|_| None).collect();
        for (region, indexes) in by_region {
            let backend = match self.backend(region.clone()).await {
                Ok(b) => b,
                Err(e) => {
                    for i in indexes {
                        results[i] = Some(Err(replicate(&e)));
                    }
                    continue;
                }
            };
            let refs: Vec<LoadBalancerRef> = indexes
                .iter()
                .map(|&i| targets[i].load_balancer.clone())
                .collect();
            match backend.resolve(&refs).await {
                Ok(found) => {
                    for (&i, r) in indexes.iter().zip(found) {
                        results[i] = Some(r.map(|arn| (arn, backend.clone())));
                    }
                }
                Err(e) => {
                    for i in indexes {
                        results[i] = Some(Err(replicate(&e)));
                    }
                }
            }
        }
        targets
            .into_iter()
            .zip(results)
            .map(|(target, result)| Resolved {
                target,
                result: result.unwrap_or_else(|| Err(Error::unexpected("not resolved"))),
            })
            .collect()
    }

    /// Runs `cleanup` in the default region and in every region a config
    /// service names, one result per region.
    pub async fn cleanup(&self, mode: Mode) -> Vec<(Option<String>, Result<Vec<Leftover>>)> {
        let mut regions = vec![self.default_region()];
        if let Some(config) = &self.config {
            for service in config.services.values() {
                if service.region.is_some() && !regions.contains(&service.region) {
                    regions.push(service.region.clone());
                }
            }
        }
        let mut results = Vec::with_capacity(regions.len());
        for region in regions {
            let result = match self.backend(region.clone()).await {
                Ok(backend) => backend.cleanup(mode).await,
                Err(e) => Err(e),
            };
            results.push((region, result));
        }
        results
    }

    /// Runs `op` on every resolved target, at most `concurrency` at once,
    /// yielding `(index, target, result)` as each completes (index: the
    /// target's position in `targets`). Targets that did not resolve yield
    /// their resolution error.
    pub fn run<'a, T, F, Fut>(
        &'a self,
        targets: Vec<Resolved>,
        op: F,
    ) -> impl Stream<Item = (usize, TargetRef, Result<T>)> + 'a
    where
        T: 'a,
        F: Fn(Arc<dyn MaintenanceBackend>, LoadBalancerArn, TargetRef) -> Fut + 'a,
        Fut: Future<Output = Result<T>> + 'a,
    {
        let op = Arc::new(op);
        stream::iter(targets.into_iter().enumerate())
            .map(move |(i, resolved)| {
                let op = op.clone();
                async move {
                    let target = resolved.target;
                    match resolved.result {
                        Ok((arn, backend)) => {
                            let result = op(backend, arn, target.clone()).await;
                            (i, target, result)
                        }
                        Err(e) => (i, target, Err(e)),
                    }
                }
            })
            .buffer_unordered(self.concurrency)
    }
}

/// What a caller asks of `enter`, before a config service's settings are
/// applied: the command line's flags, or the Python call's arguments.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnterRequest {
    /// Entries to let through, besides the service's allowlists.
    pub allowlist: Allowlist,
    /// Why.
    pub reason: Option<Reason>,
    /// The planned end.
    pub until: Option<DateTime<Utc>>,
    /// A page, instead of the service's or the built-in one.
    pub page: Option<ResponseBody>,
    /// The content type of the built-in page, instead of the service's.
    pub content_type: Option<ContentType>,
    /// A status code, instead of the service's or 503.
    pub status: Option<ResponseStatus>,
    /// Extra headers; on the same name they win over the service's.
    pub headers: Vec<ResponseHeader>,
}

impl EnterRequest {
    /// The maintenance spec for a target of `service` (`None`: a load
    /// balancer named directly): the request's allowlist plus the service's;
    /// the request's page, content type and status, else the service's; the
    /// service's headers with the request's added. The allowlist starts
    /// enabled. Fails when the combination breaks a WAF rule (too many
    /// headers, too many entries).
    pub fn spec_for(&self, service: Option<&Service>) -> Result<MaintenanceSpec, Error> {
        let allowlist = match service {
            Some(s) => self.allowlist.union(&s.allowlist)?,
            None => self.allowlist.clone(),
        };
        let page = self
            .page
            .clone()
            .or_else(|| service.and_then(|s| s.page.clone()));
        let content_type = self
            .content_type
            .or(page.as_ref().map(ResponseBody::content_type))
            .or(service.and_then(|s| s.content_type))
            .unwrap_or(ContentType::Html);
        let mut headers: Vec<ResponseHeader> = service
            .map(|s| s.headers.clone())
            .unwrap_or_default()
            .into_iter()
            .filter(|h| !self.headers.iter().any(|mine| mine.is_named(h.name())))
            .collect();
        headers.extend(self.headers.iter().cloned());
        let status = self.status.or(service.and_then(|s| s.status));
        let response = MaintenanceResponse::build(self.until, status, page, content_type, headers)
            .map_err(|e: InvalidInput| Error::InvalidInput(e))?;
        Ok(MaintenanceSpec {
            allowlist,
            allowlist_enabled: true,
            reason: self.reason.clone(),
            until: self.until,
            response,
        })
    }
}

/// The same error for each of several targets (errors are not `Clone`):
/// bad input stays bad input, anything else keeps its message.
fn replicate(error: &Error) -> Error {
    match error {
        Error::InvalidInput(e) => Error::InvalidInput(e.clone()),
        Error::Aws(e) => Error::Aws(crate::error::AwsError {
            operation: e.operation.clone(),
            code: e.code.clone(),
            message: e.message.clone(),
            request_id: e.request_id.clone(),
            source: None,
        }),
        other => Error::unexpected(crate::report::chain(other)),
    }
}

/// AWS settings that follow the AWS CLI's conventions; unset fields come
/// from the standard chain (`AWS_REGION`, `AWS_PROFILE`,
/// `AWS_ENDPOINT_URL`, the config and credentials files).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AwsOptions {
    /// The region (`--region`).
    pub region: Option<String>,
    /// The named profile (`--profile`).
    pub profile: Option<String>,
    /// An endpoint URL for every AWS API (`--endpoint-url`), e.g. a local
    /// emulator.
    pub endpoint_url: Option<String>,
}

/// A factory of WAF backends, one per region, from AWS settings.
#[cfg(feature = "waf")]
pub fn waf_factory(options: AwsOptions) -> BackendFactory {
    Box::new(move |region: Option<String>| {
        let options = options.clone();
        Box::pin(async move {
            let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
            if let Some(region) = region.or(options.region) {
                loader = loader.region(aws_config::Region::new(region));
            }
            if let Some(profile) = options.profile {
                loader = loader.profile_name(profile);
            }
            if let Some(url) = options.endpoint_url {
                loader = loader.endpoint_url(url);
            }
            let config = loader.load().await;
            let backend: Arc<dyn MaintenanceBackend> =
                Arc::new(crate::backend::WafBackend::new(&config)?);
            Ok(backend)
        })
    })
}

/// A factory that hands out one shared backend for every region (for the
/// in-memory backend and tests).
pub fn shared_factory(backend: Arc<dyn MaintenanceBackend>) -> BackendFactory {
    Box::new(move |_| {
        let backend = backend.clone();
        Box::pin(async move { Ok(backend) })
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::backend::{LoadBalancerType, MemoryBackend, Mode};
    use std::path::Path;

    fn fleet(config: Option<Config>) -> (Fleet, Arc<MemoryBackend>) {
        let memory = Arc::new(MemoryBackend::new("us-east-1"));
        let f = Fleet::new(config, None, shared_factory(memory.clone())).with_concurrency(2);
        (f, memory)
    }

    #[tokio::test]
    async fn services_expand_and_bad_targets_are_refused_up_front() {
        let config = Config::parse(
            "region = \"us-east-1\"\n[services.shop]\nload_balancers = [\"shop-a\", \"shop-b\"]\n",
            Path::new("maint.toml"),
        )
        .unwrap();
        let (f, memory) = fleet(Some(config));
        memory.add_load_balancer("shop-a", LoadBalancerType::Application);
        memory.add_load_balancer("shop-b", LoadBalancerType::Application);
        let refs = f.expand(&["shop".into(), "shop-a".into()]).unwrap();
        assert_eq!(refs.len(), 2, "shop-a named twice is acted on once");
        assert_eq!(refs[0].label(), "shop/shop-a");
        assert_eq!(refs[0].region.as_deref(), Some("us-east-1"));

        let err = f.expand(&["shpo!".into(), "ok-name".into()]).unwrap_err();
        assert!(err.is_invalid_input());
        assert!(err.to_string().contains("\"shpo!\""), "{err}");

        let all = f.expand(&[]).unwrap();
        assert_eq!(all.len(), 2, "no targets: every service");
    }

    #[test]
    fn enter_requests_combine_with_the_service() {
        let config = Config::parse(
            "[allowlists]\noffice = [\"203.0.113.0/24\"]\n[services.shop]\nload_balancers = [\"a\"]\n\
             allowlists = [\"office\"]\nstatus = 429\nheaders = { \"X-Team\" = \"shop\", \"X-Keep\" = \"1\" }\n",
            Path::new("maint.toml"),
        )
        .unwrap();
        let shop = config.service("shop");
        let request = EnterRequest {
            allowlist: Allowlist::parse(["192.0.2.1"]).unwrap(),
            headers: vec!["X-Team: release".parse().unwrap()],
            ..EnterRequest::default()
        };
        let spec = request.spec_for(shop).unwrap();
        assert_eq!(spec.allowlist.len(), 2);
        assert_eq!(spec.response.status().code(), 429);
        assert_eq!(spec.response.headers().get("x-team"), Some("release"));
        assert_eq!(spec.response.headers().get("x-keep"), Some("1"));
        let plain = request.spec_for(None).unwrap();
        assert_eq!(plain.allowlist.len(), 1);
        assert_eq!(plain.response.status().code(), 503);
    }

    #[tokio::test]
    async fn one_failing_target_does_not_hide_the_others() {
        let (f, memory) = fleet(None);
        for name in ["a", "b", "c"] {
            memory.add_load_balancer(name, LoadBalancerType::Application);
        }
        let refs = f
            .expand(&["a".into(), "missing".into(), "b".into(), "c".into()])
            .unwrap();
        let resolved = f.resolve(refs).await;
        let results: Vec<_> = f
            .run(resolved, |backend, lb, _| async move {
                backend.exit(&lb, Mode::Apply).await
            })
            .collect()
            .await;
        assert_eq!(results.len(), 4);
        let failed: Vec<&str> = results
            .iter()
            .filter(|(_, _, r)| r.is_err())
            .map(|(_, t, _)| t.given.as_str())
            .collect();
        assert_eq!(failed, ["missing"]);
    }
}
