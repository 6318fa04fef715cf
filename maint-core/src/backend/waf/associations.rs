//! Associations: what a load balancer is associated with ([`Observed`]),
//! which load balancers a web ACL protects, and associating and
//! disassociating, each attempt after a fresh read of the association
//! (AWS has no conditional form of either call).
use std::future::Future;
use std::time::Duration;

use aws_sdk_wafv2::types::WebAcl;

use super::acl::{self, ReadAcl};
use super::decide::{elsewhere, foreign};
use super::distributions::distribution_id;
use super::errors::{code, is_code};
use super::store::WafStore;
use crate::error::Argument;
use crate::maintenance::Window;
use crate::target::{wrong_region, ResourceArn, ResourceKind};
use crate::{Error, Result};

/// What the load balancer's association says.
pub(super) enum Observed {
    /// No web ACL.
    Normal,
    /// A web ACL maint did not create.
    Foreign {
        /// Its ARN.
        arn: String,
        /// Its name.
        name: String,
    },
    /// A window of maint's (its web ACL and what it records).
    Ours {
        /// The web ACL.
        acl: Box<WebAcl>,
        /// maint's record and rule in it.
        read: Box<ReadAcl>,
    },
}

impl WafStore {
    /// What `lb`'s association says: no web ACL, a window of maint's, or
    /// a web ACL maint did not create. A web ACL holding several windows
    /// (parts) reads as `window`'s part when it holds one, else as its
    /// first (see [`acl::read_for`]).
    pub(super) async fn observe(&self, lb: &ResourceArn, window: Option<&str>) -> Result<Observed> {
        self.check_place(lb)?;
        // Boxed: the two reads' futures are large, and this one is awaited
        // deep inside every window operation's future.
        let out = match distribution_id(lb.as_str()) {
            Some(id) => Box::pin(self.client.distribution_web_acl(&id)).await,
            None => Box::pin(self.client.get_web_acl_for_resource(lb.as_str())).await,
        };
        let out = match out {
            Err(e) if is_code(&e, &[code::NONEXISTENT, code::NO_SUCH_DISTRIBUTION]) => {
                return Err(Error::TargetNotFound {
                    target: lb.to_string(),
                })
            }
            other => other?,
        };
        let Some(acl) = out.web_acl() else {
            return Ok(Observed::Normal);
        };
        let read = match window {
            Some(window) => acl::read_for(acl, window)?,
            None => acl::read_acl(acl)?,
        };
        Ok(match read {
            Some(read) => Observed::Ours {
                acl: Box::new(acl.clone()),
                read: Box::new(read),
            },
            None => Observed::Foreign {
                arn: acl.arn().to_string(),
                name: acl.name().to_string(),
            },
        })
    }

    /// Whether `lb` is a resource this store acts on: a distribution for a
    /// store of scope CLOUDFRONT, a resource of its Region for a regional
    /// one.
    pub(super) fn check_place(&self, lb: &ResourceArn) -> Result<()> {
        match (lb.kind().is_global(), self.client.is_global()) {
            (false, false) if lb.region() != self.region() => {
                Err(wrong_region(lb, self.region()).into())
            }
            (false, false) | (true, true) => Ok(()),
            (global, _) => Err(Error::unexpected(format!(
                "{lb} went to the {} backend",
                if global { "regional" } else { "CloudFront" }
            ))),
        }
    }

    /// The resources web ACL `acl_arn` is associated with, from
    /// `ListResourcesForWebACL` of each of `kinds` and of load balancers
    /// (AWS lists one kind per call; the calls at once); for a web ACL of
    /// scope CLOUDFRONT, the distributions whose config names it.
    pub(super) async fn listed(
        &self,
        acl_arn: &str,
        kinds: impl Iterator<Item = ResourceKind>,
    ) -> Result<Vec<String>> {
        if self.client.is_global() {
            return self.client.distributions_under(acl_arn).await;
        }
        let mut kinds: Vec<ResourceKind> = kinds
            .filter(|kind| !kind.is_global())
            .chain([ResourceKind::LoadBalancer])
            .collect();
        kinds.sort();
        kinds.dedup();
        let calls = kinds
            .into_iter()
            .map(|kind| self.client.list_resources_for_web_acl(acl_arn, kind));
        Ok(futures::future::try_join_all(calls)
            .await?
            .iter()
            .flat_map(|out| out.resource_arns().iter().cloned())
            .collect())
    }

