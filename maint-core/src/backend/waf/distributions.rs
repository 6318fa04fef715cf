//! CloudFront distributions: a web ACL of scope CLOUDFRONT is not
//! associated with `AssociateWebACL` but set in the distribution's config
//! (`WebACLId`), through CloudFront's API. This file gives the store the
//! same three things it has for a regional resource: what a distribution is
//! associated with, setting or clearing that (conditionally, on the ETag
//! of the config read), and which distributions a web ACL protects. It
//! also looks distributions up by ID, ARN or alternate domain name.
//!
//! A write changes only `WebACLId`: the config is read, that one member
//! changed, and written back with `IfMatch` set to the ETag of the read.
//! Another writer who changed the distribution in between makes AWS answer
//! `PreconditionFailed`: nothing is written, and the caller reads again
//! (its change survives). A distribution whose web ACL is no longer the
//! one maint expects is never written: the same code, so the caller reads
//! again and refuses by what it finds.

use aws_sdk_cloudfront::types::DistributionSummary;
use aws_sdk_wafv2::operation::get_web_acl_for_resource::GetWebAclForResourceOutput;

use super::client::WafClient;
use super::errors::code;
use super::store::WafStore;
use crate::error::AwsError;
use crate::target::{LoadBalancerRef, ResourceArn, ResourceKind};
use crate::{Error, Result};

/// A distribution's ID, when `resource_arn` is a distribution's ARN.
pub(super) fn distribution_id(resource_arn: &str) -> Option<String> {
    ResourceArn::parse(resource_arn)
        .ok()
        .filter(|arn| arn.kind() == ResourceKind::CloudFrontDistribution)
        .map(|arn| arn.id().to_string())
}

/// The name and ID of a web ACL from its ARN
/// (`arn:aws:wafv2:us-east-1:<account>:global/webacl/<name>/<id>`).
fn web_acl_name_and_id(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.rsplit('/');
    let id = parts.next()?;
    let name = parts.next()?;
    (parts.next()? == "webacl").then_some((name, id))
}

/// The error that sends the caller back to read again: the distribution
/// changed since its config was read (AWS's own code for that, so the
/// caller's retry on it covers both).
fn changed_since(id: &str, found: &str) -> Error {
    let found = if found.is_empty() {
        "none".to_string()
    } else {
        found.to_string()
    };
    Error::Aws(AwsError {
        operation: "UpdateDistribution".into(),
        code: code::PRECONDITION_FAILED.into(),
        message: format!(
            "distribution {id} changed since it was read (its web ACL is now {found}); \
             reading it again"
        ),
        request_id: None,
        source: None,
    })
}

impl WafClient {
    /// What distribution `id` is associated with, in the shape
    /// `GetWebACLForResource` gives for a regional resource: its config's
    /// `WebACLId`, and that web ACL read (`GetWebACL`). A distribution that
    /// does not exist: `NoSuchDistribution`.
    pub(super) async fn distribution_web_acl(
        &self,
        id: &str,
    ) -> Result<GetWebAclForResourceOutput> {
        let (config, _) = self.get_distribution_config(id).await?;
        let acl_arn = config.web_acl_id().unwrap_or_default();
        if acl_arn.is_empty() {
            return Ok(GetWebAclForResourceOutput::builder().build());
        }
        let Some((name, acl_id)) = web_acl_name_and_id(acl_arn) else {
            return Err(Error::Conflict {
                resource: id.to_string(),
                message: format!(
                    "it is protected by {acl_arn}, an AWS WAF Classic web ACL; maint works \
                     with AWS WAF (v2) only, so it leaves this distribution alone"
                ),
            });
        };
        let acl = self.get_web_acl(name, acl_id).await?;
        Ok(GetWebAclForResourceOutput::builder()
            .set_web_acl(acl.web_acl)
            .build())
    }

