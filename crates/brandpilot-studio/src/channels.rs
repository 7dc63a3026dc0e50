//! The channels Studio writes for, the fields of each, and each platform's limits: how many
//! entries a field takes, how its length is counted and where the platform rejects, cuts or
//! hides text. The validators read these tables rather than hard-coding numbers, so a
//! platform change is a one-line edit here. Limits are split in two on purpose: a *hard*
//! limit is one the platform enforces (the post is refused or cut), a *recommended* one is
//! the platform's or the industry's advice (text is hidden behind "See more"); the first
//! fails a variant, the second only warns.
//!
//! Sources, checked when these tables were written:
//! - X: 280 weighted characters; code points in U+0000–U+10FF, U+2000–U+200D, U+2010–U+201F
//!   and U+2032–U+2037 weigh 1, every other code point 2, an emoji sequence 2, a URL 23
//!   (developer.x.com/en/docs/counting-characters, twitter-text config v3).
//! - LinkedIn: a post's commentary takes up to 3,000 characters (LinkedIn Posts API, as
//!   also documented by posting APIs such as ayrshare.com/docs/apis/post/social-networks/linkedin).
//! - Instagram: captions up to 2,200 characters; up to 5 hashtags per post or reel since
//!   Instagram's December 2025 announcement (it was 30 before).
//! - Google responsive search ads: 3–15 headlines of at most 30 characters and 2–4
//!   descriptions of at most 90; double-width (CJK) characters count twice
//!   (support.google.com/google-ads/answer/7684791). Google Ads' editorial policy refuses
//!   emoji in ad text.
//! - Meta ads: primary text shows about 125 characters before "See more" (Meta's recommended
//!   length) and takes up to 2,200; recommended headline 40 and description 30 characters
//!   (Meta Ads Guide, feed placements; shorter in some placements such as Reels).
//! - E-mail subject: no protocol limit worth writing to; Mailchimp's research favours fewer
//!   than 9 words, and desktop inboxes cut around 60 characters.
//! - Blog: no platform limit; a title of about 60 characters shows whole in search results,
//!   and 300 words is the common floor for an indexable article.
//! - Reels: caption and hashtags as Instagram; a hook is spoken in the first seconds, so a
//!   dozen words at most; on-screen text and thumbnail text must be read at a glance.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

/// Where a variant will be published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
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

impl Channel {
    pub const ALL: [Channel; 10] = [
        Channel::Email,
        Channel::LinkedinPost,
        Channel::XPost,
        Channel::XThread,
        Channel::InstagramCaption,
        Channel::BlogOutline,
        Channel::BlogArticle,
        Channel::GoogleSearchAd,
        Channel::MetaAd,
        Channel::ReelScript,
    ];

    /// The channel whose wire name is `code`.
    pub fn from_code(code: &str) -> Option<Channel> {
        Channel::ALL
            .into_iter()
            .find(|channel| channel.code() == code)
    }

    /// The wire name (`linkedin_post`).
    pub fn code(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::LinkedinPost => "linkedin_post",
            Channel::XPost => "x_post",
            Channel::XThread => "x_thread",
            Channel::InstagramCaption => "instagram_caption",
            Channel::BlogOutline => "blog_outline",
            Channel::BlogArticle => "blog_article",
            Channel::GoogleSearchAd => "google_search_ad",
            Channel::MetaAd => "meta_ad",
            Channel::ReelScript => "reel_script",
        }
    }
}

/// A field of a variant. Which fields a channel has is in its [`ChannelSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
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

impl Field {
    /// The wire name (`primary_text`).
    pub fn code(self) -> &'static str {
        match self {
            Field::Subject => "subject",
            Field::Body => "body",
            Field::Post => "post",
            Field::Caption => "caption",
            Field::Title => "title",
            Field::Heading => "heading",
            Field::Headline => "headline",
            Field::Description => "description",
            Field::PrimaryText => "primary_text",
            Field::Hook => "hook",
            Field::OnScreenText => "on_screen_text",
            Field::VoiceOver => "voice_over",
            Field::Visual => "visual",
            Field::ThumbnailText => "thumbnail_text",
            Field::Cta => "cta",
            Field::Hashtags => "hashtags",
        }
    }
}

