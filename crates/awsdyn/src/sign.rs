//! SigV4 signing with `aws-sigv4`, using the signing name and region chosen by the
//! endpoint rule set.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    sign, PayloadChecksumKind, PercentEncodingMode, SignableBody, SignableRequest, SigningSettings,
    UriPathNormalizationMode,
};
use aws_sigv4::sign::v4;
use aws_smithy_runtime_api::client::identity::Identity;

/// How one request is signed.
#[derive(Debug, Clone)]
pub struct SigningScope {
    /// Signing name (`s3`, `execute-api`, the service's signingName...).
    pub name: String,
    pub region: String,
    /// S3 style: no double URI encoding, no path normalization, `x-amz-content-sha256`.
    pub s3_style: bool,
}

/// Signs a request: returns the headers to add (Authorization, X-Amz-Date,
/// X-Amz-Security-Token, x-amz-content-sha256 for S3).
pub fn sign_headers(
    credentials: &Credentials,
    scope: &SigningScope,
    method: &str,
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    time: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    let identity: Identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    if scope.s3_style {
        settings.percent_encoding_mode = PercentEncodingMode::Single;
        settings.uri_path_normalization_mode = UriPathNormalizationMode::Disabled;
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    }
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&scope.region)
        .name(&scope.name)
        .time(time)
        .settings(settings)
        .build()
        .map_err(|e| format!("signing parameters: {e}"))?
        .into();
    let signable = SignableRequest::new(
        method,
        url,
        headers.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        SignableBody::Bytes(body),
    )
    .map_err(|e| format!("request cannot be signed: {e}"))?;
    let (instructions, _signature) = sign(signable, &params)
        .map_err(|e| format!("signing failed: {e}"))?
        .into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_with_session_token_and_s3_hash() {
        let creds = Credentials::new("AKIDEXAMPLE", "secret", Some("token".into()), None, "test");
        let scope = SigningScope {
            name: "s3".into(),
            region: "eu-west-1".into(),
            s3_style: true,
        };
        let h = sign_headers(
            &creds,
            &scope,
            "GET",
            "https://bucket.s3.eu-west-1.amazonaws.com/key",
            &[("host".into(), "bucket.s3.eu-west-1.amazonaws.com".into())],
            b"",
            SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
        )
        .unwrap();
        let get = |n: &str| {
            h.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        let auth = get("authorization").unwrap();
        assert!(
            auth.starts_with(
                "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20231114/eu-west-1/s3/aws4_request"
            ),
            "{auth}"
        );
        assert_eq!(get("x-amz-security-token").as_deref(), Some("token"));
        assert_eq!(
            get("x-amz-content-sha256").as_deref(),
            Some("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        );
        assert!(!auth.contains("secret"));
    }
}
