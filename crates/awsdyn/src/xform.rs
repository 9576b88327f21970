//! boto3's names for operations: `DescribeInstances` -> `describe_instances`.
//!
//! A scan file names its calls the way boto3 names client methods, and
//! aws-auto-inventory writes each result to `<service>-<function>.json`, so Census
//! must spell them exactly as boto3 does. That is botocore's `xform_name`: a table of
//! special cases, then two regular-expression passes, reproduced here without regex.
//! `names::snake_case` is the public entry to this function.

/// Operations whose boto3 name is not what the two passes give (botocore 1.44's
/// `_xform_cache`, `_` entries).
const SPECIAL: &[(&str, &str)] = &[
    ("CreateCachediSCSIVolume", "create_cached_iscsi_volume"),
    (
        "DescribeCachediSCSIVolumes",
        "describe_cached_iscsi_volumes",
    ),
    (
        "DescribeStorediSCSIVolumes",
        "describe_stored_iscsi_volumes",
    ),
    ("CreateStorediSCSIVolume", "create_stored_iscsi_volume"),
    (
        "ListHITsForQualificationType",
        "list_hits_for_qualification_type",
    ),
    ("ExecutePartiQLStatement", "execute_partiql_statement"),
    ("ExecutePartiQLTransaction", "execute_partiql_transaction"),
    ("ExecutePartiQLBatch", "execute_partiql_batch"),
    ("CreateOAuth2Token", "create_oauth2_token"),
    ("CreateOAuth2TokenWithIAM", "create_oauth2_token_with_iam"),
    (
        "IntrospectOAuth2TokenWithIAM",
        "introspect_oauth2_token_with_iam",
    ),
    ("RevokeOAuth2TokenWithIAM", "revoke_oauth2_token_with_iam"),
    (
        "AssociateWhatsAppBusinessAccount",
        "associate_whatsapp_business_account",
    ),
    ("CreateWhatsAppDataset", "create_whatsapp_dataset"),
    ("CreateWhatsAppFlow", "create_whatsapp_flow"),
    (
        "CreateWhatsAppMessageTemplate",
        "create_whatsapp_message_template",
    ),
    (
        "CreateWhatsAppMessageTemplateFromLibrary",
        "create_whatsapp_message_template_from_library",
    ),
    (
        "CreateWhatsAppMessageTemplateMedia",
        "create_whatsapp_message_template_media",
    ),
    ("DeleteWhatsAppFlow", "delete_whatsapp_flow"),
    (
        "DeleteWhatsAppMessageMedia",
        "delete_whatsapp_message_media",
    ),
    (
        "DeleteWhatsAppMessageTemplate",
        "delete_whatsapp_message_template",
    ),
    ("DeprecateWhatsAppFlow", "deprecate_whatsapp_flow"),
    (
        "DisassociateWhatsAppBusinessAccount",
        "disassociate_whatsapp_business_account",
    ),
    (
        "GetLinkedWhatsAppBusinessAccount",
        "get_linked_whatsapp_business_account",
    ),
    (
        "GetLinkedWhatsAppBusinessAccountPhoneNumber",
        "get_linked_whatsapp_business_account_phone_number",
    ),
    ("GetOTelEnrichment", "get_otel_enrichment"),
    (
        "GetWhatsAppBusinessPublicKey",
        "get_whatsapp_business_public_key",
    ),
    ("GetWhatsAppCallPermission", "get_whatsapp_call_permission"),
    ("GetWhatsAppFlow", "get_whatsapp_flow"),
    ("GetWhatsAppFlowPreview", "get_whatsapp_flow_preview"),
    ("GetWhatsAppMessageMedia", "get_whatsapp_message_media"),
    (
        "GetWhatsAppMessageTemplate",
        "get_whatsapp_message_template",
    ),
    (
        "ListLinkedWhatsAppBusinessAccounts",
        "list_linked_whatsapp_business_accounts",
    ),
    ("ListWhatsAppFlowAssets", "list_whatsapp_flow_assets"),
    ("ListWhatsAppFlows", "list_whatsapp_flows"),
    (
        "ListWhatsAppMessageTemplates",
        "list_whatsapp_message_templates",
    ),
    (
        "ListWhatsAppTemplateLibrary",
        "list_whatsapp_template_library",
    ),
    ("PostWhatsAppMessageMedia", "post_whatsapp_message_media"),
    ("PublishWhatsAppFlow", "publish_whatsapp_flow"),
    (
        "PutWhatsAppBusinessPublicKey",
        "put_whatsapp_business_public_key",
    ),
    (
        "PutWhatsAppBusinessAccountEventDestinations",
        "put_whatsapp_business_account_event_destinations",
    ),
    (
        "SendWhatsAppConversionEvent",
        "send_whatsapp_conversion_event",
    ),
    ("SendWhatsAppMessage", "send_whatsapp_message"),
    ("SendWhatsAppCallEvent", "send_whatsapp_call_event"),
    ("StartOTelEnrichment", "start_otel_enrichment"),
    ("StopOTelEnrichment", "stop_otel_enrichment"),
    ("UpdateOTelEnrichment", "update_otel_enrichment"),
    ("UpdateWhatsAppFlow", "update_whatsapp_flow"),
    ("UpdateWhatsAppFlowAssets", "update_whatsapp_flow_assets"),
    (
        "UpdateLinkedWhatsAppBusinessAccountPhoneNumber",
        "update_linked_whatsapp_business_account_phone_number",
    ),
    (
        "UpdateWhatsAppMessageTemplate",
        "update_whatsapp_message_template",
    ),
];

