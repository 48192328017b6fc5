//! BankID's Relying Party API v6.0: the messages, and a client over mutual TLS.
//!
//! The client trusts only the configured CA (BankID's own root, not the system's roots) and
//! presents the relying party's certificate. One connection per call ([`crate::http_client`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use axum::http::{Method, Request, StatusCode, Uri, header};
use http_body_util::Full;
use hyper::body::Bytes;
use pki_types::pem::PemObject;
use pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize, de::DeserializeOwned};
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore, pki_types};

use crate::http_client::{self, Target};

/// What `/auth` is asked.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthRequest {
    pub end_user_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<Requirement>,
    /// Base64 of the text shown in the app; at most 1,500 characters of text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_visible_data: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_visible_data_format: Option<&'static str>,
}

impl fmt::Debug for AuthRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The address and a required personnummer are personal data.
        f.debug_struct("AuthRequest").finish_non_exhaustive()
    }
}

#[derive(Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Requirement {
    /// Only this person may complete the order (12 digits).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_number: Option<String>,
    /// Ask for the security code even where the app allows biometrics.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pin_code: Option<bool>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuthResponse {
    pub order_ref: String,
    pub auto_start_token: String,
    pub qr_start_token: String,
    pub qr_start_secret: String,
}

impl fmt::Debug for AuthResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthResponse([redacted])")
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRef {
    pub order_ref: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Status {
    Pending,
    Failed,
    Complete,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CollectResponse {
    pub order_ref: String,
    pub status: Status,
    /// Present while pending and when failed; unknown codes must be tolerated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hint_code: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_data: Option<CompletionData>,
}

impl fmt::Debug for CollectResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CollectResponse")
            .field("status", &self.status)
            .field("hint_code", &self.hint_code)
            .finish_non_exhaustive()
    }
}

/// Who identified, and the evidence. Never logged: it holds a personnummer.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CompletionData {
    pub user: User,
    pub device: Device,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_id_issue_date: Option<String>,
    /// Base64 of the XML signature over what the user saw and approved.
    pub signature: String,
    /// Base64 of the OCSP response for the user's certificate at the time of signing.
    pub ocsp_response: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub personal_number: String,
    pub name: String,
    pub given_name: String,
    pub surname: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Device {
    pub ip_address: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uhi: Option<String>,
}

/// BankID's error answer: an HTTP status with `{"errorCode", "details"}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    pub error_code: String,
    pub details: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RpError {
    /// BankID answered with an error code (`alreadyInProgress`, `invalidParameters`, …).
    #[error("BankID refused ({status}): {code}")]
    Refused { status: StatusCode, code: String },
    /// No usable answer: connection, TLS or a body that is not BankID's.
    #[error("BankID unreachable: {0}")]
    Transport(String),
}

/// How long one call may take before the order is given up on this round.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_ANSWER_BYTES: usize = 1 << 20;

/// A client of one RP API base URL (`https://host[:port]/rp/v6.0`).
pub struct RpClient {
    target: Target,
    path: String,
}

impl fmt::Debug for RpClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RpClient")
            .field("target", &self.target)
            .finish()
    }
}

/// The relying party's certificate chain and private key, and the CA BankID's server must chain
/// to, all PEM.
pub struct RpCredentials<'a> {
    pub client_cert_pem: &'a [u8],
    pub client_key_pem: &'a [u8],
    pub ca_cert_pem: &'a [u8],
}

impl RpClient {
    pub fn new(base_url: &str, credentials: RpCredentials<'_>) -> Result<Self, String> {
        let uri: Uri = base_url
            .parse()
            .map_err(|_| "bankid_url is not a URL".to_owned())?;
        if uri.scheme_str() != Some("https") {
            return Err("bankid_url must be https://".into());
        }
        let path = uri.path().trim_end_matches('/').to_owned();

        let mut roots = RootCertStore::empty();
        for cert in CertificateDer::pem_slice_iter(credentials.ca_cert_pem) {
            let cert = cert.map_err(|_| "bankid_ca_cert is not PEM certificates")?;
            roots
                .add(cert)
                .map_err(|e| format!("bankid_ca_cert: {e}"))?;
        }
        if roots.is_empty() {
            return Err("bankid_ca_cert holds no certificate".into());
        }
        let chain = CertificateDer::pem_slice_iter(credentials.client_cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| "bankid_client_cert is not PEM certificates")?;
        if chain.is_empty() {
            return Err("bankid_client_cert holds no certificate".into());
        }
        let key = PrivateKeyDer::from_pem_slice(credentials.client_key_pem)
            .map_err(|_| "bankid_client_key is not a PEM private key")?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_client_auth_cert(chain, key)
            .map_err(|e| format!("bankid_client_key does not fit bankid_client_cert: {e}"))?;
        let target = Target::of_url(&uri, Some(&TlsConnector::from(Arc::new(config))))
            .map_err(|e| format!("bankid_url: {e}"))?;
        Ok(RpClient { target, path })
    }

    pub async fn auth(&self, request: &AuthRequest) -> Result<AuthResponse, RpError> {
        self.call("auth", request).await
    }

    pub async fn collect(&self, order_ref: &str) -> Result<CollectResponse, RpError> {
        self.call(
            "collect",
            &OrderRef {
                order_ref: order_ref.to_owned(),
            },
        )
        .await
    }

    pub async fn cancel(&self, order_ref: &str) -> Result<(), RpError> {
        let _: serde_json::Value = self
            .call(
                "cancel",
                &OrderRef {
                    order_ref: order_ref.to_owned(),
                },
            )
            .await?;
        Ok(())
    }

    async fn call<Req: Serialize, Resp: DeserializeOwned>(
        &self,
        method: &str,
        body: &Req,
    ) -> Result<Resp, RpError> {
        let transport =
            |what: &str, e: &dyn fmt::Display| RpError::Transport(format!("{method}: {what}: {e}"));
        let json = serde_json::to_vec(body).map_err(|e| transport("encode", &e))?;
        let request = Request::builder()
            .method(Method::POST)
            .uri(format!("{}/{method}", self.path))
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(json)))
            .map_err(|e| transport("request", &e))?;
        let answer = http_client::send(&self.target, request, MAX_ANSWER_BYTES, CALL_TIMEOUT)
            .await
            .map_err(|e| transport("call", &e))?;
        let (status, bytes) = (answer.status, answer.body);
        if status == StatusCode::OK {
            return serde_json::from_slice(&bytes).map_err(|e| transport("answer", &e));
        }
        match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(e) => Err(RpError::Refused {
                status,
                code: e.error_code,
            }),
            Err(_) => Err(RpError::Transport(format!(
                "{method}: HTTP {status} without an error code"
            ))),
        }
    }
}
