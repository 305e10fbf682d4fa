//! Every kernel on every native device against the plain reference implementation.
//! The GPU half runs on whatever adapter wgpu finds: Mesa lavapipe (software Vulkan) on CI.

use ipfs_accelerate::bench::{run_case, Kernel, KernelCase};
use ipfs_accelerate::reference::max_errors;
use ipfs_accelerate::{ops, Device, Tensor};

fn cases() -> Vec<Kernel> {
    vec![
        Kernel::Matmul { batch: 1, m: 1, k: 1, n: 1 },
        Kernel::Matmul { batch: 1, m: 64, k: 64, n: 64 },
        Kernel::Matmul { batch: 3, m: 37, k: 71, n: 45 },
        Kernel::Matmul { batch: 2, m: 130, k: 257, n: 66 },
        Kernel::Softmax { rows: 7, cols: 1 },
        Kernel::Softmax { rows: 33, cols: 1000 },
        Kernel::Layernorm { rows: 5, cols: 384 },
        Kernel::Layernorm { rows: 3, cols: 1500 },
        Kernel::Gelu { len: 10_007 },
        Kernel::Add { rows: 9, cols: 31 },
    ]
}

fn check(device: &Device) {
    for kernel in cases() {
        let case = KernelCase { kernel: kernel.clone(), warmup: 0, samples: 1, seed: 42 };
        let outcome = pollster::block_on(run_case(device, &case)).unwrap_or_else(|e| panic!("{kernel:?}: {e}"));
        let want = kernel.reference_output(42).unwrap();
        assert_eq!(outcome.output.len(), want.len(), "{kernel:?}");
        let (abs, _) = max_errors(&outcome.output, &want);
        assert!(abs <= kernel.tolerance(), "{kernel:?} on {}: max abs error {abs} > {}", device.name(), kernel.tolerance());
    }
}

fn gpu() -> Device {
    pollster::block_on(Device::gpu())
        .unwrap_or_else(|e| panic!("no native GPU adapter ({e}); `cargo xtask test` installs mesa-vulkan-drivers for lavapipe"))
}

#[test]
fn cpu_kernels_match_reference() {
    check(&Device::Cpu);
}

#[test]
fn gpu_kernels_match_reference_on_native_wgpu() {
    let device = gpu();
    eprintln!("adapter: {:?}", device.summary());
    check(&device);
}

#[test]
fn softmax_survives_huge_logits_on_both_devices() {
    let x = Tensor::from_vec(vec![1000.0, 1001.0, -1000.0, 0.0], [1, 4]).unwrap();
    for device in [Device::Cpu, gpu()] {
        let out = pollster::block_on(async { ops::softmax(&x.to_device(&device).await?).await?.to_vec().await }).unwrap();
        assert!(out.iter().all(|v| v.is_finite()), "{out:?}");
        assert!((out[1] - 0.731_058_6).abs() < 1e-5, "{out:?}");
    }
}

#[test]
fn gpu_matmul_reads_transposed_views_without_copy() {
    let device = gpu();
    let a = Tensor::random([3, 5], 1);
    let bt = Tensor::random([4, 5], 2); // stored as [n, k]: a weight matrix
    let b = bt.transpose(0, 1).unwrap();
    let cpu = pollster::block_on(async { ops::matmul(&a, &b).await?.to_vec().await }).unwrap();
    let on_gpu = pollster::block_on(async {
        let (ga, gbt) = (a.to_device(&device).await?, bt.to_device(&device).await?);
        ops::matmul(&ga, &gbt.transpose(0, 1)?).await?.to_vec().await
    })
    .unwrap();
    assert!(max_errors(&on_gpu, &cpu).0 < 1e-5);
}

#[test]
fn broadcasting_add_and_mul_agree_across_devices() {
    let device = gpu();
    let a = Tensor::random([2, 3, 4], 3);
    let b = Tensor::random([3, 1], 4);
    for mul in [false, true] {
        let run = |d: Device| {
            let (a, b) = (a.clone(), b.clone());
            pollster::block_on(async move {
                let (a, b) = (a.to_device(&d).await?, b.to_device(&d).await?);
                let out = if mul { ops::mul(&a, &b).await? } else { ops::add(&a, &b).await? };
                assert_eq!(out.dims(), &[2, 3, 4]);
                out.to_vec().await
            })
            .unwrap()
        };
        assert!(max_errors(&run(Device::Cpu), &run(device.clone())).0 < 1e-6);
    }
    let scaled = pollster::block_on(async { ops::scale(&a.to_device(&device).await?, 2.5).await?.to_vec().await }).unwrap();
    let want: Vec<f32> = pollster::block_on(a.to_vec()).unwrap().iter().map(|v| v * 2.5).collect();
    assert!(max_errors(&scaled, &want).0 < 1e-6);
}

#[test]
fn shape_errors_name_the_op_and_shapes() {
    let err = pollster::block_on(ops::matmul(&Tensor::random([2, 3], 1), &Tensor::random([4, 5], 2))).unwrap_err().to_string();
    assert!(err.contains("matmul") && err.contains("[2, 3]") && err.contains("[4, 5]"), "{err}");
    let err = pollster::block_on(ops::layernorm(&Tensor::random([2, 3], 1), &Tensor::random([4], 2), &Tensor::random([3], 3), 1e-5))
        .unwrap_err()
        .to_string();
    assert!(err.contains("layernorm") && err.contains("gamma"), "{err}");
}

#[test]
fn mixing_devices_is_an_error_not_a_silent_copy() {
    let device = gpu();
    let a = Tensor::random([2, 2], 1);
    let b = pollster::block_on(Tensor::random([2, 2], 2).to_device(&device)).unwrap();
    let err = pollster::block_on(ops::add(&a, &b)).unwrap_err().to_string();
    assert!(err.contains("add") && err.contains("cpu"), "{err}");
}

