//! Looking load balancers up in ELBv2.

use super::*;

impl WafBackend {
    pub(super) async fn describe(
        &self,
        names: &[String],
        arns: &[String],
    ) -> Result<Vec<elbv2::types::LoadBalancer>> {
        let out = self
            .call(
                "DescribeLoadBalancers",
                "describe load balancers",
                || async move {
                    self.elb
                        .describe_load_balancers()
                        .set_names((!names.is_empty()).then(|| names.to_vec()))
                        .set_load_balancer_arns((!arns.is_empty()).then(|| arns.to_vec()))
                        .send()
                        .await
                        .map_err(|e| self.aws_error("DescribeLoadBalancers", e))
                },
            )
            .await?;
        Ok(out.load_balancers().to_vec())
    }

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
                    self.describe(&[], &keys).await
                } else {
                    self.describe(&keys, &[]).await
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
}