    /// Sets distribution `id`'s web ACL to `new` (`""`: none), only if it
    /// is `expected` now (`""`: none): the config is read, only `WebACLId`
    /// changed, and written back on the ETag of that read. When the web
    /// ACL is not `expected`, or AWS answers that the distribution changed
    /// since the read (`PreconditionFailed`), nothing is written and the
    /// error has that code: the caller reads again.
    pub(super) async fn set_distribution_web_acl(
        &self,
        id: &str,
        expected: &str,
        new: &str,
    ) -> Result<()> {
        let (mut config, etag) = self.get_distribution_config(id).await?;
        let found = config.web_acl_id().unwrap_or_default().to_string();
        if found != expected {
            return Err(changed_since(id, &found));
        }
        config.web_acl_id = Some(new.to_string());
        tracing::info!(
            target: super::client::CALLS_LOG,
            distribution = id,
            web_acl = new,
            "UpdateDistribution: setting its web ACL"
        );
        self.update_distribution(id, &etag, config).await
    }

    /// Every distribution of the account, page by page.
    pub(super) async fn all_distributions(&self) -> Result<Vec<DistributionSummary>> {
        let mut all = Vec::new();
        let mut marker: Option<String> = None;
        loop {
            let (page, next) = self.list_distributions(marker.as_deref()).await?;
            all.extend(page);
            match next {
                Some(next) => marker = Some(next),
                None => return Ok(all),
            }
        }
    }

    /// The ARNs of the distributions web ACL `acl_arn` protects, from
    /// `ListDistributions` (every summary carries its `WebACLId`).
    pub(super) async fn distributions_under(&self, acl_arn: &str) -> Result<Vec<String>> {
        Ok(self
            .all_distributions()
            .await?
            .iter()
            .filter(|d| d.web_acl_id() == acl_arn)
            .map(|d| d.arn().to_string())
            .collect())
    }
}

impl WafStore {
    /// The distributions `refs` name (by ARN, ID or alternate domain
    /// name), each looked up in CloudFront: a distribution that does not
    /// exist, or a domain name no distribution serves, is
    /// [`Error::TargetNotFound`]; anything that is not a distribution is
    /// bad input (the fleet sends a CloudFront backend only distributions).
    /// One listing of the account's distributions serves every ID and
    /// domain name.
    pub(super) async fn resolve_distributions(
        &self,
        refs: &[LoadBalancerRef],
    ) -> Result<Vec<Result<ResourceArn>>> {
        let listing = if refs.iter().any(|r| r.arn().is_none()) {
            self.client.all_distributions().await?
        } else {
            Vec::new()
        };
        let mut found = Vec::with_capacity(refs.len());
        for r in refs {
            found.push(match r {
                LoadBalancerRef::Arn(arn) if arn.kind() == ResourceKind::CloudFrontDistribution => {
                    match self.client.get_distribution(arn.id()).await {
                        Ok(d) if d.arn() == arn.as_str() => Ok(arn.clone()),
                        Ok(_) => Err(Error::TargetNotFound {
                            target: arn.to_string(),
                        }),
                        Err(e) if super::errors::is_code(&e, &[code::NO_SUCH_DISTRIBUTION]) => {
                            Err(Error::TargetNotFound {
                                target: arn.to_string(),
                            })
                        }
                        Err(e) => Err(e),
                    }
                }
                LoadBalancerRef::Distribution(given) => match find_distribution(&listing, given) {
                    Some(d) => ResourceArn::parse(d.arn()).map_err(Error::from),
                    None => Err(Error::TargetNotFound {
                        target: given.clone(),
                    }),
                },
                other => Err(Error::invalid(
                    format!("target {other}"),
                    "not a CloudFront distribution, given to the CloudFront backend",
                )),
            });
        }
        Ok(found)
    }

    /// Distribution `id`'s status: `Deployed`, or `InProgress` while a
    /// change reaches CloudFront's edge locations.
    pub(super) async fn distribution_status(&self, id: &str) -> Result<String> {
        Ok(self.client.get_distribution(id).await?.status().to_string())
    }
}

