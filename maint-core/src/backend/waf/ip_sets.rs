//! maint's IP sets: reading, creating, updating.
use aws_sdk_wafv2::types::IpAddressVersion;

use super::acl::{self, IpSetId, StateRecord};
use super::client::sent_back;
use super::errors::{code, is_code};
use super::inventory::{Listing, Ownership};
use super::store::WafStore;
use crate::allowlist::{Allowlist, Cidr, Family};
use crate::error::Argument;
use crate::maintenance::Window;
use crate::{Error, Result};

/// One of maint's IP sets as read, with its lock token.
#[derive(Debug, Clone)]
pub(super) struct LoadedSet {
    pub(super) family: Family,
    pub(super) id: IpSetId,
    pub(super) entries: Vec<Cidr>,
    pub(super) lock_token: String,
    /// Its description as read, sent back with every update (absent stays
    /// absent).
    pub(super) description: Option<String>,
}

/// A window's allowlist and the IP sets that hold it, as read.
#[derive(Debug, Clone)]
pub(super) struct WindowSets {
    /// The allowlist: the entries of both sets.
    pub(super) entries: Allowlist,
    /// The sets, with their lock tokens.
    pub(super) sets: Vec<LoadedSet>,
}

/// The family of one of maint's IP sets, from its name.
pub(super) fn ip_set_family(name: &str) -> Family {
    if name.ends_with("-ipv6") {
        Family::Ipv6
    } else {
        Family::Ipv4
    }
}

/// The entries of one family, in order.
pub(super) fn family_entries(list: &Allowlist, family: Family) -> Vec<Cidr> {
    list.iter().filter(|c| c.family() == family).collect()
}

impl WafStore {
    /// One of maint's IP sets, read with its entries and lock token.
    pub(super) async fn get_ip_set(&self, family: Family, arn: &str) -> Result<LoadedSet> {
        let id = IpSetId::from_arn(arn)?;
        let out = self.client.get_ip_set(&id.name, &id.id).await?;
        let set = out.ip_set().ok_or_else(|| {
            Error::unexpected(format!("GetIPSet for {} returned no set", id.name))
        })?;
        let mut entries = Vec::with_capacity(set.addresses().len());
        for address in set.addresses() {
            let cidr = Cidr::parse(address).map_err(|e| {
                Error::unexpected(format!(
                    "IP set {} holds {address:?}, which maint cannot use: {e}",
                    id.name
                ))
            })?;
            entries.push(cidr);
        }
        Ok(LoadedSet {
            family,
            id,
            entries,
            lock_token: out.lock_token().unwrap_or_default().to_string(),
            description: sent_back(set.description()),
        })
    }

    /// Reads the IP sets a state record names.
    pub(super) async fn load_sets(&self, record: &StateRecord) -> Result<WindowSets> {
        let mut sets = Vec::new();
        for family in [Family::Ipv4, Family::Ipv6] {
            if let Some(arn) = record.set(family) {
                match self.get_ip_set(family, arn).await {
                    Ok(set) => sets.push(set),
                    Err(e) if is_code(&e, &[code::NONEXISTENT]) => {
                        return Err(Error::Unexpected {
                            message: format!(
                                "IP set {arn} of maint's web ACL was deleted outside maint; \
                                 run `maint enter` again to restore it, or `maint exit`"
                            ),
                            source: Some(std::sync::Arc::new(e)),
                        })
                    }
                    Err(e) => return Err(e),
                }
            }
        }
        let list = Allowlist::from_cidrs(sets.iter().flat_map(|s| s.entries.iter().copied()))
            .map_err(|e| {
                Error::unexpected(format!("maint's IP sets hold an invalid allowlist: {e}"))
            })?;
        Ok(WindowSets {
            entries: list,
            sets,
        })
    }

