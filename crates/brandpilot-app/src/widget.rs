//! A brand's website widget: one script tag with the brand's public key puts the brand's
//! assistant on any page of the web origins the brand lists.
//!
//! The public key is not a secret (every embedding page shows it), so what makes a page
//! allowed is its origin: the browser sends `Origin` on every cross-origin call and a page
//! cannot forge it, so calls from origins not on the brand's list are refused (a script
//! outside a browser can send any `Origin`, which is why visitors are also rate limited and
//! never see anything but their own conversation). Origins are compared in one normal
//! form: lower-case scheme and host, the port only when it is not the scheme's default.

use crate::{AppError, Brandpilot, Result};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as BASE64URL;
use brandpilot_core::WorkspaceId;
use brandpilot_store::{Brand, WidgetRecord};
use serde::{Deserialize, Serialize};

/// Prefix of a widget's public key.
const KEY_PREFIX: &str = "bpw_";
/// Origins one widget may list.
const MAX_ORIGINS: usize = 50;

/// How the widget looks. Colours are `#rrggbb`: nothing else can reach the page's CSS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WidgetTheme {
    /// Buttons, the header and the visitor's messages.
    pub accent_color: String,
    /// Text on the accent colour.
    pub accent_text_color: String,
    pub background_color: String,
    pub text_color: String,
    /// `right` or `left`: the corner the launcher sits in.
    pub position: String,
    /// The panel's heading; the brand's name when empty.
    pub title: String,
}

impl Default for WidgetTheme {
    fn default() -> Self {
        Self {
            accent_color: "#1f5fbf".into(),
            accent_text_color: "#ffffff".into(),
            background_color: "#ffffff".into(),
            text_color: "#1a1a1a".into(),
            position: "right".into(),
            title: String::new(),
        }
    }
}

/// A brand's widget as its team sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WidgetConfig {
    pub public_key: String,
    pub allowed_origins: Vec<String>,
    pub theme: WidgetTheme,
    pub enabled: bool,
}

impl WidgetConfig {
    fn from_record(record: &WidgetRecord) -> Self {
        Self {
            public_key: record.public_key.clone(),
            allowed_origins: serde_json::from_str(&record.allowed_origins_json).unwrap_or_default(),
            theme: serde_json::from_str(&record.theme_json).unwrap_or_default(),
            enabled: record.enabled,
        }
    }
}

/// A change to a brand's widget.
#[derive(Debug, Clone)]
pub struct WidgetChange {
    pub enabled: bool,
    pub allowed_origins: Vec<String>,
    pub theme: WidgetTheme,
    /// A new public key (pages with the old one stop working).
    pub rotate_key: bool,
}

/// The widget a page asked for, with its brand: what the public routes serve.
#[derive(Debug, Clone)]
pub struct PageWidget {
    pub brand: Brand,
    pub config: WidgetConfig,
    /// The page's origin, in normal form (echoed in CORS headers).
    pub origin: String,
}

impl Brandpilot {
    pub async fn widget(&self, brand: &Brand) -> Result<WidgetConfig> {
        let record = self
            .store
            .widget(brand.id)
            .await?
            .ok_or(AppError::WidgetNotConfigured)?;
        Ok(WidgetConfig::from_record(&record))
    }

    /// Creates or changes the brand's widget (a key is made the first time, or on
    /// `rotate_key`).
    pub async fn put_widget(&self, brand: &Brand, change: WidgetChange) -> Result<WidgetConfig> {
        check_theme(&change.theme)?;
        if change.allowed_origins.len() > MAX_ORIGINS {
            return Err(AppError::InvalidInput(format!(
                "a widget lists at most {MAX_ORIGINS} origins"
            )));
        }
        let mut origins = Vec::new();
        for origin in &change.allowed_origins {
            let normal = normal_origin(origin).ok_or_else(|| {
                AppError::InvalidInput(format!(
                    "{origin:?} is not a web origin: write scheme, host and port only, as in \
                     https://shop.example or http://localhost:3000 (no path, no wildcard)"
                ))
            })?;
            if !origins.contains(&normal) {
                origins.push(normal);
            }
        }
        let current = self.store.widget(brand.id).await?;
        let public_key = match &current {
            Some(current) if !change.rotate_key => current.public_key.clone(),
            _ => format!(
                "{KEY_PREFIX}{}",
                BASE64URL.encode(crate::accounts::random_bytes::<18>()?)
            ),
        };
        let record = self
            .store
            .put_widget(&WidgetRecord {
                brand: brand.id,
                public_key,
                allowed_origins_json: serde_json::to_string(&origins)
                    .map_err(|e| AppError::Task(e.to_string()))?,
                theme_json: serde_json::to_string(&change.theme)
                    .map_err(|e| AppError::Task(e.to_string()))?,
                enabled: change.enabled,
                created_at_ms: 0,
                updated_at_ms: 0,
            })
            .await?;
        Ok(WidgetConfig::from_record(&record))
    }

