//! What the user named, as load balancers: services expanded, every name
//! checked before anything talks to AWS, a load balancer named twice acted
//! on once; the allowlists a command adds; the regions `cleanup` covers.

use std::collections::HashSet;
use std::path::PathBuf;

use super::engine::{Fleet, Place, GLOBAL};
use crate::account::Account;
use crate::allowlist::Allowlist;
use crate::config::{did_you_mean, Service};
use crate::target::{LoadBalancerRef, TargetRef};
use crate::{Error, Result};

impl Fleet {
    /// The region for load balancer names that come with none: the
    /// explicit region, else the config file's (`None`: the AWS chain's).
    pub fn default_region(&self) -> Option<String> {
        self.region
            .clone()
            .or_else(|| self.config.as_ref().and_then(|c| c.region.clone()))
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
                for lb in &service.load_balancers {
                    match self.places_of(Some(service), lb) {
                        Ok(places) => {
                            refs.extend(places.into_iter().map(|(account, region)| TargetRef {
                                given: t.clone(),
                                service: Some(service.name.clone()),
                                region,
                                account,
                                load_balancer: lb.clone(),
                            }));
                        }
                        Err(e) => problems.push(format!("{t:?}: {e}")),
                    }
                }
                continue;
            }
            match LoadBalancerRef::parse(t) {
                Ok(lb) => match self.places_of(None, &lb) {
                    Ok(places) => {
                        refs.extend(places.into_iter().map(|(account, region)| TargetRef {
                            given: t.clone(),
                            service: None,
                            region,
                            account,
                            load_balancer: lb.clone(),
                        }));
                    }
                    Err(e) => problems.push(format!("{t:?}: {e}")),
                },
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
            let what = if problems.iter().any(|p| p.contains(ACCOUNT_PROBLEM)) {
                "not in an account maint can act in".to_string()
            } else {
                format!(
                    "not a service, load balancer name, resource ARN, or CloudFront distribution \
                     ID or domain name{services_note}"
                )
            };
            return Err(Error::invalid(
                format!("target{}", if problems.len() > 1 { "s" } else { "" }),
                format!("{what}: {}", problems.join("; ")),
            ));
        }
        // The same load balancer named twice (say, by a service and by
        // name) is acted on once: in its service's window. Two services
        // sharing a load balancer (each scoped to its own hosts) are two
        // windows, each acted on.
        let in_service: HashSet<(Place, String)> = refs
            .iter()
            .filter(|r| r.service.is_some())
            .map(|r| {
                (
                    (r.account.clone(), r.region.clone()),
                    r.load_balancer.to_string(),
                )
            })
            .collect();
        let mut seen = HashSet::new();
        refs.retain(|r| {
            let lb = (
                (r.account.clone(), r.region.clone()),
                r.load_balancer.to_string(),
            );
            (r.service.is_some() || !in_service.contains(&lb))
                && seen.insert((lb, r.service.clone()))
        });
        Ok(refs)
    }

    /// `entries` plus the entries of allowlist files and of the config
    /// file's named allowlists: what a command adds to an allowlist.
    pub fn allowlist_with(
        &self,
        entries: Allowlist,
        files: &[PathBuf],
        names: &[String],
    ) -> Result<Allowlist> {
        let mut list = entries;
        for file in files {
            list = list.union(&Allowlist::from_file(file)?)?;
        }
        for name in names {
            let Some(config) = &self.config else {
                return Err(Error::invalid(
                    format!("allowlist {name:?}"),
                    "named allowlists come from a config file, and none was loaded",
                ));
            };
            list = list.union(config.named_allowlist(name)?)?;
        }
        Ok(list)
    }

    /// The account and regions a load balancer (of `service`, if any) is
    /// looked up in:
    /// - the account: the service's, else (for an ARN) the config account
    ///   with the ARN's account ID; an ARN in an account the config does not
    ///   name, when it names some, is refused (maint has no credentials
    ///   there); else the credentials' own;
    /// - the regions: an ARN's own (CloudFront's [`GLOBAL`] for a
    ///   distribution); for a name, the service's region, else every region
    ///   of its account, else the fleet's default.
    fn places_of(
        &self,
        service: Option<&Service>,
        lb: &LoadBalancerRef,
    ) -> std::result::Result<Vec<Place>, String> {
        let mut account = service.and_then(|s| s.account.clone());
        if let (None, Some(arn), Some(config)) = (&account, lb.arn(), &self.config) {
            let (id, accounts) = (arn.account_id(), &config.accounts);
            if !id.is_empty() && !accounts.is_empty() {
                match config.account_with_id(id) {
                    Some(a) => account = Some(a.name.clone()),
                    None => {
                        return Err(format!(
                            "{ACCOUNT_PROBLEM} {id}: add [accounts.NAME] with a role_arn or \
                             profile there (or id = \"{id}\" if maint's own credentials are \
                             in it); accounts: {}",
                            accounts
                                .values()
                                .map(ToString::to_string)
                                .collect::<Vec<_>>()
                                .join(", ")
                        ))
                    }
                }
            }
        }
        let regions = match lb {
            LoadBalancerRef::Arn(arn) => vec![Some(arn.region().to_string())],
            LoadBalancerRef::Distribution(_) => vec![Some(GLOBAL.to_string())],
            LoadBalancerRef::Name(_) => self.name_regions(service, account.as_deref()),
        };
        Ok(regions
            .into_iter()
            .map(|region| (account.clone(), region))
            .collect())
    }

    /// The regions a load balancer named by name (of `service`, if any,
    /// in `account`) is looked up in: the service's region, else every
    /// region of the account, else the fleet's default.
    fn name_regions(
        &self,
        service: Option<&Service>,
        account: Option<&str>,
    ) -> Vec<Option<String>> {
        if let Some(region) = service.and_then(|s| s.region.clone()) {
            return vec![Some(region)];
        }
        match self.account_regions(account) {
            regions if !regions.is_empty() => regions.into_iter().map(Some).collect(),
            _ => vec![self.default_region()],
        }
    }

    /// The config account `name` (`None`: the credentials' own account).
    pub(super) fn account(&self, name: Option<&str>) -> Result<Option<&Account>> {
        let Some(name) = name else {
            return Ok(None);
        };
        self.config
            .as_ref()
            .and_then(|c| c.accounts.get(name))
            .map(Some)
            .ok_or_else(|| Error::invalid(format!("account {name:?}"), "not in the config file"))
    }

    /// The regions of the config account `name` (none for the credentials'
    /// own account, or an account that names none).
    fn account_regions(&self, name: Option<&str>) -> Vec<String> {
        self.account(name)
            .ok()
            .flatten()
            .map(|a| a.regions.clone())
            .unwrap_or_default()
    }

    /// Where an account's CloudFront backend is made beside: its first
    /// region, else the fleet's default.
    pub(super) fn home_region(&self, account: Option<&str>) -> Option<String> {
        self.account_regions(account)
            .into_iter()
            .next()
            .or_else(|| self.default_region())
    }

    /// Makes the backend of each place the targets are in, before any
    /// look-up, so that an account maint cannot act in (its role cannot be
    /// assumed) is one error for the whole command, not one per target.
    pub(super) async fn open_accounts(&self, targets: &[TargetRef]) -> Result<()> {
        let mut places: Vec<Place> = Vec::new();
        for t in targets {
            let place = (t.account.clone(), t.region.clone());
            if !places.contains(&place) {
                places.push(place);
            }
        }
        self.open_places(&places).await
    }

    /// Makes the backend of each of `places`; fails with every account that
    /// could not be opened, each named once.
    pub(super) async fn open_places(&self, places: &[Place]) -> Result<()> {
        // Side by side: a role is assumed once per account however many of
        // its Regions ask (the WAF factory shares it).
        let opened = places
            .iter()
            .filter(|place| place.0.is_some())
            .map(|place| async move { (place, self.backend(place).await) });
        let mut failures: Vec<(String, Error)> = Vec::new();
        for (place, result) in futures::future::join_all(opened).await {
            let (Some(account), Err(e)) = (&place.0, result) else {
                continue;
            };
            let label = format!("{}{account}", crate::error::ACCOUNT_LABEL);
            if !failures.iter().any(|(l, _)| *l == label) {
                failures.push((label, e));
            }
        }
        match failures.len() {
            0 => Ok(()),
            _ => Err(Error::Unresolved { failures }),
        }
    }

    /// The accounts and regions `status`, `cleanup` and `exit --expired`
    /// without targets cover: the credentials' own account in the default
    /// region, each config account in each of its regions, then every
    /// other place a config service uses.
    pub fn places(&self) -> Vec<Place> {
        let mut places: Vec<Place> = vec![(None, self.default_region())];
        let mut add = |place: Place| {
            if !places.contains(&place) {
                places.push(place);
            }
        };
        if let Some(config) = &self.config {
            for account in config.accounts.values() {
                let name = Some(account.name.clone());
                if account.regions.is_empty() {
                    add((name.clone(), self.default_region()));
                }
                for region in &account.regions {
                    add((name.clone(), Some(region.clone())));
                }
            }
            for service in config.services.values() {
                let account = service.account.as_deref();
                for region in self.name_regions(Some(service), account) {
                    add((service.account.clone(), region));
                }
                let lbs = service
                    .load_balancers
                    .iter()
                    .filter_map(|lb| self.places_of(Some(service), lb).ok());
                for place in lbs.flatten() {
                    add(place);
                }
            }
        }
        places
    }

    /// The regions of [`Fleet::places`], each once.
    pub fn regions(&self) -> Vec<Option<String>> {
        let mut regions = Vec::new();
        for (_, region) in self.places() {
            if !regions.contains(&region) {
                regions.push(region);
            }
        }
        regions
    }
}

/// What an ARN in an account the config does not name is told.
const ACCOUNT_PROBLEM: &str = "no account of the config file is";
