//! AWS accounts of an organisation (`[accounts.NAME]` in the config file):
//! which account a target is in, and how maint gets credentials there (a
//! role assumed with STS, a named profile, or the caller's own
//! credentials).
//!
//! ```toml
//! [accounts.prod]
//! role_arn = "arn:aws:iam::111122223333:role/maint"  # assumed with STS
//! external_id = "..."                                 # optional
//! regions = ["us-east-1", "eu-west-1"]                # optional default Regions
//!
//! [accounts.staging]
//! profile = "staging"                                 # the AWS CLI's profile
//! id = "444455556666"                                 # optional: ARNs in it use it
//!
//! [accounts.tools]
//! id = "123456789012"       # neither: the credentials maint runs with
//! ```
//!
//! AWS's call-rate quotas are per account and Region, so the fleet keeps
//! one backend (and one set of paced call-rate buckets) per account and
//! Region, and runs different accounts and Regions side by side.

use std::fmt;
#[cfg(feature = "config")]
use std::ops::Range;

#[cfg(feature = "config")]
use toml::Spanned;

/// How maint gets credentials in an account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountAccess {
    /// A role assumed with STS `AssumeRole`, once per run per account, with
    /// the caller's credentials.
    Role {
        /// The role's ARN (`arn:aws:iam::<account>:role/<name>`).
        arn: String,
        /// The external ID the role's trust policy asks for, if any.
        external_id: Option<String>,
    },
    /// A named profile of the AWS CLI's config and credentials files.
    Profile(String),
    /// The credentials maint runs with (the account only names them, so
    /// that ARNs in it are accepted and output groups by its name).
    Caller,
}

/// An AWS account of the config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// Its name (its key under `[accounts]`), shown in output.
    pub name: String,
    /// Its 12-digit ID: the role ARN's, or the `id` given; `None` for a
    /// profile given without an `id`.
    pub id: Option<String>,
    /// How maint gets credentials there.
    pub access: AccountAccess,
    /// The Regions its services are in when they name none (empty: the
    /// fleet's default Region); `status`, `cleanup` and `exit --expired`
    /// without targets cover each of them.
    pub regions: Vec<String>,
}

impl Account {
    /// The role assumed in this account, if any.
    pub fn role_arn(&self) -> Option<&str> {
        match &self.access {
            AccountAccess::Role { arn, .. } => Some(arn),
            _ => None,
        }
    }
}

impl fmt::Display for Account {
    /// `prod (111122223333)`, or the name alone when the ID is unknown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.id {
            Some(id) => write!(f, "{} ({id})", self.name),
            None => f.write_str(&self.name),
        }
    }
}

/// The account ID of an IAM role's ARN
/// (`arn:<partition>:iam::<12 digits>:role/<path/><name>`), or what is
/// wrong with it.
pub fn role_account(arn: &str) -> Result<&str, String> {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let expected = "expected arn:aws:iam::<12-digit account>:role/<name>";
    if parts.len() != 6 || parts[0] != "arn" || !parts[1].starts_with("aws") {
        return Err(format!("{arn:?} is not an ARN; {expected}"));
    }
    if parts[2] != "iam" || !parts[3].is_empty() {
        return Err(format!("{arn:?} is not an IAM role's ARN; {expected}"));
    }
    let account = parts[4];
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "{arn:?}: the account {account:?} is not a 12-digit AWS account ID"
        ));
    }
    let Some(name) = parts[5].strip_prefix("role/") else {
        return Err(format!("{arn:?} is not a role's ARN; {expected}"));
    };
    let name = name.rsplit('/').next().unwrap_or_default();
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c))
    {
        return Err(format!(
            "{arn:?}: the role name must be 1-64 letters, digits and +=,.@_-"
        ));
    }
    Ok(account)
}

/// Whether `id` is a 12-digit AWS account ID.
pub fn is_account_id(id: &str) -> bool {
    id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit())
}

