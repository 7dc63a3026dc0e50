//! Voice-consistency scoring on a 150-word post, the size of a LinkedIn post or a long
//! caption. The generation loop scores every variant it keeps, so issue 7's budget is well
//! under 50 µs a text on one core; criterion reports the time per text.

use brandpilot_studio::language::Language;
use brandpilot_studio::voice::{CompiledVoice, VoiceExample, learn_voice};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const EXAMPLES: &[&str] = &[
    "New colours just landed! 🎨 Come paint with us this Saturday. Bring a friend! ✨",
    "Your first watercolour class is on us! 🎉 Grab a brush. We bring the paint.",
    "Rainy day? Paint it bright! 🌈 Our Saturday watercolour class has three seats left.",
    "You don't need talent. You need a brush! 🖌️ See you Saturday at the studio.",
    "Small groups, a patient teacher and every material on the table when you arrive. \
     Book your seat for the spring course today! 🌷 #watercolour #leeds",
];

/// 150 words in the brand's register: short sentences, "you" and "we", a few emoji.
const POST: &str = "Spring is here, and so is our new watercolour course! 🌷 Six Saturday \
    mornings in our Leeds studio. Small groups. A patient teacher. Every brush, pan and sheet \
    of paper is on the table when you arrive. You don't need talent. You need curiosity and a \
    free morning. We start with washes and colour mixing. Then we paint flowers, skies and the \
    river at dusk. By week six you will paint a scene you are proud to hang at home. Last \
    spring, twelve beginners joined us. Ten signed up again! 🎨 Ready to try? Book your seat \
    today: only eight places each Saturday. Bring a friend and you both save ten pounds. \
    Questions? Reply to this post or call the studio. Our teachers have painted the Yorkshire \
    coast for twenty years and love to share it. We love hearing from you. See you in the \
    studio soon, brush in hand! ✨ Materials are included while stocks last. #watercolour #leeds \
    #paintingclass";

fn bench_voice(c: &mut Criterion) {
    let examples: Vec<VoiceExample> = EXAMPLES
        .iter()
        .map(|text| VoiceExample::new(text))
        .collect();
    let profile = learn_voice(&examples, Language::En).expect("the examples have words");
    let voice = CompiledVoice::new(&profile);
    let mut group = c.benchmark_group("voice");
    group.throughput(Throughput::Elements(1));
    group.bench_function("CompiledVoice::score (150 words)", |b| {
        b.iter(|| voice.score(black_box(POST)))
    });
    group.bench_function("learn_voice (5 examples)", |b| {
        b.iter(|| learn_voice(black_box(&examples), Language::En))
    });
    group.finish();
}

criterion_group!(benches, bench_voice);
criterion_main!(benches);