/// boto3's method name for a model operation name, as botocore's `xform_name(name)`.
pub fn method_name(operation: &str) -> String {
    if operation.contains('_') {
        return operation.to_string();
    }
    if let Some((_, name)) = SPECIAL.iter().find(|(op, _)| *op == operation) {
        return (*name).to_string();
    }
    let chars: Vec<char> = operation.chars().collect();
    // `[A-Z]{2,}s$`: a trailing plural acronym (`DescribeACLs`) becomes one word.
    let mut name: Vec<char> = match plural_acronym_start(&chars) {
        Some(start) => {
            let mut v = chars[..start].to_vec();
            v.push('_');
            v.extend(chars[start..].iter().flat_map(|c| c.to_lowercase()));
            v
        }
        None => chars,
    };
    name = split_before_words(&name);
    split_after_lower(&name)
        .into_iter()
        .flat_map(char::to_lowercase)
        .collect()
}

/// Where `[A-Z]{2,}s$` matches, if it does (the leftmost start of the longest run).
fn plural_acronym_start(chars: &[char]) -> Option<usize> {
    let (&last, rest) = chars.split_last()?;
    if last != 's' {
        return None;
    }
    let run = rest
        .iter()
        .rev()
        .take_while(|c| c.is_ascii_uppercase())
        .count();
    (run >= 2).then(|| rest.len() - run)
}

/// `(.)([A-Z][a-z]+)` -> `\1_\2`, left to right without overlaps.
fn split_before_words(s: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        let word = s.get(i + 1).is_some_and(|c| c.is_ascii_uppercase())
            && s.get(i + 2).is_some_and(|c| c.is_ascii_lowercase());
        if word {
            let end = i
                + 3
                + s[i + 3..]
                    .iter()
                    .take_while(|c| c.is_ascii_lowercase())
                    .count();
            out.push(s[i]);
            out.push('_');
            out.extend_from_slice(&s[i + 1..end]);
            i = end;
        } else {
            out.push(s[i]);
            i += 1;
        }
    }
    out
}

/// `([a-z0-9])([A-Z])` -> `\1_\2`, left to right without overlaps.
fn split_after_lower(s: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(s.len() + 8);
    let mut i = 0;
    while i < s.len() {
        let c = s[i];
        if (c.is_ascii_lowercase() || c.is_ascii_digit())
            && s.get(i + 1).is_some_and(|n| n.is_ascii_uppercase())
        {
            out.extend([c, '_', s[i + 1]]);
            i += 2;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::method_name;

    #[test]
    fn matches_botocore_xform_name() {
        for (op, want) in [
            ("DescribeInstances", "describe_instances"),
            (
                "ListAWSServiceAccessForOrganization",
                "list_aws_service_access_for_organization",
            ),
            ("DescribeACLs", "describe_acls"),
            ("ListHITs", "list_hits"),
            ("ListReviewableHITs", "list_reviewable_hits"),
            ("SwapEnvironmentCNAMEs", "swap_environment_cnames"),
            ("GetBucketAcl", "get_bucket_acl"),
            ("DescribeDBInstances", "describe_db_instances"),
            ("GetOTelEnrichment", "get_otel_enrichment"),
            ("ListICD10CMInferenceJobs", "list_icd10_cm_inference_jobs"),
            ("DescribeEC2InstanceLimits", "describe_ec2_instance_limits"),
            ("GetHLSStreamingSessionURL", "get_hls_streaming_session_url"),
            ("ListV2LoggingLevels", "list_v2_logging_levels"),
            ("GetSMSAttributes", "get_sms_attributes"),
            ("ListMFADevices", "list_mfa_devices"),
            ("already_snake", "already_snake"),
        ] {
            assert_eq!(method_name(op), want, "{op}");
        }
    }
}