/// One entry of a variant: a field and its text. Repeated fields (the posts of a thread,
/// the headlines of a search ad) are repeated entries, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldText {
    pub field: Field,
    pub text: String,
}

impl FieldText {
    pub fn new(field: Field, text: impl Into<String>) -> FieldText {
        FieldText {
            field,
            text: text.into(),
        }
    }
}

/// What a field is for, which decides the rules that read it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldRole {
    /// Sentences people read or hear: bodies, posts, captions, voice-over. Every rule reads
    /// them, including readability.
    Copy,
    /// Short published lines: subjects, titles, headlines, on-screen text. Every rule but
    /// readability reads them.
    Label,
    /// Directions for the production team, never published (b-roll suggestions): only
    /// length limits apply.
    Direction,
    /// A list of hashtags, one per entry.
    Tags,
}

impl FieldRole {
    /// Whether the audience sees or hears this field.
    pub fn is_published(self) -> bool {
        matches!(self, FieldRole::Copy | FieldRole::Label)
    }
}

/// How a platform counts the length of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CountMethod {
    /// Unicode scalar values.
    Characters,
    /// X's weighted count: most Latin text 1, other scripts and emoji 2, links 23.
    XWeighted,
    /// Google Ads' display width: double-width (CJK) characters count 2.
    DisplayWidth,
}

/// The limits of one field of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct FieldSpec {
    pub field: Field,
    pub role: FieldRole,
    /// How many entries the field takes.
    pub min_entries: usize,
    pub max_entries: usize,
    pub count: CountMethod,
    /// Beyond this the platform refuses or cuts the text: a failure.
    pub max_chars: Option<usize>,
    /// Beyond this the text is hidden or advised against: a warning.
    pub recommended_max_chars: Option<usize>,
    /// Below this the text is too thin to do its job: a warning.
    pub recommended_min_words: Option<usize>,
    /// Above this the text is too long to do its job: a warning.
    pub recommended_max_words: Option<usize>,
}

const fn field(field: Field, role: FieldRole, min_entries: usize, max_entries: usize) -> FieldSpec {
    FieldSpec {
        field,
        role,
        min_entries,
        max_entries,
        count: CountMethod::Characters,
        max_chars: None,
        recommended_max_chars: None,
        recommended_min_words: None,
        recommended_max_words: None,
    }
}

impl FieldSpec {
    const fn max_chars(mut self, max: usize) -> Self {
        self.max_chars = Some(max);
        self
    }
    const fn recommended_chars(mut self, max: usize) -> Self {
        self.recommended_max_chars = Some(max);
        self
    }
    const fn min_words(mut self, min: usize) -> Self {
        self.recommended_min_words = Some(min);
        self
    }
    const fn max_words(mut self, max: usize) -> Self {
        self.recommended_max_words = Some(max);
        self
    }
    const fn counted(mut self, count: CountMethod) -> Self {
        self.count = count;
        self
    }
}

/// Where a channel's hashtags live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum HashtagPlacement {
    /// The channel does not use hashtags; hashtag rules do not apply.
    None,
    /// Written inside the text of `field` (the last entry gets new ones).
    Inline {
        field: Field,
        platform_max: Option<usize>,
    },
    /// A list field of their own, one tag per entry.
    List {
        field: Field,
        platform_max: Option<usize>,
    },
}

impl HashtagPlacement {
    pub fn platform_max(self) -> Option<usize> {
        match self {
            HashtagPlacement::None => None,
            HashtagPlacement::Inline { platform_max, .. }
            | HashtagPlacement::List { platform_max, .. } => platform_max,
        }
    }
}

/// A channel and its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ChannelSpec {
    pub channel: Channel,
    pub name: &'static str,
    pub fields: &'static [FieldSpec],
    pub hashtags: HashtagPlacement,
    /// Where a missing disclaimer is appended; `None` when the channel has no room for one.
    pub disclaimer_field: Option<Field>,
    /// Whether a variant must carry a call to action.
    pub requires_cta: bool,
    /// Whether the platform accepts emoji at all.
    pub emoji_allowed: bool,
}

