//! The store's part of windows injected into a service's own web ACL
//! (with consent; the backend's part is `injected_windows.rs`): maint's
//! rule goes first in that ACL, with its bodies and IP sets, in one
//! `UpdateWebACL`; `exit` takes out exactly that in one more. The ACL's own
//! rules, bodies and settings, Shield Advanced's mitigation rule group and
//! whatever others add during the window are sent back as read, under the
//! ACL's lock token (a conflict re-reads and re-applies only maint's part).
use aws_sdk_wafv2::types::{Rule, WebAcl};

use super::acl::{self, AclSpec, IpSetId, ReadAcl};
use super::associations::Observed;
use super::decide::{foreign, may_share};
use super::errors::{code, is_code};
use super::inventory::{Ownership, Summary};
use super::ip_sets::{family_entries, ip_set_family};
use super::store::WafStore;
use super::web_acls::{new_record, LockedAcl, Resource};
use crate::allowlist::Family;
use crate::maintenance::{Change, ExistingWebAcl, MaintenanceSpec, Mode, Window};
use crate::target::ResourceArn;
use crate::{Error, Result};

/// A service's own web ACL, by identity.
#[derive(Debug, Clone)]
pub(super) struct Host {
    pub(super) name: String,
    pub(super) id: String,
    pub(super) arn: String,
}

impl Host {
    /// From a web ACL ARN (`...:regional/webacl/<name>/<id>`, `global/`
    /// for scope CLOUDFRONT).
    pub(super) fn from_arn(arn: &str) -> Result<Self> {
        match acl::name_and_id(arn, "webacl") {
            Some((name, id)) => Ok(Self {
                name: name.to_string(),
                id: id.to_string(),
                arn: arn.to_string(),
            }),
            None => Err(Error::unexpected(format!(
                "{arn:?} is not a regional web ACL ARN"
            ))),
        }
    }

    fn of(acl: &WebAcl) -> Self {
        Self {
            name: acl.name().to_string(),
            id: acl.id().to_string(),
            arn: acl.arn().to_string(),
        }
    }
}

/// The refusal of a change that would not fit into a service's web ACL.
fn will_not_fit(host: &Host, why: String) -> Error {
    Error::Conflict {
        resource: host.arn.clone(),
        message: format!(
            "maint's rule does not fit into web ACL {}: {why}; nothing was changed",
            host.name
        ),
    }
}

/// A placeholder IP set ARN, to price and count a rule before its sets
/// exist.
fn pending_set(region: &str, global: bool, window: &Window, family: Family) -> String {
    let scope = if global { "global" } else { "regional" };
    format!(
        "arn:aws:wafv2:{region}:000000000000:{scope}/ipset/{}/pending",
        acl::ip_set_name(window.name(), family)
    )
}

impl WafStore {
    /// The service's own web ACL a window is (or is to be) injected into,
    /// from the association of its first member: `Some` for a window
    /// already injected there, or a foreign web ACL when `spec` consents.
    pub(super) async fn injection_host(
        &self,
        window: &Window,
        first: &ResourceArn,
        spec: Option<&MaintenanceSpec>,
    ) -> Result<Option<Host>> {
        let consent = spec.is_some_and(|s| s.existing_web_acl == ExistingWebAcl::Inject);
        Ok(match self.observe(first, Some(window.name())).await {
            // In place: no new consent needed to update it. Removed by
            // someone else: putting it back needs consent again.
            Ok(Observed::Ours { acl, read })
                if read.injected()
                    && read.record.window == window.name()
                    && (read.rule_present || consent) =>
            {
                Some(Host::of(&acl))
            }
            Ok(Observed::Ours { acl, read })
                if read.injected() && read.record.window == window.name() =>
            {
                return Err(foreign(first, acl.arn(), acl.name()));
            }
            // Other windows' parts (a shared load balancer): this window
            // adds its own when the scopes allow (`enter` only).
            Ok(Observed::Ours { acl, read }) if read.record.window != window.name() => match spec {
                Some(spec) if self.may_join(window, first, spec, &acl, consent).await? => {
                    Some(Host::of(&acl))
                }
                _ => None,
            },
            Ok(Observed::Foreign { arn, .. }) if consent => Some(Host::from_arn(&arn)?),
            // Anything else (including a member that cannot be read) takes
            // the usual way, which reports it per member.
            _ => None,
        })
    }

    /// Whether `window` (of `spec`) may add its part to `acl` on `lb`,
    /// which holds other windows' parts: when no scope overlaps (else the
    /// refusal naming both, see [`may_share`]), and the web ACL is maint's
    /// own (or `consent` was given to inject into a service's own).
    pub(super) async fn may_join(
        &self,
        window: &Window,
        lb: &ResourceArn,
        spec: &MaintenanceSpec,
        acl: &WebAcl,
        consent: bool,
    ) -> Result<bool> {
        let parts = acl::read_parts(acl)?;
        let others = parts
            .iter()
            .filter(|p| p.record.window != window.name())
            .map(|p| (p.record.window.as_str(), &p.record.scope));
        if spec.scope.is_everything() || !may_share(lb, window, &spec.scope, others)? {
            return Ok(false);
        }
        Ok(consent || self.made_by_maint(acl, &parts).await?)
    }

