//! A bounded HTTP download: https (or http to loopback), at most
//! [`DownloadLimits::max_bytes`], within [`DownloadLimits::timeout`],
//! redirects followed only as [`super::net`] allows.

use futures::StreamExt;

use super::{DownloadLimits, Progress, SourceError};

/// The bytes at `url`, and their sha256 (hex).
pub async fn download(
    url: &reqwest::Url,
    limits: &DownloadLimits,
    progress: Progress<'_>,
) -> Result<(Vec<u8>, String), SourceError> {
    let location = url.to_string();
    let fail = |message: String| SourceError::Fetch { location: location.clone(), message };
    let too_big = || SourceError::TooBig {
        location: location.clone(),
        message: format!("the download is larger than {} MiB", limits.max_bytes >> 20),
    };
    let transfer = |what: &'static str, source| SourceError::Transfer { location: location.clone(), what, source };
    let client = super::net::client(url, limits.timeout).map_err(|e| transfer("cannot set up the HTTP client", e))?;
    let timed_out = || fail(format!("the download took longer than {} s", limits.timeout.as_secs()));
    let request = async {
        let response = client.get(url.clone()).send().await.map_err(|e| match e.is_timeout() {
            true => timed_out(),
            false => transfer("cannot download", e),
        })?;
        let status = response.status();
        if !status.is_success() {
            return Err(fail(format!("the server answered {status}")));
        }
        let total = response.content_length();
        if total.is_some_and(|n| n > limits.max_bytes) {
            return Err(too_big());
        }
        let mut body = Vec::with_capacity(usize::try_from(total.unwrap_or(0)).unwrap_or(0));
        let mut stream = response.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| match e.is_timeout() {
                true => timed_out(),
                false => transfer("the download broke off", e),
            })?;
            if body.len() as u64 + chunk.len() as u64 > limits.max_bytes {
                return Err(too_big());
            }
            body.extend_from_slice(&chunk);
            progress(body.len() as u64, total);
        }
        Ok(body)
    };
    let body = tokio::time::timeout(limits.timeout, request).await.map_err(|_| timed_out())??;
    let digest = crate::digest::sha256_hex(&body);
    Ok((body, digest))
}
