//! Fully connected layers with a backward pass and, in wasm, a matrix product fitted to the
//! browser's SIMD.
//!
//! Candle's matmul backward always computes the input's gradient, even for the data batch (a
//! whole `B×out×in` product thrown away in the first layer), and gets the weight's gradient
//! through its transposed view: one more accumulation pass and a strided copy per layer.
//! [`linear`] skips the first and produces the weight's gradient directly in its own layout.
//! The bias is added inside the same op: candle's `broadcast_add` is one more graph node, with
//! its own output, a zero-filled gradient to accumulate into and a strided reduction back.
//!
//! [`backward`] goes one step further for the layers' parameters: candle adds every gradient an
//! op returns to a zero-filled tensor of its size in its `GradStore`, which for the weights is
//! a fresh 3.2 MB written and read twice per step to add nothing. While it runs, the layers hand
//! their weight and bias gradients over directly and it puts them in the store afterwards.
//!
//! In wasm32 its products use [`matmul_f32`] instead of candle's gemm: gemm's simd128 kernel
//! keeps a 12×4 tile (12 accumulators plus operands, all sixteen of x86's vector registers)
//! and ran about 4× slower in Chromium than this 4×8 tile (8 accumulators) on the model's
//! shapes. Natively candle's gemm (FMA, wider vectors) stays: it is much faster there.
//!
//! The crate is built twice for the page (pkg-config/build.sh): plain simd128, and with relaxed
//! SIMD, whose multiply-add the kernel then uses. Both have the same peak here (two multiply or
//! FMA pipes and two add pipes), but the fused step is half the instructions, and the kernel ran
//! 20–27 % faster with it in Chromium and Firefox on the model's shapes.

use std::cell::RefCell;
use std::mem::MaybeUninit;

use candle_core::backend::BackendStorage;
use candle_core::backprop::GradStore;
use candle_core::{CpuStorage, CustomOp2, CustomOp3, Layout, Result, Shape, Tensor};
use candle_nn::Linear;
use serde::Serialize;

thread_local! {
    /// While [`backward`] runs: the parameters' gradients the layers handed over, in the order
    /// the backward pass reached them.
    static HANDED_OVER: RefCell<Option<Vec<(Tensor, Tensor)>>> = const { RefCell::new(None) };
}

/// `loss.backward()`, the same gradients (a sum `0 + g` in candle is `g` here, so only the
/// sign of a zero can differ), without a zero-filled tensor to add each layer's weight and
/// bias gradient to.
pub fn backward(loss: &Tensor) -> Result<GradStore> {
    /// Ends the hand-over even when the backward pass fails, so later passes are plain.
    struct HandOver;
    impl Drop for HandOver {
        fn drop(&mut self) {
            HANDED_OVER.with(|h| h.borrow_mut().take());
        }
    }
    let hand_over = HandOver;
    HANDED_OVER.with(|h| *h.borrow_mut() = Some(Vec::new()));
    let mut grads = loss.backward()?;
    let handed = HANDED_OVER.with(|h| h.borrow_mut().take()).unwrap_or_default();
    drop(hand_over);
    for (param, grad) in handed {
        // A layer used twice sums its gradients in the order candle would.
        let sum = match grads.remove(&param) {
            Some(earlier) => (earlier + grad)?,
            None => grad,
        };
        grads.insert(&param, sum);
    }
    Ok(grads)
}

/// `x Wᵀ + b` for `x (B, in)`: the same values as candle's `Linear` (up to summation order in
/// wasm), with the leaner backward described above. Parameters stay `weight (out, in)` and
/// `bias (out)`, so checkpoints are unaffected.
pub fn linear(x: &Tensor, layer: &Linear) -> Result<Tensor> {
    let Some(b) = layer.bias() else { candle_core::bail!("linear: every layer here has a bias") };
    x.apply_op3(layer.weight(), b, LinearOp { input_grad: x.track_op() })
}

/// `x (m, k) · W (n, k)ᵀ + b (n) → (m, n)`; see [`linear`].
struct LinearOp {
    /// Whether anything upstream of `x` needs a gradient (false for the data batch).
    input_grad: bool,
}