impl ChannelSpec {
    pub fn field(&self, field: Field) -> Option<&'static FieldSpec> {
        self.fields.iter().find(|spec| spec.field == field)
    }
}

use CountMethod::{DisplayWidth, XWeighted};

const INSTAGRAM_CAPTION_MAX: usize = 2_200;
const INSTAGRAM_HASHTAGS_MAX: usize = 5;
const X_POST_MAX: usize = 280;

static SPECS: [ChannelSpec; 10] = [
    ChannelSpec {
        channel: Channel::Email,
        name: "E-mail",
        fields: &[
            field(Field::Subject, FieldRole::Label, 1, 1)
                .recommended_chars(60)
                .max_words(9),
            field(Field::Body, FieldRole::Copy, 1, 1).min_words(25),
        ],
        hashtags: HashtagPlacement::None,
        disclaimer_field: Some(Field::Body),
        requires_cta: true,
        emoji_allowed: true,
    },
    ChannelSpec {
        channel: Channel::LinkedinPost,
        name: "LinkedIn post",
        fields: &[field(Field::Post, FieldRole::Copy, 1, 1).max_chars(3_000)],
        hashtags: HashtagPlacement::Inline {
            field: Field::Post,
            platform_max: None,
        },
        disclaimer_field: Some(Field::Post),
        requires_cta: true,
        emoji_allowed: true,
    },
    ChannelSpec {
        channel: Channel::XPost,
        name: "X post",
        fields: &[field(Field::Post, FieldRole::Copy, 1, 1)
            .max_chars(X_POST_MAX)
            .counted(XWeighted)],
        hashtags: HashtagPlacement::Inline {
            field: Field::Post,
            platform_max: None,
        },
        disclaimer_field: Some(Field::Post),
        requires_cta: true,
        emoji_allowed: true,
    },
    ChannelSpec {
        channel: Channel::XThread,
        name: "X thread",
        fields: &[field(Field::Post, FieldRole::Copy, 2, 25)
            .max_chars(X_POST_MAX)
            .counted(XWeighted)],
        hashtags: HashtagPlacement::Inline {
            field: Field::Post,
            platform_max: None,
        },
        disclaimer_field: Some(Field::Post),
        requires_cta: true,
        emoji_allowed: true,
    },
    ChannelSpec {
        channel: Channel::InstagramCaption,
        name: "Instagram caption",
        fields: &[field(Field::Caption, FieldRole::Copy, 1, 1).max_chars(INSTAGRAM_CAPTION_MAX)],
        hashtags: HashtagPlacement::Inline {
            field: Field::Caption,
            platform_max: Some(INSTAGRAM_HASHTAGS_MAX),
        },
        disclaimer_field: Some(Field::Caption),
        requires_cta: true,
        emoji_allowed: true,
    },
    ChannelSpec {
        channel: Channel::BlogOutline,
        name: "Blog outline",
        fields: &[
            field(Field::Title, FieldRole::Label, 1, 1).recommended_chars(60),
            field(Field::Heading, FieldRole::Label, 3, 15).recommended_chars(70),
        ],
        hashtags: HashtagPlacement::None,
        disclaimer_field: None,
        requires_cta: false,
        emoji_allowed: true,
    },
    ChannelSpec {
        channel: Channel::BlogArticle,
        name: "Blog article",
        fields: &[
            field(Field::Title, FieldRole::Label, 1, 1).recommended_chars(60),
            field(Field::Body, FieldRole::Copy, 1, 1).min_words(300),
        ],
        hashtags: HashtagPlacement::None,
        disclaimer_field: Some(Field::Body),
        requires_cta: true,
        emoji_allowed: true,
    },
    ChannelSpec {
        channel: Channel::GoogleSearchAd,
        name: "Google responsive search ad",
        fields: &[
            field(Field::Headline, FieldRole::Label, 3, 15)
                .max_chars(30)
                .counted(DisplayWidth),
            field(Field::Description, FieldRole::Copy, 2, 4)
                .max_chars(90)
                .counted(DisplayWidth),
        ],
        hashtags: HashtagPlacement::None,
        disclaimer_field: None,
        requires_cta: true,
        emoji_allowed: false,
    },
    ChannelSpec {
        channel: Channel::MetaAd,
        name: "Meta ad",
        fields: &[
            field(Field::PrimaryText, FieldRole::Copy, 1, 1)
                .max_chars(2_200)
                .recommended_chars(125),
            field(Field::Headline, FieldRole::Label, 1, 1).recommended_chars(40),
            field(Field::Description, FieldRole::Label, 0, 1).recommended_chars(30),
        ],
        hashtags: HashtagPlacement::None,
        disclaimer_field: Some(Field::PrimaryText),
        requires_cta: true,
        emoji_allowed: true,
    },
    ChannelSpec {
        channel: Channel::ReelScript,
        name: "Reel script",
        fields: &[
            field(Field::Hook, FieldRole::Copy, 1, 1).max_words(12),
            field(Field::OnScreenText, FieldRole::Label, 1, 30).max_words(10),
            field(Field::VoiceOver, FieldRole::Copy, 1, 30),
            field(Field::Visual, FieldRole::Direction, 1, 30),
            field(Field::ThumbnailText, FieldRole::Label, 1, 1)
                .recommended_chars(40)
                .max_words(6),
            field(Field::Cta, FieldRole::Label, 1, 1).max_words(15),
            field(Field::Caption, FieldRole::Copy, 1, 1).max_chars(INSTAGRAM_CAPTION_MAX),
            field(Field::Hashtags, FieldRole::Tags, 0, 100),
        ],
        hashtags: HashtagPlacement::List {
            field: Field::Hashtags,
            platform_max: Some(INSTAGRAM_HASHTAGS_MAX),
        },
        disclaimer_field: Some(Field::Caption),
        requires_cta: true,
        emoji_allowed: true,
    },
];

