//! Pacing calls to AWS's call-rate quotas: [`CallRates`] (AWS WAF's
//! published quotas, or a share of them), and the token buckets, one per
//! action ([`Pacer`]), shared by every backend of the process for a Region,
//! since AWS counts every caller together. The WAF client waits on them
//! before each call.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// AWS WAF's call-rate quotas per account and Region, for every caller
/// together (AWS WAF Developer Guide, "AWS WAF quotas", calls per account per
/// Region): the least time between two calls of one action.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CallRates {
    /// `AssociateWebACL` and `DisassociateWebACL`: one request every 2 s.
    pub associate: Duration,
    /// `GetWebACLForResource` and `ListResourcesForWebACL`: one per second.
    pub per_resource_read: Duration,
    /// Each other Get or List action: five per second.
    pub read: Duration,
    /// Each Create, Put, Update (and Delete) action: one per second.
    pub write: Duration,
}

impl CallRates {
    /// The published quotas.
    pub const AWS: CallRates = CallRates {
        associate: Duration::from_secs(2),
        per_resource_read: Duration::from_secs(1),
        read: Duration::from_millis(200),
        write: Duration::from_secs(1),
    };

    /// These rates slowed down to `share` of them (0 < share <= 1), for
    /// accounts where other callers (pipelines, controllers) use the same
    /// quotas.
    pub fn share(self, share: f64) -> Self {
        let share = if share.is_finite() && share > 0.0 {
            share.min(1.0)
        } else {
            1.0
        };
        let slow = |d: Duration| d.div_f64(share);
        CallRates {
            associate: slow(self.associate),
            per_resource_read: slow(self.per_resource_read),
            read: slow(self.read),
            write: slow(self.write),
        }
    }

    /// The least time between two calls of `action`.
    pub fn period(&self, action: &str) -> Duration {
        match action {
            "AssociateWebACL" | "DisassociateWebACL" => self.associate,
            "GetWebACLForResource" | "ListResourcesForWebACL" => self.per_resource_read,
            a if ["Create", "Update", "Put", "Delete", "Tag", "Untag"]
                .iter()
                .any(|p| a.starts_with(p)) =>
            {
                self.write
            }
            _ => self.read,
        }
    }
}

impl Default for CallRates {
    fn default() -> Self {
        Self::AWS
    }
}

/// The ELB calls maint makes; ELB throttles its Describe calls on its own
/// terms, in one bucket.
pub(super) const ELB_DESCRIBE: &str = "DescribeLoadBalancers";
/// ELB's `DescribeTags`, paced in the Describe calls' bucket.
pub(super) const ELB_DESCRIBE_TAGS: &str = "DescribeTags";
/// ELB refills its bucket of Describe calls at 10 a second...
const ELB_DESCRIBE_PERIOD: Duration = Duration::from_millis(100);
/// ... and the bucket holds 40.
const ELB_DESCRIBE_BURST: NonZeroU32 = match NonZeroU32::new(40) {
    Some(n) => n,
    None => NonZeroU32::MIN,
};

/// The period a pacer keeps between two calls of an action AWS allows one
/// of per `period`: a small margin (2% and 20 ms), since AWS counts a call
/// when it arrives, and two calls sent exactly one period apart can arrive
/// closer.
pub(super) fn margin(period: Duration) -> Duration {
    period.mul_f64(1.02) + Duration::from_millis(20)
}

/// Token buckets, one per AWS WAF action, at [`CallRates`]: a call waits
/// until its action's quota allows it. One pacer per Region and rates is
/// shared by every backend of the process (every target a command acts on,
/// every call of one Python client), since AWS counts them together.
#[derive(Debug)]
pub(super) struct Pacer {
    rates: CallRates,
    region: String,
    buckets: std::sync::Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
}

impl Pacer {
    /// The process's pacer for `region` of `account` at `rates`: AWS's
    /// quotas are per account and Region, so every client of one account
    /// and Region shares one set of buckets, and other accounts and Regions
    /// have their own (`account` is "" for the credentials' own account).
    pub(super) fn shared(account: &str, region: &str, rates: CallRates) -> Arc<Pacer> {
        static PACERS: OnceLock<std::sync::Mutex<HashMap<String, Arc<Pacer>>>> = OnceLock::new();
        let key = format!("{account}|{region}|{rates:?}");
        let mut pacers = PACERS
            .get_or_init(Default::default)
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        pacers
            .entry(key)
            .or_insert_with(|| {
                Arc::new(Pacer {
                    rates,
                    region: region.to_string(),
                    buckets: std::sync::Mutex::new(HashMap::new()),
                })
            })
            .clone()
    }

    fn bucket(&self, action: &str) -> Arc<DefaultDirectRateLimiter> {
        // ELB's Describe calls share one bucket.
        let action = if action == ELB_DESCRIBE_TAGS {
            ELB_DESCRIBE
        } else {
            action
        };
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        buckets
            .entry(action.to_string())
            .or_insert_with(|| {
                let (period, burst) = match action {
                    // ELB's own API, not AWS WAF's quotas: its Describe
                    // calls share a bucket of 40 per account and Region,
                    // refilled at 10 a second.
                    ELB_DESCRIBE => (ELB_DESCRIBE_PERIOD, ELB_DESCRIBE_BURST),
                    _ => (self.rates.period(action), NonZeroU32::MIN),
                };
                let quota = Quota::with_period(margin(period))
                    .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
                    .allow_burst(burst);
                Arc::new(RateLimiter::direct(quota))
            })
            .clone()
    }