impl CustomOp3 for LinearOp {
    fn name(&self) -> &'static str {
        "linear"
    }

    fn cpu_fwd(
        &self,
        x: &CpuStorage,
        xl: &Layout,
        w: &CpuStorage,
        wl: &Layout,
        b: &CpuStorage,
        bl: &Layout,
    ) -> Result<(CpuStorage, Shape)> {
        let (m, k) = xl.shape().dims2()?;
        let (n, k2) = wl.shape().dims2()?;
        if k != k2 || bl.shape().dims() != [n] {
            candle_core::bail!("linear: input has {k} features, weight is ({n}, {k2}), bias {:?}", bl.shape());
        }
        let bias = f32_contiguous(b, bl, "linear")?;
        let mut out = product(x, xl, w, &wl.transpose(0, 1)?, (m, n, k))?;
        let CpuStorage::F32(y) = &mut out else { candle_core::bail!("linear: f32 only") };
        // After the whole sum, as candle's broadcast_add does: the same bits.
        for row in y.chunks_exact_mut(n) {
            for (v, b) in row.iter_mut().zip(bias) {
                *v += b;
            }
        }
        Ok((out, Shape::from((m, n))))
    }

    fn bwd(
        &self,
        x: &Tensor,
        w: &Tensor,
        b: &Tensor,
        _res: &Tensor,
        grad: &Tensor,
    ) -> Result<(Option<Tensor>, Option<Tensor>, Option<Tensor>)> {
        let dx = if self.input_grad { Some(mm(grad, w)?) } else { None };
        let (dw, db) = (mm(&grad.t()?, x)?, column_sums(grad)?);
        // Only variables' gradients end here: any other tensor's must flow on through the graph.
        let handed = w.is_variable()
            && b.is_variable()
            && HANDED_OVER.with(|h| match h.borrow_mut().as_mut() {
                Some(handed) => {
                    handed.extend([(w.clone(), dw.clone()), (b.clone(), db.clone())]);
                    true
                }
                None => false,
            });
        Ok(if handed { (dx, None, None) } else { (dx, Some(dw), Some(db)) })
    }
}

/// The values of a contiguous f32 storage, for the custom ops (`op` names the one asking).
pub(crate) fn f32_contiguous<'a>(storage: &'a CpuStorage, layout: &Layout, op: &str) -> Result<&'a [f32]> {
    let (CpuStorage::F32(v), Some((start, end))) = (storage, layout.contiguous_offsets()) else {
        candle_core::bail!("{op}: contiguous f32 tensors only");
    };
    Ok(&v[start..end])
}

/// The values of two contiguous f32 storages of the same shape, for the elementwise custom ops
/// of two inputs (`op` names the one asking).
pub(crate) fn f32_pair<'a>(a: (&'a CpuStorage, &Layout), b: (&'a CpuStorage, &Layout), op: &str) -> Result<(&'a [f32], &'a [f32])> {
    if a.1.shape() != b.1.shape() {
        candle_core::bail!("{op}: inputs of shapes {:?} and {:?}", a.1.shape(), b.1.shape());
    }
    Ok((f32_contiguous(a.0, a.1, op)?, f32_contiguous(b.0, b.1, op)?))
}

/// Calls `f` with the row-major f32 values of the CPU tensor `t`, read in place from its
/// storage (after one copy if `t` is not contiguous).
pub(crate) fn with_f32_values<R>(t: &Tensor, f: impl FnOnce(&[f32]) -> Result<R>) -> Result<R> {
    let t = t.contiguous()?;
    let (storage, layout) = t.storage_and_layout();
    let candle_core::Storage::Cpu(cpu) = &*storage else { candle_core::bail!("CPU tensors only") };
    f(f32_contiguous(cpu, layout, "read")?)
}

/// `Σ_i g[i, :]` of `g (m, n)`, rows added in order as candle's `sum_keepdim(0)` does.
fn column_sums(g: &Tensor) -> Result<Tensor> {
    let (_, n) = g.dims2()?;
    let sums = with_f32_values(g, |values| {
        let mut sums = vec![0.0f32; n];
        for row in values.chunks_exact(n) {
            for (s, v) in sums.iter_mut().zip(row) {
                *s += v;
            }
        }
        Ok(sums)
    })?;
    Tensor::from_vec(sums, n, g.device())
}

