//! What a rule does: [`Action`]s and the error [`Reply`]s of each wire protocol.

use super::*;

/// The wire protocols whose error shapes [`Reply`] can write.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    /// `query` (IAM, STS, SNS, CloudFormation...): `<ErrorResponse><Error>...`.
    Query,
    /// `ec2`: `<Response><Errors><Error>...`.
    Ec2,
    /// `json` (DynamoDB, SQS, KMS, Logs, Organizations...): `{"__type": ...}`.
    Json,
    /// `rest-json` (Lambda...): the `x-amzn-errortype` header and a JSON body.
    RestJson,
    /// `rest-xml` (S3, Route53, CloudFront): `<Error><Code>...`, S3's shape, which
    /// botocore also reads for the others.
    RestXml,
}

impl Protocol {
    /// Every protocol, in the order of the enum.
    pub const ALL: [Protocol; 5] = [
        Protocol::Query,
        Protocol::Ec2,
        Protocol::Json,
        Protocol::RestJson,
        Protocol::RestXml,
    ];

    /// The protocol a request speaks, from what it carries: `X-Amz-Target` (json), a
    /// form `Action` (ec2 for EC2's API version or signing name, else query), else the
    /// service of its SigV4 credential scope (`s3`, `route53`, `cloudfront` and
    /// `s3-control` are rest-xml; every other REST service Census meets is rest-json).
    pub fn of(req: &SeenRequest) -> Protocol {
        if req.target().is_some() {
            return Protocol::Json;
        }
        let service = req.signing_service();
        if req.form_action().is_some() {
            let ec2 = service.as_deref() == Some("ec2")
                || req.body_str().contains("Version=2016-11-15")
                || req.path.contains("Version=2016-11-15");
            return if ec2 { Protocol::Ec2 } else { Protocol::Query };
        }
        match service.as_deref() {
            Some("s3" | "route53" | "cloudfront" | "s3-control" | "s3control") | None => {
                Protocol::RestXml
            }
            Some(_) => Protocol::RestJson,
        }
    }
}

/// A ready-made HTTP response, for the [`Action::Reply`] of a rule.
#[derive(Clone, Debug, PartialEq)]
pub struct Reply {
    /// The status code.
    pub status: u16,
    /// Headers, in order (`Content-Length` is set by the proxy).
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Bytes,
}

impl Reply {
    /// A response with this status, no headers and an empty body.
    pub fn new(status: u16) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    /// Sets the body.
    pub fn body(mut self, body: impl Into<Bytes>) -> Reply {
        self.body = body.into();
        self
    }

