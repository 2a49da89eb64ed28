;; Statement macros shared by the kernels (included by token-log-probs.wat and linear-log-probs.wat;
;; see scripts/build-wasm.mjs for the preprocessor). Not a module by itself.
;;
;; exp, vectorised and written out at every use (V8 in Node 20 does not inline wasm calls):
;;   x ← max(x, lo)                      (pmax: one maxps; NaN stays NaN, −inf becomes lo)
;;   t ← x·log2(e) + M                   M = 1.5·2^mant + bias: t's low mantissa bits hold n + bias,
;;   n ← t − M                           n = round(x / ln 2), with no float→int conversion
;;   r ← (x − n·C1) − n·C2               Cody–Waite: C1 + C2 = ln 2, C1 with a short mantissa
;;   p ← polynomial(r), |r| ≤ ln2/2      near-minimax (Chebyshev fit), Horner
;;   exp(x) = p · 2^n                    2^n = bits(t) << mant (the bias is already in t)
;; float32: degree 6, ≤ 1.2 ulp (measured against mpmath over [−87, 0]); valid for x ≤ 88.
;; float64: degree 11, ≤ 1.5e-16 relative; valid for x ≤ 709.
;; Below the lower clamp (−87.3 / −708.4) the result is the smallest normal number, not 0.
;; Temporaries: the locals declared by the EXP_LOCALS macro (SSA in V8: unrolled copies may share them).




;; Writes the constant table (called once per memory, before any kernel).
;;@define CONST_INIT
(v128.store offset=2048 (i32.const 0) (v128.const f32x4 -87.33654 -87.33654 -87.33654 -87.33654))
(v128.store offset=2064 (i32.const 0) (v128.const f32x4 1.44269504 1.44269504 1.44269504 1.44269504))
(v128.store offset=2080 (i32.const 0) (v128.const f32x4 12583039 12583039 12583039 12583039))
(v128.store offset=2096 (i32.const 0) (v128.const f32x4 0.693359375 0.693359375 0.693359375 0.693359375))
(v128.store offset=2112 (i32.const 0) (v128.const f32x4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4 -2.12194440e-4))
(v128.store offset=2128 (i32.const 0) (v128.const f32x4 0.0013941213255748153 0.0013941213255748153 0.0013941213255748153 0.0013941213255748153))
(v128.store offset=2144 (i32.const 0) (v128.const f32x4 0.008375209756195545 0.008375209756195545 0.008375209756195545 0.008375209756195545))
(v128.store offset=2160 (i32.const 0) (v128.const f32x4 0.04166635125875473 0.04166635125875473 0.04166635125875473 0.04166635125875473))
(v128.store offset=2176 (i32.const 0) (v128.const f32x4 0.16666413843631744 0.16666413843631744 0.16666413843631744 0.16666413843631744))
(v128.store offset=2192 (i32.const 0) (v128.const f32x4 0.5 0.5 0.5 0.5))
(v128.store offset=2208 (i32.const 0) (v128.const f32x4 1 1 1 1))
(v128.store offset=2224 (i32.const 0) (v128.const f64x2 -708.39 -708.39))
(v128.store offset=2240 (i32.const 0) (v128.const f64x2 1.4426950408889634 1.4426950408889634))
(v128.store offset=2256 (i32.const 0) (v128.const f64x2 6755399441056767 6755399441056767))
(v128.store offset=2272 (i32.const 0) (v128.const f64x2 6.93147180369123816490e-01 6.93147180369123816490e-01))
(v128.store offset=2288 (i32.const 0) (v128.const f64x2 1.90821492927058770002e-10 1.90821492927058770002e-10))
(v128.store offset=2304 (i32.const 0) (v128.const f64x2 2.5110269804375773e-08 2.5110269804375773e-08))
(v128.store offset=2320 (i32.const 0) (v128.const f64x2 2.7632941596769267e-07 2.7632941596769267e-07))
(v128.store offset=2336 (i32.const 0) (v128.const f64x2 2.7557240289805262e-06 2.7557240289805262e-06))
(v128.store offset=2352 (i32.const 0) (v128.const f64x2 2.4801484664654447e-05 2.4801484664654447e-05))
(v128.store offset=2368 (i32.const 0) (v128.const f64x2 0.00019841269890635688 0.00019841269890635688))
(v128.store offset=2384 (i32.const 0) (v128.const f64x2 0.001388888895308017 0.001388888895308017))
(v128.store offset=2400 (i32.const 0) (v128.const f64x2 0.008333333333319379 0.008333333333319379))
(v128.store offset=2416 (i32.const 0) (v128.const f64x2 0.04166666666648522 0.04166666666648522))
(v128.store offset=2432 (i32.const 0) (v128.const f64x2 0.16666666666666682 0.16666666666666682))
(v128.store offset=2448 (i32.const 0) (v128.const f64x2 0.5000000000000019 0.5000000000000019))
(v128.store offset=2464 (i32.const 0) (v128.const f64x2 1 1))
(v128.store offset=2480 (i32.const 0) (v128.const f32x4 -0.006094554904848337 -0.006094554904848337 -0.006094554904848337 -0.006094554904848337))
(v128.store offset=2496 (i32.const 0) (v128.const f32x4 0.020995695143938065 0.020995695143938065 0.020995695143938065 0.020995695143938065))
(v128.store offset=2512 (i32.const 0) (v128.const f32x4 -0.05385059490799904 -0.05385059490799904 -0.05385059490799904 -0.05385059490799904))
(v128.store offset=2528 (i32.const 0) (v128.const f32x4 0.1333276778459549 0.1333276778459549 0.1333276778459549 0.1333276778459549))
(v128.store offset=2544 (i32.const 0) (v128.const f32x4 -0.333333283662796 -0.333333283662796 -0.333333283662796 -0.333333283662796))
(v128.store offset=2560 (i32.const 0) (v128.const f32x4 -2 -2 -2 -2))
(v128.store offset=2576 (i32.const 0) (v128.const f32x4 1 1 1 1))
(v128.store offset=2592 (i32.const 0) (v128.const f32x4 0.625 0.625 0.625 0.625))
(v128.store offset=2608 (i32.const 0) (v128.const f64x2 -2 -2))
(v128.store offset=2624 (i32.const 0) (v128.const f64x2 1 1))
(v128.store offset=2640 (i32.const 0) (v128.const i32x4 0x80000000 0x80000000 0x80000000 0x80000000))
(v128.store offset=2656 (i32.const 0) (v128.const i64x2 0x8000000000000000 0x8000000000000000))
;;@end