/// What is wrong with an external ID (STS: 2 to 1224 of letters, digits
/// and `+=,.@:/-_`), if anything.
pub fn external_id_problem(id: &str) -> Option<String> {
    if !(2..=1224).contains(&id.len()) {
        return Some(format!(
            "an external ID has 2 to 1224 characters, not {}",
            id.len()
        ));
    }
    id.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "+=,.@:/-_".contains(*c)))
        .map(|c| format!("{c:?} cannot be in an external ID (letters, digits and +=,.@:/-_)"))
}

/// The STS session name maint assumes roles with: `maint-<caller>`, where
/// the caller is the last part of the ARN of the credentials maint runs
/// with (a user's name, or an assumed role's session name), so that
/// CloudTrail in the member account says who ran it. Kept to what STS
/// takes (2-64 of letters, digits and `+=,.@-_`).
pub fn session_name(caller_arn: Option<&str>) -> String {
    let caller = caller_arn
        .and_then(|arn| arn.rsplit(['/', ':']).next())
        .filter(|c| !c.is_empty())
        .unwrap_or("caller");
    let clean: String = caller
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@-_".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    let mut name = format!("maint-{clean}");
    name.truncate(64);
    name
}

/// `[accounts.NAME]` as the config file gives it.
#[cfg(feature = "config")]
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAccount {
    role_arn: Option<Spanned<String>>,
    external_id: Option<Spanned<String>>,
    profile: Option<Spanned<String>>,
    id: Option<Spanned<String>>,
    #[serde(default)]
    regions: Vec<Spanned<String>>,
}

