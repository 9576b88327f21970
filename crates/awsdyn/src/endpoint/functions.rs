//! The rules engine's standard library and AWS extensions, as plain functions over
//! strings: `isValidHostLabel`, `aws.isVirtualHostableS3Bucket`, `parseURL`,
//! `aws.parseArn`, `substring` and `uriEncode`.

use std::net::Ipv6Addr;

/// `isValidHostLabel`: an RFC 1123 host label (1 to 63 ASCII letters, digits and
/// hyphens, not starting or ending with a hyphen); with `allow_sub_domains`, every
/// `.`-separated label must be one.
pub fn is_valid_host_label(value: &str, allow_sub_domains: bool) -> bool {
    if allow_sub_domains {
        value.split('.').all(is_host_label)
    } else {
        is_host_label(value)
    }
}

fn is_host_label(label: &str) -> bool {
    let b = label.as_bytes();
    (1..=63).contains(&b.len())
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && b[0] != b'-'
        && b[b.len() - 1] != b'-'
}

/// `aws.isVirtualHostableS3Bucket`: a bucket name usable as a DNS label in a
/// virtual-hosted-style URL: at least 3 characters, no upper case, not an IPv4
/// address, and a valid host label (each label, with `allow_sub_domains`).
pub fn is_virtual_hostable_s3_bucket(value: &str, allow_sub_domains: bool) -> bool {
    value.len() >= 3
        && !value.chars().any(char::is_uppercase)
        && !is_ipv4_like(value)
        && is_valid_host_label(value, allow_sub_domains)
}

/// Four dot-separated groups of one to three digits (botocore's IPv4 pattern, which
/// does not check that each group is at most 255).
fn is_ipv4_like(value: &str) -> bool {
    let mut groups = 0;
    for g in value.split('.') {
        groups += 1;
        if !(1..=3).contains(&g.len()) || !g.bytes().all(|c| c.is_ascii_digit()) {
            return false;
        }
    }
    groups == 4
}

/// The result of `parseURL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Url {
    /// `http` or `https`.
    pub scheme: String,
    /// Host and optional port, as written (`example.com:8443`, `[::1]`).
    pub authority: String,
    /// The path as written (may be empty).
    pub path: String,
    /// The path with a leading and a trailing `/`.
    pub normalized_path: String,
    /// Whether the host is an IPv4 or (bracketed) IPv6 address.
    pub is_ip: bool,
}

/// `parseURL`: splits an `http`/`https` URL without a query string into its parts;
/// anything else (another scheme, a query, a bad port) gives `None`. A fragment is
/// dropped.
pub fn parse_url(value: &str) -> Option<Url> {
    let (scheme, rest) = value.split_once("://")?;
    if scheme != "http" && scheme != "https" {
        return None;
    }
    let rest = rest.split('#').next().unwrap_or("");
    if rest.contains('?') {
        return None;
    }
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    let host = host_of(authority)?;
    let is_ip = is_ipv4_like(host) || is_bracketed_ipv6(host);
    let mut normalized_path = String::with_capacity(path.len() + 2);
    if !path.starts_with('/') {
        normalized_path.push('/');
    }
    normalized_path.push_str(path);
    if !normalized_path.ends_with('/') {
        normalized_path.push('/');
    }
    Some(Url {
        scheme: scheme.to_string(),
        authority: authority.to_string(),
        path: path.to_string(),
        normalized_path,
        is_ip,
    })
}

/// The host part of an authority (user info and port removed); `None` when the port
/// is not a number from 0 to 65535.
fn host_of(authority: &str) -> Option<&str> {
    let hostport = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if hostport.starts_with('[') {
        let end = hostport.find(']')?;
        let after = &hostport[end + 1..];
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return None,
        };
        (&hostport[..=end], port)
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if let Some(p) = port {
        if !p.is_empty() && p.parse::<u16>().is_err() {
            return None;
        }
    }
    Some(host)
}

fn is_bracketed_ipv6(host: &str) -> bool {
    let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) else {
        return false;
    };
    // An optional zone id: `%25eth0` or `%eth0`.
    let addr = inner.split('%').next().unwrap_or(inner);
    addr.parse::<Ipv6Addr>().is_ok()
}

/// The result of `aws.parseArn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn {
    pub partition: String,
    pub service: String,
    pub region: String,
    pub account_id: String,
    /// The resource, split on `:` and `/`.
    pub resource_id: Vec<String>,
}

/// `aws.parseArn`: `arn:partition:service:region:account:resource`; partition,
/// service and resource must not be empty.
pub fn parse_arn(value: &str) -> Option<Arn> {
    let rest = value.strip_prefix("arn:")?;
    let mut parts = rest.splitn(5, ':');
    let partition = parts.next()?;
    let service = parts.next()?;
    let region = parts.next()?;
    let account_id = parts.next()?;
    let resource = parts.next()?;
    if partition.is_empty() || service.is_empty() || resource.is_empty() {
        return None;
    }
    Some(Arn {
        partition: partition.to_string(),
        service: service.to_string(),
        region: region.to_string(),
        account_id: account_id.to_string(),
        resource_id: resource.split([':', '/']).map(str::to_string).collect(),
    })
}

/// `substring`: characters `start..stop` of an ASCII string, counted from the end
/// when `reverse`; `None` for non-ASCII input or when the range does not fit.
pub fn substring(value: &str, start: usize, stop: usize, reverse: bool) -> Option<&str> {
    if start >= stop || value.len() < stop || !value.is_ascii() {
        return None;
    }
    if reverse {
        Some(&value[value.len() - stop..value.len() - start])
    } else {
        Some(&value[start..stop])
    }
}