;; The constants, loaded into locals once per call: V8 would rematerialise a v128.const inside
;; every loop iteration (3 instructions each); a loaded value stays in a register or is reloaded once.
;;@define EXP_LOCALS
(local $ex_x v128) (local $ex_t v128) (local $ex_n v128) (local $ex_r v128) (local $ex_p v128)
(local $k_M v128) (local $k_c1 v128) (local $k_c2 v128) (local $k_l2e v128) (local $k_lo v128) (local $k_one v128) (local $k_p10 v128) (local $k_p11 v128) (local $k_p2 v128) (local $k_p3 v128) (local $k_p4 v128) (local $k_p5 v128) (local $k_p6 v128) (local $k_p7 v128) (local $k_p8 v128) (local $k_p9 v128)
;;@end
;;@define EXP_LOAD_f32
(local.set $k_lo (v128.load offset=2048 (i32.const 0)))
(local.set $k_l2e (v128.load offset=2064 (i32.const 0)))
(local.set $k_M (v128.load offset=2080 (i32.const 0)))
(local.set $k_c1 (v128.load offset=2096 (i32.const 0)))
(local.set $k_c2 (v128.load offset=2112 (i32.const 0)))
(local.set $k_p6 (v128.load offset=2128 (i32.const 0)))
(local.set $k_p5 (v128.load offset=2144 (i32.const 0)))
(local.set $k_p4 (v128.load offset=2160 (i32.const 0)))
(local.set $k_p3 (v128.load offset=2176 (i32.const 0)))
(local.set $k_p2 (v128.load offset=2192 (i32.const 0)))
(local.set $k_one (v128.load offset=2208 (i32.const 0)))
;;@end
;;@define EXP_LOAD_f64
(local.set $k_lo (v128.load offset=2224 (i32.const 0)))
(local.set $k_l2e (v128.load offset=2240 (i32.const 0)))
(local.set $k_M (v128.load offset=2256 (i32.const 0)))
(local.set $k_c1 (v128.load offset=2272 (i32.const 0)))
(local.set $k_c2 (v128.load offset=2288 (i32.const 0)))
(local.set $k_p11 (v128.load offset=2304 (i32.const 0)))
(local.set $k_p10 (v128.load offset=2320 (i32.const 0)))
(local.set $k_p9 (v128.load offset=2336 (i32.const 0)))
(local.set $k_p8 (v128.load offset=2352 (i32.const 0)))
(local.set $k_p7 (v128.load offset=2368 (i32.const 0)))
(local.set $k_p6 (v128.load offset=2384 (i32.const 0)))
(local.set $k_p5 (v128.load offset=2400 (i32.const 0)))
(local.set $k_p4 (v128.load offset=2416 (i32.const 0)))
(local.set $k_p3 (v128.load offset=2432 (i32.const 0)))
(local.set $k_p2 (v128.load offset=2448 (i32.const 0)))
(local.set $k_one (v128.load offset=2464 (i32.const 0)))
;;@end
;;@define TANH_LOCALS
(local $th_a v128) (local $th_u v128) (local $th_q v128) (local $th_n v128) (local $th_e v128)
(local $t_q4 v128) (local $t_q3 v128) (local $t_q2 v128) (local $t_q1 v128) (local $t_q0 v128) (local $t_two v128) (local $t_one v128) (local $t_cut v128) (local $t_sign v128)
;;@end
;;@define TANH_LOAD_f32
(local.set $t_q4 (v128.load offset=2480 (i32.const 0)))
(local.set $t_q3 (v128.load offset=2496 (i32.const 0)))
(local.set $t_q2 (v128.load offset=2512 (i32.const 0)))
(local.set $t_q1 (v128.load offset=2528 (i32.const 0)))
(local.set $t_q0 (v128.load offset=2544 (i32.const 0)))
(local.set $t_two (v128.load offset=2560 (i32.const 0)))
(local.set $t_one (v128.load offset=2576 (i32.const 0)))
(local.set $t_cut (v128.load offset=2592 (i32.const 0)))
(local.set $t_sign (v128.load offset=2640 (i32.const 0)))
;;@end
;;@define TANH_LOAD_f64
(local.set $t_two (v128.load offset=2608 (i32.const 0)))
(local.set $t_one (v128.load offset=2624 (i32.const 0)))
(local.set $t_sign (v128.load offset=2656 (i32.const 0)))
;;@end

