//! [`WafFixture`]: the conformance suite's [`Fixture`] over maint's WAF
//! backend on the shared moto server.
//!
//! This is the only file of the harness that uses `maint_core::backend::waf`.

use std::time::Duration;

use async_trait::async_trait;
use maint_core::backend::conformance::Fixture;
use maint_core::backend::waf::{WafBackend, WafSettings};
use maint_core::{LoadBalancerName, MaintenanceBackend, ResourceArn};

use crate::faults::Faults;
use crate::moto::{server, REGION};
use crate::oplog::OperationLog;
use crate::seed;

/// Retry settings for tests: moto answers at once and never throttles, so
/// short delays keep the suite fast while still exercising the retry paths.
pub fn fast_settings() -> WafSettings {
    WafSettings {
        associate_deadline: Duration::from_secs(5),
        delete_deadline: Duration::from_secs(5),
        max_attempts: 10,
        base_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
        // moto has no call-rate quotas.
        rates: None,
        throttle_deadline: Duration::from_secs(30),
        ..WafSettings::default()
    }
}

/// A [`WafBackend`] on the shared moto server whose SDK clients record every
/// operation into `log`.
pub fn waf_backend(log: &OperationLog, settings: WafSettings) -> WafBackend {
    // No faults queued: every call reaches moto.
    faulty_backend(&Faults::new(), log, settings)
}

/// A [`WafBackend`] on the shared moto server whose WAF calls go through
/// `faults` (AWS failures injected on the wire) and are recorded into `log`.
pub fn faulty_backend(faults: &Faults, log: &OperationLog, settings: WafSettings) -> WafBackend {
    let config = server().sdk_config();
    let waf = aws_sdk_wafv2::Client::from_conf(
        aws_sdk_wafv2::config::Builder::from(&config)
            .http_client(faults.http_client())
            .interceptor(log.clone())
            .build(),
    );
    let elb = aws_sdk_elasticloadbalancingv2::Client::from_conf(
        aws_sdk_elasticloadbalancingv2::config::Builder::from(&config)
            .interceptor(log.clone())
            .build(),
    );
    WafBackend::from_clients(waf, elb, REGION, settings)
}

/// The backend of scope CLOUDFRONT (distributions; web ACLs in us-east-1)
/// on moto, made as a fleet makes it (beside a regional backend built from
/// an AWS configuration), every call through `faults` ([`fast_settings`]).
pub async fn cloudfront_backend(
    faults: &Faults,
) -> std::sync::Arc<dyn maint_core::backend::MaintenanceBackend> {
    let config = server()
        .sdk_config()
        .to_builder()
        .http_client(faults.http_client())
        .build();
    let regional = WafBackend::with_settings(&config, fast_settings())
        .unwrap_or_else(|e| panic!("a backend on moto: {e}"));
    maint_core::backend::MaintenanceBackend::cloudfront(&regional)
        .await
        .unwrap_or_else(|e| panic!("the CloudFront backend: {e}"))
}

/// The conformance [`Fixture`] for the WAF backend on moto. Load balancers
/// and foreign web ACLs are seeded with separate, un-instrumented clients, so
/// [`WafFixture::log`] holds only the backend's own calls.
pub struct WafFixture {
    backend: WafBackend,
    log: OperationLog,
    faults: Faults,
}

impl WafFixture {
    /// A fixture with [`fast_settings`]. Starts the shared moto server if
    /// needed. Make one per test: its clients belong to the test's runtime.
    pub fn new() -> Self {
        Self::with_settings(fast_settings())
    }

    /// A fixture with the given retry settings.
    pub fn with_settings(settings: WafSettings) -> Self {
        let (log, faults) = (OperationLog::new(), Faults::new());
        Self {
            backend: faulty_backend(&faults, &log, settings),
            log,
            faults,
        }
    }

    /// The fixture for the whole conformance suite: [`fast_settings`] with
    /// no `cleanup` grace period, so its cleanup scenario can clean what it
    /// just left over, and `ListResourcesForWebACL` answered as AWS does
    /// (the other fixtures run maint's fallback for it). Only for a test
    /// binary of its own (cleanup is region-wide).
    pub fn for_conformance() -> Self {
        let fixture = Self::with_settings(WafSettings {
            cleanup_grace: Duration::ZERO,
            ..fast_settings()
        });
        fixture.faults.answer_list_resources_for_web_acl();
        fixture
    }

    /// The backend, as its concrete type.
    pub fn waf(&self) -> &WafBackend {
        &self.backend
    }

    /// Every AWS operation the backend called, as IAM actions.
    pub fn log(&self) -> &OperationLog {
        &self.log
    }

    /// Creates a fresh ALB and resolves it through the backend.
    pub async fn new_alb(&self, hint: &str) -> ResourceArn {
        let name = self.new_load_balancer(hint).await;
        let mut resolved = self
            .backend
            .resolve(&[maint_core::LoadBalancerRef::Name(name.clone())])
            .await
            .unwrap_or_else(|e| panic!("resolve {name}: {e}"));
        resolved
            .remove(0)
            .unwrap_or_else(|e| panic!("resolve {name}: {e}"))
    }
}

impl Default for WafFixture {
    fn default() -> Self {
        Self::new()
    }
}

async fn new_lb(hint: &str, kind: &str) -> LoadBalancerName {
    let name = seed::unique_lb_name(hint);
    seed::create_load_balancer(&name, kind).await;
    LoadBalancerName::parse(&name).unwrap_or_else(|e| panic!("generated name {name:?}: {e}"))
}

#[async_trait]
impl Fixture for WafFixture {
    fn backend(&self) -> &dyn MaintenanceBackend {
        &self.backend
    }

    async fn new_load_balancer(&self, hint: &str) -> LoadBalancerName {
        new_lb(hint, "application").await
    }

    async fn new_network_load_balancer(&self, hint: &str) -> LoadBalancerName {
        new_lb(hint, "network").await
    }

    async fn new_api_stage(&self, hint: &str) -> ResourceArn {
        seed::api_stage(hint).await
    }

    async fn associate_foreign_web_acl(&self, lb: &ResourceArn) -> String {
        seed::foreign_web_acl(lb.as_str()).await
    }

    async fn disassociate(&self, lb: &ResourceArn) {
        seed::waf_client()
            .disassociate_web_acl()
            .resource_arn(lb.as_str())
            .send()
            .await
            .unwrap_or_else(|e| panic!("moto DisassociateWebACL: {e}"));
    }

    async fn interrupt_next_enter(&self) {
        // AccessDeniedException is not retried: the enter stops there, its
        // web ACL and IP sets created and not associated.
        self.faults
            .inject("AssociateWebACL", "AccessDeniedException", 1);
    }

    async fn remove_injected_rule(&self, web_acl_arn: &str) {
        seed::remove_maint_rules(web_acl_arn).await;
    }
}
