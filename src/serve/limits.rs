//! What a request may be, and what the server answers when it is not: the limits on body
//! size, inputs per request, input length and option values; the JSON error every refusal
//! carries (`{"error": "...", "limit": "max-inputs", "max": 256}`); and the body extractor that
//! reads at most `--max-body-bytes` and parses JSON into a request type, so that a body too
//! large, malformed JSON, an unknown field or a wrong field type is a 413 or 400 that says
//! what was wrong, never a panic.
//!
//! Status codes: 400 for a request that is not what the endpoint reads (bad JSON, wrong field
//! type, unknown model), 413 for a body over the size limit, 422 for a well-formed request
//! whose content breaks a limit or that the model cannot take (too many inputs, an input too
//! long, a beam too wide, an unknown word), 503 for a full queue or a request that waited
//! longer than `--timeout`, 500 for a failure of the server itself.

use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;
use std::sync::Arc;

use super::routes::AppState;
use crate::Error;

/// The limits on what one request may ask; each is named by its command-line flag when a
/// request breaks it.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// The largest request body, in bytes (`--max-body-bytes`; 413 above it).
    pub max_body_bytes: usize,
    /// The most inputs (sentences, dates, words, samples) one request may carry
    /// (`--max-inputs`; 422 above it).
    pub max_inputs: usize,
    /// The longest input, in bytes (`--max-input-bytes`; 422 above it).
    pub max_input_bytes: usize,
    /// The widest beam a translation request may ask for (`--max-beam-width`; 422 above it):
    /// decoding time and memory grow with it.
    pub max_beam_width: usize,
    /// The most characters a character-model sample may have (`--max-sample-chars`; 422
    /// above it).
    pub max_sample_chars: usize,
    /// The most neighbours an embedding query may ask for (`--max-neighbours`; 422 above it).
    pub max_neighbours: usize,
    /// The most requests waiting for one model (`--max-queue`; 503 above it).
    pub max_queue: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 1 << 20,
            max_inputs: 256,
            max_input_bytes: 4096,
            max_beam_width: 16,
            max_sample_chars: 2000,
            max_neighbours: 1000,
            max_queue: 1024,
        }
    }
}

impl Limits {
    /// Refuses more inputs than `--max-inputs`, or an input longer than `--max-input-bytes`.
    pub(crate) fn check_inputs<S: AsRef<str>>(
        &self,
        what: &str,
        inputs: &[S],
    ) -> Result<(), ApiError> {
        if inputs.len() > self.max_inputs {
            return Err(ApiError::limit(
                "max-inputs",
                self.max_inputs,
                format!("{} {what} in one request, above the limit", inputs.len()),
            ));
        }
        match inputs
            .iter()
            .position(|i| i.as_ref().len() > self.max_input_bytes)
        {
            Some(at) => Err(ApiError::limit(
                "max-input-bytes",
                self.max_input_bytes,
                format!(
                    "{what} {at} is {} bytes long, above the limit",
                    inputs[at].as_ref().len()
                ),
            )),
            None => Ok(()),
        }
    }

    /// Refuses `value` above `max`, naming the option and the limit's flag.
    pub(crate) fn check_at_most(
        option: &str,
        value: usize,
        flag: &'static str,
        max: usize,
    ) -> Result<(), ApiError> {
        if value > max {
            return Err(ApiError::limit(
                flag,
                max,
                format!("{option} {value} is above the limit"),
            ));
        }
        Ok(())
    }

    /// Checks every limit for consistency: each at least 1.
    pub(crate) fn validate(&self) -> crate::Result<()> {
        let all = [
            ("--max-body-bytes", self.max_body_bytes),
            ("--max-inputs", self.max_inputs),
            ("--max-input-bytes", self.max_input_bytes),
            ("--max-beam-width", self.max_beam_width),
            ("--max-sample-chars", self.max_sample_chars),
            ("--max-neighbours", self.max_neighbours),
            ("--max-queue", self.max_queue),
        ];
        match all.iter().find(|(_, v)| *v == 0) {
            Some((flag, _)) => Err(Error::Config(format!("{flag} must be at least 1"))),
            None => Ok(()),
        }
    }
}

/// A refusal or failure, answered as `{"error": MESSAGE}` with its status, and with `limit`
/// and `max` when a limit was broken.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// The limit's flag, without its dashes, and its value.
    pub limit: Option<(&'static str, usize)>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            limit: None,
        }
    }

    /// 400: not what the endpoint reads.
    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// 422: well-formed, but the model cannot take it.
    pub fn unprocessable(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
    }

    /// 422: a limit broken, named by its flag (`max-inputs`).
    pub fn limit(flag: &'static str, max: usize, message: String) -> Self {
        ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            message: format!("{message} (--{flag} {max})"),
            limit: Some((flag, max)),
        }
    }

    /// 503: the server cannot take or finish this request now; retrying later may work.
    pub fn unavailable(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, message)
    }

    /// 500: the server failed.
    pub fn internal(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }
}

