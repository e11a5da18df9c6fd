//! Servers plugins are shared through, for the tests: a real OCI registry
//! (`docker-registry`, Debian's package of the CNCF distribution registry,
//! installed by `scripts/setup.sh`) and a plain HTTP file server
//! (`python3 -m http.server`), each on a free loopback port with its files
//! in a temporary folder. Killed when dropped.

use std::path::Path;
use std::process::{Child, Command, Stdio};

use super::{free_port, wait_for_port};

/// A running registry.
pub struct Registry {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// A registry storing blobs in a new folder; the test fails if
    /// `docker-registry` is not installed.
    pub fn start() -> Self {
        Self::start_with(None)
    }

    /// A registry that asks for HTTP basic credentials `user`:`password`.
    pub fn with_login(user: &str, password: &str) -> Self {
        Self::start_with(Some((user, password)))
    }

    fn start_with(login: Option<(&str, &str)>) -> Self {
        super::require_server("docker-registry");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let config = dir.path().join("config.yml");
        let storage = dir.path().join("data");
        let mut yaml = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n",
            storage.display()
        );
        if let Some((user, password)) = login {
            // The registry reads bcrypt hashes; Python's crypt makes one.
            let script = "import crypt, sys\nprint(sys.argv[1] + ':' + crypt.crypt(sys.argv[2], crypt.mksalt(crypt.METHOD_BLOWFISH)))";
            let out = Command::new("python3").args(["-W", "ignore", "-c", script, user, password]).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, out.stdout).unwrap();
            yaml.push_str(&format!("auth:\n  htpasswd:\n    realm: isaac-test\n    path: {}\n", htpasswd.display()));
        }
        std::fs::write(&config, yaml).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry starts");
        wait_for_port(port, "docker-registry");
        Registry { child, port, _dir: dir }
    }

    /// `oci://127.0.0.1:PORT/REPO`
    pub fn reference(&self, repo: &str) -> String {
        format!("oci://127.0.0.1:{}/{repo}", self.port)
    }

    /// The image manifest `digest` of `repo`, as the registry serves it
    /// (fetched with Python's urllib: another client than isaac's).
    pub fn manifest(&self, repo: &str, digest: &str) -> serde_json::Value {
        let url = format!("http://127.0.0.1:{}/v2/{repo}/manifests/{digest}", self.port);
        let script = "import sys, urllib.request as u\nr = u.Request(sys.argv[1], headers={'Accept': 'application/vnd.oci.image.manifest.v1+json'})\nsys.stdout.write(u.urlopen(r).read().decode())";
        let out = Command::new("python3").args(["-c", script, &url]).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Overwrite the stored blob `digest` (`sha256:HEX`) with other bytes of
    /// the same length, as a compromised registry or disk would.
    pub fn tamper_blob(&self, digest: &str) {
        let hex = digest.strip_prefix("sha256:").unwrap();
        let path = self._dir.path().join(format!("data/docker/registry/v2/blobs/sha256/{}/{hex}/data", &hex[..2]));
        let mut bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        std::fs::write(&path, bytes).unwrap();
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP server of the files in a folder.
pub struct FileServer {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl FileServer {
    /// Serve a new empty folder.
    pub fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let child = Command::new("python3")
            .args(["-m", "http.server", &port.to_string(), "--bind", "127.0.0.1", "--directory"])
            .arg(dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("python3 -m http.server starts");
        wait_for_port(port, "python3 -m http.server");
        FileServer { child, port, dir }
    }

    /// Serve `bytes` as `name`; returns its URL.
    pub fn put(&self, name: &str, bytes: &[u8]) -> String {
        std::fs::write(self.dir.path().join(name), bytes).unwrap();
        format!("http://127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for FileServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A `.tar.gz` of the plugin folder `dir`, its files under `top/` (or at
/// the root when `top` is empty), made by the system's `tar`.
pub fn tar_gz(dir: &Path, top: &str) -> Vec<u8> {
    let out = tempfile::tempdir().unwrap();
    let archive = out.path().join("plugin.tar.gz");
    let mut cmd = Command::new("tar");
    cmd.arg("czf").arg(&archive);
    if top.is_empty() {
        cmd.arg("-C").arg(dir).arg(".");
    } else {
        let staged = out.path().join(top);
        std::fs::create_dir(&staged).unwrap();
        for entry in std::fs::read_dir(dir).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), staged.join(entry.file_name())).unwrap();
        }
        cmd.arg("-C").arg(out.path()).arg(top);
    }
    assert!(cmd.status().unwrap().success(), "tar czf");
    std::fs::read(archive).unwrap()
}

/// The sha256 of `bytes`, hex.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}
