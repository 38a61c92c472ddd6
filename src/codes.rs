//! Statistics of code assignments and the codes file, on plain slices.
//!
//! With `codes (N·l)` the nearest-code index of each of the l vectors of N images and
//! `labels (N)` their classes:
//! - **usage** `u_k = #{i : codes_i = k}`, so `Σ_k u_k = N·l`;
//! - **perplexity** `exp(H)`, `H = −Σ_k p_k ln p_k` with `p_k = u_k / Σ u`: the number of
//!   equally used codes with the same entropy (K when all are used evenly, 1 when one is);
//! - **majority class** of code k: the class c maximising `#{i : codes_i = k, label(i / l) = c}`,
//!   the lowest such c on ties, and −1 for a dead code (`u_k = 0`);
//! - **moves** of a codebook step: `‖e_k' − e_k‖₂` per code;
//! - **distances** `‖z_n − e_k‖₂` of encoder outputs to every code, and their row argmin
//!   (the quantization step `k* = argmin_k ‖z_e − e_k‖₂`).
//!
//! The CSV has one row per image: index, label, the code (z, μ or z_e), then log σ² (VAE) or
//! the code indices (VQ-VAE); numbers carry seven significant digits, written as JavaScript
//! writes `Number(v.toPrecision(7))`.

use crate::model::ModelKind;

/// `u_k`, the number of entries of `codes` equal to k, for k < `k`.
pub fn usage(codes: &[u32], k: usize) -> Vec<u32> {
    let mut counts = vec![0u32; k];
    codes.iter().for_each(|&c| counts[c as usize] += 1);
    counts
}

/// `exp(−Σ p_k ln p_k)` of a histogram (0 for an empty one).
pub fn perplexity(counts: &[u32]) -> f32 {
    let total: f64 = counts.iter().map(|&c| c as f64).sum();
    if total == 0.0 {
        return 0.0;
    }
    let entropy: f64 = counts
        .iter()
        .filter(|&&c| c > 0)
        .map(|&c| {
            let p = c as f64 / total;
            -p * p.ln()
        })
        .sum();
    entropy.exp() as f32
}

/// The class most often assigned to each of the `k` codes (−1 for a dead code), with
/// `per_image` codes per label and `classes` classes.
pub fn majority(codes: &[u32], labels: &[u8], per_image: usize, k: usize, classes: usize) -> Vec<i16> {
    let mut votes = vec![0u32; k * classes];
    for (i, &c) in codes.iter().enumerate() {
        votes[c as usize * classes + labels[i / per_image] as usize] += 1;
    }
    votes
        .chunks_exact(classes.max(1))
        .map(|row| {
            let best = row.iter().copied().max().unwrap_or(0);
            if best == 0 {
                -1
            } else {
                row.iter().position(|&v| v == best).map_or(-1, |c| c as i16)
            }
        })
        .collect()
}

/// `‖after_k − before_k‖₂` for each code of two `(K, D)` codebooks.
pub fn moves(before: &[f32], after: &[f32], code_dim: usize) -> Vec<f32> {
    before
        .chunks_exact(code_dim)
        .zip(after.chunks_exact(code_dim))
        .map(|(a, b)| a.iter().zip(b).map(|(x, y)| ((y - x) as f64).powi(2)).sum::<f64>().sqrt() as f32)
        .collect()
}

/// Number of distinct values in `codes`.
pub fn distinct(codes: &[u32]) -> usize {
    let mut sorted = codes.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    sorted.len()
}

/// The codes of N images as CSV text. `mean (N, n)`; `logvar (N, n)` for a VAE; `codes (N, l)`
/// for a VQ-VAE.
pub fn csv(kind: ModelKind, labels: &[u8], mean: &[f32], logvar: Option<&[f32]>, codes: Option<&[u32]>) -> String {
    let n = labels.len();
    let d = mean.len().checked_div(n).unwrap_or(0);
    let l = codes.and_then(|c| c.len().checked_div(n)).unwrap_or(0);
    let prefix = match kind {
        ModelKind::Ae => "z",
        ModelKind::Vae => "mu",
        ModelKind::Vqvae => "ze",
    };
    let names = |prefix: &str, count: usize| (1..=count).map(|j| format!(",{prefix}_{j}")).collect::<String>();
    let mut out = format!("index,label{}", names(prefix, d));
    if logvar.is_some() {
        out += &names("logvar", d);
    }
    if codes.is_some() {
        out += &names("code", l);
    }
    out.push('\n');
    for (i, &label) in labels.iter().enumerate() {
        out += &format!("{i},{label}");
        let numbers = mean[i * d..(i + 1) * d].iter().chain(logvar.map_or(&[][..], |v| &v[i * d..(i + 1) * d]));
        numbers.for_each(|&v| {
            out.push(',');
            out += &seven_digits(v);
        });
        if let Some(c) = codes {
            c[i * l..(i + 1) * l].iter().for_each(|k| out += &format!(",{k}"));
        }
        out.push('\n');
    }
    out
}

/// `String(Number(v.toPrecision(7)))` in JavaScript: `v` rounded to seven significant digits,
/// then written as the shortest decimal that reads back to that double.
pub fn seven_digits(v: f32) -> String {
    let rounded: f64 = format!("{:.6e}", v as f64).parse().expect("a formatted float parses");
    js_number(rounded)
}

/// How JavaScript's `String(x)` writes a finite double (ECMAScript Number::toString).
pub fn js_number(x: f64) -> String {
    if x == 0.0 {
        return "0".into();
    }
    if !x.is_finite() {
        return if x.is_nan() {
            "NaN".into()
        } else if x > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    let sign = if x < 0.0 { "-" } else { "" };
    // Shortest round-trip digits and exponent, e.g. "1.2345e-7".
    let exp_form = format!("{:e}", x.abs());
    let (mantissa, exponent) = exp_form.split_once('e').expect("exponent form");
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let k = digits.len() as i32;
    let n = exponent.parse::<i32>().expect("an integer exponent") + 1;
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let e = n - 1;
        let e = if e >= 0 { format!("+{e}") } else { e.to_string() };
        if k == 1 {
            format!("{digits}e{e}")
        } else {
            format!("{}.{}e{e}", &digits[..1], &digits[1..])
        }
    };
    format!("{sign}{body}")
}

/// `‖z_n − e_k‖₂` for every row of `z (N, D)` and code of `codebook (K, D)`, `(N, K)`,
/// summed in f64 straight from the definition.
pub fn distances(z: &[f32], codebook: &[f32], d: usize) -> Vec<f32> {
    z.chunks_exact(d)
        .flat_map(|row| {
            codebook
                .chunks_exact(d)
                .map(move |e| row.iter().zip(e).map(|(a, b)| (*a as f64 - *b as f64).powi(2)).sum::<f64>().sqrt() as f32)
        })
        .collect()
}

/// The index of the smallest entry of each row of `values (N, K)` (the first on ties).
pub fn argmin_rows(values: &[f32], k: usize) -> Vec<u32> {
    values.chunks_exact(k).map(|row| row.iter().enumerate().fold(0, |best, (i, v)| if *v < row[best] { i } else { best }) as u32).collect()
}
