//! A real HTTP/1.1 server on loopback (a free port), plain or TLS with a
//! test CA made by rcgen, for the outbound HTTP tests. Routes:
//! `/hello` → 200 `hello`; `POST /echo` → 200 with the body; `/redirect?to=URL`
//! → 302 to URL; `/big` → 200 with 256 KiB; `/slow` → 200 after 30 s; else 404.
//! It records the `host` header of every request.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpListener;

/// A running server; stops with its runtime when dropped.
pub struct Server {
    pub addr: SocketAddr,
    /// The `host` header of each request, in order.
    pub hosts: Arc<Mutex<Vec<String>>>,
    _runtime: tokio::runtime::Runtime,
}

/// A test CA and a certificate for 127.0.0.1 it signed.
pub struct TestCa {
    pub ca_pem: String,
    server: Arc<rustls::ServerConfig>,
}

impl TestCa {
    pub fn new() -> Self {
        use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair, SanType};
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf.subject_alt_names = vec![SanType::IpAddress("127.0.0.1".parse().unwrap())];
        let leaf_cert = leaf.signed_by(&leaf_key, &ca_cert, &ca_key).unwrap();
        let key = rustls::pki_types::PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf_cert.der().clone()], key)
            .unwrap();
        TestCa { ca_pem: ca_cert.pem(), server: Arc::new(server) }
    }
}

impl Server {
    /// Plain HTTP.
    pub fn plain() -> Self {
        Self::start(None)
    }

    /// HTTPS with a certificate from `ca`.
    pub fn tls(ca: &TestCa) -> Self {
        Self::start(Some(tokio_rustls::TlsAcceptor::from(ca.server.clone())))
    }

    fn start(tls: Option<tokio_rustls::TlsAcceptor>) -> Self {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        let listener = runtime.block_on(TcpListener::bind("127.0.0.1:0")).unwrap();
        let addr = listener.local_addr().unwrap();
        let hosts = Arc::new(Mutex::new(Vec::new()));
        let seen = hosts.clone();
        runtime.spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let (tls, seen) = (tls.clone(), seen.clone());
                tokio::spawn(async move {
                    match tls {
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                serve(stream, seen).await;
                            }
                        }
                        None => serve(stream, seen).await,
                    }
                });
            }
        });
        Server { addr, hosts, _runtime: runtime }
    }

    /// `http://127.0.0.1:PORT` (or https).
    pub fn url(&self, scheme: &str, path: &str) -> String {
        format!("{scheme}://{}{path}", self.addr)
    }
}

/// One connection: requests until the client closes (keep-alive).
async fn serve(mut stream: impl AsyncRead + AsyncWrite + Unpin, hosts: Arc<Mutex<Vec<String>>>) {
    let mut buf = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 4096];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.lines();
        let mut first = lines.next().unwrap_or("").split(' ');
        let (method, target) = (first.next().unwrap_or("").to_owned(), first.next().unwrap_or("/").to_owned());
        let header = |name: &str| {
            head.lines()
                .skip(1)
                .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
                .map(str::to_owned)
        };
        hosts.lock().unwrap().push(header("host").unwrap_or_default());
        let length: usize = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        while buf.len() < head_end + length {
            let mut chunk = [0u8; 65536];
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buf[head_end..head_end + length].to_vec();
        buf.drain(..head_end + length);
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let (status, extra, reply): (&str, String, Vec<u8>) = match (method.as_str(), path) {
            ("GET", "/hello") => ("200 OK", String::new(), b"hello".to_vec()),
            ("POST", "/echo") => ("200 OK", String::new(), body),
            ("GET", "/redirect") => {
                ("302 Found", format!("location: {}\r\n", query.strip_prefix("to=").unwrap_or("/")), Vec::new())
            }
            ("GET", "/big") => ("200 OK", String::new(), vec![b'x'; 256 << 10]),
            ("GET", "/slow") => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                ("200 OK", String::new(), b"late".to_vec())
            }
            _ => ("404 Not Found", String::new(), b"no such page".to_vec()),
        };
        let head =
            format!("HTTP/1.1 {status}\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n{extra}\r\n", reply.len());
        if stream.write_all(head.as_bytes()).await.is_err() || stream.write_all(&reply).await.is_err() {
            return;
        }
        let _ = stream.flush().await;
    }
}