    /// The widget a web page names, if that page's origin may use it. An unknown or
    /// disabled key is not found; a known key from an origin the brand does not list is
    /// forbidden.
    pub async fn widget_for_page(
        &self,
        public_key: &str,
        origin: Option<&str>,
    ) -> Result<PageWidget> {
        let not_found = || AppError::WidgetNotFound;
        // A request from no web page (no Origin, or not one) is refused before any lookup.
        let origin = origin.and_then(normal_origin).ok_or_else(|| {
            AppError::Forbidden("the widget answers only on the brand's own web pages".into())
        })?;
        if !public_key.starts_with(KEY_PREFIX) || public_key.len() > 100 {
            return Err(not_found());
        }
        let (record, workspace) = self
            .store
            .widget_by_key(public_key)
            .await?
            .ok_or_else(not_found)?;
        if !record.enabled {
            return Err(not_found());
        }
        let config = WidgetConfig::from_record(&record);
        if !config.allowed_origins.contains(&origin) {
            return Err(AppError::Forbidden(format!(
                "the widget is not allowed on {origin}; the brand can add it to its widget's \
                 allowed origins"
            )));
        }
        let brand = self.brand_in(workspace, record.brand).await?;
        Ok(PageWidget {
            brand,
            config,
            origin,
        })
    }

    async fn brand_in(
        &self,
        workspace: WorkspaceId,
        brand: brandpilot_core::BrandId,
    ) -> Result<Brand> {
        self.store
            .get_brand(workspace, brand)
            .await?
            .ok_or(AppError::WidgetNotFound)
    }

    /// The key visitor sessions are signed with: made on first use, kept by the database
    /// (so every replica and restart accepts the same sessions).
    pub async fn widget_session_secret(&self) -> Result<Vec<u8>> {
        let candidate = crate::accounts::random_bytes::<32>()?;
        Ok(self
            .store
            .server_secret("widget_visitor_key", &candidate)
            .await?)
    }
}

fn check_theme(theme: &WidgetTheme) -> Result<()> {
    for (name, value) in [
        ("accent_color", &theme.accent_color),
        ("accent_text_color", &theme.accent_text_color),
        ("background_color", &theme.background_color),
        ("text_color", &theme.text_color),
    ] {
        let hex = value.strip_prefix('#').unwrap_or("");
        if hex.len() != 6 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(AppError::InvalidInput(format!(
                "{name} must be a colour written #rrggbb, not {value:?}"
            )));
        }
    }
    if !matches!(theme.position.as_str(), "right" | "left") {
        return Err(AppError::InvalidInput(
            "position is `right` or `left`".into(),
        ));
    }
    if theme.title.chars().count() > 60 || theme.title.chars().any(char::is_control) {
        return Err(AppError::InvalidInput(
            "a title is at most 60 characters, without control characters".into(),
        ));
    }
    Ok(())
}

/// `scheme://host[:port]` in lower case without the scheme's default port, or `None` for
/// anything that is not exactly an http(s) origin (a path, a query, credentials, a `*`).
pub fn normal_origin(text: &str) -> Option<String> {
    let text = text.trim();
    let (scheme, rest) = text.split_once("://")?;
    let scheme = scheme.to_ascii_lowercase();
    let default_port = match scheme.as_str() {
        "http" => 80,
        "https" => 443,
        _ => return None,
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if rest.is_empty() || rest.contains(['/', '?', '#', '@', '*', ' ', '\\']) {
        return None;
    }
    let (host, port) = match rest.rsplit_once(':') {
        // An IPv6 address without a port ends in `]`.
        Some((host, port)) if !port.contains(']') => {
            let port: u16 = port.parse().ok()?;
            (host, Some(port))
        }
        _ => (rest, None),
    };
    if host.is_empty()
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'))
    {
        return None;
    }
    let host = host.to_ascii_lowercase();
    Some(match port {
        Some(port) if port != default_port => format!("{scheme}://{host}:{port}"),
        _ => format!("{scheme}://{host}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_compare_in_one_normal_form() {
        assert_eq!(
            normal_origin("https://Shop.Example").as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(
            normal_origin("https://shop.example:443/").as_deref(),
            Some("https://shop.example")
        );
        assert_eq!(
            normal_origin("HTTP://localhost:3000").as_deref(),
            Some("http://localhost:3000")
        );
        assert_eq!(
            normal_origin("http://127.0.0.1:80").as_deref(),
            Some("http://127.0.0.1")
        );
        assert_eq!(
            normal_origin("http://[::1]:8080").as_deref(),
            Some("http://[::1]:8080")
        );
        assert_eq!(
            normal_origin("http://[::1]").as_deref(),
            Some("http://[::1]")
        );
        for refused in [
            "shop.example",
            "https://shop.example/path",
            "https://*.shop.example",
            "https://user@shop.example",
            "ftp://shop.example",
            "https://shop.example:99999",
            "https://",
            "https://shop.example?x=1",
            "null",
            "",
        ] {
            assert_eq!(normal_origin(refused), None, "{refused}");
        }
    }

    #[test]
    fn themes_take_only_hex_colours_and_known_corners() {
        assert!(check_theme(&WidgetTheme::default()).is_ok());
        let injected = WidgetTheme {
            accent_color: "red;}body{display:none".into(),
            ..WidgetTheme::default()
        };
        assert!(check_theme(&injected).is_err());
        let corner = WidgetTheme {
            position: "top".into(),
            ..WidgetTheme::default()
        };
        assert!(check_theme(&corner).is_err());
    }
}