    /// Creates the window's set of `family`; `host`: the service's own web
    /// ACL it serves, for a window injected there.
    pub(super) async fn create_ip_set(
        &self,
        window: &Window,
        family: Family,
        entries: &[Cidr],
        host: Option<&str>,
    ) -> Result<String> {
        let name = acl::ip_set_name(window.name(), family);
        let version = match family {
            Family::Ipv4 => IpAddressVersion::Ipv4,
            Family::Ipv6 => IpAddressVersion::Ipv6,
        };
        let addresses: Vec<String> = entries.iter().map(ToString::to_string).collect();
        let tags = acl::tags(window, host)?;
        tracing::info!(window = window.name(), name, "creating IP set");
        let out = self
            .client
            .create_ip_set(
                &name,
                &Self::description(window),
                &version,
                &addresses,
                &tags,
            )
            .await?;
        let created = out.summary().map(|s| (s.id(), s.arn(), s.lock_token()));
        self.remember_created(Listing::IpSets, "CreateIPSet", &name, created)
            .await
    }

    /// Writes `entries` into a set, its description sent back as read (an
    /// update resets what it does not send); a lock conflict is returned to
    /// the caller, which re-reads and re-applies its change.
    pub(super) async fn update_ip_set(&self, set: &LoadedSet, entries: &[Cidr]) -> Result<()> {
        let addresses: Vec<String> = entries.iter().map(ToString::to_string).collect();
        tracing::info!(
            name = set.id.name,
            entries = addresses.len(),
            "updating IP set"
        );
        let out = self
            .client
            .update_ip_set(
                &set.id.name,
                &set.id.id,
                set.description.as_deref(),
                &addresses,
                &set.lock_token,
            )
            .await?;
        if let Some(token) = out.next_lock_token() {
            let (name, token) = (set.id.name.clone(), token.to_string());
            self.remember(|inv| {
                if let Some(s) = inv.ip_sets.get_mut(&name) {
                    s.lock_token = token;
                }
            })
            .await;
        }
        Ok(())
    }

    /// Sets a leftover set (found by name) to `entries`, retrying lock
    /// conflicts (nobody else edits a set that no web ACL uses yet).
    pub(super) async fn overwrite_ip_set(
        &self,
        family: Family,
        arn: &str,
        entries: &[Cidr],
    ) -> Result<()> {
        self.with_lock_retries(arn, || async {
            let set = self.get_ip_set(family, arn).await?;
            self.update_ip_set(&set, entries).await
        })
        .await
    }

    /// Makes sure the set of `family` exists with `entries`; returns its ARN.
    pub(super) async fn ensure_ip_set(
        &self,
        window: &Window,
        family: Family,
        entries: &[Cidr],
        host: Option<&str>,
    ) -> Result<String> {
        let name = acl::ip_set_name(window.name(), family);
        let leftover = self.inventory(false).await?.ip_sets.get(&name).cloned();
        if let Some(existing) = leftover {
            if !self.is_ours(window, &name, &existing.arn).await? {
                return self.create_ip_set(window, family, entries, host).await;
            }
            // A set serving a window injected into a service's own web ACL
            // is never taken over by a web ACL of maint's (its deletion
            // would break that ACL's rule).
            if let Ownership::Maint {
                host: Some(serving),
                ..
            } = self.ownership(&existing.arn).await?
            {
                if host != Some(serving.as_str()) {
                    return Err(Error::Conflict {
                        resource: existing.arn.clone(),
                        message: format!(
                            "IP set {name} serves window {} in web ACL {serving}, where maint's \
                             rule is injected; act on that window with consent to inject \
                             ({}, or existing_web_acl = \"inject\")",
                            window.name(),
                            Argument::Inject
                        ),
                    });
                }
            }
            tracing::info!(
                window = window.name(),
                name,
                "reusing IP set left by an earlier run"
            );
            self.overwrite_ip_set(family, &existing.arn, entries)
                .await?;
            return Ok(existing.arn);
        }
        self.create_ip_set(window, family, entries, host).await
    }
}