    /// Refuses `window`'s part of `acl` brought to `scope` (a repeated
    /// `enter` or `arm`) when it would overlap another window's part there
    /// (see [`may_share`]).
    pub(super) fn keeps_apart(
        window: &Window,
        lb: &ResourceArn,
        acl: &WebAcl,
        scope: &crate::scope::Scope,
    ) -> Result<()> {
        let parts = acl::read_parts(acl)?;
        let others = parts
            .iter()
            .filter(|p| p.record.window != window.name())
            .map(|p| (p.record.window.as_str(), &p.record.scope));
        may_share(lb, window, scope, others).map(|_| ())
    }

    /// Whether maint created `acl` (holding `parts`): a window's own part
    /// is only ever in maint's own web ACL; without one, its tags say.
    pub(super) async fn made_by_maint(&self, acl: &WebAcl, parts: &[ReadAcl]) -> Result<bool> {
        if parts.iter().any(|p| !p.injected()) {
            return Ok(true);
        }
        Ok(matches!(
            self.ownership(acl.arn()).await?,
            Ownership::Maint { window, host: None, .. } if window == acl.name()
        ))
    }

    /// The part a window adds to `acl`: the first when the web ACL holds
    /// no window of maint's, else a sharing part of its own names.
    pub(super) fn new_part(window: &Window, acl: &WebAcl) -> Result<Option<String>> {
        Ok(if acl::read_parts(acl)?.is_empty() {
            None
        } else {
            acl::PartNames::sharing(window.name())
                .id()
                .map(str::to_string)
        })
    }

    /// The resources web ACL `host` protects, from
    /// `ListResourcesForWebACL` of each kind in `lbs` and of load
    /// balancers: maint must know them all before adding its rule to a
    /// service's own web ACL.
    pub(super) async fn protected(&self, host: &Host, lbs: &[ResourceArn]) -> Result<Vec<String>> {
        let kinds = lbs.iter().map(ResourceArn::kind);
        let listed = self.listed(&host.arn, kinds).await;
        listed.map_err(|e| Error::Conflict {
            resource: host.arn.clone(),
            message: format!(
                "maint must know every resource web ACL {} protects before adding its \
                     rule (ListResourcesForWebACL failed: {e}); nothing was changed",
                host.name
            ),
        })
    }

    /// What AWS WAF says `rules` cost in WCU; `None` where `CheckCapacity`
    /// is not available (an emulator): `UpdateWebACL` still refuses an ACL
    /// over capacity, with AWS's own error.
    async fn check_capacity(&self, rules: &[Rule]) -> Result<Option<i64>> {
        let result = self.client.check_capacity(rules).await;
        match result {
            Ok(out) => Ok(Some(out.capacity())),
            Err(e)
                if is_code(
                    &e,
                    &[
                        "AccessDeniedException",
                        "WAFInvalidParameterException",
                        "WAFLimitsExceededException",
                        "WAFInvalidResourceException",
                        "WAFNonexistentItemException",
                        "WAFSubscriptionNotFoundException",
                        "WAFExpiredManagedRuleGroupVersionException",
                    ],
                ) =>
            {
                Err(e)
            }
            Err(e) => {
                tracing::warn!(error = %e, "CheckCapacity is not available; relying on UpdateWebACL's own check");
                Ok(None)
            }
        }
    }

