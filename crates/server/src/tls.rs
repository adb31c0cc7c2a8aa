//! TLS for every listener: the configured certificate, or a self-signed one
//! generated on first start and kept in the data directory (SPEC §6).

use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use rustls::ServerConfig;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use crate::config::TlsConfig;

/// Where the generated certificate lives, inside the data directory.
pub const SELF_SIGNED_DIR: &str = "tls";

/// Builds the acceptor every listener shares.
pub fn acceptor(config: &TlsConfig, data_dir: &Path, hostname: &str) -> Result<TlsAcceptor> {
    let (cert, key) = match (&config.cert, &config.key) {
        (Some(cert), Some(key)) => (cert.clone(), key.clone()),
        (None, None) => self_signed(data_dir, hostname)?,
        _ => {
            bail!("[tls] needs both cert and key (PEM file paths), or neither for a self-signed certificate")
        }
    };
    let certs = load_certs(&cert)?;
    let key = load_key(&key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let server = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .with_context(|| {
            format!("the TLS key {} doesn't fit the certificate {}", key_name(&config.key), cert.display())
        })?;
    Ok(TlsAcceptor::from(Arc::new(server)))
}

fn key_name(key: &Option<PathBuf>) -> String {
    key.as_ref().map(|k| k.display().to_string()).unwrap_or_else(|| "(generated)".into())
}

/// The generated pair, created once (0600 key) and reused afterwards.
fn self_signed(data_dir: &Path, hostname: &str) -> Result<(PathBuf, PathBuf)> {
    let dir = data_dir.join(SELF_SIGNED_DIR);
    let cert = dir.join("cert.pem");
    let key = dir.join("key.pem");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(&dir).with_context(|| format!("could not create {}", dir.display()))?;
    let mut names = vec![hostname.to_string()];
    if hostname != "localhost" {
        names.push("localhost".into());
    }
    let generated =
        rcgen::generate_simple_self_signed(names).context("could not generate a TLS certificate")?;
    write_private(&key, generated.key_pair.serialize_pem().as_bytes())?;
    std::fs::write(&cert, generated.cert.pem())
        .with_context(|| format!("could not write {}", cert.display()))?;
    tracing::info!(cert = %cert.display(), "generated a self-signed TLS certificate");
    Ok((cert, key))
}

fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).with_context(|| format!("could not write {}", path.display()))?;
    file.write_all(bytes).with_context(|| format!("could not write {}", path.display()))?;
    file.sync_all().with_context(|| format!("could not write {}", path.display()))
}

fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("could not open the TLS certificate {}", path.display()))?;
    let certs = rustls_pemfile::certs(&mut BufReader::new(file))
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("could not read the TLS certificate {}", path.display()))?;
    if certs.is_empty() {
        bail!("{} holds no PEM certificate", path.display());
    }
    Ok(certs)
}

fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>> {
    let file = std::fs::File::open(path)
        .with_context(|| format!("could not open the TLS key {}", path.display()))?;
    rustls_pemfile::private_key(&mut BufReader::new(file))
        .with_context(|| format!("could not read the TLS key {}", path.display()))?
        .ok_or_else(|| anyhow::anyhow!("{} holds no PEM private key", path.display()))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn generated_once_then_reused_and_configured_files_load() {
        let tmp = tempfile::tempdir().unwrap();
        acceptor(&TlsConfig::default(), tmp.path(), "mail.contoso.com").unwrap();
        let cert = tmp.path().join(SELF_SIGNED_DIR).join("cert.pem");
        let key = tmp.path().join(SELF_SIGNED_DIR).join("key.pem");
        let first = std::fs::read(&cert).unwrap();
        acceptor(&TlsConfig::default(), tmp.path(), "mail.contoso.com").unwrap();
        assert_eq!(std::fs::read(&cert).unwrap(), first, "generated once, then reused");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
        }
        // The same files given as configuration.
        let configured = TlsConfig { cert: Some(cert.clone()), key: Some(key.clone()) };
        acceptor(&configured, Path::new("/nonexistent"), "x").unwrap();
    }

    fn error(config: &TlsConfig, dir: &Path) -> String {
        match acceptor(config, dir, "x") {
            Ok(_) => panic!("expected an error"),
            Err(err) => format!("{err:#}"),
        }
    }

    #[test]
    fn broken_tls_settings_are_explained() {
        let tmp = tempfile::tempdir().unwrap();
        let only_cert = TlsConfig { cert: Some(tmp.path().join("c.pem")), key: None };
        let err = error(&only_cert, tmp.path());
        assert!(err.contains("needs both cert and key"), "{err}");
        let missing = TlsConfig { cert: Some(tmp.path().join("c.pem")), key: Some(tmp.path().join("k.pem")) };
        let err = error(&missing, tmp.path());
        assert!(err.contains("could not open the TLS certificate") && err.contains("c.pem"), "{err}");
        std::fs::write(tmp.path().join("c.pem"), "not pem").unwrap();
        let err = error(&missing, tmp.path());
        assert!(err.contains("holds no PEM certificate"), "{err}");
    }
}