/// A problem in a config account: where (`None`: the account's table), the
/// key under it (`".role_arn"`; `""`: the table) and what is wrong.
#[cfg(feature = "config")]
pub(crate) type AccountProblem = (Option<Range<usize>>, &'static str, String);

#[cfg(feature = "config")]
impl Account {
    /// One `[accounts.NAME]`: a role ARN (and its external ID), or a
    /// profile, or neither (the caller's own credentials, named by `id`);
    /// an `id` must agree with the role's account; its Regions are valid.
    /// Every problem is returned, each with its place.
    pub(crate) fn from_config(
        name: &str,
        raw: &RawAccount,
    ) -> Result<Account, Vec<AccountProblem>> {
        let mut found: Vec<AccountProblem> = Vec::new();
        let mut id = None;
        if let Some(given) = &raw.id {
            if is_account_id(given.get_ref()) {
                id = Some(given.get_ref().clone());
            } else {
                let message = format!("{:?} is not a 12-digit AWS account ID", given.get_ref());
                found.push((Some(given.span()), ".id", message));
            }
        }
        let access = match (&raw.role_arn, &raw.profile) {
            (Some(_), Some(profile)) => {
                let message = "give either role_arn (assumed with STS) or profile, not both";
                return Err(vec![(Some(profile.span()), ".profile", message.into())]);
            }
            (Some(role), None) => {
                match role_account(role.get_ref()) {
                    Ok(account) => match &id {
                        Some(given) if given != account => found.push((
                            Some(role.span()),
                            ".role_arn",
                            format!("the role is in account {account}, but id = {given:?}"),
                        )),
                        _ => id = Some(account.to_string()),
                    },
                    Err(message) => found.push((Some(role.span()), ".role_arn", message)),
                }
                let external_id = raw.external_id.as_ref().and_then(|e| {
                    let problem = external_id_problem(e.get_ref());
                    if let Some(message) = problem {
                        found.push((Some(e.span()), ".external_id", message));
                        return None;
                    }
                    Some(e.get_ref().clone())
                });
                AccountAccess::Role {
                    arn: role.get_ref().clone(),
                    external_id,
                }
            }
            (None, profile) => {
                if let Some(e) = &raw.external_id {
                    let message = "an external ID goes with a role_arn, and there is none";
                    found.push((Some(e.span()), ".external_id", message.into()));
                }
                match profile {
                    Some(p) if p.get_ref().trim().is_empty() => {
                        found.push((
                            Some(p.span()),
                            ".profile",
                            "the profile name is empty".into(),
                        ));
                        return Err(found);
                    }
                    Some(p) => AccountAccess::Profile(p.get_ref().clone()),
                    None if raw.id.is_none() => {
                        let message = "give role_arn (a role maint assumes there), profile (an AWS \
                                       CLI profile), or id (the account of maint's own credentials)";
                        found.push((None, "", message.into()));
                        return Err(found);
                    }
                    None => AccountAccess::Caller,
                }
            }
        };
        let mut regions: Vec<String> = Vec::new();
        for region in &raw.regions {
            match crate::target::check_region(region.get_ref()) {
                Err(_) => found.push((
                    Some(region.span()),
                    ".regions",
                    format!(
                        "{:?} is not an AWS region (like us-east-1)",
                        region.get_ref()
                    ),
                )),
                Ok(()) if !regions.contains(region.get_ref()) => {
                    regions.push(region.get_ref().clone())
                }
                Ok(()) => {}
            }
        }
        if !found.is_empty() {
            return Err(found);
        }
        Ok(Account {
            name: name.to_string(),
            id,
            access,
            regions,
        })
    }

    /// Whether the account `name` (of `accounts`, the valid ones; `defined`:
    /// every name the config defines) can hold a service of `members`:
    /// it must be defined, and each member's ARN that carries an account ID
    /// must be in it. `Err(None)`: defined but invalid (reported there).
    pub(crate) fn holds(
        accounts: &std::collections::BTreeMap<String, Account>,
        name: &str,
        defined: &[&str],
        members: &[crate::target::LoadBalancerRef],
    ) -> Result<(), Option<String>> {
        let Some(account) = accounts.get(name) else {
            if defined.contains(&name) {
                return Err(None);
            }
            let hint = crate::suggest::did_you_mean(name, defined.iter().copied())
                .map(|b| format!("; did you mean {b:?}?"))
                .unwrap_or_else(|| "; define it under [accounts]".to_string());
            return Err(Some(format!("no account named {name:?}{hint}")));
        };
        let Some(id) = &account.id else {
            return Ok(());
        };
        let elsewhere: Vec<String> = members
            .iter()
            .filter_map(|lb| lb.arn())
            .filter(|arn| !arn.account_id().is_empty() && arn.account_id() != id)
            .map(ToString::to_string)
            .collect();
        if elsewhere.is_empty() {
            Ok(())
        } else {
            Err(Some(format!(
                "the account {account} does not hold {}: its ARN names another account",
                elsewhere.join(", ")
            )))
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_role_arn_gives_its_account_or_says_what_is_wrong() {
        assert_eq!(
            role_account("arn:aws:iam::111122223333:role/maint"),
            Ok("111122223333")
        );
        assert_eq!(
            role_account("arn:aws-cn:iam::111122223333:role/ops/maint"),
            Ok("111122223333")
        );
        let bad = [
            ("arn:aws:iam::12345:role/maint", "not a 12-digit"),
            ("arn:aws:iam::11112222333x:role/maint", "not a 12-digit"),
            ("arn:aws:iam::111122223333:user/maint", "not a role's ARN"),
            ("arn:aws:s3:::bucket", "not an IAM role's ARN"),
            ("maint", "not an ARN"),
            ("arn:aws:iam::111122223333:role/", "role name"),
        ];
        for (arn, says) in bad {
            let e = role_account(arn).unwrap_err();
            assert!(e.contains(says), "{arn}: {e}");
        }
    }

    #[test]
    fn the_session_name_is_maint_and_the_caller_within_sts_rules() {
        assert_eq!(
            session_name(Some("arn:aws:iam::123456789012:user/alice")),
            "maint-alice"
        );
        assert_eq!(
            session_name(Some(
                "arn:aws:sts::123456789012:assumed-role/Deploy/ci job#7"
            )),
            "maint-ci-job-7"
        );
        assert_eq!(session_name(None), "maint-caller");
        let long = format!("arn:aws:iam::123456789012:user/{}", "a".repeat(100));
        assert_eq!(session_name(Some(&long)).len(), 64);
    }

    #[test]
    fn external_ids_follow_sts_rules() {
        assert_eq!(external_id_problem("maint-prod:42"), None);
        assert!(external_id_problem("x").unwrap().contains("2 to 1224"));
        assert!(external_id_problem("a b").unwrap().contains("' '"));
    }
}