/// The fields and limits of `channel`.
pub fn spec(channel: Channel) -> &'static ChannelSpec {
    let spec = &SPECS[Channel::ALL.iter().position(|c| *c == channel).unwrap_or(0)];
    debug_assert_eq!(spec.channel, channel);
    spec
}

/// Every channel's spec, in [`Channel::ALL`] order (for `GET /api/v1/studio/channels`).
pub fn all_specs() -> &'static [ChannelSpec] {
    &SPECS
}

/// The length of `text` as the platform counts it.
pub fn count_chars(text: &str, method: CountMethod) -> usize {
    match method {
        CountMethod::Characters => text.chars().count(),
        CountMethod::DisplayWidth => text
            .chars()
            .map(|c| if is_double_width(c) { 2 } else { 1 })
            .sum(),
        CountMethod::XWeighted => x_weighted_length(text),
    }
}

/// Double-width characters as Google Ads counts them: Hangul, CJK ideographs, kana and
/// full-width forms.
fn is_double_width(c: char) -> bool {
    matches!(c as u32,
        0x1100..=0x115F | 0x2E80..=0x303E | 0x3041..=0x33FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF
        | 0xA000..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60
        | 0xFFE0..=0xFFE6 | 0x20000..=0x2FFFD | 0x30000..=0x3FFFD)
}

fn x_weight(c: char) -> usize {
    match c as u32 {
        0x0000..=0x10FF | 0x2000..=0x200D | 0x2010..=0x201F | 0x2032..=0x2037 => 1,
        _ => 2,
    }
}

/// X's weighted length: links count 23, each emoji sequence 2, other code points 1 or 2 by
/// range. Text is counted as given (X normalises to NFC first; decomposed accents may count
/// one more here).
fn x_weighted_length(text: &str) -> usize {
    const URL_WEIGHT: usize = 23;
    const EMOJI_WEIGHT: usize = 2;
    let links: Vec<_> = crate::text::link_spans(text)
        .into_iter()
        .filter(|span| !text[span.clone()].contains('@') || text[span.clone()].contains("://"))
        .collect();
    let emoji = crate::text::emoji_spans(text);
    let mut length = 0;
    let mut at = 0;
    let mut link_index = 0;
    let mut emoji_index = 0;
    while at < text.len() {
        if let Some(link) = links.get(link_index)
            && link.start == at
        {
            length += URL_WEIGHT;
            at = link.end;
            link_index += 1;
            continue;
        }
        if let Some(span) = emoji.get(emoji_index) {
            if span.start == at {
                length += EMOJI_WEIGHT;
                at = span.end;
                emoji_index += 1;
                continue;
            }
            if span.end <= at {
                emoji_index += 1;
                continue;
            }
        }
        let c = text[at..].chars().next().unwrap_or(' ');
        length += x_weight(c);
        at += c.len_utf8();
    }
    length
}

