//! Shader precompilation compiles every pipeline the ops can dispatch: after
//! `Device::precompile_shaders`, running every kind of op (each unary and binary op, every
//! quantized format, attention, the KV write) compiles nothing more. This is what keeps the
//! list of kernel variants in step with the kernels (lavapipe natively without a GPU).

use ipfs_accelerate::models::generation::KvCache;
use ipfs_accelerate::tensor::QuantMatrix;
use ipfs_accelerate::{ops, DType, Device, Result, Tensor};

async fn every_kind_of_op(device: &Device) -> Result<()> {
    let t = |data: Vec<f32>, dims: &[usize]| Tensor::from_vec_on(data, dims.to_vec(), device);
    let x = t((0..64).map(|i| i as f32 / 64.0 - 0.5).collect(), &[2, 32])?;
    let y = t(vec![0.25; 64], &[2, 32])?;
    ops::matmul(&x, &t(vec![0.5; 32 * 3], &[32, 3])?).await?;
    ops::add(&x, &y).await?;
    ops::mul(&x, &y).await?;
    ops::scale(&x, 2.0).await?;
    for op in ipfs_accelerate::core::UnaryOp::ALL {
        ops::unary(op, &x).await?;
    }
    ops::silu_mul(&x, &y).await?;
    ops::softmax(&x).await?;
    ops::layernorm(&x, &t(vec![1.0; 32], &[32])?, &t(vec![0.0; 32], &[32])?, 1e-5).await?;
    ops::rmsnorm(&x, &t(vec![1.0; 32], &[32])?, 1e-5).await?;
    ops::contiguous(&x.permute(&[1, 0])?).await?;
    ops::gather_rows(&x, &[1, 0]).await?;
    let heads = x.reshape([1, 4, 16])?;
    let (cos, sin) = (t(vec![1.0; 8], &[1, 8])?, t(vec![0.0; 8], &[1, 8])?);
    ops::rope(&heads, &cos, &sin).await?;
    let q = x.reshape([1, 4, 16])?;
    let mut cache = KvCache::new(1, 4, 8, 16, (DType::F32, false), device)?;
    let mask = cache.causal_mask(1, 1, device)?;
    cache.attend(0, &q, &q, &q, mask.as_ref()).await?;
    for dtype in [DType::Q8_0, DType::Q4_1, DType::Q3, DType::Q2] {
        let w = QuantMatrix::quantize(&vec![0.125; 4 * 32], 4, 32, dtype)?.to_device(device)?;
        ops::qmatmul(&x, &w).await?;
    }
    device.sync().await
}

#[test]
fn after_precompiling_no_op_compiles_a_pipeline() {
    let device = pollster::block_on(Device::gpu()).expect("a wgpu adapter (lavapipe on CI)");
    let compiled = pollster::block_on(device.precompile_shaders()).unwrap();
    assert!(compiled >= 20, "{compiled} pipelines");
    pollster::block_on(every_kind_of_op(&device)).unwrap();
    assert_eq!(device.compiled_pipelines(), compiled, "an op compiled a pipeline precompilation had not");
}

#[test]
fn on_the_cpu_there_is_nothing_to_compile() {
    assert_eq!(pollster::block_on(Device::Cpu.precompile_shaders()).unwrap(), 0);
}
