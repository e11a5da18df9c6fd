//! Outbound HTTP (`wasi:http`), only to granted hosts: the http-probe
//! fixture plugin through the real binary, against real servers on
//! loopback (plain, and TLS with a test CA). Each refusal is checked by what
//! the guest sees and by the line `isaac -v` logs.

pub(crate) mod server;

use server::{Server, TestCa};

use crate::support::{TestHome, fixture, manifest, text};

/// A home with http-probe installed and granted `permission` (the inside of
/// `http = { ... }`), and `config` as its config.toml.
fn probe_home(permission: &str, config: &str) -> TestHome {
    let home = TestHome::new();
    std::fs::write(home.path().join("config.toml"), config).unwrap();
    let extra = format!("[permissions]\nhttp = {{ {permission} }}\n");
    home.plant("http-probe", &manifest("http-probe", &extra), "http-probe.wasm", &fixture("http-probe"));
    home.grant("http-probe");
    home
}

fn allowing(server: &Server, scheme: &str, rest: &str) -> String {
    format!("allowed_hosts = [\"{scheme}://{}\"]{rest}", server.addr)
}

/// Run a probe command: (exit code, stdout, stderr).
fn probe(home: &TestHome, args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["-v", "run"];
    all.extend_from_slice(args);
    let out = home.run(&all);
    let (stdout, stderr) = text(&out);
    assert!(!stderr.contains("panicked"), "{stderr}");
    (out.status.code().unwrap_or(-1), stdout, stderr)
}

/// The command fails with `guest_sees` and isaac logs `logged`.
fn denied(home: &TestHome, args: &[&str], guest_sees: &str, logged: &str) {
    let (code, stdout, stderr) = probe(home, args);
    assert_eq!(code, 1, "{args:?}: {stdout} {stderr}");
    assert!(stderr.contains(guest_sees), "{args:?}: expected {guest_sees:?} in {stderr}");
    assert!(stderr.contains(logged), "{args:?}: expected {logged:?} in {stderr}");
}

