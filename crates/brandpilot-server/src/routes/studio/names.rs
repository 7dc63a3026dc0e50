//! The channel and field vocabulary of Studio's wire types: `ChannelName` and `FieldName`
//! mirror `brandpilot_studio`'s `Channel` and `Field` variant by variant, with exhaustive
//! conversions both ways so a channel or field added to the domain fails to compile here
//! until the API decides how to name it, and `wire_name` gives the name serde gives a unit
//! variant. Nothing here touches a request or the application.

use brandpilot_studio::{Channel, Field};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The wire name serde gives a unit variant (`linkedin_post`).
pub(crate) fn wire_name<T: Serialize>(value: &T) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|value| value.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Where a variant will be published.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ChannelName {
    Email,
    LinkedinPost,
    XPost,
    XThread,
    InstagramCaption,
    BlogOutline,
    BlogArticle,
    GoogleSearchAd,
    MetaAd,
    ReelScript,
}

impl From<ChannelName> for Channel {
    fn from(name: ChannelName) -> Self {
        match name {
            ChannelName::Email => Channel::Email,
            ChannelName::LinkedinPost => Channel::LinkedinPost,
            ChannelName::XPost => Channel::XPost,
            ChannelName::XThread => Channel::XThread,
            ChannelName::InstagramCaption => Channel::InstagramCaption,
            ChannelName::BlogOutline => Channel::BlogOutline,
            ChannelName::BlogArticle => Channel::BlogArticle,
            ChannelName::GoogleSearchAd => Channel::GoogleSearchAd,
            ChannelName::MetaAd => Channel::MetaAd,
            ChannelName::ReelScript => Channel::ReelScript,
        }
    }
}

impl From<Channel> for ChannelName {
    fn from(channel: Channel) -> Self {
        match channel {
            Channel::Email => ChannelName::Email,
            Channel::LinkedinPost => ChannelName::LinkedinPost,
            Channel::XPost => ChannelName::XPost,
            Channel::XThread => ChannelName::XThread,
            Channel::InstagramCaption => ChannelName::InstagramCaption,
            Channel::BlogOutline => ChannelName::BlogOutline,
            Channel::BlogArticle => ChannelName::BlogArticle,
            Channel::GoogleSearchAd => ChannelName::GoogleSearchAd,
            Channel::MetaAd => ChannelName::MetaAd,
            Channel::ReelScript => ChannelName::ReelScript,
        }
    }
}

/// A field of a variant; which fields a channel has is the platform's (an e-mail has
/// `subject` and `body`, an X post `post`, a Google search ad `headline` and
/// `description`).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FieldName {
    Subject,
    Body,
    Post,
    Caption,
    Title,
    Heading,
    Headline,
    Description,
    PrimaryText,
    Hook,
    OnScreenText,
    VoiceOver,
    Visual,
    ThumbnailText,
    Cta,
    Hashtags,
}

impl From<FieldName> for Field {
    fn from(name: FieldName) -> Self {
        match name {
            FieldName::Subject => Field::Subject,
            FieldName::Body => Field::Body,
            FieldName::Post => Field::Post,
            FieldName::Caption => Field::Caption,
            FieldName::Title => Field::Title,
            FieldName::Heading => Field::Heading,
            FieldName::Headline => Field::Headline,
            FieldName::Description => Field::Description,
            FieldName::PrimaryText => Field::PrimaryText,
            FieldName::Hook => Field::Hook,
            FieldName::OnScreenText => Field::OnScreenText,
            FieldName::VoiceOver => Field::VoiceOver,
            FieldName::Visual => Field::Visual,
            FieldName::ThumbnailText => Field::ThumbnailText,
            FieldName::Cta => Field::Cta,
            FieldName::Hashtags => Field::Hashtags,
        }
    }
}

impl From<Field> for FieldName {
    fn from(field: Field) -> Self {
        match field {
            Field::Subject => FieldName::Subject,
            Field::Body => FieldName::Body,
            Field::Post => FieldName::Post,
            Field::Caption => FieldName::Caption,
            Field::Title => FieldName::Title,
            Field::Heading => FieldName::Heading,
            Field::Headline => FieldName::Headline,
            Field::Description => FieldName::Description,
            Field::PrimaryText => FieldName::PrimaryText,
            Field::Hook => FieldName::Hook,
            Field::OnScreenText => FieldName::OnScreenText,
            Field::VoiceOver => FieldName::VoiceOver,
            Field::Visual => FieldName::Visual,
            Field::ThumbnailText => FieldName::ThumbnailText,
            Field::Cta => FieldName::Cta,
            Field::Hashtags => FieldName::Hashtags,
        }
    }
}
