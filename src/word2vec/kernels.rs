//! The vector arithmetic of the word2vec updates: dot products, `y += a * x` and the fused
//! update of an output row over rows of `dim` floats, portable and, on x86-64 CPUs that have them, with AVX2 and FMA.

/// Lanes of the portable dot product's accumulators: two SSE registers.
const LANES: usize = 8;

/// `a · b`, portable. Eight independent partial sums, because floating-point addition is not
/// associative and the compiler may not reorder a single running sum into vector lanes.
#[inline(always)]
fn dot_portable(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; LANES];
    let ca = a.chunks_exact(LANES);
    let cb = b.chunks_exact(LANES);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        // Fixed-size arrays, so that the compiler sees whole-vector operations.
        let (Ok(x), Ok(y)) = (<&[f32; LANES]>::try_from(x), <&[f32; LANES]>::try_from(y)) else {
            continue;
        };
        for k in 0..LANES {
            acc[k] += x[k] * y[k];
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    let s4 = [
        acc[0] + acc[4],
        acc[1] + acc[5],
        acc[2] + acc[6],
        acc[3] + acc[7],
    ];
    (s4[0] + s4[2]) + (s4[1] + s4[3]) + tail
}

/// `y += a * x`, portable (the compiler vectorises it: no reduction).
#[inline(always)]
fn axpy_portable(a: f32, x: &[f32], y: &mut [f32]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}

/// `e += a * w; w += a * h`, portable: the two updates of an output row `w` by an example with
/// input `h` (the error `e` takes `w` before its update), in one pass.
#[inline(always)]
fn output_update_portable(a: f32, h: &[f32], w: &mut [f32], e: &mut [f32]) {
    for ((w, e), h) in w.iter_mut().zip(e.iter_mut()).zip(h) {
        *e += a * *w;
        *w += a * h;
    }
}

/// AVX2 + FMA kernels, written with intrinsics because the auto-vectoriser splits the
/// dot product's reduction into 2-wide pieces (measured: 2× slower training).
#[cfg(target_arch = "x86_64")]
mod avx {
    use std::arch::x86_64::*;

    /// `a · b` with two 8-wide fused multiply-add accumulators.
    ///
    /// # Safety
    ///
    /// The CPU must have AVX2 and FMA.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dot(a: &[f32], b: &[f32]) -> f32 {
        let n = a.len().min(b.len());
        let (pa, pb) = (a.as_ptr(), b.as_ptr());
        let mut i = 0;
        // SAFETY (whole body): every load reads `i..i + 8` or `i` with `i + 8 <= n` or
        // `i < n`, inside both slices.
        unsafe {
            let mut acc0 = _mm256_setzero_ps();
            let mut acc1 = _mm256_setzero_ps();
            while i + 16 <= n {
                acc0 =
                    _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
                acc1 = _mm256_fmadd_ps(
                    _mm256_loadu_ps(pa.add(i + 8)),
                    _mm256_loadu_ps(pb.add(i + 8)),
                    acc1,
                );
                i += 16;
            }
            if i + 8 <= n {
                acc0 =
                    _mm256_fmadd_ps(_mm256_loadu_ps(pa.add(i)), _mm256_loadu_ps(pb.add(i)), acc0);
                i += 8;
            }
            let acc = _mm256_add_ps(acc0, acc1);
            let half = _mm_add_ps(_mm256_castps256_ps128(acc), _mm256_extractf128_ps::<1>(acc));
            let quarter = _mm_add_ps(half, _mm_movehl_ps(half, half));
            let one = _mm_add_ss(quarter, _mm_movehdup_ps(quarter));
            let mut sum = _mm_cvtss_f32(one);
            while i < n {
                sum = (*pa.add(i)).mul_add(*pb.add(i), sum);
                i += 1;
            }
            sum
        }
    }

    /// `y += a * x`.
    ///
    /// # Safety
    ///
    /// The CPU must have AVX2 and FMA.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn axpy(a: f32, x: &[f32], y: &mut [f32]) {
        let n = x.len().min(y.len());
        let (px, py) = (x.as_ptr(), y.as_mut_ptr());
        let mut i = 0;
        // SAFETY (whole body): accesses stay below `n`, inside both slices.
        unsafe {
            let va = _mm256_set1_ps(a);
            while i + 8 <= n {
                let v = _mm256_fmadd_ps(va, _mm256_loadu_ps(px.add(i)), _mm256_loadu_ps(py.add(i)));
                _mm256_storeu_ps(py.add(i), v);
                i += 8;
            }
            if i + 4 <= n {
                let v = _mm_fmadd_ps(
                    _mm256_castps256_ps128(va),
                    _mm_loadu_ps(px.add(i)),
                    _mm_loadu_ps(py.add(i)),
                );
                _mm_storeu_ps(py.add(i), v);
                i += 4;
            }
            while i < n {
                *py.add(i) = a.mul_add(*px.add(i), *py.add(i));
                i += 1;
            }
        }
    }

    /// `e += a * w; w += a * h`, each element as `axpy` computes it.
    ///
    /// # Safety
    ///
    /// The CPU must have AVX2 and FMA.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn output_update(a: f32, h: &[f32], w: &mut [f32], e: &mut [f32]) {
        let n = h.len().min(w.len()).min(e.len());
        let (ph, pw, pe) = (h.as_ptr(), w.as_mut_ptr(), e.as_mut_ptr());
        let mut i = 0;
        // SAFETY (whole body): accesses stay below `n`, inside the three slices, which are
        // distinct borrows.
        unsafe {
            let va = _mm256_set1_ps(a);
            while i + 8 <= n {
                let old = _mm256_loadu_ps(pw.add(i));
                let err = _mm256_fmadd_ps(va, old, _mm256_loadu_ps(pe.add(i)));
                _mm256_storeu_ps(pe.add(i), err);
                _mm256_storeu_ps(
                    pw.add(i),
                    _mm256_fmadd_ps(va, _mm256_loadu_ps(ph.add(i)), old),
                );
                i += 8;
            }
            if i + 4 <= n {
                let va = _mm256_castps256_ps128(va);
                let old = _mm_loadu_ps(pw.add(i));
                _mm_storeu_ps(pe.add(i), _mm_fmadd_ps(va, old, _mm_loadu_ps(pe.add(i))));
                _mm_storeu_ps(pw.add(i), _mm_fmadd_ps(va, _mm_loadu_ps(ph.add(i)), old));
                i += 4;
            }
            while i < n {
                let old = *pw.add(i);
                *pe.add(i) = a.mul_add(old, *pe.add(i));
                *pw.add(i) = a.mul_add(*ph.add(i), old);
                i += 1;
            }
        }
    }
}