;;@define EXP_f32 $out $x
(local.set $ex_x (f32x4.pmax (local.get $x) (local.get $k_lo)))
(local.set $ex_t (f32x4.add (f32x4.mul (local.get $ex_x) (local.get $k_l2e)) (local.get $k_M)))
(local.set $ex_n (f32x4.sub (local.get $ex_t) (local.get $k_M)))
(local.set $ex_r (f32x4.sub (f32x4.sub (local.get $ex_x) (f32x4.mul (local.get $ex_n) (local.get $k_c1))) (f32x4.mul (local.get $ex_n) (local.get $k_c2))))
(local.set $ex_p (f32x4.add (f32x4.mul (local.get $k_p6) (local.get $ex_r)) (local.get $k_p5)))
(local.set $ex_p (f32x4.add (f32x4.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_p4)))
(local.set $ex_p (f32x4.add (f32x4.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_p3)))
(local.set $ex_p (f32x4.add (f32x4.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_p2)))
(local.set $ex_p (f32x4.add (f32x4.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_one)))
(local.set $ex_p (f32x4.add (f32x4.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_one)))
(local.set $out (f32x4.mul (local.get $ex_p) (i32x4.shl (local.get $ex_t) (i32.const 23))))
;;@end
;;@define EXP_f64 $out $x
(local.set $ex_x (f64x2.pmax (local.get $x) (local.get $k_lo)))
(local.set $ex_t (f64x2.add (f64x2.mul (local.get $ex_x) (local.get $k_l2e)) (local.get $k_M)))
(local.set $ex_n (f64x2.sub (local.get $ex_t) (local.get $k_M)))
(local.set $ex_r (f64x2.sub (f64x2.sub (local.get $ex_x) (f64x2.mul (local.get $ex_n) (local.get $k_c1))) (f64x2.mul (local.get $ex_n) (local.get $k_c2))))
(local.set $ex_p (f64x2.add (f64x2.mul (local.get $k_p11) (local.get $ex_r)) (local.get $k_p10)))
(local.set $ex_p (f64x2.add (f64x2.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_p9)))
(local.set $ex_p (f64x2.add (f64x2.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_p8)))
(local.set $ex_p (f64x2.add (f64x2.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_p7)))
(local.set $ex_p (f64x2.add (f64x2.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_p6)))
(local.set $ex_p (f64x2.add (f64x2.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_p5)))
(local.set $ex_p (f64x2.add (f64x2.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_p4)))
(local.set $ex_p (f64x2.add (f64x2.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_p3)))
(local.set $ex_p (f64x2.add (f64x2.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_p2)))
(local.set $ex_p (f64x2.add (f64x2.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_one)))
(local.set $ex_p (f64x2.add (f64x2.mul (local.get $ex_p) (local.get $ex_r)) (local.get $k_one)))
(local.set $out (f64x2.mul (local.get $ex_p) (i64x2.shl (local.get $ex_t) (i32.const 52))))
;;@end

