//! Sending one checked request: resolve the name once, check every address,
//! connect to a checked `SocketAddr`, TLS (rustls, SNI the host name),
//! HTTP/1.1 with hyper, and both bodies counted against the call's caps.
//! No proxy, no redirect, no second resolution.

use std::collections::BTreeMap;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use wasmtime_wasi_http::io::TokioIo;
use wasmtime_wasi_http::{Error, RequestOptions, WasiBody};

use super::{Checked, Usage, over};
use crate::allowlist::{Scheme, Target, is_special, normalize_name};
use crate::error::Source;

/// `[http]` in config.toml: the network settings of plugins' outbound HTTP.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    /// PEM file of CA certificates trusted besides the webpki roots (a
    /// company proxy's, a test server's).
    pub ca_file: Option<PathBuf>,
    /// Fixed resolutions, like curl's `--resolve`: a name to its addresses.
    /// The addresses are checked as any resolver's answer.
    #[serde(default)]
    pub resolve: BTreeMap<String, Vec<IpAddr>>,
}

impl crate::capabilities::Section for HttpConfig {}

/// The host's network settings for plugin HTTP: TLS roots and fixed name
/// resolutions ([`HttpConfig`]). Built once per host.
pub struct HttpNet {
    tls: tokio_rustls::TlsConnector,
    resolve: BTreeMap<String, Vec<IpAddr>>,
}

/// The network settings could not be built.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    /// `[http] ca_file` could not be read.
    #[error("cannot read the CA certificates in {} ([http] ca_file)", path.display())]
    CaFile {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: Source,
    },
    /// rustls refused the configuration.
    #[error("cannot set up TLS for plugin HTTP")]
    Tls(#[source] Source),
}

impl HttpNet {
    /// The webpki roots plus `config.ca_file`, and `config.resolve`.
    pub fn new(settings: &HttpConfig) -> Result<Self, NetError> {
        let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        if let Some(path) = &settings.ca_file {
            let ca_error = |source: Source| NetError::CaFile { path: path.clone(), source };
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| ca_error(Source::new(e)))?;
            for cert in certs {
                let cert = cert.map_err(|e| ca_error(Source::new(e)))?;
                roots.add(cert).map_err(|e| ca_error(Source::new(e)))?;
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| NetError::Tls(Source::new(e)))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        // Fixed resolutions, by normalised name (as requests are compared).
        let resolve = settings
            .resolve
            .iter()
            .map(|(name, ips)| (normalize_name(name).unwrap_or_else(|_| name.to_ascii_lowercase()), ips.clone()))
            .collect();
        Ok(HttpNet { tls: tokio_rustls::TlsConnector::from(Arc::new(config)), resolve })
    }

    /// The addresses of `target`: itself, a fixed resolution, or the
    /// system resolver's answer (asked once).
    async fn addresses(&self, target: &Target, port: u16) -> Result<Vec<IpAddr>, Error> {
        let name = match target {
            Target::Ip(ip) => return Ok(vec![*ip]),
            Target::Name(name) => name,
        };
        if let Some(fixed) = self.resolve.get(name) {
            return Ok(fixed.clone());
        }
        let found = tokio::net::lookup_host((name.as_str(), port))
            .await
            .map_err(|e| Error::DnsError { rcode: Some(e.to_string()), info_code: None })?;
        let addresses: Vec<IpAddr> = found.map(|a| a.ip()).collect();
        if addresses.is_empty() {
            return Err(Error::DestinationNotFound);
        }
        Ok(addresses)
    }
}

/// A connection, plain or TLS.
trait Stream: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static {}
impl<T: AsyncRead + AsyncWrite + Send + Sync + Unpin + 'static> Stream for T {}

async fn within<T>(
    limit: Option<Duration>,
    f: impl Future<Output = Result<T, Error>>,
    late: Error,
) -> Result<T, Error> {
    match limit {
        Some(limit) => tokio::time::timeout(limit, f).await.map_err(|_| late)?,
        None => f.await,
    }
}