/// The schema of one generated hashtag: a short string. Its format (`#` and ASCII word
/// characters) is not in the schema because grammar-constrained generation takes no
/// `pattern`; the validators judge it and `repair` adds a missing `#` or drops a malformed tag.
pub fn tag_schema() -> Value {
    json!({"type": "string", "minLength": 2, "maxLength": 40})
}

/// A JSON Schema for one variant of `channel`, for grammar-constrained generation: an object
/// with one property per field (a string, or an array of strings for repeated fields), hard
/// limits as `maxLength` (in characters; X's and Google's weighting is checked afterwards by
/// the validators). It stays inside the schema subset `brandpilot-llm` turns into grammars.
pub fn variant_schema(channel: Channel) -> Value {
    let spec = spec(channel);
    let mut properties = serde_json::Map::new();
    let mut required = Vec::new();
    for field in spec.fields {
        let mut text = json!({"type": "string", "minLength": 1});
        if let Some(max) = field.max_chars {
            text["maxLength"] = json!(max);
        }
        if field.role == FieldRole::Tags {
            text = tag_schema();
        }
        let schema = if field.max_entries == 1 {
            text
        } else {
            let mut array = json!({"type": "array", "items": text, "minItems": field.min_entries});
            let max_items = match (field.role, spec.hashtags.platform_max()) {
                (FieldRole::Tags, Some(max)) => max,
                _ => field.max_entries,
            };
            array["maxItems"] = json!(max_items);
            array
        };
        properties.insert(field.field.code().to_owned(), schema);
        if field.min_entries > 0 {
            required.push(field.field.code());
        }
    }
    json!({
        "type": "object",
        "properties": properties,
        "required": required,
        "additionalProperties": false,
    })
}

/// A JSON Schema for `count` variants of `channel`: `{"variants": [variant, ...]}`.
pub fn variants_schema(channel: Channel, count: usize) -> Value {
    json!({
        "type": "object",
        "properties": {
            "variants": {
                "type": "array",
                "items": variant_schema(channel),
                "minItems": count,
                "maxItems": count,
            }
        },
        "required": ["variants"],
        "additionalProperties": false,
    })
}

