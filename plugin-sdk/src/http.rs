//! Outbound HTTP through `wasi:http/outgoing-handler`, to the hosts the user
//! granted.
//!
//! The plugin's manifest must ask for it, host by host:
//!
//! ```toml
//! [permissions]
//! http = { allowed_hosts = ["https://api.github.com"], max_requests = 20, max_response_kb = 4096 }
//! ```
//!
//! A request anywhere else, or past the caps, fails with
//! [`HttpError::Denied`] (or the matching error); the plugin goes on.
//! Redirects are not followed: a 3xx comes back as it is.
//!
//! ```no_run
//! use isaac_plugin_sdk::http::{self, Request};
//!
//! # fn demo() -> Result<(), http::HttpError> {
//! let page = http::get("https://api.github.com/zen")?;
//! let posted = http::send(&Request::post("https://hooks.example.com/x", b"{}".to_vec()).header("content-type", "application/json"))?;
//! # let _ = (page.status, posted.text());
//! # Ok(()) }
//! ```

use std::fmt;

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, HeaderError, IncomingBody, Method, OutgoingBody, OutgoingRequest, Scheme,
};
use wasip2::io::streams::StreamError;

/// A request to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// `http://` or `https://`, a host, an optional port, a path and query.
    pub url: String,
    /// Header names and values (`host` and hop-by-hop headers are refused).
    pub headers: Vec<(String, String)>,
    /// The body (empty: none).
    pub body: Vec<u8>,
}

impl Request {
    /// A GET of `url`.
    pub fn get(url: &str) -> Self {
        Request { method: "GET".into(), url: url.into(), headers: Vec::new(), body: Vec::new() }
    }

    /// A POST of `body` to `url`.
    pub fn post(url: &str, body: Vec<u8>) -> Self {
        Request { method: "POST".into(), url: url.into(), headers: Vec::new(), body }
    }

