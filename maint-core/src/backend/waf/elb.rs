//! Looking load balancers up in ELBv2.
use std::collections::HashMap;

use aws_sdk_elasticloadbalancingv2 as elbv2;

use super::errors::{code, is_code};
use super::store::WafStore;
use crate::platform::LbController;
use crate::target::{not_an_alb, wrong_region, LoadBalancerRef, ResourceArn};
use crate::{Error, Result};

impl WafStore {
    /// Describes load balancers by name or ARN, 20 per call (ELB's limit);
    /// when a batch has an unknown one (ELB then fails the whole call), each
    /// of the batch is looked up alone to tell which.
    pub(super) async fn describe_many(
        &self,
        keys: &[String],
        by_arn: bool,
    ) -> Result<HashMap<String, Option<elbv2::types::LoadBalancer>>> {
        // ELB answers 20 per call; the calls of one look-up go at once.
        let chunks = keys.chunks(20).map(|chunk| async move {
            let call = |keys: Vec<String>| async move {
                if by_arn {
                    self.client.describe_load_balancers(&[], &keys).await
                } else {
                    self.client.describe_load_balancers(&keys, &[]).await
                }
            };
            let lbs = match call(chunk.to_vec()).await {
                Err(e) if is_code(&e, &code::LB_NOT_FOUND) && chunk.len() > 1 => {
                    let mut all = Vec::new();
                    for key in chunk {
                        match call(vec![key.clone()]).await {
                            Err(e) if is_code(&e, &code::LB_NOT_FOUND) => {}
                            other => all.extend(other?),
                        }
                    }
                    all
                }
                Err(e) if is_code(&e, &code::LB_NOT_FOUND) => Vec::new(),
                other => other?,
            };
            Ok::<_, Error>((chunk, lbs))
        });
        let mut found = HashMap::new();
        for (chunk, lbs) in futures::future::try_join_all(chunks).await? {
            for key in chunk {
                let lb = lbs
                    .iter()
                    .find(|lb| {
                        if by_arn {
                            lb.load_balancer_arn() == Some(key.as_str())
                        } else {
                            lb.load_balancer_name() == Some(key.as_str())
                        }
                    })
                    .cloned();
                found.insert(key.clone(), lb);
            }
        }
        Ok(found)
    }

    /// Whether each of `resources` (regional resources AWS WAF protects
    /// other than load balancers) exists, from `GetWebACLForResource`,
    /// which answers `WAFNonexistentItemException` for one that does not
    /// (one call per resource, in its quota; no SDK per kind).
    async fn look_up_others(&self, resources: &[&ResourceArn]) -> Result<HashMap<String, bool>> {
        let calls = resources.iter().map(|arn| async move {
            match self.client.get_web_acl_for_resource(arn.as_str()).await {
                Ok(_) => Ok((arn.to_string(), true)),
                Err(e) if is_code(&e, &[code::NONEXISTENT]) => Ok((arn.to_string(), false)),
                Err(e) => Err(e),
            }
        });
        Ok(futures::future::try_join_all(calls)
            .await?
            .into_iter()
            .collect())
    }

    /// The AWS Load Balancer Controller of each of `lbs`, from their tags
    /// (`DescribeTags`, 20 per call, the calls at once); resources that are
    /// not load balancers have none.
    pub(super) async fn controllers(
        &self,
        lbs: &[ResourceArn],
    ) -> Result<Vec<Option<LbController>>> {
        let arns: Vec<String> = lbs
            .iter()
            .filter(|lb| lb.is_load_balancer())
            .map(ToString::to_string)
            .collect();
        let calls = arns
            .chunks(20)
            .map(|chunk| self.client.describe_tags(chunk));
        let tagged: HashMap<String, Vec<(String, String)>> = futures::future::try_join_all(calls)
            .await?
            .into_iter()
            .flatten()
            .collect();
        Ok(lbs
            .iter()
            .map(|arn| {
                tagged.get(arn.as_str()).and_then(|tags| {
                    LbController::from_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                })
            })
            .collect())
    }

    /// The load balancers `refs` name (by name or ARN), each checked to be
    /// an Application Load Balancer of this Region.
    pub(super) async fn resolve(
        &self,
        refs: &[LoadBalancerRef],
    ) -> Result<Vec<Result<ResourceArn>>> {
        let names: Vec<String> = refs
            .iter()
            .filter_map(|r| match r {
                LoadBalancerRef::Name(n) => Some(n.to_string()),
                LoadBalancerRef::Arn(_) | LoadBalancerRef::Distribution(_) => None,
            })
            .collect();
        let arns: Vec<String> = refs
            .iter()
            .filter_map(|r| match r {
                LoadBalancerRef::Arn(a) if a.region() == self.region() && a.is_load_balancer() => {
                    Some(a.to_string())
                }
                _ => None,
            })
            .collect();
        let others: Vec<&ResourceArn> = refs
            .iter()
            .filter_map(|r| match r {
                LoadBalancerRef::Arn(a) if a.region() == self.region() && !a.is_load_balancer() => {
                    Some(a)
                }
                _ => None,
            })
            .collect();
        let (by_name, by_arn, others) = futures::try_join!(
            self.describe_many(&names, false),
            self.describe_many(&arns, true),
            self.look_up_others(&others),
        )?;
        Ok(refs
            .iter()
            .map(|r| {
                let (key, found) = match r {
                    LoadBalancerRef::Distribution(_) => {
                        return Err(Error::unexpected(format!(
                            "{r} went to the regional backend, not CloudFront's"
                        )))
                    }
                    LoadBalancerRef::Arn(a) if a.kind().is_global() => {
                        return Err(Error::unexpected(format!(
                            "{a} went to the regional backend, not CloudFront's"
                        )))
                    }
                    LoadBalancerRef::Arn(a) if a.region() != self.region() => {
                        return Err(wrong_region(a, self.region()).into())
                    }
                    LoadBalancerRef::Arn(a) if !a.is_load_balancer() => {
                        return match others.get(a.as_str()) {
                            Some(true) => Ok(a.clone()),
                            _ => Err(Error::TargetNotFound {
                                target: a.to_string(),
                            }),
                        };
                    }
                    LoadBalancerRef::Arn(a) => (a.to_string(), by_arn.get(a.as_str())),
                    LoadBalancerRef::Name(n) => (n.to_string(), by_name.get(n.as_str())),
                };
                let lb = found
                    .cloned()
                    .flatten()
                    .ok_or_else(|| Error::TargetNotFound {
                        target: key.clone(),
                    })?;
                let kind = lb.r#type().map(|t| t.as_str()).unwrap_or("unknown");
                if kind != "application" {
                    return Err(not_an_alb(&key, kind).into());
                }
                let arn = lb.load_balancer_arn().unwrap_or_default();
                Ok(ResourceArn::parse(arn)?)
            })
            .collect())
    }
}