#[test]
fn buffer_pool_reuses_freed_buffers_and_caches_pipelines() {
    let device = gpu();
    let Device::Gpu(ctx) = &device else { unreachable!() };
    let case = KernelCase { kernel: Kernel::Softmax { rows: 4, cols: 64 }, warmup: 2, samples: 5, seed: 1 };
    pollster::block_on(run_case(&device, &case)).unwrap();
    let stats = ctx.pool_stats();
    assert!(stats.reuses >= 5, "{stats:?}");
    assert_eq!(ctx.cached_pipelines(), 1);
}

#[test]
fn bad_cases_are_rejected_with_reasons() {
    let zero = KernelCase { kernel: Kernel::Matmul { batch: 1, m: 0, k: 2, n: 2 }, warmup: 0, samples: 1, seed: 0 };
    assert!(pollster::block_on(run_case(&Device::Cpu, &zero)).unwrap_err().to_string().contains("≥ 1"));
    let no_samples = KernelCase { kernel: Kernel::Gelu { len: 4 }, warmup: 0, samples: 0, seed: 0 };
    assert!(pollster::block_on(run_case(&Device::Cpu, &no_samples)).unwrap_err().to_string().contains("samples"));
}

#[test]
fn invalid_wgsl_on_a_real_device_is_an_error_naming_the_file_not_a_panic() {
    let device = gpu();
    let Device::Gpu(ctx) = &device else { unreachable!() };
    let broken = ipfs_accelerate::shaders::ShaderFile::standalone(
        "broken/missing_semicolon.wgsl",
        include_str!("../../shaders/broken/missing_semicolon.wgsl"),
    );
    let err = pollster::block_on(ctx.prepare(broken, "main", &[])).unwrap_err().to_string();
    assert!(err.contains("broken/missing_semicolon.wgsl"), "{err}");
    // The device is still usable afterwards, and shipped kernels compile.
    pollster::block_on(ctx.prepare(ipfs_accelerate::shaders::MATMUL, "matmul", &[])).unwrap();
    check(&device);
}

#[test]
fn permuted_views_become_contiguous_identically_on_both_devices() {
    let device = gpu();
    let t = Tensor::random([2, 3, 4, 5], 11); // [batch, seq, heads, dim]
    let view = t.permute(&[0, 2, 1, 3]).unwrap(); // [batch, heads, seq, dim]
    let want = pollster::block_on(view.to_vec()).unwrap();
    let cpu = pollster::block_on(async { ops::contiguous(&view).await?.to_vec().await }).unwrap();
    let on_gpu = pollster::block_on(async {
        let g = t.to_device(&device).await?.permute(&[0, 2, 1, 3])?;
        let c = ops::contiguous(&g).await?;
        assert!(c.layout().is_contiguous());
        assert_eq!(c.dims(), &[2, 4, 3, 5]);
        c.to_vec().await
    })
    .unwrap();
    assert_eq!(cpu, want);
    assert_eq!(on_gpu, want, "a copy must be exact");
}

#[test]
fn gather_rows_is_an_exact_lookup_and_rejects_bad_ids() {
    let device = gpu();
    let table = Tensor::random([10, 7], 12);
    let rows = pollster::block_on(table.to_vec()).unwrap();
    let ids = [3u32, 0, 9, 3];
    let want: Vec<f32> = ids.iter().flat_map(|&i| rows[i as usize * 7..(i as usize + 1) * 7].to_vec()).collect();
    for d in [Device::Cpu, device] {
        let got = pollster::block_on(async { ops::gather_rows(&table.to_device(&d).await?, &ids).await?.to_vec().await }).unwrap();
        assert_eq!(got, want, "{}", d.name());
        let err = pollster::block_on(async { ops::gather_rows(&table.to_device(&d).await?, &[1, 10]).await }).unwrap_err().to_string();
        assert!(err.contains("id 10") && err.contains("10 rows"), "{err}");
    }
}

/// A weight's packed form is cached on the tensor: reusing it must give the same result, and a
/// reshaped view of the same data (another k×n) must never be served the stale packing.
#[test]
fn cached_weight_packing_is_reused_and_never_stale() {
    use ipfs_accelerate::{ops, Tensor};
    let naive = |a: &[f32], b: &[f32], m: usize, k: usize, n: usize| -> Vec<f32> {
        (0..m * n).map(|i| (0..k).map(|p| a[(i / n) * k + p] * b[p * n + i % n]).sum()).collect()
    };
    let weight = Tensor::random([4, 6], 7);
    let w = pollster::block_on(weight.to_vec()).unwrap();
    let a = Tensor::random([3, 4], 8);
    let av = pollster::block_on(a.to_vec()).unwrap();
    for _ in 0..2 {
        let got = pollster::block_on(pollster::block_on(ops::matmul(&a, &weight)).unwrap().to_vec()).unwrap();
        for (x, y) in got.iter().zip(naive(&av, &w, 3, 4, 6)) {
            assert!((x - y).abs() < 1e-5);
        }
    }
    let reshaped = weight.reshape([6, 4]).unwrap();
    let a2 = Tensor::random([2, 6], 9);
    let a2v = pollster::block_on(a2.to_vec()).unwrap();
    let got = pollster::block_on(pollster::block_on(ops::matmul(&a2, &reshaped)).unwrap().to_vec()).unwrap();
    for (x, y) in got.iter().zip(naive(&a2v, &w, 2, 6, 4)) {
        assert!((x - y).abs() < 1e-5, "stale packing: {x} vs {y}");
    }
}
