//! Code statistics and the codes file against direct computations.
#![cfg(not(target_arch = "wasm32"))]

use latent_lab::codes::{csv, distinct, js_number, majority, moves, perplexity, seven_digits, usage};
use latent_lab::model::ModelKind;

#[test]
fn usage_counts_every_assignment() {
    let codes = [0, 2, 2, 3, 2, 0];
    assert_eq!(usage(&codes, 5), [2, 0, 3, 1, 0]);
    assert_eq!(usage(&codes, 5).iter().sum::<u32>() as usize, codes.len());
    assert_eq!(distinct(&codes), 3);
}

#[test]
fn perplexity_is_the_exponential_of_the_entropy() {
    assert!((perplexity(&[5, 5, 5, 5]) - 4.0).abs() < 1e-6, "four codes used evenly");
    assert!((perplexity(&[9, 0, 0]) - 1.0).abs() < 1e-6, "one code used");
    let counts = [1u32, 2, 7];
    let entropy: f64 = counts.iter().map(|&c| c as f64 / 10.0).map(|p| -p * p.ln()).sum();
    assert!((perplexity(&counts) as f64 - entropy.exp()).abs() < 1e-6);
    assert_eq!(perplexity(&[0, 0]), 0.0);
}

#[test]
fn majority_takes_the_most_assigned_class_lowest_on_ties_and_marks_dead_codes() {
    // Two codes per image; labels of 3 images out of 12 classes (more than ten).
    let codes = [0, 1, 0, 0, 1, 3];
    let labels = [11, 4, 4];
    // Code 0: class 11 once, class 4 twice → 4. Code 1: 11 once, 4 once → 4 (lowest). Code 2 dead.
    assert_eq!(majority(&codes, &labels, 2, 4, 12), [4, 4, -1, 4]);
}

#[test]
fn moves_are_euclidean_distances_per_code() {
    let before = [0.0, 0.0, 1.0, 1.0];
    let after = [3.0, 4.0, 1.0, 1.0];
    assert_eq!(moves(&before, &after, 2), [5.0, 0.0]);
}

#[test]
fn numbers_are_written_as_javascript_writes_them() {
    // String(Number(v.toPrecision(7))) in a browser, for these float32 values.
    let cases: [(f32, &str); 9] = [
        (0.0, "0"),
        (0.1, "0.1"),
        (-1.5, "-1.5"),
        (1.234_567_9, "1.234568"),
        (123_456_789.0, "123456800"),
        (1.0e-7, "1e-7"),
        (1.234_567_8e-7, "1.234568e-7"),
        (-0.000_001_234, "-0.000001234"),
        (1.5e21, "1.5e+21"),
    ];
    for (v, js) in cases {
        assert_eq!(seven_digits(v), js, "{v}");
    }
    assert_eq!(js_number(100.0), "100");
    assert_eq!(js_number(1e21), "1e+21");
    assert_eq!(js_number(0.000001), "0.000001");
}

#[test]
fn the_csv_has_a_header_and_one_row_per_image() {
    let text = csv(ModelKind::Vae, &[7, 2], &[0.5, -1.0, 2.0, 0.25], Some(&[0.1, 0.2, 0.3, 0.4]), None);
    assert_eq!(text, "index,label,mu_1,mu_2,logvar_1,logvar_2\n0,7,0.5,-1,0.1,0.2\n1,2,2,0.25,0.3,0.4\n");
    let text = csv(ModelKind::Vqvae, &[3], &[1.0, 2.0], None, Some(&[4, 0]));
    assert_eq!(text, "index,label,ze_1,ze_2,code_1,code_2\n0,3,1,2,4,0\n");
    assert_eq!(csv(ModelKind::Ae, &[1], &[0.5, 0.5], None, None), "index,label,z_1,z_2\n0,1,0.5,0.5\n");
}