/// The distribution `given` names in `listing`: by ID, or by one of its
/// alternate domain names (compared without regard to case; a wildcard
/// alias `*.example.com` serves `www.example.com` when no alias names it
/// exactly).
fn find_distribution<'a>(
    listing: &'a [DistributionSummary],
    given: &str,
) -> Option<&'a DistributionSummary> {
    let aliases = |d: &'a DistributionSummary| {
        d.aliases()
            .map(|a| a.items())
            .unwrap_or_default()
            .iter()
            .map(String::as_str)
    };
    listing
        .iter()
        .find(|d| d.id() == given)
        .or_else(|| {
            listing
                .iter()
                .find(|d| aliases(d).any(|a| a.eq_ignore_ascii_case(given)))
        })
        .or_else(|| {
            let parent = given.split_once('.')?.1;
            listing.iter().find(|d| {
                aliases(d).any(|a| {
                    a.strip_prefix("*.")
                        .is_some_and(|p| p.eq_ignore_ascii_case(parent))
                })
            })
        })
}

#[cfg(test)]
mod tests {
    use aws_sdk_cloudfront::types::Aliases;

    use super::*;

    fn summary(id: &str, aliases: &[&str]) -> DistributionSummary {
        let mut a = Aliases::builder().quantity(aliases.len() as i32);
        for alias in aliases {
            a = a.items(*alias);
        }
        DistributionSummary::builder()
            .id(id)
            .arn(format!(
                "arn:aws:cloudfront::123456789012:distribution/{id}"
            ))
            .aliases(a.build().expect("aliases"))
            .web_acl_id("")
            .build_with_defaults()
    }

    trait Defaults {
        fn build_with_defaults(self) -> DistributionSummary;
    }

    impl Defaults for aws_sdk_cloudfront::types::builders::DistributionSummaryBuilder {
        fn build_with_defaults(self) -> DistributionSummary {
            self.status("Deployed")
                .last_modified_time(aws_smithy_types::DateTime::from_secs(0))
                .domain_name("d111111abcdef8.cloudfront.net")
                .comment("")
                .price_class(aws_sdk_cloudfront::types::PriceClass::PriceClassAll)
                .enabled(true)
                .http_version(aws_sdk_cloudfront::types::HttpVersion::Http2)
                .is_ipv6_enabled(true)
                .staging(false)
                .build()
                .expect("a summary")
        }
    }

    #[test]
    fn a_distribution_is_found_by_id_alias_or_wildcard_alias() {
        let listing = [
            summary("E2QWRUHAPOMQZL", &["www.example.com"]),
            summary("EDFDVBD6EXAMPLE", &["*.example.org", "Shop.Example.net"]),
        ];
        let id = |given| find_distribution(&listing, given).map(|d| d.id().to_string());
        assert_eq!(id("E2QWRUHAPOMQZL").as_deref(), Some("E2QWRUHAPOMQZL"));
        assert_eq!(id("www.example.com").as_deref(), Some("E2QWRUHAPOMQZL"));
        assert_eq!(id("shop.example.net").as_deref(), Some("EDFDVBD6EXAMPLE"));
        assert_eq!(id("api.example.org").as_deref(), Some("EDFDVBD6EXAMPLE"));
        assert_eq!(id("a.b.example.org"), None, "a wildcard covers one label");
        assert_eq!(id("example.com"), None);
        assert_eq!(id("E000000000000"), None);
    }

    #[test]
    fn a_web_acl_arn_gives_its_name_and_id() {
        assert_eq!(
            web_acl_name_and_id(
                "arn:aws:wafv2:us-east-1:123456789012:global/webacl/maint-svc-shop/abc-123"
            ),
            Some(("maint-svc-shop", "abc-123"))
        );
        assert_eq!(
            web_acl_name_and_id("a1b2c3d4-5678-90ab-cdef-EXAMPLE11111"),
            None
        );
    }
}
