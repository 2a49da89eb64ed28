;; Token log-probs from hidden states (Cut Cross-Entropy / Liger fused-linear style), WebAssembly
;; SIMD, float32 and float64 (one template, see scripts/build-wasm.mjs). For active rows r (the
;; caller compacts away ignored rows) of hidden [Ra, H], LM head W [V, H] (row-major), bias b [V]:
;;   y = s·(h·Wᵀ + b),  z = c·tanh(y/c) (softcap c, or z = y),  lse, logps, entropy as in
;;   token-log-probs.wat,
;; computed chunk by chunk over V (online log-sum-exp: per row a running max m, S = Σ exp(z − m),
;; T = Σ exp(z − m)(z − m)), never holding [R, V]. The backward recomputes each chunk's logits and
;;   dz = p·(e·(c_r − z) − u) + u·δ_label,  dy = dz·(1 − t²) (softcap, t = z/c),  dpre = s·dy
;;   dW[chunk] = dpreᵀ·h,  db[chunk] = Σ_r dpre,  dH += dpre·W[chunk]
;;
;; GEMM: one register-blocked micro-kernel ($mk), C[4 × PW] (+)= A[4 × K]·B[K × PW], PW = 2 vectors
;; (8 floats / 4 doubles): 8 vector accumulators, per k 2 vector loads of B, 4 load-and-splats of A,
;; 8 mul + 8 add (no FMA without relaxed SIMD). Strides are parameters, so the same kernel does
;;   logits:  A = hidden rows (k along H),        B = the W chunk packed into panels [H × PW]
;;   dW:      A = dpre columns (k along rows),    B = hidden (k along rows)
;;   dH:      A = dpre rows (k along the chunk),  B = W rows of the chunk (k along V)
;; and it loops over the panels of one row block (B and C advance by a panel each time).
;; Threads: the forward splits the row blocks, each thread packing the chunks it needs; the
;; backward splits the chunks (round robin), so each thread owns disjoint dW rows and db entries,
;; with a private dH partial [Ra, H] summed by $lin_reduce afterwards.
(module
  (import "env" "memory" (memory 1 65536 __SHARED__))
  (import "env" "log" (func $log (param f64) (result f64)))
  (import "env" "exp" (func $exp (param f64) (result f64)))
;;@include simd-common.wat

;;@precision
;; ====================================================================================== {P}

  ;; C[mr × ncols] (+)= A·B over K, in panels of {PW} columns. A row i at a + i·ars (rows past mr
  ;; repeat the last one), advancing aks per k; B panel p at b + p·bps, advancing bks per k (two
  ;; vectors read per k: up to {PW} columns, possibly past ncols); C row i at c + i·crs, panel p at
  ;; + p·{PW}·{SZ}. mode 0 stores, 1 adds. Partial tiles go through tmp (128 bytes).
  (func $mk_{P} (param $a i32) (param $ars i32) (param $aks i32) (param $b i32) (param $bks i32) (param $bps i32)
        (param $c i32) (param $crs i32) (param $K i32) (param $mr i32) (param $ncols i32) (param $mode i32) (param $tmp i32)
    (local $a1 i32) (local $a2 i32) (local $a3 i32) (local $pa0 i32) (local $pa1 i32) (local $pa2 i32) (local $pa3 i32) (local $pb i32)
    (local $k i32) (local $col i32) (local $nr i32) (local $cc i32) (local $i i32) (local $j i32) (local $src i32) (local $dst i32)
    (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128) (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
    (local $b0 v128) (local $b1 v128) (local $av v128)
    (local.set $a1 (select (i32.add (local.get $a) (local.get $ars)) (local.get $a) (i32.gt_u (local.get $mr) (i32.const 1))))
    (local.set $a2 (select (i32.add (local.get $a) (i32.shl (local.get $ars) (i32.const 1))) (local.get $a1) (i32.gt_u (local.get $mr) (i32.const 2))))
    (local.set $a3 (select (i32.add (local.get $a) (i32.mul (local.get $ars) (i32.const 3))) (local.get $a2) (i32.gt_u (local.get $mr) (i32.const 3))))
    (local.set $cc (local.get $c))
    (block $pd (loop $pl
      (br_if $pd (i32.ge_s (local.get $col) (local.get $ncols)))
      (local.set $c00 (v128.const i64x2 0 0)) (local.set $c01 (v128.const i64x2 0 0))
      (local.set $c10 (v128.const i64x2 0 0)) (local.set $c11 (v128.const i64x2 0 0))
      (local.set $c20 (v128.const i64x2 0 0)) (local.set $c21 (v128.const i64x2 0 0))
      (local.set $c30 (v128.const i64x2 0 0)) (local.set $c31 (v128.const i64x2 0 0))
      (local.set $pa0 (local.get $a)) (local.set $pa1 (local.get $a1))
      (local.set $pa2 (local.get $a2)) (local.set $pa3 (local.get $a3))
      (local.set $pb (local.get $b))
      (local.set $k (local.get $K))
      (block $kd (loop $kl
        (br_if $kd (i32.le_s (local.get $k) (i32.const 0)))
        (local.set $b0 (v128.load offset=0 (local.get $pb)))
        (local.set $b1 (v128.load offset=16 (local.get $pb)))
        (local.set $av ({SPLAT} (local.get $pa0)))
        (local.set $c00 ({V}.add (local.get $c00) ({V}.mul (local.get $av) (local.get $b0))))
        (local.set $c01 ({V}.add (local.get $c01) ({V}.mul (local.get $av) (local.get $b1))))
        (local.set $av ({SPLAT} (local.get $pa1)))
        (local.set $c10 ({V}.add (local.get $c10) ({V}.mul (local.get $av) (local.get $b0))))
        (local.set $c11 ({V}.add (local.get $c11) ({V}.mul (local.get $av) (local.get $b1))))
        (local.set $av ({SPLAT} (local.get $pa2)))
        (local.set $c20 ({V}.add (local.get $c20) ({V}.mul (local.get $av) (local.get $b0))))
        (local.set $c21 ({V}.add (local.get $c21) ({V}.mul (local.get $av) (local.get $b1))))
        (local.set $av ({SPLAT} (local.get $pa3)))
        (local.set $c30 ({V}.add (local.get $c30) ({V}.mul (local.get $av) (local.get $b0))))
        (local.set $c31 ({V}.add (local.get $c31) ({V}.mul (local.get $av) (local.get $b1))))
        (local.set $pa0 (i32.add (local.get $pa0) (local.get $aks)))
        (local.set $pa1 (i32.add (local.get $pa1) (local.get $aks)))
        (local.set $pa2 (i32.add (local.get $pa2) (local.get $aks)))
        (local.set $pa3 (i32.add (local.get $pa3) (local.get $aks)))
        (local.set $pb (i32.add (local.get $pb) (local.get $bks)))
        (local.set $k (i32.sub (local.get $k) (i32.const 1)))
        (br $kl)))
      (local.set $nr (i32.sub (local.get $ncols) (local.get $col)))
      (if (i32.and (i32.eq (local.get $mr) (i32.const 4)) (i32.ge_s (local.get $nr) (i32.const {PW})))
        (then
          (if (local.get $mode)
            (then
              (local.set $dst (local.get $cc))
              (local.set $c00 ({V}.add (local.get $c00) (v128.load offset=0 (local.get $dst))))
              (local.set $c01 ({V}.add (local.get $c01) (v128.load offset=16 (local.get $dst))))
              (local.set $dst (i32.add (local.get $dst) (local.get $crs)))
              (local.set $c10 ({V}.add (local.get $c10) (v128.load offset=0 (local.get $dst))))
              (local.set $c11 ({V}.add (local.get $c11) (v128.load offset=16 (local.get $dst))))
              (local.set $dst (i32.add (local.get $dst) (local.get $crs)))
              (local.set $c20 ({V}.add (local.get $c20) (v128.load offset=0 (local.get $dst))))
              (local.set $c21 ({V}.add (local.get $c21) (v128.load offset=16 (local.get $dst))))
              (local.set $dst (i32.add (local.get $dst) (local.get $crs)))
              (local.set $c30 ({V}.add (local.get $c30) (v128.load offset=0 (local.get $dst))))
              (local.set $c31 ({V}.add (local.get $c31) (v128.load offset=16 (local.get $dst))))))
          (local.set $dst (local.get $cc))
          (v128.store offset=0 (local.get $dst) (local.get $c00))
          (v128.store offset=16 (local.get $dst) (local.get $c01))
          (local.set $dst (i32.add (local.get $dst) (local.get $crs)))
          (v128.store offset=0 (local.get $dst) (local.get $c10))
          (v128.store offset=16 (local.get $dst) (local.get $c11))
          (local.set $dst (i32.add (local.get $dst) (local.get $crs)))
          (v128.store offset=0 (local.get $dst) (local.get $c20))
          (v128.store offset=16 (local.get $dst) (local.get $c21))
          (local.set $dst (i32.add (local.get $dst) (local.get $crs)))
          (v128.store offset=0 (local.get $dst) (local.get $c30))
          (v128.store offset=16 (local.get $dst) (local.get $c31)))
        (else
          (v128.store offset=0 (local.get $tmp) (local.get $c00))
          (v128.store offset=16 (local.get $tmp) (local.get $c01))
          (v128.store offset=32 (local.get $tmp) (local.get $c10))
          (v128.store offset=48 (local.get $tmp) (local.get $c11))
          (v128.store offset=64 (local.get $tmp) (local.get $c20))
          (v128.store offset=80 (local.get $tmp) (local.get $c21))
          (v128.store offset=96 (local.get $tmp) (local.get $c30))
          (v128.store offset=112 (local.get $tmp) (local.get $c31))
          (if (i32.gt_s (local.get $nr) (i32.const {PW})) (then (local.set $nr (i32.const {PW}))))
          (local.set $i (i32.const 0))
          (block $id (loop $il
            (br_if $id (i32.ge_s (local.get $i) (local.get $mr)))
            (local.set $j (i32.const 0))
            (block $jd (loop $jl
              (br_if $jd (i32.ge_s (local.get $j) (local.get $nr)))
              (local.set $src (i32.add (i32.add (local.get $tmp) (i32.shl (local.get $i) (i32.const 5))) (i32.shl (local.get $j) (i32.const {SH}))))
              (local.set $dst (i32.add (i32.add (local.get $cc) (i32.mul (local.get $i) (local.get $crs))) (i32.shl (local.get $j) (i32.const {SH}))))
              (if (local.get $mode)
                (then ({P}.store (local.get $dst) ({P}.add ({P}.load (local.get $dst)) ({P}.load (local.get $src)))))
                (else ({P}.store (local.get $dst) ({P}.load (local.get $src)))))
              (local.set $j (i32.add (local.get $j) (i32.const 1)))
              (br $jl)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $il)))))
      (local.set $col (i32.add (local.get $col) (i32.const {PW})))
      (local.set $cc (i32.add (local.get $cc) (i32.const 32)))
      (local.set $b (i32.add (local.get $b) (local.get $bps)))
      (br $pl))))

  ;; Packs W rows [v0, v0 + vc) into np panels: dst[p][k][j] = W[v0 + p·{PW} + j, k], 0 past vc.
  (func $pack_{P} (param $w i32) (param $H i32) (param $v0 i32) (param $vc i32) (param $np i32) (param $dst i32)
    (local $p i32) (local $j i32) (local $k i32) (local $v i32) (local $src i32) (local $out i32)
    (block $pd (loop $pl
      (br_if $pd (i32.ge_u (local.get $p) (local.get $np)))
      (local.set $j (i32.const 0))
      (block $jd (loop $jl
        (br_if $jd (i32.ge_u (local.get $j) (i32.const {PW})))
        (local.set $v (i32.add (i32.mul (local.get $p) (i32.const {PW})) (local.get $j)))
        (local.set $out (i32.add (local.get $dst) (i32.shl (i32.add (i32.mul (i32.mul (local.get $p) (local.get $H)) (i32.const {PW})) (local.get $j)) (i32.const {SH}))))
        (local.set $k (i32.const 0))
        (if (i32.lt_u (local.get $v) (local.get $vc))
          (then
            (local.set $src (i32.add (local.get $w) (i32.shl (i32.mul (i32.add (local.get $v0) (local.get $v)) (local.get $H)) (i32.const {SH}))))
            (block $kd (loop $kl
              (br_if $kd (i32.ge_u (local.get $k) (local.get $H)))
              ({P}.store (local.get $out) ({P}.load (local.get $src)))
              (local.set $src (i32.add (local.get $src) (i32.const {SZ})))
              (local.set $out (i32.add (local.get $out) (i32.const 32)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $kl))))
          (else
            (block $kd (loop $kl
              (br_if $kd (i32.ge_u (local.get $k) (local.get $H)))
              ({P}.store (local.get $out) ({P}.const 0))
              (local.set $out (i32.add (local.get $out) (i32.const 32)))
              (local.set $k (i32.add (local.get $k) (i32.const 1)))
              (br $kl)))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $jl)))
      (local.set $p (i32.add (local.get $p) (i32.const 1)))
      (br $pl))))

;; In place over the tile row at $base, [0, $V) (whole vectors, the row is padded):
;; z ← s·(z + b[v]) and, with a softcap, z ← c·tanh(z/c).
;;@define TRANSFORM_{P}
(local.set $i (i32.const 0))
(if (i32.eqz (local.get $capOn))
  (then
    (block $tf_b (loop $tf_l
      (br_if $tf_b (i32.ge_u (local.get $i) (local.get $V)))
      (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
      (v128.store (local.get $at) ({V}.mul (local.get $sv)
        ({V}.add (v128.load (local.get $at)) (v128.load (i32.add (local.get $bb) (i32.shl (local.get $i) (i32.const {SH})))))))
      (local.set $i (i32.add (local.get $i) (i32.const {L})))
      (br $tf_l))))
  (else
    (block $tf_b (loop $tf_l
      (br_if $tf_b (i32.ge_u (local.get $i) (local.get $V)))
      (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
      (local.set $x0 ({V}.mul (local.get $sic)
        ({V}.add (v128.load (local.get $at)) (v128.load (i32.add (local.get $bb) (i32.shl (local.get $i) (i32.const {SH})))))))
;;@TANH_{P} $x1 $x0
      (v128.store (local.get $at) ({V}.mul (local.get $capv) (local.get $x1)))
      (local.set $i (i32.add (local.get $i) (i32.const {L})))
      (br $tf_l)))))
;;@end

  ;; Forward over this thread's row blocks. Parameters (8-byte slots): 0 hidden [Ra, H], 1 W [V, H],
  ;; 2 bias (or a zero block of the chunk's length), 3 Ra, 4 H, 5 V, 6 chunk (a multiple of {PW}),
  ;; 7 labels [Ra], 8 lse out [Ra], 9 logps out [Ra], 10 entropy out [Ra] (0: none), 11 packed-W
  ;; scratch, 12 tile scratch [4 × chunk], 13 tmp (128 bytes), 14 per-thread scratch stride,
  ;; 15 state [Ra × 4] f64 (m, S, T, z_label), 16 s (f64), 17 softcap c (f64, 0: none).
  (func (export "lin_fwd_{P}") (param $job i32) (param $tid i32) (param $nt i32)
    (local $hc i32) (local $w i32) (local $bias i32) (local $Ra i32) (local $H i32) (local $vocab i32) (local $Vc i32)
    (local $lab i32) (local $ls i32) (local $lp i32) (local $en i32) (local $wp i32) (local $tile i32) (local $tmp i32) (local $st i32)
    (local $capOn i32) (local $np i32) (local $vcp i32) (local $v0 i32) (local $vc i32)
    (local $blk i32) (local $blk1 i32) (local $r i32) (local $mr i32) (local $ii i32) (local $row i32) (local $sp i32) (local $label i32)
    (local $bb i32) (local $base i32) (local $at i32) (local $sa i32) (local $i i32) (local $V i32) (local $rem i32)
    (local $m {P}) (local $mf f64) (local $alpha f64) (local $sum f64) (local $t f64) (local $s1 f64) (local $t1 f64) (local $logS f64) (local $lse f64)
    (local $sv v128) (local $sic v128) (local $capv v128) (local $mv v128)
    (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128) (local $mask v128)
;;@EXP_LOCALS
;;@TANH_LOCALS
;;@EXP_LOAD_{P}
;;@TANH_LOAD_{P}
    (local.set $hc (i32.load offset=0 (local.get $job)))
    (local.set $w (i32.load offset=8 (local.get $job)))
    (local.set $bias (i32.load offset=16 (local.get $job)))
    (local.set $Ra (i32.load offset=24 (local.get $job)))
    (local.set $H (i32.load offset=32 (local.get $job)))
    (local.set $vocab (i32.load offset=40 (local.get $job)))
    (local.set $Vc (i32.load offset=48 (local.get $job)))
    (local.set $lab (i32.load offset=56 (local.get $job)))
    (local.set $ls (i32.load offset=64 (local.get $job)))
    (local.set $lp (i32.load offset=72 (local.get $job)))
    (local.set $en (i32.load offset=80 (local.get $job)))
    (local.set $sp (i32.mul (local.get $tid) (i32.load offset=112 (local.get $job))))
    (local.set $wp (i32.add (i32.load offset=88 (local.get $job)) (local.get $sp)))
    (local.set $tile (i32.add (i32.load offset=96 (local.get $job)) (local.get $sp)))
    (local.set $tmp (i32.add (i32.load offset=104 (local.get $job)) (local.get $sp)))
    (local.set $st (i32.load offset=120 (local.get $job)))
    (local.set $sv ({V}.splat ({DEMOTE} (f64.load offset=128 (local.get $job)))))
    (local.set $capOn (f64.ne (f64.load offset=136 (local.get $job)) (f64.const 0)))
    (if (local.get $capOn)
      (then
        (local.set $capv ({V}.splat ({DEMOTE} (f64.load offset=136 (local.get $job)))))
        (local.set $sic ({V}.splat ({DEMOTE} (f64.div (f64.load offset=128 (local.get $job)) (f64.load offset=136 (local.get $job))))))))
    ;; row blocks of 4: this thread's [blk, blk1)
    (local.set $np (i32.shr_u (i32.add (local.get $Ra) (i32.const 3)) (i32.const 2)))
    (local.set $blk (i32.div_u (i32.mul (local.get $np) (local.get $tid)) (local.get $nt)))
    (local.set $blk1 (i32.div_u (i32.mul (local.get $np) (i32.add (local.get $tid) (i32.const 1))) (local.get $nt)))
    (if (i32.ge_u (local.get $blk) (local.get $blk1)) (then (return)))
    ;; state: m = −inf, S = T = z_label = 0
    (local.set $row (i32.shl (local.get $blk) (i32.const 2)))
    (block $sd (loop $sl
      (br_if $sd (i32.ge_u (local.get $row) (select (local.get $Ra) (i32.shl (local.get $blk1) (i32.const 2)) (i32.lt_u (local.get $Ra) (i32.shl (local.get $blk1) (i32.const 2))))))
      (local.set $at (i32.add (local.get $st) (i32.shl (local.get $row) (i32.const 5))))
      (f64.store offset=0 (local.get $at) (f64.const -inf))
      (f64.store offset=8 (local.get $at) (f64.const 0))
      (f64.store offset=16 (local.get $at) (f64.const 0))
      (f64.store offset=24 (local.get $at) (f64.const 0))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $sl)))
    (block $cd (loop $cl
      (br_if $cd (i32.ge_u (local.get $v0) (local.get $vocab)))
      (local.set $vc (select (local.get $Vc) (i32.sub (local.get $vocab) (local.get $v0)) (i32.lt_u (local.get $Vc) (i32.sub (local.get $vocab) (local.get $v0)))))
      (local.set $np (i32.div_u (i32.add (local.get $vc) (i32.const {PWM1})) (i32.const {PW})))
      (local.set $vcp (i32.mul (local.get $np) (i32.const {PW})))
      (call $pack_{P} (local.get $w) (local.get $H) (local.get $v0) (local.get $vc) (local.get $np) (local.get $wp))
      (local.set $bb (i32.add (local.get $bias) (i32.shl (local.get $v0) (i32.const {SH}))))
      (if (i32.eqz (local.get $bias)) (then (local.set $bb (i32.load offset=144 (local.get $job)))))
      (local.set $r (i32.shl (local.get $blk) (i32.const 2)))
      (block $rd (loop $rl
        (br_if $rd (i32.ge_u (local.get $r) (select (local.get $Ra) (i32.shl (local.get $blk1) (i32.const 2)) (i32.lt_u (local.get $Ra) (i32.shl (local.get $blk1) (i32.const 2))))))
        (local.set $mr (select (i32.const 4) (i32.sub (local.get $Ra) (local.get $r)) (i32.lt_u (i32.const 4) (i32.sub (local.get $Ra) (local.get $r)))))
        (call $mk_{P} (i32.add (local.get $hc) (i32.shl (i32.mul (local.get $r) (local.get $H)) (i32.const {SH})))
                      (i32.shl (local.get $H) (i32.const {SH})) (i32.const {SZ})
                      (local.get $wp) (i32.const 32) (i32.shl (i32.mul (local.get $H) (i32.const {PW})) (i32.const {SH}))
                      (local.get $tile) (i32.shl (local.get $vcp) (i32.const {SH})) (local.get $H) (local.get $mr) (local.get $vcp)
                      (i32.const 0) (local.get $tmp))
        (local.set $ii (i32.const 0))
        (block $id (loop $il
          (br_if $id (i32.ge_u (local.get $ii) (local.get $mr)))
          (local.set $row (i32.add (local.get $r) (local.get $ii)))
          (local.set $base (i32.add (local.get $tile) (i32.shl (i32.mul (local.get $ii) (local.get $vcp)) (i32.const {SH}))))
          (local.set $V (local.get $vc))
;;@TRANSFORM_{P}
;;@ROW_MAX_{P}
          (local.set $sa (i32.add (local.get $st) (i32.shl (local.get $row) (i32.const 5))))
          (local.set $mf (f64.load offset=0 (local.get $sa)))
          (local.set $sum (f64.load offset=8 (local.get $sa)))
          (local.set $t (f64.load offset=16 (local.get $sa)))
          (if (f64.gt ({PROMOTE} (local.get $m)) (local.get $mf))
            (then
              (if (f64.gt (local.get $sum) (f64.const 0))
                (then
                  (local.set $alpha (call $exp (f64.sub (local.get $mf) ({PROMOTE} (local.get $m)))))
                  (local.set $t (f64.mul (local.get $alpha)
                                  (f64.add (local.get $t) (f64.mul (f64.sub (local.get $mf) ({PROMOTE} (local.get $m))) (local.get $sum)))))
                  (local.set $sum (f64.mul (local.get $alpha) (local.get $sum)))))
              (local.set $mf ({PROMOTE} (local.get $m)))))
          (local.set $mv ({V}.splat ({DEMOTE} (local.get $mf))))
          (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0))
          (local.set $a2 (v128.const i64x2 0 0)) (local.set $a3 (v128.const i64x2 0 0))
          (local.set $b0 (v128.const i64x2 0 0)) (local.set $b1 (v128.const i64x2 0 0))
          (local.set $b2 (v128.const i64x2 0 0)) (local.set $b3 (v128.const i64x2 0 0))
          (local.set $i (i32.const 0))
          (if (i32.eqz (local.get $en))
            (then
;;@SUMEXP_{P} NOP
            )
            (else
;;@SUMEXP_T_{P} NOP
            ))
          (local.set $a0 ({V}.add ({V}.add (local.get $a0) (local.get $a1)) ({V}.add (local.get $a2) (local.get $a3))))
          (local.set $b0 ({V}.add ({V}.add (local.get $b0) (local.get $b1)) ({V}.add (local.get $b2) (local.get $b3))))
;;@HSUM_{P} $s1 $a0
;;@HSUM_{P} $t1 $b0
          (f64.store offset=0 (local.get $sa) (local.get $mf))
          (f64.store offset=8 (local.get $sa) (f64.add (local.get $sum) (local.get $s1)))
          (f64.store offset=16 (local.get $sa) (f64.add (local.get $t) (local.get $t1)))
          (local.set $label (i32.sub (i32.load (i32.add (local.get $lab) (i32.shl (local.get $row) (i32.const 2)))) (local.get $v0)))
          (if (i32.lt_u (local.get $label) (local.get $vc))
            (then (f64.store offset=24 (local.get $sa) ({PROMOTE} ({P}.load (i32.add (local.get $base) (i32.shl (local.get $label) (i32.const {SH}))))))))
          (local.set $ii (i32.add (local.get $ii) (i32.const 1)))
          (br $il)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rl)))
      (local.set $v0 (i32.add (local.get $v0) (local.get $vc)))
      (br $cl)))
    ;; results
    (local.set $row (i32.shl (local.get $blk) (i32.const 2)))
    (block $od (loop $ol
      (br_if $od (i32.ge_u (local.get $row) (select (local.get $Ra) (i32.shl (local.get $blk1) (i32.const 2)) (i32.lt_u (local.get $Ra) (i32.shl (local.get $blk1) (i32.const 2))))))
      (local.set $at (i32.add (local.get $st) (i32.shl (local.get $row) (i32.const 5))))
      (local.set $sum (f64.load offset=8 (local.get $at)))
      (local.set $logS (call $log (local.get $sum)))
      (local.set $lse (f64.add (f64.load offset=0 (local.get $at)) (local.get $logS)))
      ({P}.store (i32.add (local.get $ls) (i32.shl (local.get $row) (i32.const {SH}))) ({DEMOTE} (local.get $lse)))
      ({P}.store (i32.add (local.get $lp) (i32.shl (local.get $row) (i32.const {SH}))) ({DEMOTE} (f64.sub (f64.load offset=24 (local.get $at)) (local.get $lse))))
      (if (local.get $en)
        (then ({P}.store (i32.add (local.get $en) (i32.shl (local.get $row) (i32.const {SH})))
                ({DEMOTE} (f64.sub (local.get $logS) (f64.div (f64.load offset=16 (local.get $at)) (local.get $sum)))))))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $ol))))

;; dz of one tile row (at $base, [0, $V) whole vectors), in place, and db += it (when $db ≠ 0):
;;   z as in the forward, p = exp(z − lse), dz = p·(e·(c − z) − u) + u·δ, dpre = dz·s·(1 − t²) or dz·s
;;@define DZ_{P}
(local.set $i (i32.const 0))
(block $dz_b (loop $dz_l
  (br_if $dz_b (i32.ge_u (local.get $i) (local.get $V)))
  (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
  (local.set $x0 ({V}.add (v128.load (local.get $at)) (v128.load (i32.add (local.get $bb) (i32.shl (local.get $i) (i32.const {SH}))))))
  (if (local.get $capOn)
    (then
      (local.set $x0 ({V}.mul (local.get $sic) (local.get $x0)))
;;@TANH_{P} $x1 $x0
      (local.set $x2 ({V}.mul (local.get $sv) ({V}.sub ({V}.splat ({P}.const 1)) ({V}.mul (local.get $x1) (local.get $x1)))))
      (local.set $x0 ({V}.mul (local.get $capv) (local.get $x1))))
    (else
      (local.set $x0 ({V}.mul (local.get $sv) (local.get $x0)))
      (local.set $x2 (local.get $sv))))
  (local.set $x3 ({V}.sub (local.get $x0) (local.get $lv)))
;;@EXP_{P} $e0 $x3
  (local.set $e0 ({V}.mul (local.get $e0) ({V}.sub ({V}.mul (local.get $ev) ({V}.sub (local.get $cv) (local.get $x0))) (local.get $uv))))
  (local.set $idx (i32.sub (local.get $label) (local.get $i)))
;;@LANEMASK_{P} $mask $idx
  (local.set $e0 ({V}.mul ({V}.add (local.get $e0) (v128.and (local.get $uv) (local.get $mask))) (local.get $x2)))
  (v128.store (local.get $at) (local.get $e0))
  (if (local.get $db)
    (then
      (local.set $at (i32.add (local.get $db) (i32.shl (local.get $i) (i32.const {SH}))))
      (v128.store (local.get $at) ({V}.add (v128.load (local.get $at)) (local.get $e0)))))
  (local.set $i (i32.add (local.get $i) (i32.const {L})))
  (br $dz_l)))
;;@end

  ;; Backward over this thread's chunks (c ≡ tid mod nt). Parameters: 0 hidden [Ra, H], 1 W,
  ;; 2 bias (0: none), 3 Ra, 4 H, 5 V, 6 chunk, 7 labels [Ra], 8 lse [Ra], 9 entropy [Ra] (0: none),
  ;; 10 u [Ra], 11 e [Ra] (0: none), 12 dW out (0: skip), 13 db out (0: skip), 14 dH partials
  ;; (0: skip), 15 partial stride, 16 packed-W scratch, 17 dpre scratch [Ra × chunk], 18 zero
  ;; block (for no bias), 19 db scratch [chunk], 20 tmp, 21 per-thread scratch stride, 22 s (f64),
  ;; 23 softcap (f64), 24 accumulate into dW / db, 25 row block of the dW GEMM.
  (func (export "lin_bwd_{P}") (param $job i32) (param $tid i32) (param $nt i32)
    (local $hc i32) (local $w i32) (local $bias i32) (local $Ra i32) (local $H i32) (local $vocab i32) (local $Vc i32)
    (local $lab i32) (local $ls i32) (local $en i32) (local $gu i32) (local $ge i32) (local $gw i32) (local $gb i32) (local $part i32)
    (local $wp i32) (local $dp i32) (local $db i32) (local $tmp i32) (local $sp i32) (local $acc i32) (local $RB i32)
    (local $capOn i32) (local $np i32) (local $vcp i32) (local $v0 i32) (local $vc i32) (local $ci i32) (local $nc i32)
    (local $r i32) (local $mr i32) (local $ii i32) (local $row i32) (local $label i32) (local $idx i32) (local $kb i32) (local $vb i32)
    (local $bb i32) (local $base i32) (local $at i32) (local $i i32) (local $V i32) (local $Hb i32) (local $rowBytes i32)
    (local $u {P}) (local $e {P}) (local $lse {P})
    (local $sv v128) (local $sic v128) (local $capv v128) (local $uv v128) (local $ev v128) (local $cv v128) (local $lv v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $e0 v128) (local $mask v128)
;;@EXP_LOCALS
;;@TANH_LOCALS
;;@EXP_LOAD_{P}
;;@TANH_LOAD_{P}
    (local.set $hc (i32.load offset=0 (local.get $job)))
    (local.set $w (i32.load offset=8 (local.get $job)))
    (local.set $bias (i32.load offset=16 (local.get $job)))
    (local.set $Ra (i32.load offset=24 (local.get $job)))
    (local.set $H (i32.load offset=32 (local.get $job)))
    (local.set $vocab (i32.load offset=40 (local.get $job)))
    (local.set $Vc (i32.load offset=48 (local.get $job)))
    (local.set $lab (i32.load offset=56 (local.get $job)))
    (local.set $ls (i32.load offset=64 (local.get $job)))
    (local.set $en (i32.load offset=72 (local.get $job)))
    (local.set $gu (i32.load offset=80 (local.get $job)))
    (local.set $ge (i32.load offset=88 (local.get $job)))
    (local.set $gw (i32.load offset=96 (local.get $job)))
    (local.set $gb (i32.load offset=104 (local.get $job)))
    (local.set $part (i32.load offset=112 (local.get $job)))
    (if (local.get $part) (then (local.set $part (i32.add (local.get $part) (i32.mul (local.get $tid) (i32.load offset=120 (local.get $job)))))))
    (local.set $sp (i32.mul (local.get $tid) (i32.load offset=168 (local.get $job))))
    (local.set $wp (i32.add (i32.load offset=128 (local.get $job)) (local.get $sp)))
    (local.set $dp (i32.add (i32.load offset=136 (local.get $job)) (local.get $sp)))
    (local.set $db (i32.add (i32.load offset=152 (local.get $job)) (local.get $sp)))
    (if (i32.eqz (local.get $gb)) (then (local.set $db (i32.const 0))))
    (local.set $tmp (i32.add (i32.load offset=160 (local.get $job)) (local.get $sp)))
    (local.set $sv ({V}.splat ({DEMOTE} (f64.load offset=176 (local.get $job)))))
    (local.set $capOn (f64.ne (f64.load offset=184 (local.get $job)) (f64.const 0)))
    (if (local.get $capOn)
      (then
        (local.set $capv ({V}.splat ({DEMOTE} (f64.load offset=184 (local.get $job)))))
        (local.set $sic ({V}.splat ({DEMOTE} (f64.div (f64.load offset=176 (local.get $job)) (f64.load offset=184 (local.get $job))))))))
    (local.set $acc (i32.load offset=192 (local.get $job)))
    (local.set $RB (i32.load offset=200 (local.get $job)))
    (local.set $Hb (i32.shl (local.get $H) (i32.const {SH})))
    (if (local.get $part) (then (memory.fill (local.get $part) (i32.const 0) (i32.mul (local.get $Ra) (local.get $Hb)))))
    (local.set $nc (i32.div_u (i32.add (local.get $vocab) (i32.sub (local.get $Vc) (i32.const 1))) (local.get $Vc)))
    (local.set $ci (local.get $tid))
    (block $cd (loop $cl
      (br_if $cd (i32.ge_u (local.get $ci) (local.get $nc)))
      (local.set $v0 (i32.mul (local.get $ci) (local.get $Vc)))
      (local.set $vc (select (local.get $Vc) (i32.sub (local.get $vocab) (local.get $v0)) (i32.lt_u (local.get $Vc) (i32.sub (local.get $vocab) (local.get $v0)))))
      (local.set $np (i32.div_u (i32.add (local.get $vc) (i32.const {PWM1})) (i32.const {PW})))
      (local.set $vcp (i32.mul (local.get $np) (i32.const {PW})))
      (local.set $rowBytes (i32.shl (local.get $vcp) (i32.const {SH})))
      (call $pack_{P} (local.get $w) (local.get $H) (local.get $v0) (local.get $vc) (local.get $np) (local.get $wp))
      (local.set $bb (i32.add (local.get $bias) (i32.shl (local.get $v0) (i32.const {SH}))))
      (if (i32.eqz (local.get $bias)) (then (local.set $bb (i32.load offset=144 (local.get $job)))))
      (if (local.get $db) (then (memory.fill (local.get $db) (i32.const 0) (local.get $rowBytes))))
      ;; logits of the chunk, row block by row block, each turned into dpre while in cache
      (local.set $r (i32.const 0))
      (block $rd (loop $rl
        (br_if $rd (i32.ge_u (local.get $r) (local.get $Ra)))
        (local.set $mr (select (i32.const 4) (i32.sub (local.get $Ra) (local.get $r)) (i32.lt_u (i32.const 4) (i32.sub (local.get $Ra) (local.get $r)))))
        (call $mk_{P} (i32.add (local.get $hc) (i32.mul (local.get $r) (local.get $Hb))) (local.get $Hb) (i32.const {SZ})
                      (local.get $wp) (i32.const 32) (i32.shl (i32.mul (local.get $H) (i32.const {PW})) (i32.const {SH}))
                      (i32.add (local.get $dp) (i32.mul (local.get $r) (local.get $rowBytes))) (local.get $rowBytes)
                      (local.get $H) (local.get $mr) (local.get $vcp) (i32.const 0) (local.get $tmp))
        (local.set $ii (i32.const 0))
        (block $id (loop $il
          (br_if $id (i32.ge_u (local.get $ii) (local.get $mr)))
          (local.set $row (i32.add (local.get $r) (local.get $ii)))
          (local.set $base (i32.add (local.get $dp) (i32.mul (local.get $row) (local.get $rowBytes))))
          (local.set $label (i32.sub (i32.load (i32.add (local.get $lab) (i32.shl (local.get $row) (i32.const 2)))) (local.get $v0)))
          (local.set $u ({P}.load (i32.add (local.get $gu) (i32.shl (local.get $row) (i32.const {SH})))))
          (local.set $e ({P}.const 0))
          (local.set $cv (v128.const i64x2 0 0))
          (if (local.get $ge)
            (then
              (local.set $e ({P}.load (i32.add (local.get $ge) (i32.shl (local.get $row) (i32.const {SH})))))
              (local.set $cv ({V}.splat ({P}.sub ({P}.load (i32.add (local.get $ls) (i32.shl (local.get $row) (i32.const {SH}))))
                                                 ({P}.load (i32.add (local.get $en) (i32.shl (local.get $row) (i32.const {SH})))))))))
          (local.set $uv ({V}.splat (local.get $u)))
          (local.set $ev ({V}.splat (local.get $e)))
          (local.set $lv ({V}.splat ({P}.load (i32.add (local.get $ls) (i32.shl (local.get $row) (i32.const {SH}))))))
          (local.set $V (local.get $vc))
;;@DZ_{P}
          (local.set $ii (i32.add (local.get $ii) (i32.const 1)))
          (br $il)))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rl)))
      ;; db[chunk]
      (if (local.get $db)
        (then
          (local.set $i (i32.const 0))
          (block $bd (loop $bl
            (br_if $bd (i32.ge_u (local.get $i) (local.get $vc)))
            (local.set $at (i32.add (local.get $gb) (i32.shl (i32.add (local.get $v0) (local.get $i)) (i32.const {SH}))))
            (if (local.get $acc)
              (then ({P}.store (local.get $at) ({P}.add ({P}.load (local.get $at)) ({P}.load (i32.add (local.get $db) (i32.shl (local.get $i) (i32.const {SH})))))))
              (else ({P}.store (local.get $at) ({P}.load (i32.add (local.get $db) (i32.shl (local.get $i) (i32.const {SH})))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $bl)))))
      ;; dW[chunk] = dpreᵀ·h, rows of h in blocks of RB (the block of h and dpre stays in L2)
      (if (local.get $gw)
        (then
          (local.set $r (i32.const 0))
          (block $wd (loop $wl
            (br_if $wd (i32.ge_u (local.get $r) (local.get $Ra)))
            (local.set $kb (select (local.get $RB) (i32.sub (local.get $Ra) (local.get $r)) (i32.lt_u (local.get $RB) (i32.sub (local.get $Ra) (local.get $r)))))
            (local.set $vb (i32.const 0))
            (block $vd (loop $vl
              (br_if $vd (i32.ge_u (local.get $vb) (local.get $vc)))
              (call $mk_{P} (i32.add (i32.add (local.get $dp) (i32.mul (local.get $r) (local.get $rowBytes))) (i32.shl (local.get $vb) (i32.const {SH})))
                            (i32.const {SZ}) (local.get $rowBytes)
                            (i32.add (local.get $hc) (i32.mul (local.get $r) (local.get $Hb))) (local.get $Hb) (i32.const 32)
                            (i32.add (local.get $gw) (i32.mul (i32.add (local.get $v0) (local.get $vb)) (local.get $Hb))) (local.get $Hb)
                            (local.get $kb)
                            (select (i32.const 4) (i32.sub (local.get $vc) (local.get $vb)) (i32.lt_u (i32.const 4) (i32.sub (local.get $vc) (local.get $vb))))
                            (local.get $H) (i32.or (local.get $acc) (i32.ne (local.get $r) (i32.const 0))) (local.get $tmp))
              (local.set $vb (i32.add (local.get $vb) (i32.const 4)))
              (br $vl)))
            (local.set $r (i32.add (local.get $r) (local.get $kb)))
            (br $wl)))))
      ;; dH partial += dpre·W[chunk]
      (if (local.get $part)
        (then
          (local.set $r (i32.const 0))
          (block $hd (loop $hl
            (br_if $hd (i32.ge_u (local.get $r) (local.get $Ra)))
            (call $mk_{P} (i32.add (local.get $dp) (i32.mul (local.get $r) (local.get $rowBytes))) (local.get $rowBytes) (i32.const {SZ})
                          (i32.add (local.get $w) (i32.mul (local.get $v0) (local.get $Hb))) (local.get $Hb) (i32.const 32)
                          (i32.add (local.get $part) (i32.mul (local.get $r) (local.get $Hb))) (local.get $Hb)
                          (local.get $vc)
                          (select (i32.const 4) (i32.sub (local.get $Ra) (local.get $r)) (i32.lt_u (i32.const 4) (i32.sub (local.get $Ra) (local.get $r))))
                          (local.get $H) (i32.const 1) (local.get $tmp))
            (local.set $r (i32.add (local.get $r) (i32.const 4)))
            (br $hl)))))
      (local.set $ci (i32.add (local.get $ci) (local.get $nt)))
      (br $cl))))

  ;; dH rows: out[act[i]] (+)= Σ_t partial_t[i], for this thread's rows i. Parameters: 0 partials,
  ;; 1 partial stride, 2 partial count, 3 Ra, 4 H, 5 dH out, 6 active row indices [Ra] (0: i),
  ;; 7 accumulate.
  (func (export "lin_reduce_{P}") (param $job i32) (param $tid i32) (param $nt i32)
    (local $part i32) (local $stride i32) (local $n i32) (local $Ra i32) (local $H i32) (local $out i32) (local $act i32) (local $acc i32)
    (local $i i32) (local $i1 i32) (local $h i32) (local $t i32) (local $src i32) (local $dst i32) (local $rem i32) (local $Hb i32)
    (local $s v128)
    (local.set $part (i32.load offset=0 (local.get $job)))
    (local.set $stride (i32.load offset=8 (local.get $job)))
    (local.set $n (i32.load offset=16 (local.get $job)))
    (local.set $Ra (i32.load offset=24 (local.get $job)))
    (local.set $H (i32.load offset=32 (local.get $job)))
    (local.set $out (i32.load offset=40 (local.get $job)))
    (local.set $act (i32.load offset=48 (local.get $job)))
    (local.set $acc (i32.load offset=56 (local.get $job)))
    (local.set $Hb (i32.shl (local.get $H) (i32.const {SH})))
    (local.set $i (i32.div_u (i32.mul (local.get $Ra) (local.get $tid)) (local.get $nt)))
    (local.set $i1 (i32.div_u (i32.mul (local.get $Ra) (i32.add (local.get $tid) (i32.const 1))) (local.get $nt)))
    (block $id (loop $il
      (br_if $id (i32.ge_u (local.get $i) (local.get $i1)))
      (local.set $dst (i32.add (local.get $out) (i32.mul
        (select (i32.load (i32.add (local.get $act) (i32.shl (local.get $i) (i32.const 2)))) (local.get $i) (local.get $act))
        (local.get $Hb))))
      (local.set $h (i32.const 0))
      (block $hd (loop $hl
        (br_if $hd (i32.ge_u (local.get $h) (local.get $H)))
        (local.set $src (i32.add (local.get $part) (i32.add (i32.mul (local.get $i) (local.get $Hb)) (i32.shl (local.get $h) (i32.const {SH})))))
        (local.set $s (v128.load (local.get $src)))
        (local.set $t (i32.const 1))
        (block $td (loop $tl
          (br_if $td (i32.ge_u (local.get $t) (local.get $n)))
          (local.set $src (i32.add (local.get $src) (local.get $stride)))
          (local.set $s ({V}.add (local.get $s) (v128.load (local.get $src))))
          (local.set $t (i32.add (local.get $t) (i32.const 1)))
          (br $tl)))
        (local.set $rem (i32.sub (local.get $H) (local.get $h)))
        (local.set $src (i32.add (local.get $dst) (i32.shl (local.get $h) (i32.const {SH}))))
        (if (local.get $acc) (then (local.set $s ({V}.add (local.get $s) (v128.load (local.get $src))))))
;;@STORE_PART_{P} $src $s $rem
        (local.set $h (i32.add (local.get $h) (i32.const {L})))
        (br $hl)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br $il))))

  ;; A plain GEMM for comparisons: C[M × N] (+)= A[M × K]·B[K × N], A(m, k) at a + m·ars + k·aks,
  ;; B row-major (row stride bks), C row-major (row stride crs). K in blocks of KB (so a block of
  ;; B stays in L2 while every row block of A passes over it), row blocks of 4 split over threads.
  ;; Parameters: 0 a, 1 ars, 2 aks, 3 b, 4 bks, 5 c, 6 crs, 7 M, 8 N, 9 K, 10 accumulate, 11 KB,
  ;; 12 tmp (128 bytes per thread).
  (func (export "lin_gemm_{P}") (param $job i32) (param $tid i32) (param $nt i32)
    (local $a i32) (local $ars i32) (local $aks i32) (local $b i32) (local $bks i32) (local $c i32) (local $crs i32)
    (local $M i32) (local $N i32) (local $K i32) (local $acc i32) (local $KB i32) (local $tmp i32)
    (local $nb i32) (local $blk0 i32) (local $blk1 i32) (local $k0 i32) (local $kb i32) (local $r i32)
    (local.set $a (i32.load offset=0 (local.get $job)))
    (local.set $ars (i32.load offset=8 (local.get $job)))
    (local.set $aks (i32.load offset=16 (local.get $job)))
    (local.set $b (i32.load offset=24 (local.get $job)))
    (local.set $bks (i32.load offset=32 (local.get $job)))
    (local.set $c (i32.load offset=40 (local.get $job)))
    (local.set $crs (i32.load offset=48 (local.get $job)))
    (local.set $M (i32.load offset=56 (local.get $job)))
    (local.set $N (i32.load offset=64 (local.get $job)))
    (local.set $K (i32.load offset=72 (local.get $job)))
    (local.set $acc (i32.load offset=80 (local.get $job)))
    (local.set $KB (i32.load offset=88 (local.get $job)))
    (local.set $tmp (i32.add (i32.load offset=96 (local.get $job)) (i32.shl (local.get $tid) (i32.const 7))))
    (local.set $nb (i32.shr_u (i32.add (local.get $M) (i32.const 3)) (i32.const 2)))
    (local.set $blk0 (i32.div_u (i32.mul (local.get $nb) (local.get $tid)) (local.get $nt)))
    (local.set $blk1 (i32.div_u (i32.mul (local.get $nb) (i32.add (local.get $tid) (i32.const 1))) (local.get $nt)))
    (block $kd (loop $kl
      (br_if $kd (i32.ge_u (local.get $k0) (local.get $K)))
      (local.set $kb (select (local.get $KB) (i32.sub (local.get $K) (local.get $k0)) (i32.lt_u (local.get $KB) (i32.sub (local.get $K) (local.get $k0)))))
      (local.set $r (i32.shl (local.get $blk0) (i32.const 2)))
      (block $rd (loop $rl
        (br_if $rd (i32.ge_u (local.get $r) (select (local.get $M) (i32.shl (local.get $blk1) (i32.const 2)) (i32.lt_u (local.get $M) (i32.shl (local.get $blk1) (i32.const 2))))))
        (call $mk_{P} (i32.add (i32.add (local.get $a) (i32.mul (local.get $r) (local.get $ars))) (i32.mul (local.get $k0) (local.get $aks)))
                      (local.get $ars) (local.get $aks)
                      (i32.add (local.get $b) (i32.mul (local.get $k0) (local.get $bks))) (local.get $bks) (i32.const 32)
                      (i32.add (local.get $c) (i32.mul (local.get $r) (local.get $crs))) (local.get $crs)
                      (local.get $kb)
                      (select (i32.const 4) (i32.sub (local.get $M) (local.get $r)) (i32.lt_u (i32.const 4) (i32.sub (local.get $M) (local.get $r))))
                      (local.get $N) (i32.or (local.get $acc) (i32.ne (local.get $k0) (i32.const 0))) (local.get $tmp))
        (local.set $r (i32.add (local.get $r) (i32.const 4)))
        (br $rl)))
      (local.set $k0 (i32.add (local.get $k0) (local.get $kb)))
      (br $kl))))
;;@end-precision
)
