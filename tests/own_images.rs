//! Your own images as the session's data: the set trains, a bad set changes nothing, and the
//! IDX export reads back, through the same reader and through the native trainer's `--data`.
#![cfg(not(target_arch = "wasm32"))]

mod common;

use latent_lab::data::{Dataset, IMAGE_PIXELS};
use latent_lab::model::ModelConfig;
use latent_lab::session::Session;
use latent_lab::train::TrainConfig;

/// `n` MNIST test digits as an image folder `digits/<digit>/<i>.png`: their classes are the digits.
fn digit_folder(n: usize) -> (Vec<u8>, Vec<String>) {
    let test = common::mnist("t10k");
    let pixels = test.pixels()[..n * IMAGE_PIXELS].to_vec();
    let paths = (0..n).map(|i| format!("digits/{}/{i}.png", test.label(i))).collect();
    (pixels, paths)
}

fn session() -> Session {
    Session::new(&ModelConfig { hidden: 32, ..Default::default() }, &TrainConfig { seed: 1, batch_size: 16, ..Default::default() }).unwrap()
}

/// Every (image, label) of a set, sorted, to compare sets whatever their order.
fn contents(d: &Dataset) -> Vec<(Vec<u8>, u8)> {
    let mut all: Vec<(Vec<u8>, u8)> = (0..d.len()).map(|i| (d.image(i).to_vec(), d.label(i))).collect();
    all.sort();
    all
}

fn test_set_of(s: &Session) -> Dataset {
    let n = s.test_len();
    let images = (0..n).flat_map(|i| s.test_image(i).unwrap()).collect();
    Dataset::new(images, (0..n).map(|i| s.label(i).unwrap()).collect()).unwrap()
}

#[test]
fn an_image_folder_becomes_the_data_and_trains() {
    let (pixels, paths) = digit_folder(350);
    let mut s = session();
    let loaded = s.set_images(&pixels, &paths).unwrap();
    assert_eq!(loaded.class_names, ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"]);
    assert_eq!(loaded.class_counts.iter().sum::<usize>(), 350);
    assert_eq!(loaded.train_length + loaded.test_length, 350);
    assert_eq!((s.test_len(), s.class_count()), (loaded.test_length, 10));
    assert_eq!(s.class_names().unwrap(), loaded.class_names.as_slice());
    // Each test image is a digit of the folder its label names.
    let digits = common::mnist("t10k");
    for i in 0..s.test_len() {
        let image = s.test_image(i).unwrap();
        let source = (0..350).find(|&j| digits.image(j) == image.as_slice()).expect("a test image comes from the folder");
        assert_eq!(s.label(i).unwrap(), digits.label(source));
    }
    let report = s.train_steps(5).unwrap();
    assert!(report.loss.is_finite());
    // Another model on the same data keeps the names; IDX data drops them.
    s.rebuild(&ModelConfig { hidden: 16, ..Default::default() }, &TrainConfig::default()).unwrap();
    assert_eq!(s.class_names().map(<[String]>::len), Some(10));
    let test = common::mnist("t10k");
    s.set_datasets(test.take(100), test.take(50)).unwrap();
    assert_eq!(s.class_names(), None);
}

#[test]
fn a_set_that_cannot_train_leaves_the_data_and_model_alone() {
    let (pixels, paths) = digit_folder(100);
    let mut s = session();
    s.set_images(&pixels, &paths).unwrap();
    s.train_steps(2).unwrap();
    let before = (s.test_len(), s.test_image(0).unwrap(), s.trainer().step());
    let err = s.set_images(&pixels[..IMAGE_PIXELS], &paths[..1]).unwrap_err();
    assert!(err.to_string().starts_with("your images cannot make a dataset: at least two images"), "{err}");
    assert_eq!((s.test_len(), s.test_image(0).unwrap(), s.trainer().step()), before);
}

#[test]
fn the_idx_export_reads_back_as_the_same_sets() {
    let (pixels, paths) = digit_folder(420);
    let mut s = session();
    s.set_images(&pixels, &paths).unwrap();
    let export = s.export_idx().unwrap();
    assert_eq!(export.names[0], "train-images-idx3-ubyte.gz");
    assert_eq!(export.class_names.len(), 10);
    let [train_images, train_labels, test_images, test_labels] = &export.files;
    assert!(train_images.starts_with(&[0x1f, 0x8b]), "gzipped");
    let test = Dataset::from_idx(test_images, test_labels).unwrap();
    let train = Dataset::from_idx(train_images, train_labels).unwrap();
    assert_eq!(contents(&test), contents(&test_set_of(&s)));
    // Together the two sets are exactly the folder's images with their digits.
    let mut all = [contents(&train), contents(&test)].concat();
    all.sort();
    let digits = common::mnist("t10k");
    let mut expected: Vec<(Vec<u8>, u8)> = (0..420).map(|i| (digits.image(i).to_vec(), digits.label(i))).collect();
    expected.sort();
    assert_eq!(all, expected);

    // The native trainer takes the files as its --data folder.
    let dir = std::env::temp_dir().join(format!("latent-lab-idx-export-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in export.names.iter().zip(&export.files) {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_train"))
        .args(["--data", dir.to_str().unwrap(), "--epochs", "1", "--hidden", "16", "--batch-size", "32"])
        .env("RAYON_NUM_THREADS", "1")
        .output()
        .unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "trainer failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    let line = format!("data  {} training images, {} test images", train.len(), test.len());
    assert!(stdout.contains(&line), "expected {line:?} in\n{stdout}");
    assert!(stdout.contains("epoch   1"), "{stdout}");
}

#[test]
fn a_set_of_more_than_ten_classes_is_not_written_as_idx() {
    let (pixels, _) = digit_folder(24);
    let paths: Vec<String> = (0..24).map(|i| format!("letters/{}/{i}.png", (b'a' + (i % 12) as u8) as char)).collect();
    let mut s = session();
    let loaded = s.set_images(&pixels, &paths).unwrap();
    assert_eq!((loaded.class_names.len(), s.class_count()), (12, 12));
    let err = s.export_idx().unwrap_err();
    assert!(err.to_string().contains("this set has 12 classes"), "{err}");
}