/// `a (m, k) · b (k, n)` on storages with any 2-D strides.
fn product(a: &CpuStorage, al: &Layout, b: &CpuStorage, bl: &Layout, (m, n, k): (usize, usize, usize)) -> Result<CpuStorage> {
    #[cfg(target_arch = "wasm32")]
    if let (CpuStorage::F32(av), CpuStorage::F32(bv)) = (a, b) {
        let strides = |l: &Layout| (l.stride()[0], l.stride()[1]);
        let a = &av[al.start_offset()..];
        let b = &bv[bl.start_offset()..];
        return Ok(CpuStorage::F32(matmul_f32((m, n, k), a, strides(al), b, strides(bl))));
    }
    a.matmul(b, (1, m, n, k), al, bl)
}

/// A product inside a backward pass (no gradient of its own).
fn mm(a: &Tensor, b: &Tensor) -> Result<Tensor> {
    if cfg!(target_arch = "wasm32") {
        a.apply_op2_no_bwd(b, &MatMulOp)
    } else {
        a.matmul(b)
    }
}

struct MatMulOp;

impl CustomOp2 for MatMulOp {
    fn name(&self) -> &'static str {
        "matmul-2d"
    }

    fn cpu_fwd(&self, a: &CpuStorage, al: &Layout, b: &CpuStorage, bl: &Layout) -> Result<(CpuStorage, Shape)> {
        let (m, k) = al.shape().dims2()?;
        let (k2, n) = bl.shape().dims2()?;
        if k != k2 {
            candle_core::bail!("matmul: ({m}, {k}) · ({k2}, {n})");
        }
        Ok((product(a, al, b, bl, (m, n, k))?, Shape::from((m, n))))
    }
}

/// Rows of a tile of the product, and its columns (two 4-lane vectors).
const MR: usize = 4;
const NR: usize = 8;

/// `a (m, k) · b (k, n)` row-major, where `a[i, p] = a[i·a_rs + p·a_cs]` and likewise for `b`.
///
/// `b` is packed into panels of [`NR`] columns (`k × NR`, zero-padded) and `a` into blocks of
/// [`MR`] rows (`k × MR`), so the kernel reads both sequentially; each `MR × NR` tile of the
/// result is summed over the whole `k` in registers. The sum runs in order over `k`.
///
/// Steps `p` where a block's (or a panel's) values are all zero add nothing, and MNIST images
/// are mostly zero pixels: many steps of a 4-image block in `x Wᵀ`, and of an 8-pixel panel in
/// the first layer's weight gradient, are all zero. Packing lists each block's and each
/// panel's other steps; when one side's lists are short enough the tiles run over those steps
/// only (in Chromium those two products took 40 % and 35 % less time). Skipping `0 · b`
/// changes no sum, except that a `b` that is NaN or infinite no longer poisons it.
pub fn matmul_f32(
    (m, n, k): (usize, usize, usize),
    a: &[f32],
    (a_rs, a_cs): (usize, usize),
    b: &[f32],
    (b_rs, b_cs): (usize, usize),
) -> Vec<f32> {
    if m == 0 || n == 0 || k == 0 {
        return vec![0.0; m * n];
    }
    PACKED.with(|packed| {
        let (pa, pb) = &mut *packed.borrow_mut();
        // Column j of b is line j, its row kk step kk; row i of a is line i.
        pack::<NR>(pb, b, n, k, (b_cs, b_rs));
        pack::<MR>(pa, a, m, k, (a_rs, a_cs));
        // Every value is written by a tile: zero-filling the result first was a pass over
        // several megabytes per training step.
        let mut c = Vec::with_capacity(m * n);
        tiles_of(c.spare_capacity_mut(), (pa, pb), (m, n, k));
        // SAFETY: `tiles_of` wrote all m·n values.
        unsafe { c.set_len(m * n) };
        c
    })
}

thread_local! {
    /// The packed `a` and `b` of the last product, kept for the next: allocating and zeroing
    /// them anew cost every product a pass over memory as large as its operands.
    static PACKED: RefCell<(Vec<f32>, Vec<f32>)> = const { RefCell::new((Vec::new(), Vec::new())) };
}

