//! The sectors and hook types a reel request chooses from, served as they are by
//! `GET /api/v1/studio/sectors` and `GET /api/v1/studio/hook-types`. Each entry carries what
//! a person choosing it needs to know and what a prompt needs to say; sectors where claims
//! are regulated carry a caution the prompt repeats.

use serde::{Deserialize, Serialize};

/// The business a reel is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sector {
    Ecommerce,
    Saas,
    Education,
    HealthFitness,
    Beauty,
    FoodBeverage,
    RealEstate,
    Finance,
    TravelHospitality,
    Fashion,
    Coaching,
    LocalServices,
    CreativeArts,
    Nonprofit,
    B2bServices,
    Entertainment,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct SectorInfo {
    pub id: Sector,
    pub name: &'static str,
    pub description: &'static str,
    /// What a script in this sector must not claim, when claims there are regulated.
    pub caution: Option<&'static str>,
}

const fn sector(
    id: Sector,
    name: &'static str,
    description: &'static str,
    caution: Option<&'static str>,
) -> SectorInfo {
    SectorInfo {
        id,
        name,
        description,
        caution,
    }
}

static SECTORS: [SectorInfo; 16] = [
    sector(
        Sector::Ecommerce,
        "E-commerce & retail",
        "Products sold online or in shops: launches, drops, bundles, unboxings.",
        None,
    ),
    sector(
        Sector::Saas,
        "Software & SaaS",
        "Apps and software: features, workflows, time saved, integrations.",
        None,
    ),
    sector(
        Sector::Education,
        "Education & online courses",
        "Courses, cohorts, tutoring and learning communities.",
        Some("Do not promise grades, jobs or income."),
    ),
    sector(
        Sector::HealthFitness,
        "Health & fitness",
        "Gyms, trainers, wellness and nutrition programmes.",
        Some("No medical claims: nothing cures, treats or prevents disease; results vary."),
    ),
    sector(
        Sector::Beauty,
        "Beauty & personal care",
        "Skincare, cosmetics, salons and grooming.",
        Some("No medical or clinical claims unless the brand can cite them."),
    ),
    sector(
        Sector::FoodBeverage,
        "Food & beverage",
        "Restaurants, cafés, food brands and drinks.",
        Some("No health claims about food without evidence."),
    ),
    sector(
        Sector::RealEstate,
        "Real estate",
        "Agents, listings, property management and home services.",
        Some("Fair-housing rules: never describe who should or should not live somewhere."),
    ),
    sector(
        Sector::Finance,
        "Finance & insurance",
        "Banking, investing, insurance, accounting and fintech.",
        Some("No promised returns; past performance does not guarantee future results."),
    ),
    sector(
        Sector::TravelHospitality,
        "Travel & hospitality",
        "Hotels, tours, destinations and experiences.",
        None,
    ),
    sector(
        Sector::Fashion,
        "Fashion & apparel",
        "Clothing, accessories and styling.",
        None,
    ),
    sector(
        Sector::Coaching,
        "Coaching & consulting",
        "Coaches, consultants and personal brands.",
        Some("Do not promise income or outcomes."),
    ),
    sector(
        Sector::LocalServices,
        "Local services",
        "Trades, repairs, cleaning, salons and other services near the viewer.",
        None,
    ),
    sector(
        Sector::CreativeArts,
        "Arts, crafts & creators",
        "Artists, makers, workshops and creator businesses.",
        None,
    ),
    sector(
        Sector::Nonprofit,
        "Non-profit & causes",
        "Charities, campaigns, volunteering and fundraising.",
        None,
    ),
    sector(
        Sector::B2bServices,
        "B2B & professional services",
        "Agencies, legal, HR, logistics and other business services.",
        None,
    ),
    sector(
        Sector::Entertainment,
        "Entertainment & media",
        "Events, music, games, podcasts and shows.",
        None,
    ),
];

/// Every sector, in display order.
pub fn sectors() -> &'static [SectorInfo] {
    &SECTORS
}

pub fn sector_info(id: Sector) -> &'static SectorInfo {
    SECTORS
        .iter()
        .find(|info| info.id == id)
        .unwrap_or(&SECTORS[0])
}

/// How a reel opens in its first seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HookType {
    Question,
    BoldStatement,
    Statistic,
    Story,
    PainPoint,
    Contrarian,
    HowTo,
    BeforeAfter,
    CuriosityGap,
    Pov,
    List,
    MythBusting,
    Challenge,
    BehindTheScenes,
    Testimonial,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HookTypeInfo {
    pub id: HookType,
    pub name: &'static str,
    /// What the hook does, for the person choosing and for the prompt.
    pub description: &'static str,
    /// An illustration of the shape (not copy to reuse).
    pub example: &'static str,
}

const fn hook(
    id: HookType,
    name: &'static str,
    description: &'static str,
    example: &'static str,
) -> HookTypeInfo {
    HookTypeInfo {
        id,
        name,
        description,
        example,
    }
}