;; $dst ← lanes j < $rem all ones (the valid lanes of a vector that ends a row), $rem ≥ 1 (i32).
;;@define MASK_f32 $dst $rem
(local.set $dst (i32x4.gt_s (i32x4.splat (local.get $rem)) (v128.const i32x4 0 1 2 3)))
;;@end
;;@define MASK_f64 $dst $rem
(local.set $dst (i64x2.gt_s (i64x2.splat (i64.extend_i32_u (local.get $rem))) (v128.const i64x2 0 1)))
;;@end

;; Stores the first min($rem, lanes) lanes of $v at address $addr (the end of a row: never past it).
;;@define STORE_PART_f32 $addr $v $rem
(if (i32.ge_u (local.get $rem) (i32.const 4))
  (then (v128.store align=4 (local.get $addr) (local.get $v)))
  (else
    (f32.store (local.get $addr) (f32x4.extract_lane 0 (local.get $v)))
    (if (i32.gt_u (local.get $rem) (i32.const 1)) (then (f32.store offset=4 (local.get $addr) (f32x4.extract_lane 1 (local.get $v)))))
    (if (i32.gt_u (local.get $rem) (i32.const 2)) (then (f32.store offset=8 (local.get $addr) (f32x4.extract_lane 2 (local.get $v)))))))
;;@end
;;@define STORE_PART_f64 $addr $v $rem
(if (i32.ge_u (local.get $rem) (i32.const 2))
  (then (v128.store align=8 (local.get $addr) (local.get $v)))
  (else (f64.store (local.get $addr) (f64x2.extract_lane 0 (local.get $v)))))
;;@end

;; $dst (f64) ← the sum of the lanes of $v, each widened to f64.
;;@define HSUM_f32 $dst $v
(local.set $dst (f64.add (f64.add (f64.promote_f32 (f32x4.extract_lane 0 (local.get $v))) (f64.promote_f32 (f32x4.extract_lane 1 (local.get $v))))
                         (f64.add (f64.promote_f32 (f32x4.extract_lane 2 (local.get $v))) (f64.promote_f32 (f32x4.extract_lane 3 (local.get $v))))))