/// Every tile of `c (m, n)` from the packed operands, over the steps that are not zero when
/// one side's lists make that worthwhile.
fn tiles_of(c: &mut [MaybeUninit<f32>], (pa, pb): (&[f32], &[f32]), (m, n, k): (usize, usize, usize)) {
    let (panels, blocks) = (n.div_ceil(NR), m.div_ceil(MR));
    let b_steps = Steps::of_packed::<NR>(pb, k);
    let a_steps = Steps::of_packed::<MR>(pa, k);
    // Kernel steps with each side's lists, against all `k` for every tile; an indexed step
    // costs a little more than a sequential one.
    let dense = k * panels * blocks;
    let by_a = a_steps.as_ref().map_or(dense, |s| s.total() * panels);
    let by_b = b_steps.as_ref().map_or(dense, |s| s.total() * blocks);
    let sparse = match (a_steps.as_ref(), b_steps.as_ref()) {
        (Some(s), _) if by_a <= by_b && by_a * 5 < dense * 4 => Some((s, true)),
        (_, Some(s)) if by_b * 5 < dense * 4 => Some((s, false)),
        _ => None,
    };
    // One loop per kernel, so that the dense one stays as tight as it was alone.
    match sparse {
        None => tiles(c, (pa, pb), (m, n, k), |panel, block, _, _| tile(panel, block)),
        Some((steps, true)) => tiles(c, (pa, pb), (m, n, k), |panel, block, _, q| tile_at(panel, block, steps.of(q))),
        Some((steps, false)) => tiles(c, (pa, pb), (m, n, k), |panel, block, p, _| tile_at(panel, block, steps.of(p))),
    }
}

/// `lines` lines of `len` steps, step `s` of line `l` at `src[l·line_stride + s·step_stride]`,
/// packed into `packed` in groups of `W` lines: each group `len × W` values, one step after
/// another, zero-padded past the last line. Every value of `packed` is written.
fn pack<const W: usize>(packed: &mut Vec<f32>, src: &[f32], lines: usize, len: usize, (line_stride, step_stride): (usize, usize)) {
    packed.resize(lines.div_ceil(W) * len * W, 0.0);
    for (g, group) in packed.chunks_exact_mut(len * W).enumerate() {
        let first = g * W;
        let width = W.min(lines - first);
        // Lines side by side (`b = W` of a row-major weight, `a = gᵀ` of a gradient): each
        // step's W values are one contiguous run. Value by value, a weight took 0.4 ms.
        if line_stride == 1 && width == W {
            for (step, values) in group.chunks_exact_mut(W).enumerate() {
                let at = first + step * step_stride;
                values.copy_from_slice(&src[at..at + W]);
            }
            continue;
        }
        // Contiguous lines (a row-major `a`, or `b = Wᵀ` of a row-major weight): four steps of
        // four lines are one 4 × 4 transpose of vector loads. Value by value, packing a weight
        // of the default model took 0.5 ms in V8, three times a step.
        let quads = if step_stride == 1 && width == W { len / 4 } else { 0 };
        for q in 0..quads {
            for quarter in 0..W / 4 {
                let line = |i: usize| F4::load(&src[(first + 4 * quarter + i) * line_stride + 4 * q..]);
                let steps = F4::transpose([line(0), line(1), line(2), line(3)]);
                for (r, v) in steps.into_iter().enumerate() {
                    let at = (4 * q + r) * W + 4 * quarter;
                    v.store(&mut group[at..at + 4]);
                }
            }
        }
        for (step, values) in group.chunks_exact_mut(W).enumerate().skip(4 * quads) {
            for (i, v) in values[..width].iter_mut().enumerate() {
                *v = src[(first + i) * line_stride + step * step_stride];
            }
            values[width..].fill(0.0);
        }
    }
}

/// Every tile of `c (m, n)` from the packed blocks and panels: `kernel(panel, block, p, q)`.
#[inline(always)]
fn tiles(
    c: &mut [MaybeUninit<f32>],
    (pa, pb): (&[f32], &[f32]),
    (m, n, k): (usize, usize, usize),
    kernel: impl Fn(&[f32], &[f32], usize, usize) -> [[f32; NR]; MR],
) {
    for (p, panel) in pb.chunks_exact(k * NR).enumerate() {
        let cols = NR.min(n - p * NR);
        for (q, block) in pa.chunks_exact(k * MR).enumerate() {
            let tile = kernel(panel, block, p, q);
            let rows = MR.min(m - q * MR);
            // A whole tile's rows as fixed-size copies: a copy of `cols` values is a call to
            // memcpy in wasm, four per tile, which took a sixth of a k = 64 product's time.
            if cols == NR && rows == MR {
                for (i, t) in tile.iter().enumerate() {
                    let start = (q * MR + i) * n + p * NR;
                    let row: &mut [MaybeUninit<f32>; NR] = (&mut c[start..start + NR]).try_into().expect("NR values");
                    *row = t.map(MaybeUninit::new);
                }
            } else {
                for (i, t) in tile.iter().enumerate().take(rows) {
                    let start = (q * MR + i) * n + p * NR;
                    for (slot, &v) in c[start..start + cols].iter_mut().zip(t) {
                        slot.write(v);
                    }
                }
            }
        }
    }
}