static HOOK_TYPES: [HookTypeInfo; 15] = [
    hook(
        HookType::Question,
        "Question",
        "Ask the question the viewer is already asking themselves.",
        "Why do your watercolours always turn muddy?",
    ),
    hook(
        HookType::BoldStatement,
        "Bold statement",
        "Open with a strong statement the brand can back up.",
        "You need three brushes. Not thirty.",
    ),
    hook(
        HookType::Statistic,
        "Statistic",
        "Lead with a surprising number from the brand's own data or a cited source.",
        "8 in 10 of our students had never painted before.",
    ),
    hook(
        HookType::Story,
        "Story",
        "Start in the middle of a moment: a person, a problem, a turn.",
        "Last March, Ana walked in with a sketchbook she had never opened.",
    ),
    hook(
        HookType::PainPoint,
        "Pain point",
        "Name the viewer's problem and promise the way out.",
        "Tired of paintings that look nothing like the photo?",
    ),
    hook(
        HookType::Contrarian,
        "Contrarian",
        "Challenge a belief common in the niche.",
        "Expensive paper will not make you a better painter.",
    ),
    hook(
        HookType::HowTo,
        "How-to",
        "Promise a concrete result in a few steps.",
        "How to paint a sunset sky in three washes.",
    ),
    hook(
        HookType::BeforeAfter,
        "Before and after",
        "Show the transformation first, then how it happened.",
        "Week one on the left. Week six on the right.",
    ),
    hook(
        HookType::CuriosityGap,
        "Curiosity gap",
        "Tease something the viewer only learns by watching to the end.",
        "The one thing every beginner gets wrong is in the water jar.",
    ),
    hook(
        HookType::Pov,
        "POV",
        "Put the viewer inside a relatable situation.",
        "POV: your first class and you forgot your brushes.",
    ),
    hook(
        HookType::List,
        "List",
        "Promise a short numbered list.",
        "Three mistakes that ruin a first landscape.",
    ),
    hook(
        HookType::MythBusting,
        "Myth busting",
        "Name a myth and break it with evidence.",
        "Myth: you need talent to paint. Here is what you need instead.",
    ),
    hook(
        HookType::Challenge,
        "Challenge",
        "Invite the viewer to try something with you.",
        "Paint this leaf with me in under a minute.",
    ),
    hook(
        HookType::BehindTheScenes,
        "Behind the scenes",
        "Show how something is made or how the team works.",
        "This is how we prepare 40 palettes before every class.",
    ),
    hook(
        HookType::Testimonial,
        "Testimonial",
        "Open with a real customer's words (with their permission).",
        "\"I finally finished a painting I am proud of.\" — Sam, spring cohort",
    ),
];

/// Every hook type, in display order.
pub fn hook_types() -> &'static [HookTypeInfo] {
    &HOOK_TYPES
}

pub fn hook_type_info(id: HookType) -> &'static HookTypeInfo {
    HOOK_TYPES
        .iter()
        .find(|info| info.id == id)
        .unwrap_or(&HOOK_TYPES[0])
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_sector_and_hook_type_is_listed_once_with_text() {
        let sector_ids: HashSet<_> = sectors().iter().map(|s| s.id).collect();
        assert_eq!(sector_ids.len(), sectors().len());
        assert!(
            sectors()
                .iter()
                .all(|s| !s.name.is_empty() && !s.description.is_empty())
        );
        let hook_ids: HashSet<_> = hook_types().iter().map(|h| h.id).collect();
        assert_eq!(hook_ids.len(), hook_types().len());
        assert!(
            hook_types()
                .iter()
                .all(|h| !h.description.is_empty() && !h.example.is_empty())
        );
        for info in sectors() {
            assert_eq!(sector_info(info.id), info);
        }
        for info in hook_types() {
            assert_eq!(hook_type_info(info.id), info);
        }
    }

    #[test]
    fn regulated_sectors_carry_a_caution() {
        assert!(
            sector_info(Sector::HealthFitness)
                .caution
                .unwrap()
                .contains("No medical claims")
        );
        assert!(
            sector_info(Sector::Finance)
                .caution
                .unwrap()
                .contains("No promised returns")
        );
        assert_eq!(sector_info(Sector::Fashion).caution, None);
    }

    #[test]
    fn the_lists_serialise_as_the_api_serves_them() {
        let json = serde_json::to_value(sectors()).unwrap();
        assert_eq!(json[0]["id"], "ecommerce");
        assert_eq!(json[3]["id"], "health_fitness");
        let hooks = serde_json::to_value(hook_types()).unwrap();
        assert_eq!(hooks[0]["id"], "question");
        assert_eq!(hooks[13]["id"], "behind_the_scenes");
        let request: HookType = serde_json::from_str("\"pain_point\"").unwrap();
        assert_eq!(request, HookType::PainPoint);
    }
}