#[test]
fn allowed_get_and_post_work_and_the_host_header_is_the_url_s() {
    let server = Server::plain();
    let home = probe_home(&allowing(&server, "http", ""), "");
    assert_eq!(probe(&home, &["get", &server.url("http", "/hello")]).1, "200 hello\n");
    assert_eq!(probe(&home, &["post", &server.url("http", "/echo"), "some data"]).1, "200 some data\n");
    // The guest may not name another host in `host`.
    let (code, _, stderr) = probe(&home, &["host", &server.url("http", "/hello"), "evil.example"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("forbidden header `host`"), "{stderr}");
    let hosts = server.hosts.lock().unwrap().clone();
    assert_eq!(hosts, vec![server.addr.to_string(); 2], "only the two allowed requests arrived, each for its URL");
}

#[test]
fn https_with_a_ca_the_user_trusts() {
    let ca = TestCa::new();
    let server = Server::tls(&ca);
    let home = probe_home(&allowing(&server, "https", ""), "");
    // Without the CA the certificate is not trusted.
    let (code, _, stderr) = probe(&home, &["get", &server.url("https", "/hello")]);
    assert_eq!(code, 1, "{stderr}");
    let ca_file = home.path().join("ca.pem");
    std::fs::write(&ca_file, &ca.ca_pem).unwrap();
    std::fs::write(home.path().join("config.toml"), format!("[http]\nca_file = {:?}\n", ca_file)).unwrap();
    assert_eq!(probe(&home, &["get", &server.url("https", "/hello")]).1, "200 hello\n");
}

#[test]
fn another_port_scheme_or_host_is_denied() {
    let server = Server::plain();
    let other = Server::plain();
    let home = probe_home(&allowing(&server, "http", ""), "");
    let logged = "not in its allowed_hosts";
    denied(&home, &["get", &other.url("http", "/hello")], "denied", logged);
    denied(&home, &["get", &server.url("https", "/hello")], "denied", logged);
    let by_name = format!("http://localhost:{}/hello", server.addr.port());
    denied(&home, &["get", &by_name], "denied", logged);
    assert!(other.hosts.lock().unwrap().is_empty(), "nothing reached the unlisted server");
}

#[test]
fn a_redirect_is_not_followed_and_following_it_is_checked_again() {
    let server = Server::plain();
    let other = Server::plain();
    let home = probe_home(&allowing(&server, "http", ""), "");
    let to = other.url("http", "/hello");
    let redirect = server.url("http", &format!("/redirect?to={to}"));
    assert!(probe(&home, &["get", &redirect]).1.starts_with("302 "), "the guest sees the 3xx");
    denied(&home, &["follow", &redirect], "denied", "not in its allowed_hosts");
    assert!(other.hosts.lock().unwrap().is_empty());
}

#[test]
fn an_allowed_name_that_resolves_to_a_local_address_is_denied() {
    let server = Server::plain();
    let port = server.addr.port();
    let permission = format!("allowed_hosts = [\"http://api.example.com:{port}\"]");
    let config = "[http]\nresolve = { \"api.example.com\" = [\"127.0.0.1\"] }\n";
    let home = probe_home(&permission, config);
    let url = format!("http://api.example.com:{port}/hello");
    denied(&home, &["get", &url], "denied", "resolves to 127.0.0.1, a local, private or reserved address");
    assert!(server.hosts.lock().unwrap().is_empty());
}

#[test]
fn caps_on_requests_and_bytes_stop_the_request_not_the_call() {
    let server = Server::plain();
    let caps = ", max_requests = 2, max_response_kb = 64, max_request_kb = 1";
    let home = probe_home(&allowing(&server, "http", caps), "");
    let (_, stdout, stderr) = probe(&home, &["count", &server.url("http", "/hello"), "3"]);
    assert!(stdout.starts_with("2 answered; first error: denied"), "{stdout} {stderr}");
    assert!(stderr.contains("its 2 requests per call are used"), "{stderr}");
    let (code, _, stderr) = probe(&home, &["size", &server.url("http", "/big")]);
    assert_eq!(code, 1);
    assert!(stderr.contains("65536 bytes"), "the guest is told the response cap: {stderr}");
    let (code, _, stderr) = probe(&home, &["post", &server.url("http", "/echo"), &"x".repeat(2000)]);
    assert_eq!(code, 1);
    assert!(stderr.contains("too large"), "{stderr}");
}

#[test]
fn a_slow_server_meets_the_call_s_deadline() {
    let server = Server::plain();
    let home = probe_home(&allowing(&server, "http", ""), "[plugins.http-probe]\ndeadline_ms = 500\n");
    let (code, _, stderr) = probe(&home, &["get", &server.url("http", "/slow")]);
    assert_eq!(code, 1);
    assert!(stderr.contains("ran past its deadline of 500 ms"), "{stderr}");
}

#[test]
fn without_the_grant_everything_is_denied_and_the_grant_is_pinned() {
    let server = Server::plain();
    let home = TestHome::new();
    home.plant("http-probe", &manifest("http-probe", ""), "http-probe.wasm", &fixture("http-probe"));
    denied(&home, &["get", &server.url("http", "/hello")], "denied", "was not granted `http`");
    // Granted one list, then the plugin asks for another: it must be granted again.
    let home = probe_home(&allowing(&server, "http", ""), "");
    let wider = "[permissions]\nhttp = { allowed_hosts = [\"http://*.example.com\"] }\n";
    std::fs::write(home.path().join("plugins/http-probe/plugin.toml"), manifest("http-probe", wider)).unwrap();
    let (code, _, stderr) = probe(&home, &["get", &server.url("http", "/hello")]);
    assert_eq!(code, 1);
    assert!(stderr.contains("now asks for other permissions than were granted"), "{stderr}");
    assert!(server.hosts.lock().unwrap().is_empty());
}

#[test]
fn the_review_shows_a_look_alike_host_as_the_name_it_allows() {
    let home = TestHome::new();
    // `а` is Cyrillic: the entry allows xn--pple-43d.com, not apple.com.
    let look_alike = "[permissions]\nhttp = { allowed_hosts = [\"https://\u{430}pple.com\"] }\n";
    home.plant("http-probe", &manifest("http-probe", look_alike), "http-probe.wasm", &fixture("http-probe"));
    let out = home.run(&["plugins", "grant", "http-probe"]);
    let (stdout, stderr) = text(&out);
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("http: send requests to https://xn--pple-43d.com:443 (written"), "{all}");
}

#[test]
fn a_bad_allowed_hosts_entry_is_refused_with_its_place() {
    let home = TestHome::new();
    let bad = "[permissions]\nhttp = { allowed_hosts = [\"https://a.*.example.com\"] }\n";
    home.plant("http-probe", &manifest("http-probe", bad), "http-probe.wasm", &fixture("http-probe"));
    let out = home.run(&["plugins", "list"]);
    let (stdout, stderr) = text(&out);
    let all = format!("{stdout}{stderr}");
    assert!(all.contains("plugin.toml:6:") && all.contains("leftmost label"), "{all}");
}