    /// An AWS error in `protocol`'s shape, with [`FAULT_REQUEST_ID`] as its request id.
    pub fn error(protocol: Protocol, status: u16, code: &str, message: &str) -> Reply {
        let id = FAULT_REQUEST_ID;
        let kind = if status >= 500 { "Receiver" } else { "Sender" };
        match protocol {
            Protocol::Query => Reply::new(status)
                .header("Content-Type", "text/xml")
                .header("x-amzn-RequestId", id)
                .body(format!(
                    "<ErrorResponse><Error><Type>{kind}</Type><Code>{code}</Code>\
                     <Message>{message}</Message></Error><RequestId>{id}</RequestId></ErrorResponse>"
                )),
            Protocol::Ec2 => Reply::new(status)
                .header("Content-Type", "text/xml;charset=UTF-8")
                .body(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>\
                     <Code>{code}</Code><Message>{message}</Message></Error></Errors>\
                     <RequestID>{id}</RequestID></Response>"
                )),
            Protocol::Json => Reply::new(status)
                .header("Content-Type", "application/x-amz-json-1.1")
                .header("x-amzn-RequestId", id)
                .body(format!(
                    "{{\"__type\":\"{code}\",\"message\":{}}}",
                    json_string(message)
                )),
            Protocol::RestJson => Reply::new(status)
                .header("Content-Type", "application/json")
                .header("x-amzn-RequestId", id)
                .header("x-amzn-ErrorType", code)
                .body(format!("{{\"message\":{}}}", json_string(message))),
            Protocol::RestXml => Reply::new(status)
                .header("Content-Type", "application/xml")
                .header("x-amz-request-id", id)
                .body(format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code>\
                     <Message>{message}</Message><RequestId>{id}</RequestId></Error>"
                )),
        }
    }

    /// The throttling error each protocol's services really send, all of which botocore
    /// retries as throttling: query `Throttling` (400), ec2 `RequestLimitExceeded`
    /// (503), json `ThrottlingException` (400), rest-json `TooManyRequestsException`
    /// (429), rest-xml `SlowDown` (503).
    pub fn throttling(protocol: Protocol) -> Reply {
        match protocol {
            Protocol::Query => Reply::error(protocol, 400, "Throttling", "Rate exceeded"),
            Protocol::Ec2 => Reply::error(
                protocol,
                503,
                "RequestLimitExceeded",
                "Request limit exceeded.",
            ),
            Protocol::Json => Reply::error(protocol, 400, "ThrottlingException", "Rate exceeded"),
            Protocol::RestJson => {
                Reply::error(protocol, 429, "TooManyRequestsException", "Rate exceeded")
            }
            Protocol::RestXml => Reply::error(
                protocol,
                503,
                "SlowDown",
                "Please reduce your request rate.",
            ),
        }
    }

    /// Access denied as each protocol's services send it: query and rest-xml
    /// `AccessDenied` (403), ec2 `UnauthorizedOperation` (403), json
    /// `AccessDeniedException` (400), rest-json `AccessDeniedException` (403).
    pub fn access_denied(protocol: Protocol) -> Reply {
        let message = "User is not authorized to perform this operation";
        match protocol {
            Protocol::Query | Protocol::RestXml => {
                Reply::error(protocol, 403, "AccessDenied", message)
            }
            Protocol::Ec2 => Reply::error(protocol, 403, "UnauthorizedOperation", message),
            Protocol::Json => Reply::error(protocol, 400, "AccessDeniedException", message),
            Protocol::RestJson => Reply::error(protocol, 403, "AccessDeniedException", message),
        }
    }

    /// A 500 `InternalError` (`InternalFailure` for json protocols).
    pub fn internal_error(protocol: Protocol) -> Reply {
        let code = match protocol {
            Protocol::Json | Protocol::RestJson => "InternalFailure",
            _ => "InternalError",
        };
        Reply::error(protocol, 500, code, "We encountered an internal error.")
    }

    /// A 503 `ServiceUnavailable`.
    pub fn service_unavailable(protocol: Protocol) -> Reply {
        Reply::error(
            protocol,
            503,
            "ServiceUnavailable",
            "The service is unavailable. Please try again later.",
        )
    }
}

pub(super) fn json_string(s: &str) -> String {
    serde_json::Value::from(s).to_string()
}

/// What the proxy does with a request that a rule matched.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Send it upstream unchanged (what happens when no rule matches).
    Forward,
    /// Answer with this response; upstream never sees the request.
    Reply(Reply),
    /// Close the connection with a TCP reset, without any response.
    Reset,
    /// Wait, then do the inner action: a slow answer, or a slow reset.
    Delay(Duration, Box<Action>),
}

impl Action {
    /// `Delay(duration, then)`.
    pub fn delay(duration: Duration, then: Action) -> Action {
        Action::Delay(duration, Box::new(then))
    }
}

/// A rule: requests that match, an action, and how many times it applies.
#[derive(Clone, Debug)]
pub struct Rule {
    pub(super) matcher: Match,
    pub(super) action: Action,
    pub(super) times: Option<u64>,
}

impl Rule {
    /// A rule that applies to every matching request, for as long as it exists.
    pub fn new(matcher: Match, action: Action) -> Rule {
        Rule {
            matcher,
            action,
            times: None,
        }
    }

    /// Applies only to the first `n` matching requests, then is skipped.
    pub fn times(mut self, n: u64) -> Rule {
        self.times = Some(n);
        self
    }
}