;;@end
;;@define HSUM_f64 $dst $v
(local.set $dst (f64.add (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))
;;@end

;; $dst (f32 / f64) ← the largest lane of $v (no NaN lanes: the kernels only max with pmax).
;;@define HMAX_f32 $dst $v
(local.set $dst (f32.max (f32.max (f32x4.extract_lane 0 (local.get $v)) (f32x4.extract_lane 1 (local.get $v)))
                         (f32.max (f32x4.extract_lane 2 (local.get $v)) (f32x4.extract_lane 3 (local.get $v)))))
;;@end
;;@define HMAX_f64 $dst $v
(local.set $dst (f64.max (f64x2.extract_lane 0 (local.get $v)) (f64x2.extract_lane 1 (local.get $v))))
;;@end

;;@define NOP
;;@end

;;@precision
;; $m ← max of the row at $base (V elements); uses $i $rem $at $mask $a0..$a3.
;;@define ROW_MAX_{P}
(local.set $a0 ({V}.splat ({P}.const -inf)))
(local.set $a1 (local.get $a0))
(local.set $a2 (local.get $a0))
(local.set $a3 (local.get $a0))
(local.set $i (i32.const 0))
(block $mx_b (loop $mx_l
  (br_if $mx_b (i32.gt_u (i32.add (local.get $i) (i32.const {L4})) (local.get $V)))
  (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
  (local.set $a0 ({V}.pmax (local.get $a0) (v128.load offset=0 (local.get $at))))
  (local.set $a1 ({V}.pmax (local.get $a1) (v128.load offset=16 (local.get $at))))
  (local.set $a2 ({V}.pmax (local.get $a2) (v128.load offset=32 (local.get $at))))
  (local.set $a3 ({V}.pmax (local.get $a3) (v128.load offset=48 (local.get $at))))
  (local.set $i (i32.add (local.get $i) (i32.const {L4})))
  (br $mx_l)))
(block $mt_b (loop $mt_l
  (br_if $mt_b (i32.ge_u (local.get $i) (local.get $V)))
  (local.set $rem (i32.sub (local.get $V) (local.get $i)))
;;@MASK_{P} $mask $rem
  (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
  (local.set $a0 ({V}.pmax (local.get $a0) (v128.bitselect (v128.load (local.get $at)) ({V}.splat ({P}.const -inf)) (local.get $mask))))
  (local.set $i (i32.add (local.get $i) (i32.const {L})))
  (br $mt_l)))
(local.set $a0 ({V}.pmax ({V}.pmax (local.get $a0) (local.get $a1)) ({V}.pmax (local.get $a2) (local.get $a3))))
;;@HMAX_{P} $m $a0
;;@end

;; $x ← z[at + off] − max, $e ← exp($x)
;;@define SX_{P} $x $e $off
(local.set $x ({V}.sub (v128.load offset=$off (local.get $at)) (local.get $mv)))
;;@EXP_{P} $e $x
;;@end

;; Σ e over the row (into $a0..$a3); with T: Σ e·(z − max) (into $b0..$b3); with P: e stored at $pbase.
;; $LA: a macro run once per 4 vectors (NOP, or the token forward's look-ahead max of the next row).
;;@define SUMEXP_{P} $LA
(block $se_b (loop $se_l
  (br_if $se_b (i32.gt_u (i32.add (local.get $i) (i32.const {L4})) (local.get $V)))
  (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
;;@$LA
;;@SX_{P} $x0 $e0 0
;;@SX_{P} $x1 $e1 16
;;@SX_{P} $x2 $e2 32
;;@SX_{P} $x3 $e3 48
  (local.set $a0 ({V}.add (local.get $a0) (local.get $e0)))
  (local.set $a1 ({V}.add (local.get $a1) (local.get $e1)))
  (local.set $a2 ({V}.add (local.get $a2) (local.get $e2)))
  (local.set $a3 ({V}.add (local.get $a3) (local.get $e3)))
  (local.set $i (i32.add (local.get $i) (i32.const {L4})))
  (br $se_l)))
(block $st_b (loop $st_l
  (br_if $st_b (i32.ge_u (local.get $i) (local.get $V)))
  (local.set $rem (i32.sub (local.get $V) (local.get $i)))
;;@MASK_{P} $mask $rem
  (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
;;@SX_{P} $x0 $e0 0
  (local.set $a0 ({V}.add (local.get $a0) (v128.and (local.get $e0) (local.get $mask))))
  (local.set $i (i32.add (local.get $i) (i32.const {L})))
  (br $st_l)))
;;@end

;;@define SUMEXP_T_{P} $LA
(block $se_b (loop $se_l
  (br_if $se_b (i32.gt_u (i32.add (local.get $i) (i32.const {L4})) (local.get $V)))
  (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
;;@$LA
;;@SX_{P} $x0 $e0 0
;;@SX_{P} $x1 $e1 16
;;@SX_{P} $x2 $e2 32
;;@SX_{P} $x3 $e3 48
  (local.set $a0 ({V}.add (local.get $a0) (local.get $e0)))
  (local.set $a1 ({V}.add (local.get $a1) (local.get $e1)))
  (local.set $a2 ({V}.add (local.get $a2) (local.get $e2)))
  (local.set $a3 ({V}.add (local.get $a3) (local.get $e3)))
  (local.set $b0 ({V}.add (local.get $b0) ({V}.mul (local.get $e0) (local.get $x0))))
  (local.set $b1 ({V}.add (local.get $b1) ({V}.mul (local.get $e1) (local.get $x1))))
  (local.set $b2 ({V}.add (local.get $b2) ({V}.mul (local.get $e2) (local.get $x2))))
  (local.set $b3 ({V}.add (local.get $b3) ({V}.mul (local.get $e3) (local.get $x3))))
  (local.set $i (i32.add (local.get $i) (i32.const {L4})))
  (br $se_l)))
(block $st_b (loop $st_l
  (br_if $st_b (i32.ge_u (local.get $i) (local.get $V)))
  (local.set $rem (i32.sub (local.get $V) (local.get $i)))
;;@MASK_{P} $mask $rem
  (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
;;@SX_{P} $x0 $e0 0
  (local.set $a0 ({V}.add (local.get $a0) (v128.and (local.get $e0) (local.get $mask))))
  (local.set $b0 ({V}.add (local.get $b0) (v128.and ({V}.mul (local.get $e0) (local.get $x0)) (local.get $mask))))
  (local.set $i (i32.add (local.get $i) (i32.const {L})))
  (br $st_l)))
;;@end


;; Lane mask: lanes j with j == $idx (i32) all ones.
;;@define LANEMASK_{P} $dst $idx
(local.set $dst ({I}.eq ({IOTA}) ({I}.splat ({ISCALAR} (local.get $idx)))))
;;@end
;;@end-precision

;; tanh, vectorised: |x| < 0.625: x + x³·Q(x²) (degree 4 in x², Chebyshev fit, ≤ 0.9 ulp);
;; else sign(x)·(1 − q)/(1 + q), q = exp(−2|x|) (≤ 1.5 ulp). float64: the second form everywhere
;; (absolute error ~1e-16, what the logits need). Temporaries from TANH_LOCALS.
;;@define TANH_f32 $out $x
(local.set $th_a (f32x4.abs (local.get $x)))
(local.set $th_u (f32x4.mul (local.get $x) (local.get $x)))
(local.set $th_q (f32x4.add (f32x4.mul (local.get $t_q4) (local.get $th_u)) (local.get $t_q3)))
(local.set $th_q (f32x4.add (f32x4.mul (local.get $th_q) (local.get $th_u)) (local.get $t_q2)))
(local.set $th_q (f32x4.add (f32x4.mul (local.get $th_q) (local.get $th_u)) (local.get $t_q1)))
(local.set $th_q (f32x4.add (f32x4.mul (local.get $th_q) (local.get $th_u)) (local.get $t_q0)))
(local.set $th_q (f32x4.add (local.get $x) (f32x4.mul (f32x4.mul (local.get $x) (local.get $th_u)) (local.get $th_q))))
(local.set $th_n (f32x4.mul (local.get $th_a) (local.get $t_two)))
;;@EXP_f32 $th_e $th_n
(local.set $th_e (f32x4.div (f32x4.sub (local.get $t_one) (local.get $th_e)) (f32x4.add (local.get $t_one) (local.get $th_e))))
(local.set $th_e (v128.or (local.get $th_e) (v128.and (local.get $x) (local.get $t_sign))))
(local.set $out (v128.bitselect (local.get $th_q) (local.get $th_e) (f32x4.lt (local.get $th_a) (local.get $t_cut))))
;;@end
;;@define TANH_f64 $out $x
(local.set $th_a (f64x2.abs (local.get $x)))
(local.set $th_n (f64x2.mul (local.get $th_a) (local.get $t_two)))
;;@EXP_f64 $th_e $th_n
(local.set $th_e (f64x2.div (f64x2.sub (local.get $t_one) (local.get $th_e)) (f64x2.add (local.get $t_one) (local.get $th_e))))
(local.set $out (v128.or (local.get $th_e) (v128.and (local.get $x) (local.get $t_sign))))
;;@end