    /// The load balancers the web ACL is associated with now, from
    /// `ListResourcesForWebACL` (one call for any number), or, where that is
    /// not available (an emulator, or a policy without it), from
    /// `GetWebACLForResource` of each recorded member.
    pub(super) async fn members_of(
        &self,
        acl_arn: &str,
        recorded: &[String],
    ) -> Result<Vec<String>> {
        if self
            .list_resources
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            let kinds = recorded
                .iter()
                .filter_map(|member| ResourceArn::parse(member).ok())
                .map(|member| member.kind());
            match self.listed(acl_arn, kinds).await {
                Ok(listed) => return Ok(listed),
                Err(e) if is_code(&e, &[code::NONEXISTENT]) => return Ok(Vec::new()),
                Err(e) => {
                    tracing::info!(
                        code = e.aws_code().unwrap_or_default(),
                        "ListResourcesForWebACL is not available; reading each member instead"
                    );
                    self.list_resources
                        .store(false, std::sync::atomic::Ordering::Relaxed);
                }
            }
        }
        let mut members = Vec::new();
        for member in recorded {
            let Ok(lb) = ResourceArn::parse(member) else {
                continue;
            };
            match self.observe(&lb, None).await {
                Ok(Observed::Ours { acl, .. }) if acl.arn() == acl_arn => {
                    members.push(member.clone())
                }
                Ok(_) | Err(Error::TargetNotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(members)
    }

    /// Reads `lb`'s association (as `window` sees it: see
    /// [`WafStore::observe`]), then, when `decide` says so, makes the
    /// association call `send`, as one attempt; every
    /// attempt reads again, the first and each one after throttling or a
    /// code in `retry_on`, since `AssociateWebACL` replaces and
    /// `DisassociateWebACL` removes whatever is associated and AWS has no
    /// conditional form of either. What remains is the time between that
    /// read and AWS applying the call: one round trip.
    ///
    /// `decide` gets what is associated now: `Ok(true)` to call,
    /// `Ok(false)` when there is nothing to do, an error to refuse. `send`
    /// must send its call once (the client's `AssociateWebACL` and
    /// `DisassociateWebACL` do): throttling, AWS's internal
    /// errors and the codes in `retry_on` are retried here (the latter two
    /// until `deadline`). `Ok(true)` when the call was made.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn read_then_call<D, S, Fut>(
        &self,
        lb: &ResourceArn,
        window: &str,
        what: &str,
        retry_on: &[&str],
        deadline: Duration,
        decide: D,
        send: S,
    ) -> Result<bool>
    where
        D: Fn(Observed) -> Result<bool> + Sync,
        S: Fn() -> Fut + Sync,
        Fut: Future<Output = Result<()>> + Send,
    {
        let (decide, send) = (&decide, &send);
        // `send` goes out once per attempt: what the SDK
        // would retry, maint retries here, after a fresh read.
        let retry_on: Vec<&str> = retry_on.iter().copied().chain(code::TRANSIENT).collect();
        // Paced inside, right before the call itself (the read has its own
        // quota).
        self.client
            .retrying("", what, &retry_on, deadline, || async move {
                if !decide(self.observe(lb, Some(window)).await?)? {
                    return Ok(false);
                }
                send().await.map(|()| true)
            })
            .await
    }

    /// Associates maint's web ACL with `lb`, the association read again
    /// right before every attempt ([`WafStore::read_then_call`]): when a
    /// web ACL maint did not create appeared since maint's first look
    /// (Terraform, a controller, Firewall Manager), nothing is replaced and
    /// the error names it. `Ok(true)` when it associated, `Ok(false)` when
    /// it already was.
    pub(super) async fn associate(
        &self,
        window: &Window,
        lb: &ResourceArn,
        acl_arn: &str,
    ) -> Result<bool> {
        tracing::info!(%lb, acl_arn, "associating web ACL");
        self.read_then_call(
            lb,
            window.name(),
            &format!(
                "associating web ACL {acl_arn} with {lb} (the web ACL exists: run the same \
                 command again to finish, or `maint exit` to remove it)"
            ),
            &[code::UNAVAILABLE, code::PRECONDITION_FAILED],
            self.settings().associate_deadline,
            |observed| match observed {
                Observed::Foreign { arn, name } => Err(foreign(lb, &arn, &name)),
                Observed::Ours { acl, .. } if acl.arn() == acl_arn => Ok(false),
                Observed::Ours { acl, read }
                    if read.injected() && read.record.window == window.name() =>
                {
                    Err(Error::Conflict {
                        resource: lb.to_string(),
                        message: format!(
                            "its window {} lives in its own web ACL {}; to change it, \
                             enter again with consent to inject ({}, \
                             or existing_web_acl = \"inject\")",
                            read.record.window,
                            acl.name(),
                            Argument::Inject
                        ),
                    })
                }
                Observed::Ours { read, .. } => Err(elsewhere(
                    lb,
                    &read.record.window,
                    read.record.active,
                    window,
                )),
                Observed::Normal => Ok(true),
            },
            || async move {
                match distribution_id(lb.as_str()) {
                    Some(id) => {
                        Box::pin(self.client.set_distribution_web_acl(&id, "", acl_arn)).await
                    }
                    None => self.client.associate_web_acl(acl_arn, lb.as_str()).await,
                }
            },
        )
        .await
    }

    /// Which of `lbs` the web ACL `acl_arn` is associated with now: one
    /// listing for any number (a window of one: its association).
    pub(super) async fn already_members(
        &self,
        acl_arn: &str,
        lbs: &[ResourceArn],
    ) -> Result<Vec<String>> {
        if let [lb] = lbs {
            return Ok(match self.observe(lb, None).await {
                Ok(Observed::Ours { acl, .. }) if acl.arn() == acl_arn => vec![lb.to_string()],
                // Anything else is for its association to say.
                _ => Vec::new(),
            });
        }
        let named: Vec<String> = lbs.iter().map(ToString::to_string).collect();
        self.members_of(acl_arn, &named).await
    }

    /// Disassociates `lb` from `window`'s web ACL, the association read
    /// again right before every attempt, throttled ones included
    /// ([`WafStore::read_then_call`]): a web ACL that appeared since
    /// maint's first look (or while AWS throttled the call) is never
    /// removed, and the error names it.
    pub(super) async fn disassociate(&self, lb: &ResourceArn, window: &str) -> Result<()> {
        // The web ACL the read found, which a distribution's conditional
        // write expects to find again.
        let seen = std::sync::Mutex::new(String::new());
        let seen = &seen;
        let result = self
            .read_then_call(
                lb,
                window,
                "disassociate the web ACL",
                &[code::PRECONDITION_FAILED],
                self.settings().delete_deadline,
                |observed| match observed {
                    Observed::Ours { read, acl } if read.record.window == window => {
                        tracing::info!(%lb, window, "disassociating web ACL");
                        *seen.lock().unwrap_or_else(|e| e.into_inner()) = acl.arn().to_string();
                        Ok(true)
                    }
                    Observed::Normal => Ok(false),
                    Observed::Foreign { arn, name } => Err(foreign(lb, &arn, &name)),
                    Observed::Ours { acl, .. } => Err(foreign(lb, acl.arn(), acl.name())),
                },
                || async move {
                    match distribution_id(lb.as_str()) {
                        Some(id) => {
                            let expected = seen.lock().unwrap_or_else(|e| e.into_inner()).clone();
                            Box::pin(self.client.set_distribution_web_acl(&id, &expected, "")).await
                        }
                        None => self.client.disassociate_web_acl(lb.as_str()).await,
                    }
                },
            )
            .await;
        match result {
            // The load balancer is gone: nothing is associated.
            Err(e) if is_code(&e, &[code::NONEXISTENT, code::NO_SUCH_DISTRIBUTION]) => Ok(()),
            other => other.map(|_| ()),
        }
    }
}
