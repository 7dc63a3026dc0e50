//! Vector similarity arithmetic shared by the exact vector search and MMR. It must stay
//! deterministic: the exact search promises the same ranking as brute force, so the
//! summation order here is fixed and never depends on the data.

/// Lanes of independent partial sums. Eight f32 accumulators let the compiler keep them in
/// one 256-bit register (or two 128-bit ones) instead of waiting on a single serial sum,
/// which is what makes exact search over tens of thousands of vectors affordable.
const LANES: usize = 8;

/// Inner product of two equally long vectors (extra elements of the longer are ignored).
/// On L2-normalised vectors this is their cosine similarity.
pub fn dot(left: &[f32], right: &[f32]) -> f32 {
    let length = left.len().min(right.len());
    let (left, right) = (&left[..length], &right[..length]);
    let mut lanes = [0.0f32; LANES];
    let left_blocks = left.chunks_exact(LANES);
    let right_blocks = right.chunks_exact(LANES);
    let (left_tail, right_tail) = (left_blocks.remainder(), right_blocks.remainder());
    for (left_block, right_block) in left_blocks.zip(right_blocks) {
        for lane in 0..LANES {
            lanes[lane] += left_block[lane] * right_block[lane];
        }
    }
    let mut total = lanes.iter().sum::<f32>();
    for (left_value, right_value) in left_tail.iter().zip(right_tail) {
        total += left_value * right_value;
    }
    total
}

/// Cosine similarity that does not assume normalised input; 0 when either vector is zero.
pub fn cosine(left: &[f32], right: &[f32]) -> f32 {
    let norms = (dot(left, left) * dot(right, right)).sqrt();
    if norms > 0.0 {
        dot(left, right) / norms
    } else {
        0.0
    }
}

/// Scales a vector to unit length in place; a zero vector stays zero.
pub fn normalize(vector: &mut [f32]) {
    let norm = dot(vector, vector).sqrt();
    if norm > 0.0 {
        for value in vector.iter_mut() {
            *value /= norm;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_a_plain_sum_including_the_tail() {
        let left: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let right: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.1).collect();
        let plain: f64 = left
            .iter()
            .zip(&right)
            .map(|(a, b)| *a as f64 * *b as f64)
            .sum();
        assert!((dot(&left, &right) as f64 - plain).abs() < 1e-4);
    }

    #[test]
    fn cosine_ignores_length_and_handles_zero() {
        assert!((cosine(&[2.0, 0.0], &[5.0, 0.0]) - 1.0).abs() < 1e-6);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        let mut vector = vec![3.0, 4.0];
        normalize(&mut vector);
        assert!((vector[0] - 0.6).abs() < 1e-6 && (vector[1] - 0.8).abs() < 1e-6);
    }
}
