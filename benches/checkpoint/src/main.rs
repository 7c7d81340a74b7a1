//! The checkpoint side of `benches/compare.py --checkpoint`: one reader per
//! process, each timed from before it opens the file to after every tensor
//! is ready and touched, so that readers that map, read or copy compare on
//! what a program gets.
//!
//! ```text
//! checkpoint-bench gen OUT.pt MB         # a torch.save state dict of MB MiB
//! checkpoint-bench READER FILE           # one timed read; prints a JSON line
//! ```
//!
//! READER is one of `open` (`Checkpoint::open` + `tensor_data`, CRC-32s
//! checked), `open-nocrc`, `read-f32` (`Checkpoint::read::<f32>`), `mmap`
//! (`Checkpoint::mmap` + `tensor_data`), `mmap-verify` (the same after
//! `verify()`), `pytorch-reader` (burn's `PytorchReader` + `Tensor::read`),
//! `safetensors-mmap` (the safetensors crate's `SafeTensors` over a map of a
//! `.safetensors` file) and `ours-safetensors-mmap`
//! (`torch::safetensors::Reader::mmap` + `data`).
//!
//! Touched means one byte of every 4 KiB page of each tensor's bytes is read
//! (and the sum printed, so the reads are not optimised away): a mapped
//! tensor is then in memory, as a read one already is.

use std::time::Instant;

use pickle_codec::torch::{self, Checkpoint, DType, SaveTensor, StateDict};

const PAGE: usize = 4096;

fn touch(bytes: &[u8]) -> u64 {
    let mut sum = 0u64;
    let mut i = 0;
    while i < bytes.len() {
        sum = sum.wrapping_add(bytes[i] as u64);
        i += PAGE;
    }
    if let Some(&b) = bytes.last() {
        sum = sum.wrapping_add(b as u64);
    }
    sum
}

fn report(reader: &str, t0: Instant, tensors: usize, bytes: usize, sum: u64) {
    let ms = t0.elapsed().as_secs_f64() * 1e3;
    println!(
        "{{\"reader\": \"{reader}\", \"ms\": {ms:.3}, \"tensors\": {tensors}, \"bytes\": {bytes}, \"sum\": {sum}}}"
    );
}

/// 1024 x 1024 float32 matrices (4 MiB each), as many as fill `mb` MiB, with
/// a small bias vector beside every eighth (so not every record is a whole
/// number of pages), values from a fixed LCG.
fn generate(out: &str, mb: usize) -> pickle_codec::Result<()> {
    let n = (mb / 4).max(1);
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = move || {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1);
        ((state >> 40) as f32) / (1u64 << 24) as f32 - 0.5
    };
    let mut sd = StateDict::new();
    for i in 0..n {
        let w: Vec<f32> = (0..1024 * 1024).map(|_| next()).collect();
        sd.insert(
            format!("layers.{i}.weight"),
            SaveTensor::from_slice(&[1024, 1024], &w)?,
        );
        if i % 8 == 0 {
            let b: Vec<f32> = (0..1000).map(|_| next()).collect();
            sd.insert(
                format!("layers.{i}.bias"),
                SaveTensor::from_slice(&[1000], &b)?,
            );
        }
    }
    torch::save(out, &sd)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        return Err("usage: checkpoint-bench gen OUT MB | checkpoint-bench READER FILE".into());
    }
    let (reader, file) = (args[1].as_str(), args[2].as_str());
    let t0 = Instant::now();
    let (mut n, mut bytes, mut sum) = (0usize, 0usize, 0u64);
    match reader {
        "gen" => {
            let mb: usize = args.get(3).ok_or("gen needs MB")?.parse()?;
            generate(file, mb)?;
            return Ok(());
        }
        "open" | "open-nocrc" | "mmap" | "mmap-verify" => {
            let ck = if reader.starts_with("mmap") {
                Checkpoint::mmap(file)?
            } else {
                Checkpoint::open(file)?.with_crc_check(reader == "open")
            };
            if reader == "mmap-verify" {
                ck.verify()?;
            }
            for (_, t) in ck.tensors() {
                let data = ck.tensor_data(&t?)?;
                n += 1;
                bytes += data.len();
                sum = sum.wrapping_add(touch(&data));
            }
        }
        "read-f32" => {
            let ck = Checkpoint::open(file)?;
            for (_, t) in ck.tensors() {
                let t = t?;
                if t.dtype() != DType::Float32 {
                    return Err(format!(
                        "read-f32 wants float32 tensors, got {}",
                        t.dtype().name()
                    )
                    .into());
                }
                let v = ck.read::<f32>(&t)?;
                n += 1;
                bytes += v.len() * 4;
                let step = PAGE / 4;
                sum = sum.wrapping_add(
                    v.iter()
                        .step_by(step)
                        .map(|x| x.to_bits() as u64)
                        .sum::<u64>(),
                );
            }
        }
        "pytorch-reader" => {
            let r = pytorch_reader::PytorchReader::new(file)?;
            for t in r.tensors().values() {
                let data = t.read()?;
                n += 1;
                bytes += data.len();
                sum = sum.wrapping_add(touch(&data));
            }
        }
        "safetensors-mmap" => {
            let f = std::fs::File::open(file)?;
            // SAFETY: the bench's own file, not changed while it is mapped.
            let map = unsafe { memmap2::Mmap::map(&f)? };
            let st = safetensors::SafeTensors::deserialize(&map)?;
            for (_, view) in st.tensors() {
                let data = view.data();
                n += 1;
                bytes += data.len();
                sum = sum.wrapping_add(touch(data));
            }
        }
        "ours-safetensors-mmap" => {
            let st = torch::safetensors::Reader::mmap(file)?;
            for e in st.entries() {
                let data = st.data(e)?;
                n += 1;
                bytes += data.len();
                sum = sum.wrapping_add(touch(&data));
            }
        }
        other => return Err(format!("unknown reader {other}").into()),
    }
    report(reader, t0, n, bytes, sum);
    Ok(())
}