    /// With one more header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// An answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names (lower case) and values.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// Why a request produced no answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// Not granted, not an allowed host, an address no name may lead to, or
    /// over the number of requests per call.
    Denied,
    /// The URL is not `http(s)://host[:port][/path]`.
    BadUrl(String),
    /// The host refuses this header (`host`, hop-by-hop headers).
    Forbidden(String),
    /// The request or the response body passed its cap.
    TooLarge(String),
    /// Anything else: the connection, TLS, the server.
    Failed(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Denied => f.write_str("denied: the host is not granted, or the call's requests are used up"),
            HttpError::BadUrl(why) => write!(f, "bad URL: {why}"),
            HttpError::Forbidden(name) => write!(f, "forbidden header `{name}`"),
            HttpError::TooLarge(why) => write!(f, "too large: {why}"),
            HttpError::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

impl std::error::Error for HttpError {}

impl From<ErrorCode> for HttpError {
    fn from(code: ErrorCode) -> Self {
        match code {
            ErrorCode::HttpRequestDenied => HttpError::Denied,
            ErrorCode::HttpRequestBodySize(n) => {
                HttpError::TooLarge(format!("request body over {} bytes", n.unwrap_or(0)))
            }
            ErrorCode::HttpResponseBodySize(n) => {
                HttpError::TooLarge(format!("response bodies over {} bytes", n.unwrap_or(0)))
            }
            other => HttpError::Failed(format!("{other:?}")),
        }
    }
}

/// GET `url`.
pub fn get(url: &str) -> Result<Response, HttpError> {
    send(&Request::get(url))
}

/// Send `request` and read the whole answer.
pub fn send(request: &Request) -> Result<Response, HttpError> {
    let (scheme, authority, path) = split_url(&request.url)?;
    let mut fields = Vec::new();
    for (name, value) in &request.headers {
        fields.push((name.to_ascii_lowercase(), value.as_bytes().to_vec()));
    }
    // A body goes with its length (servers need not accept chunked requests).
    if !request.body.is_empty() && !fields.iter().any(|(n, _)| n == "content-length") {
        fields.push(("content-length".into(), request.body.len().to_string().into_bytes()));
    }
    let headers = Fields::from_list(&fields).map_err(|e| match e {
        HeaderError::Forbidden | HeaderError::Immutable => {
            HttpError::Forbidden(fields.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", "))
        }
        HeaderError::InvalidSyntax => HttpError::BadUrl("a header name or value is not valid".into()),
    })?;
    let outgoing = OutgoingRequest::new(headers);
    let method = match request.method.to_ascii_uppercase().as_str() {
        "GET" => Method::Get,
        "HEAD" => Method::Head,
        "POST" => Method::Post,
        "PUT" => Method::Put,
        "DELETE" => Method::Delete,
        "PATCH" => Method::Patch,
        "OPTIONS" => Method::Options,
        other => Method::Other(other.to_owned()),
    };
    let invalid = |what: &str| HttpError::BadUrl(format!("invalid {what}"));
    outgoing.set_method(&method).map_err(|()| invalid("method"))?;
    outgoing.set_scheme(Some(&scheme)).map_err(|()| invalid("scheme"))?;
    outgoing.set_authority(Some(authority)).map_err(|()| invalid("host"))?;
    outgoing.set_path_with_query(Some(&path)).map_err(|()| invalid("path"))?;
    let body = outgoing.body().map_err(|()| HttpError::Failed("no request body".into()))?;
    let future = outgoing_handler::handle(outgoing, None)?;
    write_body(body, &request.body)?;
    future.subscribe().block();
    let response = match future.get() {
        Some(Ok(result)) => result?,
        Some(Err(())) | None => return Err(HttpError::Failed("the response was lost".into())),
    };
    let status = response.status();
    let headers =
        response.headers().entries().into_iter().map(|(n, v)| (n, String::from_utf8_lossy(&v).into_owned())).collect();
    let incoming = response.consume().map_err(|()| HttpError::Failed("no response body".into()))?;
    let body = read_body(incoming)?;
    Ok(Response { status, headers, body })
}

fn write_body(body: OutgoingBody, bytes: &[u8]) -> Result<(), HttpError> {
    {
        let stream = body.write().map_err(|()| HttpError::Failed("no request body stream".into()))?;
        for chunk in bytes.chunks(4096) {
            stream.blocking_write_and_flush(chunk).map_err(stream_error)?;
        }
    }
    OutgoingBody::finish(body, None)?;
    Ok(())
}

fn read_body(incoming: IncomingBody) -> Result<Vec<u8>, HttpError> {
    let mut bytes = Vec::new();
    {
        let stream = incoming.stream().map_err(|()| HttpError::Failed("no response body stream".into()))?;
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(e) => return Err(stream_error(e)),
            }
        }
    }
    let trailers = IncomingBody::finish(incoming);
    trailers.subscribe().block();
    if let Some(Ok(Err(code))) = trailers.get() {
        return Err(code.into());
    }
    Ok(bytes)
}

fn stream_error(e: StreamError) -> HttpError {
    match e {
        StreamError::LastOperationFailed(error) => match wasip2::http::types::http_error_code(&error) {
            Some(code) => code.into(),
            None => HttpError::Failed(error.to_debug_string()),
        },
        StreamError::Closed => HttpError::Failed("the connection closed".into()),
    }
}

/// `scheme://authority/path?query` as its three parts (the path at least `/`).
fn split_url(url: &str) -> Result<(Scheme, &str, String), HttpError> {
    let (scheme, rest) = url.split_once("://").ok_or_else(|| HttpError::BadUrl(format!("{url:?} has no scheme")))?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        other => return Err(HttpError::BadUrl(format!("the scheme {other:?} is not http or https"))),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.is_empty() {
        return Err(HttpError::BadUrl(format!("{url:?} has no host")));
    }
    let path = path.split('#').next().unwrap_or("");
    let path = if path.starts_with('/') { path.to_owned() } else { format!("/{path}") };
    Ok((scheme, authority, path))
}
