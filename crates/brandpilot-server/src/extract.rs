//! axum's extractors with rejections turned into [`ApiError`]s, so a malformed body or
//! path gets the API's error body with a message that says what was wrong.

use crate::ApiError;
use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// A JSON request body.
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(rejection) => Err(json_rejection(rejection)),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> ApiError {
    let status = rejection.status();
    match rejection {
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send the body as JSON with `Content-Type: application/json`",
        ),
        JsonRejection::JsonSyntaxError(error) => {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_json", error.body_text())
        }
        JsonRejection::JsonDataError(error) => ApiError::invalid(error.body_text()),
        other if status == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            status,
            "payload_too_large",
            format!("the request body is too large ({})", other.body_text()),
        ),
        other => ApiError::invalid(other.body_text()),
    }
}

/// Path parameters.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            // An id that does not parse names nothing that exists.
            Err(PathRejection::FailedToDeserializePathParams(error)) => {
                Err(ApiError::not_found(error.body_text()))
            }
            Err(other) => Err(ApiError::invalid(other.body_text())),
        }
    }
}

/// Query-string parameters.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(ApiError::invalid(rejection.body_text())),
        }
    }
}

/// Serde's derived structs also deserialize from a JSON array of their fields in order, which
/// the OpenAPI document does not allow (`"theme": [null, null]` would be accepted). These
/// deserializers, used with `#[serde(deserialize_with = …)]` on nested struct fields, accept
/// only JSON objects.
pub(crate) mod objects {
    use serde::de::{DeserializeOwned, Error};
    use serde::{Deserialize, Deserializer};
    use serde_json::Value;

    fn from_object<T: DeserializeOwned, E: Error>(value: Value) -> Result<T, E> {
        if !value.is_object() {
            return Err(E::custom("expected a JSON object"));
        }
        T::deserialize(value).map_err(E::custom)
    }

    /// A nested struct.
    pub(crate) fn object<'de, D: Deserializer<'de>, T: DeserializeOwned>(
        deserializer: D,
    ) -> Result<T, D::Error> {
        from_object(Value::deserialize(deserializer)?)
    }

    /// A nested struct that may be `null`.
    pub(crate) fn optional<'de, D: Deserializer<'de>, T: DeserializeOwned>(
        deserializer: D,
    ) -> Result<Option<T>, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Null => Ok(None),
            value => from_object(value).map(Some),
        }
    }

    /// A list of nested structs.
    pub(crate) fn list<'de, D: Deserializer<'de>, T: DeserializeOwned>(
        deserializer: D,
    ) -> Result<Vec<T>, D::Error> {
        match Value::deserialize(deserializer)? {
            Value::Array(items) => items.into_iter().map(from_object).collect(),
            _ => Err(D::Error::custom("expected a JSON array of objects")),
        }
    }
}
