//! Records which AWS operations a client calls, as IAM actions.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};

use aws_sdk_wafv2::config::{ConfigBag, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeSerializationInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;

/// An SDK interceptor that records every operation a client executes as
/// `"<iam prefix>:<Operation>"` (e.g. `wafv2:CreateWebACL`,
/// `elasticloadbalancing:DescribeLoadBalancers`), once per operation (not per
/// retry attempt: it reads `read_before_serialization`), in call order. Clones share one log.
///
/// Attach it with `aws_sdk_wafv2::config::Builder::from(&sdk_config)
/// .interceptor(log.clone())` (likewise for ELBv2).
#[derive(Clone, Debug, Default)]
pub struct OperationLog {
    entries: Arc<Mutex<Vec<String>>>,
}

/// The IAM action prefix of an SDK service name, as the SDK's operation
/// metadata spells it (`WAFV2`, `Elastic Load Balancing v2`).
pub fn iam_prefix(sdk_service: &str) -> String {
    match sdk_service {
        "WAFV2" => "wafv2".to_string(),
        "Elastic Load Balancing v2" | "Elastic Load Balancing" => {
            "elasticloadbalancing".to_string()
        }
        other => other.to_ascii_lowercase().replace(' ', ""),
    }
}

impl OperationLog {
    /// An empty log.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Vec<String>> {
        // A panic while holding the lock cannot leave the Vec half-written.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Appends one entry (the interceptor does this; tests may too).
    pub fn record(&self, action: impl Into<String>) {
        self.lock().push(action.into());
    }

    /// Everything recorded so far, in call order.
    pub fn snapshot(&self) -> Vec<String> {
        self.lock().clone()
    }

    /// Everything recorded so far, in call order, leaving the log empty.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.lock())
    }

    /// How often each action was called.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for e in self.lock().iter() {
            *counts.entry(e.clone()).or_insert(0) += 1;
        }
        counts
    }

    /// The distinct actions called, sorted.
    pub fn distinct(&self) -> BTreeSet<String> {
        self.lock().iter().cloned().collect()
    }
}

impl Intercept for OperationLog {
    fn name(&self) -> &'static str {
        "maint-tests OperationLog"
    }

    // Not `read_before_execution`: client-level interceptors see that hook
    // before the operation's configuration (and its `Metadata`) is in the
    // bag. Serialization happens once per operation, before any retry.
    fn read_before_serialization(
        &self,
        _context: &BeforeSerializationInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        match cfg.load::<Metadata>() {
            Some(md) => self.record(format!("{}:{}", iam_prefix(md.service()), md.name())),
            None => self.record("unknown:OperationWithoutMetadata"),
        }
        Ok(())
    }
}