/// `uriEncode`: percent-encodes every byte of the UTF-8 string except the RFC 3986
/// unreserved characters (`A-Z a-z 0-9 - . _ ~`), with upper-case hex digits.
pub fn uri_encode(value: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(value.len());
    for &b in value.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_labels() {
        assert!(is_valid_host_label("us-east-1", false));
        assert!(is_valid_host_label("a", false));
        assert!(is_valid_host_label(&"a".repeat(63), false));
        assert!(!is_valid_host_label(&"a".repeat(64), false));
        assert!(!is_valid_host_label("", false));
        assert!(!is_valid_host_label("-abc", false));
        assert!(!is_valid_host_label("abc-", false));
        assert!(!is_valid_host_label("a b", false));
        assert!(!is_valid_host_label("a.b", false));
        assert!(is_valid_host_label("a.b", true));
        assert!(is_valid_host_label("foo.bar-baz.1", true));
        assert!(!is_valid_host_label("a..b", true));
        assert!(!is_valid_host_label("a.", true));
        assert!(!is_valid_host_label("a.-b", true));
        assert!(!is_valid_host_label("café", false));
    }

    #[test]
    fn virtual_hostable_buckets() {
        assert!(is_virtual_hostable_s3_bucket("bucket-name", false));
        assert!(is_virtual_hostable_s3_bucket("abc", false));
        assert!(!is_virtual_hostable_s3_bucket("ab", false));
        assert!(!is_virtual_hostable_s3_bucket("BucketName", false));
        assert!(!is_virtual_hostable_s3_bucket("bucket.name", false));
        assert!(is_virtual_hostable_s3_bucket("bucket.name", true));
        assert!(!is_virtual_hostable_s3_bucket("192.168.1.1", true));
        assert!(!is_virtual_hostable_s3_bucket("bucket..name", true));
        assert!(!is_virtual_hostable_s3_bucket("-bucket", true));
        assert!(is_virtual_hostable_s3_bucket("1.2.3.4.5", true));
    }

    #[test]
    fn urls() {
        let u = parse_url("https://example.com:8443/foo/bar").unwrap();
        assert_eq!(u.scheme, "https");
        assert_eq!(u.authority, "example.com:8443");
        assert_eq!(u.path, "/foo/bar");
        assert_eq!(u.normalized_path, "/foo/bar/");
        assert!(!u.is_ip);
        let u = parse_url("http://example.com").unwrap();
        assert_eq!((u.path.as_str(), u.normalized_path.as_str()), ("", "/"));
        let u = parse_url("http://example.com/").unwrap();
        assert_eq!((u.path.as_str(), u.normalized_path.as_str()), ("/", "/"));
        assert!(parse_url("http://127.0.0.1:8080/x").unwrap().is_ip);
        let u = parse_url("https://[fe80::1]:443").unwrap();
        assert!(u.is_ip);
        assert_eq!(u.authority, "[fe80::1]:443");
        assert!(parse_url("https://[fe80::1%25en0]/").unwrap().is_ip);
        assert!(parse_url("https://example.com?foo=bar").is_none());
        assert!(parse_url("ftp://example.com").is_none());
        assert!(parse_url("example.com").is_none());
        assert!(parse_url("https://example.com:port").is_none());
        assert!(parse_url("https://example.com:99999").is_none());
    }

    #[test]
    fn arns() {
        let a = parse_arn("arn:aws:s3:us-west-2:123456789012:accesspoint:my-ap").unwrap();
        assert_eq!(a.partition, "aws");
        assert_eq!(a.service, "s3");
        assert_eq!(a.region, "us-west-2");
        assert_eq!(a.account_id, "123456789012");
        assert_eq!(a.resource_id, ["accesspoint", "my-ap"]);
        let a = parse_arn("arn:aws:s3-outposts:us-west-2:1:outpost/op-1/accesspoint:ap").unwrap();
        assert_eq!(a.resource_id, ["outpost", "op-1", "accesspoint", "ap"]);
        let a = parse_arn("arn:aws:iam::123456789012:role/x").unwrap();
        assert_eq!(a.region, "");
        assert!(parse_arn("arn:aws:s3:us-west-2:123").is_none());
        assert!(parse_arn("arn::s3:::bucket").is_none());
        assert!(parse_arn("arn:aws:s3:::").is_none());
        assert!(parse_arn("not-an-arn:aws:s3:::b").is_none());
    }

    #[test]
    fn substrings() {
        assert_eq!(substring("abcdefg", 0, 4, false), Some("abcd"));
        assert_eq!(substring("abcdefg", 0, 4, true), Some("defg"));
        assert_eq!(substring("abcdefg", 1, 3, true), Some("ef"));
        assert_eq!(substring("abc", 0, 4, false), None);
        assert_eq!(substring("abc", 2, 2, false), None);
        assert_eq!(substring("abcdé", 0, 2, false), None);
        assert_eq!(substring("abc", 0, 3, false), Some("abc"));
    }

    #[test]
    fn uri_encoding() {
        assert_eq!(
            uri_encode("a b/c?d=e&f~g.h_i-j"),
            "a%20b%2Fc%3Fd%3De%26f~g.h_i-j"
        );
        assert_eq!(uri_encode("é"), "%C3%A9");
        assert_eq!(uri_encode("%"), "%25");
    }
}