/// For each packed block (or panel), the steps `p` where it has a value other than zero.
struct Steps {
    steps: Vec<u32>,
    /// Where each block's list starts in `steps`, and where the last one ends.
    starts: Vec<usize>,
}

impl Steps {
    /// The lists of packed `k × W` parts, or None when under 20 % of the steps are all zero:
    /// then lists cannot pay (see [`matmul_f32`]). After a ReLU half the values are zero, and a
    /// trained decoder's dead units and the neighbouring codes of a grid make 45–50 % of a
    /// 4-row block's steps all zero (measured on the default model).
    fn of_packed<const W: usize>(packed: &[f32], k: usize) -> Option<Self> {
        let rows = packed.as_chunks::<W>().0;
        // A step is all zero only if its W values are: with under a fifth of the values zero,
        // under a fifth of the steps can be. A weight's packing ends here, after one read.
        let zeros = packed.iter().fold(0usize, |n, v| n + usize::from(*v == 0.0));
        if zeros * 5 < rows.len() * W {
            return None;
        }
        let mut steps = vec![0u32; rows.len()];
        let mut starts = Vec::with_capacity(rows.len() / k.max(1) + 1);
        let mut listed = 0;
        // Branch-free: every step is written, and kept by advancing past it when it has a value
        // other than ±0 (a bit besides the sign's). With a branch per step this pass took 5 %
        // of a training step in Chromium.
        for part in rows.chunks_exact(k) {
            starts.push(listed);
            for (kk, row) in part.iter().enumerate() {
                steps[listed] = kk as u32;
                listed += (row.iter().fold(0u32, |bits, v| bits | v.to_bits() << 1) != 0) as usize;
            }
        }
        starts.push(listed);
        if listed * 5 > rows.len() * 4 {
            return None;
        }
        steps.truncate(listed);
        Some(Steps { steps, starts })
    }

    fn total(&self) -> usize {
        self.steps.len()
    }

    fn of(&self, part: usize) -> &[u32] {
        &self.steps[self.starts[part]..self.starts[part + 1]]
    }
}

/// One `MR × NR` tile: `Σ_p block[p] ⊗ panel[p]`.
#[inline(always)]
fn tile(panel: &[f32], block: &[f32]) -> [[f32; NR]; MR] {
    let mut acc = [[F4::zero(); 2]; MR];
    for (bk, ak) in panel.as_chunks::<NR>().0.iter().zip(block.as_chunks::<MR>().0) {
        step(&mut acc, bk, ak);
    }
    stored(acc)
}

/// The same tile over the listed steps only (each below `k`, ascending).
#[inline(always)]
fn tile_at(panel: &[f32], block: &[f32], steps: &[u32]) -> [[f32; NR]; MR] {
    let (bks, aks) = (panel.as_chunks::<NR>().0, block.as_chunks::<MR>().0);
    let mut acc = [[F4::zero(); 2]; MR];
    // One bounds check per list instead of two per step: with them, a 4-row block listing 55 %
    // of its steps took as long in V8 as all of them unlisted; without, 35 % less.
    let Some(&last) = steps.last() else { return stored(acc) };
    assert!((last as usize) < bks.len().min(aks.len()), "listed step {last} beyond k");
    for &kk in steps {
        // SAFETY: kk ≤ last (the lists of `Steps` ascend), in bounds of both as checked above.
        let (bk, ak) = unsafe { (bks.get_unchecked(kk as usize), aks.get_unchecked(kk as usize)) };
        step(&mut acc, bk, ak);
    }
    stored(acc)
}

#[inline(always)]
fn step(acc: &mut [[F4; 2]; MR], bk: &[f32; NR], ak: &[f32; MR]) {
    let (b0, b1) = (F4::load(&bk[..4]), F4::load(&bk[4..]));
    for (row, &a) in acc.iter_mut().zip(ak) {
        let a = F4::splat(a);
        row[0] = row[0].add_mul(a, b0);
        row[1] = row[1].add_mul(a, b1);
    }
}

