//! What the user named, as load balancers: services expanded, every name
//! checked before anything talks to AWS, a load balancer named twice acted
//! on once; the allowlists a command adds; the regions `cleanup` covers.

use std::collections::HashSet;
use std::path::PathBuf;

use super::engine::{Fleet, GLOBAL};
use crate::allowlist::Allowlist;
use crate::config::did_you_mean;
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
                let region = service.region.clone().or_else(|| self.default_region());
                for lb in &service.load_balancers {
                    refs.push(TargetRef {
                        given: t.clone(),
                        service: Some(service.name.clone()),
                        region: match lb {
                            LoadBalancerRef::Arn(arn) => Some(arn.region().to_string()),
                            LoadBalancerRef::Name(_) => region.clone(),
                            LoadBalancerRef::Distribution(_) => Some(GLOBAL.to_string()),
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
                        LoadBalancerRef::Distribution(_) => Some(GLOBAL.to_string()),
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
                    "not a service, load balancer name, resource ARN, or CloudFront distribution ID \
                     or domain name{services_note}: {}",
                    problems.join("; ")
                ),
            ));
        }
        // The same load balancer named twice (say, by a service and by
        // name) is acted on once: in its service's window. Two services
        // sharing a load balancer (each scoped to its own hosts) are two
        // windows, each acted on.
        let in_service: HashSet<(Option<String>, String)> = refs
            .iter()
            .filter(|r| r.service.is_some())
            .map(|r| (r.region.clone(), r.load_balancer.to_string()))
            .collect();
        let mut seen = HashSet::new();
        refs.retain(|r| {
            let lb = (r.region.clone(), r.load_balancer.to_string());
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

    /// The regions `cleanup` covers: the default region, then every other
    /// region a config service uses (its own, or its load balancer ARNs').
    pub fn regions(&self) -> Vec<Option<String>> {
        let mut regions = vec![self.default_region()];
        if let Some(config) = &self.config {
            for service in config.services.values() {
                let own = service.region.clone().or_else(|| self.default_region());
                let arns = service.load_balancers.iter().filter_map(|lb| match lb {
                    LoadBalancerRef::Arn(a) => Some(Some(a.region().to_string())),
                    LoadBalancerRef::Distribution(_) => Some(Some(GLOBAL.to_string())),
                    LoadBalancerRef::Name(_) => None,
                });
                for region in std::iter::once(own).chain(arns) {
                    if !regions.contains(&region) {
                        regions.push(region);
                    }
                }
            }
        }
        regions
    }
}
