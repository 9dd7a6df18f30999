//! The demo's random source: ChaCha8 seeded from the user's seed, one stream per
//! part of the city, so that changing how programs are drawn does not reshuffle
//! the KPIs. ChaCha is specified bit for bit, so a seed gives the same random
//! stream on every machine and every version of rand_chacha 0.9.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Streams of the seeded generator, one per builder.
#[derive(Debug, Clone, Copy)]
pub enum Stream {
    Org = 1,
    Kpis = 2,
    Observations = 3,
    Programs = 4,
    Money = 5,
}

pub struct DemoRng(ChaCha8Rng);

impl DemoRng {
    pub fn new(seed: u64, stream: Stream) -> Self {
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        rng.set_stream(stream as u64);
        Self(rng)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    /// Uniform in [lo, hi).
    pub fn between(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform integer in [lo, hi]; `lo` when the range is empty.
    pub fn int(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            lo
        } else {
            self.0.random_range(lo..=hi)
        }
    }

    /// Uniform index below `len`; 0 for an empty range.
    pub fn index(&mut self, len: usize) -> usize {
        if len <= 1 {
            0
        } else {
            self.0.random_range(0..len)
        }
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Standard normal by Box–Muller (rand 0.9 has no normal distribution
    /// without rand_distr, and one formula is all the demo needs).
    pub fn normal(&mut self) -> f64 {
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        let i = self.index(items.len());
        items.get(i)
    }

    /// Index chosen with the given relative weights; 0 if all are zero.
    pub fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        if total <= 0.0 {
            return 0;
        }
        let mut x = self.unit() * total;
        for (i, w) in weights.iter().enumerate() {
            if x < *w {
                return i;
            }
            x -= w;
        }
        weights.len().saturating_sub(1)
    }

    /// Fisher–Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<f64> = (0..5)
            .map({
                let mut r = DemoRng::new(7, Stream::Kpis);
                move |_| r.unit()
            })
            .collect();
        let b: Vec<f64> = (0..5)
            .map({
                let mut r = DemoRng::new(7, Stream::Kpis);
                move |_| r.unit()
            })
            .collect();
        let c: Vec<f64> = (0..5)
            .map({
                let mut r = DemoRng::new(7, Stream::Programs);
                move |_| r.unit()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(a, c);
    }

    #[test]
    fn normal_has_unit_spread() {
        let mut r = DemoRng::new(1, Stream::Money);
        let xs: Vec<f64> = (0..20_000).map(|_| r.normal()).collect();
        let mean = xs.iter().sum::<f64>() / xs.len() as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / xs.len() as f64;
        assert!(mean.abs() < 0.03, "mean {mean}");
        assert!((var - 1.0).abs() < 0.05, "var {var}");
        assert!(xs.iter().all(|x| x.is_finite()));
    }

    #[test]
    fn weighted_respects_zero_weights() {
        let mut r = DemoRng::new(3, Stream::Org);
        for _ in 0..1000 {
            let i = r.weighted(&[0.0, 1.0, 0.0, 2.0]);
            assert!(i == 1 || i == 3);
        }
        assert_eq!(r.weighted(&[0.0, 0.0]), 0);
    }
}