#[inline(always)]
fn stored(acc: [[F4; 2]; MR]) -> [[f32; NR]; MR] {
    let mut out = [[0.0f32; NR]; MR];
    for (o, row) in out.iter_mut().zip(acc) {
        row[0].store(&mut o[..4]);
        row[1].store(&mut o[4..]);
    }
    out
}

/// Whether the product kernel's `acc + a·b` is rounded once (fused) rather than twice: in the
/// relaxed SIMD build on an engine and CPU with fused multiply-add. Asked of the kernel's own
/// operation: (1 + ε)(1 − ε) − 1 is −ε² fused and 0 rounded twice.
pub fn products_fuse() -> bool {
    let mut lanes = [0.0f32; 4];
    F4::splat(-1.0).add_mul(F4::splat(1.0 + f32::EPSILON), F4::splat(1.0 - f32::EPSILON)).store(&mut lanes);
    lanes[0] != 0.0
}

/// How this build's matrix products add each step, for the page to state beside the speed.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductArithmetic {
    /// Built with relaxed SIMD (its multiply-add) rather than plain simd128.
    pub relaxed_simd: bool,
    /// `acc + a·b` rounded once ([`products_fuse`]).
    pub fused: bool,
}

/// This build's [`ProductArithmetic`].
pub fn product_arithmetic() -> ProductArithmetic {
    ProductArithmetic { relaxed_simd: cfg!(target_feature = "relaxed-simd"), fused: products_fuse() }
}

/// `acc + a·b` rounded as the product kernel rounds it ([`products_fuse`] says how): the
/// reference the kernel's tests sum with.
pub fn kernel_add_mul(acc: f32, a: f32, b: f32) -> f32 {
    if products_fuse() {
        a.mul_add(b, acc)
    } else {
        acc + a * b
    }
}