/// `e += a * w; w += a * h` in one pass (what `axpy(a, w, e); axpy(a, h, w)` computes, to the
/// bit), with the AVX2/FMA kernel when `FMA`. One pass reads `w` once instead of twice.
#[inline(always)]
pub(crate) fn output_update<const FMA: bool>(a: f32, h: &[f32], w: &mut [f32], e: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if FMA {
        // SAFETY: as in `dot`.
        return unsafe { avx::output_update(a, h, w, e) };
    }
    output_update_portable(a, h, w, e)
}

/// `a · b`, with the AVX2/FMA kernel when `FMA` (only ever set after detecting the CPU
/// features, see [`cpu_has_fma`]).
#[inline(always)]
pub(crate) fn dot<const FMA: bool>(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if FMA {
        // SAFETY: `FMA` code paths run only on CPUs with AVX2 and FMA.
        return unsafe { avx::dot(a, b) };
    }
    dot_portable(a, b)
}

/// `y += a * x`, with the AVX2/FMA kernel when `FMA` (as [`dot`]).
#[inline(always)]
pub(crate) fn axpy<const FMA: bool>(a: f32, x: &[f32], y: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    if FMA {
        // SAFETY: as in `dot`.
        return unsafe { avx::axpy(a, x, y) };
    }
    axpy_portable(a, x, y)
}

/// Whether this CPU has AVX2 and FMA, i.e. runs the `FMA` kernels.
pub(crate) fn cpu_has_fma() -> bool {
    #[cfg(target_arch = "x86_64")]
    {
        is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_and_axpy_handle_tails() {
        let a: Vec<f32> = (0..19).map(|i| i as f32).collect();
        let b: Vec<f32> = (0..19).map(|i| (i % 3) as f32).collect();
        let exact: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert_eq!(dot::<false>(&a, &b), exact);
        let mut y = b.clone();
        axpy::<false>(2.0, &a, &mut y);
        assert_eq!(y[18], 2.0 * 18.0 + 0.0);
        assert_eq!(y[5], 10.0 + 2.0);
        if cpu_has_fma() {
            for n in [0, 3, 8, 13, 16, 19, 100] {
                let exact: f32 = a[..n.min(19)].iter().zip(&b).map(|(x, y)| x * y).sum();
                let (a, b) = (&a[..n.min(19)], &b[..n.min(19)]);
                assert_eq!(dot::<true>(a, b), exact, "{n}");
                let mut y = b.to_vec();
                axpy::<true>(2.0, a, &mut y);
                let expected: Vec<f32> = a.iter().zip(b).map(|(x, y)| 2.0 * x + y).collect();
                assert_eq!(y, expected);
            }
        }
    }

    /// `output_update::<FMA>` against `axpy(a, w, e); axpy(a, h, w)` with the same kernels.
    fn check_output_update<const FMA: bool>(a: f32, h: &[f32], w: &[f32], e: &[f32]) {
        let (mut w1, mut e1) = (w.to_vec(), e.to_vec());
        output_update::<FMA>(a, h, &mut w1, &mut e1);
        let (mut w2, mut e2) = (w.to_vec(), e.to_vec());
        axpy::<FMA>(a, &w2, &mut e2);
        axpy::<FMA>(a, h, &mut w2);
        assert_eq!((w1, e1), (w2, e2), "FMA {FMA}, length {}", h.len());
    }

    #[test]
    fn output_update_is_the_two_axpys_to_the_bit() {
        let h: Vec<f32> = (0..103).map(|i| (i as f32 * 0.37).sin()).collect();
        let w: Vec<f32> = (0..103).map(|i| (i as f32 * 0.11).cos()).collect();
        let e: Vec<f32> = (0..103).map(|i| (i as f32 * 0.05).sin() * 0.1).collect();
        for n in [0, 5, 8, 13, 100, 103] {
            check_output_update::<false>(0.0173, &h[..n], &w[..n], &e[..n]);
            if cpu_has_fma() {
                check_output_update::<true>(0.0173, &h[..n], &w[..n], &e[..n]);
            }
        }
    }
}