/// A variant in the JSON shape [`variant_schema`] describes, turned into field entries in
/// the channel's field order. Unknown properties and non-string values are ignored (the
/// validators then report missing fields).
pub fn fields_from_json(channel: Channel, value: &Value) -> Vec<FieldText> {
    let mut out = Vec::new();
    for field in spec(channel).fields {
        match value.get(field.field.code()) {
            Some(Value::String(text)) => out.push(FieldText::new(field.field, text.clone())),
            Some(Value::Array(items)) => out.extend(
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(|text| FieldText::new(field.field, text)),
            ),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_channel_has_a_spec_of_its_own() {
        for channel in Channel::ALL {
            assert_eq!(spec(channel).channel, channel);
            assert!(!spec(channel).fields.is_empty());
        }
        assert_eq!(all_specs().len(), Channel::ALL.len());
    }

    #[test]
    fn platform_limits_are_the_documented_ones() {
        assert_eq!(
            spec(Channel::XPost).field(Field::Post).unwrap().max_chars,
            Some(280)
        );
        assert_eq!(
            spec(Channel::LinkedinPost)
                .field(Field::Post)
                .unwrap()
                .max_chars,
            Some(3000)
        );
        let instagram = spec(Channel::InstagramCaption);
        assert_eq!(
            instagram.field(Field::Caption).unwrap().max_chars,
            Some(2200)
        );
        assert_eq!(instagram.hashtags.platform_max(), Some(5));
        let google = spec(Channel::GoogleSearchAd);
        let headline = google.field(Field::Headline).unwrap();
        assert_eq!(
            (
                headline.max_chars,
                headline.min_entries,
                headline.max_entries
            ),
            (Some(30), 3, 15)
        );
        let description = google.field(Field::Description).unwrap();
        assert_eq!(
            (
                description.max_chars,
                description.min_entries,
                description.max_entries
            ),
            (Some(90), 2, 4)
        );
        assert!(!google.emoji_allowed);
        let meta = spec(Channel::MetaAd);
        assert_eq!(
            meta.field(Field::PrimaryText)
                .unwrap()
                .recommended_max_chars,
            Some(125)
        );
        assert_eq!(
            meta.field(Field::Headline).unwrap().recommended_max_chars,
            Some(40)
        );
        assert_eq!(
            meta.field(Field::Description)
                .unwrap()
                .recommended_max_chars,
            Some(30)
        );
    }

    #[test]
    fn x_counts_links_as_23_and_emoji_and_cjk_as_2() {
        assert_eq!(count_chars("hello", CountMethod::XWeighted), 5);
        // 6 for "Read: " + 23 for any link, however long.
        assert_eq!(
            count_chars(
                "Read: https://example.com/a/very/long/path/that/goes/on",
                CountMethod::XWeighted
            ),
            29
        );
        // Two CJK characters weigh 2 each; a ZWJ family emoji weighs 2 in all.
        assert_eq!(count_chars("你好", CountMethod::XWeighted), 4);
        assert_eq!(count_chars("👨‍👩‍👧", CountMethod::XWeighted), 2);
        // Curly quotes and the en dash sit in the weight-1 punctuation range.
        assert_eq!(count_chars("“a” – b", CountMethod::XWeighted), 7);
        assert_eq!(count_chars("", CountMethod::XWeighted), 0);
    }

    #[test]
    fn google_counts_double_width_characters_twice() {
        assert_eq!(count_chars("Spring sale", CountMethod::DisplayWidth), 11);
        assert_eq!(count_chars("春のセール", CountMethod::DisplayWidth), 10);
        assert_eq!(count_chars("Café", CountMethod::DisplayWidth), 4);
    }

    #[test]
    fn the_variant_schema_carries_the_hard_limits() {
        let schema = variant_schema(Channel::GoogleSearchAd);
        assert_eq!(schema["properties"]["headline"]["items"]["maxLength"], 30);
        assert_eq!(schema["properties"]["headline"]["minItems"], 3);
        assert_eq!(schema["properties"]["headline"]["maxItems"], 15);
        assert_eq!(schema["additionalProperties"], false);
        let email = variant_schema(Channel::Email);
        assert_eq!(email["required"], json!(["subject", "body"]));
        let meta = variant_schema(Channel::MetaAd);
        assert_eq!(
            meta["required"],
            json!(["primary_text", "headline"]),
            "a description is optional"
        );
        let reel = variant_schema(Channel::ReelScript);
        assert_eq!(reel["properties"]["hashtags"]["maxItems"], 5);
        let set = variants_schema(Channel::XPost, 3);
        assert_eq!(set["properties"]["variants"]["minItems"], 3);
        assert_eq!(
            set["properties"]["variants"]["items"]["properties"]["post"]["maxLength"],
            280
        );
    }

    #[test]
    fn json_variants_become_field_entries_in_channel_order() {
        let value = json!({"description": ["Learn fast.", "Start today."], "headline": ["A", "B", "C"], "extra": 1});
        let fields = fields_from_json(Channel::GoogleSearchAd, &value);
        let order: Vec<Field> = fields.iter().map(|f| f.field).collect();
        assert_eq!(
            order,
            [
                Field::Headline,
                Field::Headline,
                Field::Headline,
                Field::Description,
                Field::Description
            ]
        );
    }

    #[test]
    fn channels_travel_by_their_wire_names() {
        assert_eq!(
            serde_json::to_string(&Channel::LinkedinPost).unwrap(),
            "\"linkedin_post\""
        );
        for channel in Channel::ALL {
            assert_eq!(
                serde_json::to_value(channel).unwrap(),
                json!(channel.code())
            );
        }
        assert_eq!(
            serde_json::to_value(Field::OnScreenText).unwrap(),
            json!("on_screen_text")
        );
    }
}