impl From<Error> for ApiError {
    /// What the caller gave is at fault (422) for an option out of range, an input the model
    /// cannot take or an unknown word; anything else is the server's failure (500).
    fn from(err: Error) -> Self {
        match err {
            Error::Config(_) | Error::InvalidInput { .. } | Error::UnknownWords { .. } => {
                ApiError::unprocessable(err.to_string())
            }
            other => ApiError::internal(other.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.message });
        if let Some((flag, max)) = self.limit {
            body["limit"] = flag.into();
            body["max"] = max.into();
        }
        (self.status, axum::Json(body)).into_response()
    }
}

/// How many bytes beyond `--max-body-bytes` a body too large is still read (and thrown away)
/// before its 413: closing a connection with unread data makes the client's system reset it,
/// and the client would see a reset instead of the answer (nginx's "lingering close").
const DRAIN_BYTES: u64 = 16 << 20;

/// A JSON request body of type `T`, read up to the server's `--max-body-bytes`.
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<Arc<AppState>> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, ApiError> {
        let max = state.limits.max_body_bytes;
        let too_large = || ApiError {
            status: StatusCode::PAYLOAD_TOO_LARGE,
            ..ApiError::limit(
                "max-body-bytes",
                max,
                "the request body is too large".into(),
            )
        };
        let declared = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > max as u64 + DRAIN_BYTES) {
            return Err(too_large());
        }
        let mut body = req.into_body();
        let (mut bytes, mut seen) = (Vec::new(), 0u64);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| {
                ApiError::bad_request(format!("could not read the request body: {e}"))
            })?;
            let Ok(data) = frame.into_data() else {
                continue;
            };
            seen += data.len() as u64;
            if seen <= max as u64 {
                bytes.extend_from_slice(&data);
            } else if seen > max as u64 + DRAIN_BYTES {
                break;
            }
        }
        if seen > max as u64 {
            return Err(too_large());
        }
        // Parse errors name the field at fault (`beam_width: invalid type: string "five",
        // expected usize`), as serde_json alone does not.
        let mut parser = serde_json::Deserializer::from_slice(&bytes);
        let value = serde_path_to_error::deserialize(&mut parser).map_err(|e| {
            let path = e.path().to_string();
            match path.as_str() {
                "." => ApiError::bad_request(format!("invalid request: {}", e.inner())),
                field => ApiError::bad_request(format!("invalid request: {field}: {}", e.inner())),
            }
        })?;
        parser
            .end()
            .map_err(|e| ApiError::bad_request(format!("invalid request: {e}")))?;
        Ok(ApiJson(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_name_their_flag() {
        let limits = Limits {
            max_inputs: 2,
            max_input_bytes: 4,
            ..Limits::default()
        };
        assert!(limits.check_inputs("inputs", &["ab", "abcd"]).is_ok());
        let err = limits.check_inputs("inputs", &["a", "b", "c"]).unwrap_err();
        assert_eq!(err.limit, Some(("max-inputs", 2)));
        assert_eq!(err.status, StatusCode::UNPROCESSABLE_ENTITY);
        let err = limits.check_inputs("inputs", &["abcde"]).unwrap_err();
        assert!(
            err.message.contains("inputs 0 is 5 bytes"),
            "{}",
            err.message
        );
        assert_eq!(err.limit, Some(("max-input-bytes", 4)));
        let err = Limits::check_at_most("beam_width", 9, "max-beam-width", 8).unwrap_err();
        assert!(err.message.contains("beam_width 9"), "{}", err.message);
        assert!(Limits::check_at_most("beam_width", 8, "max-beam-width", 8).is_ok());
    }

    #[test]
    fn library_errors_split_into_callers_and_servers() {
        let caller = ApiError::from(Error::UnknownWords {
            words: vec!["qq".into()],
        });
        assert_eq!(caller.status, StatusCode::UNPROCESSABLE_ENTITY);
        let server = ApiError::from(Error::Checkpoint {
            path: "m".into(),
            reason: "gone".into(),
        });
        assert_eq!(server.status, StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn a_zero_limit_is_refused() {
        let limits = Limits {
            max_queue: 0,
            ..Limits::default()
        };
        assert!(limits
            .validate()
            .unwrap_err()
            .to_string()
            .contains("--max-queue"));
    }
}