/// Four f32 lanes: simd128 in wasm, a plain array elsewhere (where only tests use it).
#[derive(Clone, Copy)]
struct F4(#[cfg(target_arch = "wasm32")] core::arch::wasm32::v128, #[cfg(not(target_arch = "wasm32"))] [f32; 4]);

#[cfg(target_arch = "wasm32")]
impl F4 {
    #[inline(always)]
    fn zero() -> Self {
        Self::splat(0.0)
    }
    #[inline(always)]
    fn splat(x: f32) -> Self {
        F4(core::arch::wasm32::f32x4_splat(x))
    }
    #[inline(always)]
    fn load(s: &[f32]) -> Self {
        assert!(s.len() >= 4);
        // SAFETY: four f32 are in bounds (checked above); v128_load allows unaligned addresses.
        F4(unsafe { core::arch::wasm32::v128_load(s.as_ptr().cast()) })
    }
    /// `self + a·b`: relaxed SIMD's multiply-add in the build that has it (fused into one
    /// rounding where the engine and CPU can, see [`products_fuse`]), else a separate multiply
    /// and add (plain simd128 has no fused multiply-add).
    #[inline(always)]
    fn add_mul(self, a: F4, b: F4) -> Self {
        #[cfg(target_feature = "relaxed-simd")]
        return F4(core::arch::wasm32::f32x4_relaxed_madd(a.0, b.0, self.0));
        #[cfg(not(target_feature = "relaxed-simd"))]
        return F4(core::arch::wasm32::f32x4_add(self.0, core::arch::wasm32::f32x4_mul(a.0, b.0)));
    }
    #[inline(always)]
    fn store(self, out: &mut [f32]) {
        assert!(out.len() >= 4);
        // SAFETY: four f32 are in bounds (checked above); v128_store allows unaligned addresses.
        unsafe { core::arch::wasm32::v128_store(out.as_mut_ptr().cast(), self.0) }
    }
    /// Rows `[a, b, c, d]` → columns: `out[i][j] = rows[j][i]`.
    #[inline(always)]
    fn transpose([a, b, c, d]: [F4; 4]) -> [F4; 4] {
        use core::arch::wasm32::i32x4_shuffle;
        let (ab_lo, ab_hi) = (i32x4_shuffle::<0, 4, 1, 5>(a.0, b.0), i32x4_shuffle::<2, 6, 3, 7>(a.0, b.0));
        let (cd_lo, cd_hi) = (i32x4_shuffle::<0, 4, 1, 5>(c.0, d.0), i32x4_shuffle::<2, 6, 3, 7>(c.0, d.0));
        [
            F4(i32x4_shuffle::<0, 1, 4, 5>(ab_lo, cd_lo)),
            F4(i32x4_shuffle::<2, 3, 6, 7>(ab_lo, cd_lo)),
            F4(i32x4_shuffle::<0, 1, 4, 5>(ab_hi, cd_hi)),
            F4(i32x4_shuffle::<2, 3, 6, 7>(ab_hi, cd_hi)),
        ]
    }
}

#[cfg(not(target_arch = "wasm32"))]
impl F4 {
    fn zero() -> Self {
        F4([0.0; 4])
    }
    fn splat(x: f32) -> Self {
        F4([x; 4])
    }
    fn load(s: &[f32]) -> Self {
        F4([s[0], s[1], s[2], s[3]])
    }
    fn add_mul(self, a: F4, b: F4) -> Self {
        F4(std::array::from_fn(|i| self.0[i] + a.0[i] * b.0[i]))
    }
    fn store(self, out: &mut [f32]) {
        out[..4].copy_from_slice(&self.0);
    }
    fn transpose(rows: [F4; 4]) -> [F4; 4] {
        std::array::from_fn(|i| F4(std::array::from_fn(|j| rows[j].0[i])))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use candle_core::{Device, Var};

    fn values(len: usize, seed: f32) -> Vec<f32> {
        (0..len).map(|i| ((i as f32 + seed) * 0.37).sin()).collect()
    }

    /// Odd shapes (partial tiles and panels) and all four transpose combinations; smaller
    /// products after larger ones reuse packing buffers that hold the larger ones' values.
    #[test]
    fn matmul_f32_matches_candle() -> Result<()> {
        let dev = Device::Cpu;
        for (m, n, k) in [(1, 1, 1), (3, 5, 7), (4, 8, 16), (13, 17, 9), (128, 20, 33), (13, 17, 9), (3, 5, 7)] {
            let a = Tensor::from_vec(values(m * k, 1.0), (m, k), &dev)?;
            let b = Tensor::from_vec(values(k * n, 2.0), (k, n), &dev)?;
            let expected: Vec<Vec<f32>> = a.matmul(&b)?.to_vec2()?;
            // The same matrices stored transposed, read through strides.
            let at: Vec<f32> = a.t()?.contiguous()?.flatten_all()?.to_vec1()?;
            let bt: Vec<f32> = b.t()?.contiguous()?.flatten_all()?.to_vec1()?;
            let (av, bv): (Vec<f32>, Vec<f32>) = (a.flatten_all()?.to_vec1()?, b.flatten_all()?.to_vec1()?);
            for (a, a_s) in [(&av, (k, 1)), (&at, (1, m))] {
                for (b, b_s) in [(&bv, (n, 1)), (&bt, (1, k))] {
                    let c = matmul_f32((m, n, k), a, a_s, b, b_s);
                    for (i, row) in expected.iter().enumerate() {
                        for (j, e) in row.iter().enumerate() {
                            let got = c[i * n + j];
                            assert!((got - e).abs() <= 1e-5 * (1.0 + e.abs()), "({m},{n},{k}) [{i},{j}]: {got} vs {e}");
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// Mostly-zero operands take the listed-steps path (A's lists, then B's, in odd shapes):
    /// the same bits as summing `a[i, p]·b[p, j]` over all `p` in order.
    #[test]
    fn matmul_f32_skips_zero_steps_exactly() {
        for (m, n, k) in [(5, 9, 40), (128, 20, 33), (13, 17, 64)] {
            // Zero unless (i + p) % 9 = 0 or (p + j) % 13 = 0: 4/9 of a block's steps and 8/13 of a
            // panel's are left, short enough for lists.
            let sparse_a: Vec<f32> =
                values(m * k, 1.0).iter().enumerate().map(|(x, &v)| if (x / k + x % k) % 9 == 0 { v } else { 0.0 }).collect();
            let sparse_b: Vec<f32> =
                values(k * n, 2.0).iter().enumerate().map(|(x, &v)| if (x / n + x % n) % 13 == 0 { v } else { 0.0 }).collect();
            let (dense_a, dense_b) = (values(m * k, 3.0), values(k * n, 4.0));
            for (a, b) in [(&sparse_a, &dense_b), (&dense_a, &sparse_b), (&sparse_a, &sparse_b)] {
                let c = matmul_f32((m, n, k), a, (k, 1), b, (n, 1));
                for (i, j) in (0..m).flat_map(|i| (0..n).map(move |j| (i, j))) {
                    let want = (0..k).fold(0.0f32, |acc, p| kernel_add_mul(acc, a[i * k + p], b[p * n + j]));
                    assert_eq!(c[i * n + j].to_bits(), want.to_bits(), "({m},{n},{k}) [{i},{j}]");
                }
            }
        }
    }

    /// Same output and parameter gradients as candle's `Linear`; no gradient for a data input.
    #[test]
    fn linear_matches_candle_linear() -> Result<()> {
        let dev = Device::Cpu;
        let w = Var::from_vec(values(6 * 5, 3.0), (6, 5), &dev)?;
        let b = Var::from_vec(values(6, 4.0), 6, &dev)?;
        let layer = Linear::new(w.as_tensor().clone(), Some(b.as_tensor().clone()));
        let x = Tensor::from_vec(values(3 * 5, 5.0), (3, 5), &dev)?;
        let h = Var::from_vec(values(3 * 5, 6.0), (3, 5), &dev)?;
        for input in [&x, h.as_tensor()] {
            let ours = linear(input, &layer)?;
            let theirs = candle_core::Module::forward(&layer, input)?;
            let diff = (&ours - &theirs)?.abs()?.max_all()?.to_scalar::<f32>()?;
            assert!(diff < 1e-6, "forward differs by {diff}");
            let g_ours = (ours.sqr()?.sum_all()?).backward()?;
            let g_theirs = (theirs.sqr()?.sum_all()?).backward()?;
            for var in [w.as_tensor(), b.as_tensor()] {
                let (a, e) = (g_ours.get(var).unwrap(), g_theirs.get(var).unwrap());
                let diff = (a - e)?.abs()?.max_all()?.to_scalar::<f32>()?;
                assert!(diff < 1e-5, "gradient differs by {diff}");
            }
            let dx_ours = g_ours.get(input);
            if input.is_variable() {
                let diff = (dx_ours.unwrap() - g_theirs.get(input).unwrap())?.abs()?.max_all()?.to_scalar::<f32>()?;
                assert!(diff < 1e-5, "input gradient differs by {diff}");
            } else {
                assert!(dx_ours.is_none(), "no gradient wanted for the data batch");
            }
        }
        Ok(())
    }

    /// [`backward`] gives the plain backward pass's gradients, bit for bit: for the
    /// parameters a layer hands over (including one layer applied twice, whose two gradients
    /// add up), for a weight that is not itself a variable (its gradient flows on to the
    /// variable it came from), and for the input; and it leaves later passes plain.
    #[test]
    fn backward_hands_over_the_same_gradients() -> Result<()> {
        let dev = Device::Cpu;
        let w = Var::from_vec(values(5 * 5, 3.0), (5, 5), &dev)?;
        let b = Var::from_vec(values(5, 4.0), 5, &dev)?;
        let scale = Var::from_vec(values(4 * 5, 7.0), (4, 5), &dev)?;
        let c = Var::from_vec(values(4, 8.0), 4, &dev)?;
        let twice = Linear::new(w.as_tensor().clone(), Some(b.as_tensor().clone()));
        // A weight made from a variable: the layer must not keep its gradient.
        let derived = Linear::new((scale.as_tensor() * 2.0)?, Some(c.as_tensor().clone()));
        let h = Var::from_vec(values(3 * 5, 6.0), (3, 5), &dev)?;
        let loss = || -> Result<Tensor> {
            let once = linear(h.as_tensor(), &twice)?.tanh()?;
            linear(&linear(&once, &twice)?, &derived)?.sqr()?.sum_all()
        };
        let bits = |g: &GradStore, t: &Tensor| -> Result<Vec<u32>> {
            Ok(g.get(t).expect("a gradient").flatten_all()?.to_vec1::<f32>()?.iter().map(|v| v.to_bits()).collect())
        };
        let (handed, plain) = (backward(&loss()?)?, loss()?.backward()?);
        for t in [w.as_tensor(), b.as_tensor(), scale.as_tensor(), c.as_tensor(), h.as_tensor()] {
            assert_eq!(bits(&handed, t)?, bits(&plain, t)?);
        }
        assert!(HANDED_OVER.with(|h| h.borrow().is_none()), "the hand-over ended with the pass");
        let again = loss()?.backward()?;
        assert_eq!(bits(&again, w.as_tensor())?, bits(&plain, w.as_tensor())?);
        Ok(())
    }
}
