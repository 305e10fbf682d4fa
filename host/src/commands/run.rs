//! `accelerate run`: one model on one native backend — embeddings ([`super::embed`]), text
//! generation for `--model smollm2` ([`super::generate`]), or image saliency for
//! `--model vit-focus` ([`super::see`]), or speech segments for `--model silero-vad`
//! ([`super::hear`]).

use crate::error::{HostError, Result};
use ipfs_accelerate::core::OptionStyle;
use ipfs_accelerate::models::generation::{kv_cache_dtype, Sampling};
use ipfs_accelerate::models::whisper::Decoding;

#[derive(clap::Args)]
pub struct Args {
    /// minilm (all-MiniLM-L6-v2 f32), minilm-int8 (its int8 ONNX), minilm-l3 (paraphrase-MiniLM-L3-v2 ONNX),
    /// smollm2 (SmolLM2-135M-Instruct GGUF Q4_1: text generation, needs --prompt),
    /// vit-focus (DINOv2-small saliency ONNX: image in, saliency map and CLS vector out, needs --image),
    /// silero-vad (voice activity detection: speech segments of a WAV file, needs --audio),
    /// whisper-tiny.en (speech to text, needs --audio; --vad cuts long audio at pauses, --beam N
    /// searches N hypotheses, --timestamps prints timed pieces).
    #[arg(long, default_value = "minilm")]
    model: String,
    /// silero-vad, whisper-tiny.en: a WAV file (PCM or float, any rate and channel count).
    #[arg(long)]
    audio: Option<std::path::PathBuf>,
    /// whisper-tiny.en: cut the audio into windows at the voice detector's pauses.
    #[arg(long)]
    vad: bool,
    /// whisper-tiny.en: hypotheses kept while decoding (1: greedy; 5 is Whisper's usual beam search).
    #[arg(long, default_value_t = 1)]
    beam: usize,
    /// whisper-tiny.en: decode timestamps and print each timed piece of text.
    #[arg(long)]
    timestamps: bool,
    /// silero-vad: the speech probability a chunk must reach, in (0.15, 1).
    #[arg(long, default_value_t = 0.5, allow_negative_numbers = true)]
    threshold: f32,
    /// vit-focus: a PNG or JPEG file (repeat for several, run as one batch).
    #[arg(long)]
    image: Vec<std::path::PathBuf>,
    /// vit-focus: write the first image's saliency map here as a grayscale PNG.
    #[arg(long)]
    heatmap_out: Option<std::path::PathBuf>,
    /// smollm2: the prompt to continue.
    #[arg(long)]
    prompt: Option<String>,
    /// smollm2: wrap the prompt in the model's chat template.
    #[arg(long)]
    chat: bool,
    /// smollm2: tokens to generate.
    #[arg(long, default_value_t = 32)]
    max_tokens: usize,
    // Negative numbers are taken as values, so `--temperature -1` reaches the SDK's check
    // (shared with the JS API) and is refused by name, not mistaken for a flag.
    /// smollm2: 0 = greedy.
    #[arg(long, default_value_t = 0.0, allow_negative_numbers = true)]
    temperature: f32,
    #[arg(long, default_value_t = 0)]
    top_k: usize,
    /// smollm2: nucleus sampling, in (0, 1].
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    top_p: f32,
    /// smollm2: > 0; 1 = none.
    #[arg(long, default_value_t = 1.0, allow_negative_numbers = true)]
    repetition_penalty: f32,
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// smollm2: KV cache precision, f32 | q8_0 | q4_1 | q2 (the block formats on ours-cpu).
    #[arg(long, default_value = "f32")]
    kv_cache: String,
    /// ours-cpu, ours-cpu-int8 (int8 linear layers: for embedders f32 weights quantized at load;
    /// for smollm2 8-bit activations and integer dots), ours-wgpu,
    /// ort-cpu (ONNX Runtime) or candle-cpu (vit-focus: ours-cpu, ours-wgpu, ort-cpu).
    #[arg(long, default_value = "ours-cpu")]
    backend: String,
    /// How many leading values of each embedding to print.
    #[arg(long, default_value_t = 8)]
    head: usize,
    /// The texts to embed.
    texts: Vec<String>,
}

pub async fn run(args: Args) -> Result<()> {
    let Args {
        model,
        audio,
        vad,
        beam,
        timestamps,
        threshold,
        image,
        heatmap_out,
        prompt,
        chat,
        max_tokens,
        temperature,
        top_k,
        top_p,
        repetition_penalty,
        seed,
        kv_cache,
        backend,
        head,
        texts,
    } = args;
    if model == crate::backends::image_model::VIT_FOCUS {
        if image.is_empty() {
            return Err(HostError::Invalid(format!("--model {model} needs --image FILE (a PNG or JPEG)")));
        }
        print!("{}", super::see::run(&backend, &image, heatmap_out.as_deref(), head).await?);
        return Ok(());
    }
    if model == crate::backends::speech::SILERO_VAD {
        let audio = audio.ok_or_else(|| HostError::Invalid(format!("--model {model} needs --audio FILE.wav")))?;
        print!("{}", super::hear::run(&audio, threshold).await?);
        return Ok(());
    }
    if model == crate::backends::speech::WHISPER {
        let audio = audio.ok_or_else(|| HostError::Invalid(format!("--model {model} needs --audio FILE.wav")))?;
        let decoding = Decoding { beam, timestamps };
        print!("{}", super::hear::transcribe(&audio, &backend, &decoding, vad.then_some(threshold)).await?);
        return Ok(());
    }
    if beam != 1 || timestamps {
        return Err(HostError::Invalid(format!("--beam and --timestamps are for --model whisper-tiny.en, not {model}")));
    }
    if audio.is_some() {
        return Err(HostError::Invalid(format!("--audio is for --model silero-vad or whisper-tiny.en; {model} does not take audio")));
    }
    if !image.is_empty() {
        return Err(HostError::Invalid(format!("--image is for --model vit-focus; {model} takes text")));
    }
    if model == "smollm2" {
        let prompt = prompt.ok_or_else(|| HostError::Invalid("--model smollm2 needs --prompt TEXT".into()))?;
        let sampling = Sampling { temperature, top_k, top_p, repetition_penalty, seed };
        // The same check as the JS API's, before the model is loaded.
        sampling.check(OptionStyle::Cli)?;
        let kv = kv_cache_dtype(&kv_cache, OptionStyle::Cli)?;
        print!("{}", super::generate::run(&backend, &prompt, chat, max_tokens, sampling, kv).await?);
        return Ok(());
    }
    if texts.is_empty() {
        return Err(HostError::Invalid(format!("--model {model} needs at least one text to embed")));
    }
    print!("{}", super::embed::run(&model, &backend, &texts, head).await?);
    Ok(())
}