#[test]
fn the_fetch_example_shows_status_type_and_first_lines() {
    let server = Server::plain();
    let home = TestHome::new();
    let wasm = std::fs::read(crate::support::dist("fetch").join("fetch.wasm")).unwrap();
    let permission = format!("[permissions]\nhttp = {{ {} }}\n", allowing(&server, "http", ""));
    home.plant("fetch", &manifest("fetch", &permission), "fetch.wasm", &wasm);
    home.grant("fetch");
    let out = home.run(&["run", "fetch", &server.url("http", "/hello")]);
    assert_eq!(text(&out).0, "200 text/plain (5 bytes)\nhello\n", "{}", text(&out).1);
    let out = home.run(&["run", "fetch", "https://example.com/"]);
    assert_eq!(out.status.code(), Some(1), "example.com is not in this grant");
    assert!(text(&out).1.contains("denied"), "{}", text(&out).1);
}

#[test]
fn the_python_fetch_example_uses_its_own_http_client_under_the_same_rules() {
    crate::support::require_example("fetch-py", "python");
    let folder = crate::support::dist("fetch-py");
    let server = Server::plain();
    let home = TestHome::new();
    let wasm = std::fs::read(folder.join("fetch-py.wasm")).unwrap();
    let permission =
        format!("[limits]\nmemory_mb = 128\n[permissions]\nhttp = {{ {} }}\n", allowing(&server, "http", ""));
    home.plant("fetch-py", &manifest("fetch-py", &permission), "fetch-py.wasm", &wasm);
    home.grant("fetch-py");
    let out = home.run(&["run", "fetch-py", &server.url("http", "/hello")]);
    assert_eq!(text(&out).0, "200 text/plain (5 bytes)\nhello\n", "{}", text(&out).1);
    let out = home.run(&["-v", "run", "fetch-py", "https://example.com/"]);
    let stderr = text(&out).1;
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("HttpRequestDenied") && stderr.contains("not in its allowed_hosts"), "{stderr}");
}

#[test]
fn hoarding_wasi_http_resources_ends_the_call_not_the_host() {
    let server = Server::plain();
    let home = probe_home(&allowing(&server, "http", ""), "");
    assert_eq!(probe(&home, &["hoard", "100"]).1, "kept 100\n");
    let (code, _, stderr) = probe(&home, &["hoard", "20000"]);
    assert_eq!(code, 1, "past the 10 000 entries of a call's resource table: {stderr}");
    assert!(stderr.contains("crashed") && stderr.contains("resource table has no free keys"), "{stderr}");
    assert_eq!(probe(&home, &["get", &server.url("http", "/hello")]).1, "200 hello\n", "the next call is fine");
}

#[test]
fn an_authority_with_user_information_is_refused_and_host_is_the_checked_one() {
    let server = Server::plain();
    let home = probe_home(&allowing(&server, "http", ""), "");
    // A front that cuts the host at the first `:` would route this to
    // `evil.example`, a virtual host the allow-list never named.
    let sneaky = format!("http://evil.example:1@{}/hello", server.addr);
    denied(&home, &["get", &sneaky], "denied", "user information");
    let at_only = format!("http://user@{}/hello", server.addr);
    denied(&home, &["get", &at_only], "denied", "user information");
    assert!(server.hosts.lock().unwrap().is_empty(), "nothing was sent");
    // An allowed request's `host` is built from the checked host and port.
    let spelled = format!("http://127.0.0.1:{}/hello", server.addr.port());
    assert_eq!(probe(&home, &["get", &spelled]).1, "200 hello\n");
    assert_eq!(server.hosts.lock().unwrap().clone(), vec![server.addr.to_string()]);
}

#[test]
fn names_resolving_to_addresses_that_embed_or_translate_to_local_ones_are_denied() {
    let server = Server::plain();
    let port = server.addr.port();
    let permission = format!("allowed_hosts = [\"http://api.example.com:{port}\"]");
    for address in ["64:ff9b:1::7f00:1", "::127.0.0.1", "2002:7f00:1::1", "2002:c0a8:101::1", "fec0::1"] {
        let config = format!("[http]\nresolve = {{ \"api.example.com\" = [\"{address}\"] }}\n");
        let home = probe_home(&permission, &config);
        let url = format!("http://api.example.com:{port}/hello");
        let shown: std::net::IpAddr = address.parse().unwrap();
        let logged = format!("resolves to {shown}, a local, private or reserved address");
        denied(&home, &["get", &url], "denied", &logged);
    }
    assert!(server.hosts.lock().unwrap().is_empty());
}