    /// Adds maint's rule to `host` (first time, or again after someone
    /// removed it: `previous` is then what is left of the window).
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn inject(
        &self,
        window: &Window,
        lbs: &[ResourceArn],
        spec: &MaintenanceSpec,
        mode: Mode,
        host: &Host,
        locked: &LockedAcl,
        previous: Option<&ReadAcl>,
    ) -> Result<Vec<Change>> {
        let members: Vec<&ResourceArn> = lbs.iter().collect();
        let mut record = new_record(window, &members, spec);
        record.part = Self::new_part(window, &locked.acl)?;
        let mut allowlist = spec.allowlist.clone();
        if let Some(previous) = previous {
            record.part = previous.record.part.clone();
            // Put back after a revert: the allowlist kept, members joined.
            let entries = self.load_sets(&previous.record).await?.entries;
            allowlist = entries.union(&spec.allowlist)?;
            record.allowlist_enabled = previous.record.allowlist_enabled;
            for m in &previous.record.members {
                if !record.members.contains(m) {
                    record.members.push(m.clone());
                }
            }
            record.ipv4_set = previous.record.ipv4_set.clone();
            record.ipv6_set = previous.record.ipv6_set.clone();
            record.bypass = previous.record.bypass.clone();
            record.bypass_enabled = previous.record.bypass_enabled;
            record.set_access(spec);
        }
        record.injected = Some(acl::Injection {
            renumbered: acl::first_place(
                &locked.acl,
                acl::SLOTS,
                &acl::PartNames::of(record.part.as_deref()),
            ),
            slots: acl::SLOTS,
        });
        // Fit first, with placeholder sets: nothing is created for an ACL
        // maint's rule cannot go into.
        let mut provisional = record.clone();
        for family in [Family::Ipv4, Family::Ipv6] {
            if !family_entries(&allowlist, family).is_empty() && record.set(family).is_none() {
                *provisional.set_mut(family) = Some(pending_set(
                    self.region(),
                    self.client.is_global(),
                    window,
                    family,
                ));
            }
        }
        let fit = AclSpec {
            record: &provisional,
            response: &spec.response,
        };
        let (rules, bodies) = acl::compose(&locked.acl, &fit)?;
        if previous.is_none() {
            let names = acl::PartNames::of(record.part.as_deref());
            if let Some(why) = acl::will_not_fit(&locked.acl, &rules, &bodies, &names) {
                return Err(will_not_fit(host, why));
            }
        }
        if let Some(wcu) = self.check_capacity(&rules).await? {
            if wcu > acl::MAX_WCU {
                return Err(will_not_fit(
                    host,
                    format!(
                        "its rules would cost {wcu} WCU; AWS WAF allows {}",
                        acl::MAX_WCU
                    ),
                ));
            }
        }
        if locked.acl.managed_by_firewall_manager() {
            // Firewall Manager leaves the account's own rules to the
            // account (only its first and last rule groups are its own, and
            // an update does not carry them): maint's rule goes first among
            // the account's rules, after Firewall Manager's first groups.
            tracing::warn!(
                web_acl = host.name,
                "Firewall Manager's first rule groups run before maint's rule: requests they \
                 block or allow never see the maintenance response"
            );
        }
        let changes = vec![Change::RuleInjected {
            web_acl: host.name.clone(),
        }];
        if mode == Mode::DryRun {
            return Ok(changes);
        }
        // IP sets before the rule that references them; tagged with the
        // host, so `cleanup` knows them in use.
        for family in [Family::Ipv4, Family::Ipv6] {
            let entries = family_entries(&allowlist, family);
            if !entries.is_empty() || record.set(family).is_some() {
                *record.set_mut(family) = Some(
                    self.ensure_ip_set(window, family, &entries, Some(&host.arn))
                        .await?,
                );
            }
        }
        let spec = AclSpec {
            record: &record,
            response: &spec.response,
        };
        let (rules, bodies) = acl::compose(&locked.acl, &spec)?;
        tracing::info!(
            window = window.name(),
            web_acl = host.name,
            "adding maint's rule"
        );
        self.write_web_acl(locked, rules, bodies).await?;
        Ok(changes)
    }

    /// Deletes maint's IP sets once nothing references them.
    pub(super) async fn delete_sets(&self, sets: &[(Family, IpSetId)]) -> Result<()> {
        let inventory = self.inventory(false).await?;
        for (family, id) in sets {
            let lock_token = inventory
                .ip_sets
                .get(&id.name)
                .filter(|s| s.arn == id.arn)
                .map(|s| s.lock_token.clone())
                .unwrap_or_default();
            let summary = Summary {
                id: id.id.clone(),
                arn: id.arn.clone(),
                lock_token,
            };
            self.delete(Resource::IpSet(*family), &id.name, &summary)
                .await?;
        }
        Ok(())
    }

    /// The IP sets of `window` left by an injected run that stopped before
    /// adding its rule or after removing it from `host_arn` (their tags name
    /// that web ACL); deleted unless a dry run. `None` when there are none.
    pub(super) async fn injection_leftovers(
        &self,
        window: &Window,
        host_arn: &str,
        mode: Mode,
    ) -> Result<Option<Vec<Change>>> {
        let (_, sets) = self.resources_of(window, false).await?;
        let mut changes = Vec::new();
        for (name, summary) in sets {
            if let Ownership::Maint {
                window: w,
                host: Some(host),
                ..
            } = self.ownership(&summary.arn).await?
            {
                if w == window.name() && host == host_arn {
                    if mode == Mode::Apply {
                        self.delete(Resource::IpSet(ip_set_family(&name)), &name, &summary)
                            .await?;
                    }
                    changes.push(Change::DeletedIpSet { name });
                }
            }
        }
        Ok((!changes.is_empty()).then_some(changes))
    }

    /// Whether `host_arn` still holds `window` (for `cleanup`: the IP sets
    /// of an injected window are in use while it does).
    pub(super) async fn host_holds(&self, host_arn: &str, window: &str) -> Result<bool> {
        let host = Host::from_arn(host_arn)?;
        match self.get_web_acl(&host.name, &host.id).await {
            Err(e) if is_code(&e, &[code::NONEXISTENT]) => Ok(false),
            Err(e) => Err(e),
            Ok(locked) => Ok(acl::read_parts(&locked.acl)?
                .iter()
                .any(|r| r.record.window == window)),
        }
    }
}