    /// Waits until AWS's quota for `action` allows one more call.
    pub(super) async fn wait(&self, action: &str) {
        let bucket = self.bucket(action);
        if bucket.check().is_ok() {
            return;
        }
        let (service, period) = match action {
            ELB_DESCRIBE | ELB_DESCRIBE_TAGS => ("ELB's", ELB_DESCRIBE_PERIOD),
            _ => ("AWS WAF's", self.rates.period(action)),
        };
        tracing::debug!(
            target: super::client::CALLS_LOG,
            action,
            region = self.region,
            "waiting for {service} quota: one {action} every {:.1} s in {}",
            period.as_secs_f64(),
            self.region
        );
        bucket.until_ready().await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use super::{margin, CallRates, Pacer, ELB_DESCRIBE};

    #[test]
    fn each_action_is_paced_by_its_own_quota() {
        let rates = CallRates::AWS;
        assert_eq!(rates.period("AssociateWebACL"), Duration::from_secs(2));
        assert_eq!(rates.period("DisassociateWebACL"), Duration::from_secs(2));
        assert_eq!(rates.period("GetWebACLForResource"), Duration::from_secs(1));
        assert_eq!(
            rates.period("ListResourcesForWebACL"),
            Duration::from_secs(1)
        );
        for write in [
            "CreateWebACL",
            "UpdateIPSet",
            "DeleteWebACL",
            "PutLoggingConfiguration",
        ] {
            assert_eq!(rates.period(write), Duration::from_secs(1), "{write}");
        }
        for read in [
            "GetWebACL",
            "ListWebACLs",
            "ListTagsForResource",
            "CheckCapacity",
        ] {
            assert_eq!(rates.period(read), Duration::from_millis(200), "{read}");
        }
    }

    #[test]
    fn a_share_slows_every_quota_and_odd_shares_change_nothing() {
        let half = CallRates::AWS.share(0.5);
        assert_eq!(half.associate, Duration::from_secs(4));
        assert_eq!(half.read, Duration::from_millis(400));
        for odd in [0.0, -1.0, f64::NAN, f64::INFINITY] {
            assert_eq!(CallRates::AWS.share(odd), CallRates::AWS, "{odd}");
        }
        assert_eq!(CallRates::AWS.share(2.0), CallRates::AWS);
    }

    #[test]
    fn the_margin_keeps_calls_apart_a_little_longer_than_a_period() {
        assert_eq!(margin(Duration::from_secs(1)), Duration::from_millis(1040));
        assert!(margin(Duration::ZERO) > Duration::ZERO);
    }

    #[test]
    fn one_pacer_per_account_region_and_rates_is_shared() {
        let a = Pacer::shared("", "eu-west-3", CallRates::AWS);
        let b = Pacer::shared("", "eu-west-3", CallRates::AWS);
        let other_region = Pacer::shared("", "eu-south-2", CallRates::AWS);
        let other_rates = Pacer::shared("", "eu-west-3", CallRates::AWS.share(0.5));
        let other_account = Pacer::shared("111122223333", "eu-west-3", CallRates::AWS);
        let same_account = Pacer::shared("111122223333", "eu-west-3", CallRates::AWS);
        assert!(Arc::ptr_eq(&a, &b));
        assert!(!Arc::ptr_eq(&a, &other_region));
        assert!(!Arc::ptr_eq(&a, &other_rates));
        assert!(!Arc::ptr_eq(&a, &other_account));
        assert!(Arc::ptr_eq(&other_account, &same_account));
    }

    #[tokio::test]
    async fn a_second_call_of_an_action_waits_for_its_period() {
        let rates = CallRates {
            associate: Duration::from_millis(150),
            ..CallRates::AWS
        };
        let pacer = Pacer::shared("", "test-pacing-1", rates);
        let start = Instant::now();
        pacer.wait("AssociateWebACL").await;
        assert!(
            start.elapsed() < Duration::from_millis(100),
            "the first goes at once"
        );
        pacer.wait("AssociateWebACL").await;
        assert!(
            start.elapsed() >= Duration::from_millis(150),
            "the second waits"
        );
        // Another action has a bucket of its own.
        let other = Instant::now();
        pacer.wait("GetWebACL").await;
        assert!(other.elapsed() < Duration::from_millis(100));
    }

    #[tokio::test]
    async fn elbs_describe_calls_have_a_burst_of_forty() {
        let pacer = Pacer::shared("", "test-pacing-2", CallRates::AWS);
        let start = Instant::now();
        for _ in 0..40 {
            pacer.wait(ELB_DESCRIBE).await;
        }
        assert!(start.elapsed() < Duration::from_millis(100));
    }
}
