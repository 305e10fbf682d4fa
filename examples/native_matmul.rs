//! Native use of the SDK: the same matmul on the CPU and on the default wgpu adapter.
//! Run with `cargo run --release -p ipfs-accelerate --example native_matmul`.

use ipfs_accelerate::{ops, Device, Tensor};

fn main() -> Result<(), ipfs_accelerate::Error> {
    pollster::block_on(async {
        let a = Tensor::random([256, 256], 1);
        let b = Tensor::random([256, 256], 2);
        let cpu = ops::matmul(&a, &b).await?.to_vec().await?;
        println!("cpu  c[0..4] = {:?}", &cpu[..4]);
        match Device::gpu().await {
            Ok(gpu) => {
                let (ga, gb) = (a.to_device(&gpu).await?, b.to_device(&gpu).await?);
                let out = ops::matmul(&ga, &gb).await?.to_vec().await?;
                let summary = gpu.summary();
                let kind = if summary.software { "software adapter" } else { "hardware" };
                println!("gpu  c[0..4] = {:?}  on {} ({kind})", &out[..4], summary.name);
            }
            Err(e) => println!("no GPU adapter: {e}"),
        }
        Ok(())
    })
}