/// Send `request`, checked as `checked`, counting its bodies in `usage`.
pub(super) async fn send(
    mut request: http::Request<WasiBody>,
    options: Option<RequestOptions>,
    checked: &Checked,
    usage: Arc<Usage>,
) -> Result<(http::Response<WasiBody>, Box<dyn Future<Output = Result<(), Error>> + Send>), Error> {
    let net = &checked.grant.net;
    let addresses = net.addresses(&checked.target, checked.port).await?;
    if let Some(ip) = addresses.iter().find(|ip| is_special(**ip) && !checked.entry.names_address(**ip)) {
        return Err(checked.deny(&format!(
            "it resolves to {ip}, a local, private or reserved address (only an allowed_hosts entry naming exactly that address reaches it)"
        )));
    }
    let connect_timeout = options.and_then(|o| o.connect_timeout);
    let stream = within(connect_timeout, connect(&addresses, checked.port), Error::ConnectionTimeout).await?;
    let stream: Box<dyn Stream> = match checked.scheme {
        Scheme::Http => Box::new(stream),
        Scheme::Https => {
            let name = match &checked.target {
                Target::Name(name) => ServerName::try_from(name.clone()).map_err(|_| Error::HttpRequestUriInvalid)?,
                Target::Ip(ip) => ServerName::IpAddress((*ip).into()),
            };
            let tls = net.tls.connect(name, stream);
            Box::new(within(connect_timeout, async { tls.await.map_err(Error::Tls) }, Error::ConnectionTimeout).await?)
        }
    };
    let handshake = hyper::client::conn::http1::Builder::new().handshake(TokioIo::new(stream));
    let (mut sender, conn) =
        within(connect_timeout, async { handshake.await.map_err(Error::from) }, Error::ConnectionTimeout).await?;
    // On the wire the request names only its path, and `host` is the host
    // and port that were checked, never the guest's own spelling of them.
    let path = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    *request.uri_mut() = path.parse().map_err(|_| Error::HttpRequestUriInvalid)?;
    let host = http::HeaderValue::try_from(checked.host_header()).map_err(|_| Error::HttpRequestUriInvalid)?;
    request.headers_mut().insert(http::header::HOST, host);
    let cap = checked.grant.max_request_bytes;
    let request = request.map(|body| Capped { inner: body, usage: usage.clone(), sent: true, cap });
    let mut conn = Box::pin(conn);
    let mut conn_done = None;
    let response = within(
        options.and_then(|o| o.first_byte_timeout),
        async {
            let send = sender.send_request(request);
            tokio::pin!(send);
            loop {
                tokio::select! {
                    response = &mut send => break response.map_err(Error::from),
                    done = &mut conn, if conn_done.is_none() => conn_done = Some(done),
                }
            }
        },
        Error::ConnectionReadTimeout,
    )
    .await?;
    let cap = checked.grant.max_response_bytes;
    let response = response.map(|body| Capped { inner: body, usage, sent: false, cap }.boxed_unsync());
    let io = async move {
        match conn_done {
            Some(done) => done.map_err(Error::from),
            None => conn.await.map_err(Error::from),
        }
    };
    Ok((response, Box::new(io)))
}

/// Connect to the first address that answers.
async fn connect(addresses: &[IpAddr], port: u16) -> Result<TcpStream, Error> {
    let mut last = Error::DestinationUnavailable;
    for ip in addresses {
        match TcpStream::connect(SocketAddr::new(*ip, port)).await {
            Ok(stream) => {
                let _ = stream.set_nodelay(true);
                return Ok(stream);
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => last = Error::ConnectionRefused,
            Err(e) => last = Error::Connect(e),
        }
    }
    Err(last)
}

/// A body whose data counts against the call's cap on bodies sent (a
/// request) or received (a response); past the cap it ends in an error.
struct Capped<B> {
    inner: B,
    usage: Arc<Usage>,
    sent: bool,
    cap: u64,
}

impl<B> Body for Capped<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Error>,
{
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        let frame = match Pin::new(&mut self.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => frame,
            Poll::Ready(Some(Err(e))) => return Poll::Ready(Some(Err(e.into()))),
            Poll::Ready(None) => return Poll::Ready(None),
            Poll::Pending => return Poll::Pending,
        };
        if let Some(data) = frame.data_ref() {
            let more = data.len() as u64;
            let (counter, error) = match self.sent {
                true => (&self.usage.sent, Error::HttpRequestBodySize(Some(self.cap))),
                false => (&self.usage.received, Error::HttpResponseBodySize(Some(self.cap))),
            };
            if over(counter, more, self.cap) {
                return Poll::Ready(Some(Err(error)));
            }
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.inner.size_hint()
    }
}
