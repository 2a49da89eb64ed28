;; Fused token log-prob kernels over rows of logits, WebAssembly SIMD (128-bit), float32 and float64
;; (one template, see scripts/build-wasm.mjs). For each row r of V logits z with label y_r:
;;   lse[r]     = max(z) + log Σ_v exp(z_v − max(z))
;;   logps[r]   = z[y_r] − lse[r]
;;   entropy[r] = lse[r] − Σ_v p_v z_v = log S − Σ_v e_v (z_v − max)/S,   p = softmax(z), e = exp(z − max), S = Σ e
;;   probs[r,:] = p (optional stash: written during the forward, so the backward needs no exp)
;; Two forwards: two passes per row (max, then exp; the next row's max taken in this row's exp
;; loop), and one pass with a lagging shift (token_fwd_online).
;; and the gradient, given the residuals lse, entropy H and upstream u (d/dlogps), e (d/dentropy):
;;   g[r,v] = u·(δ_{v,y} − p_v) + e·p_v·(lse − z_v − H) = p_v·(e·(c − z_v) − u) + u·δ_{v,y},  c = lse − H
;; Rows labelled `ignore` are not read: logps = lse = entropy = 0, probs and g rows are 0. Rows with
;; u = e = 0 have g = 0 exactly.
;;
;; Every kernel takes (job, tid, nt): `job` is the address of a parameter block in memory (8-byte
;; slots: an i32 or an f64 each), `tid` of `nt` threads. A thread works on rows
;; [R·tid/nt, R·(tid+1)/nt), so the threads of one call write disjoint rows of one shared memory.
;; Loops run 4 vectors at a time (4 independent exp chains and accumulators), then one vector at a
;; time with the lanes past the row masked; a vector may be read past the row's end (the arena
;; keeps readable bytes after every block) but never written past it.
(module
  (import "env" "memory" (memory 1 65536 __SHARED__))
  (import "env" "log" (func $log (param f64) (result f64)))
  (import "env" "exp" (func $exp (param f64) (result f64)))
;;@include simd-common.wat

  ;; Writes the constant table at 2048 (the arena's header); run once per memory before any kernel.
  (func (export "init")
;;@CONST_INIT
  )


  ;; ---------------------------------------------------------------- bandwidth probe
  ;; For the benchmark: this thread's share of n bytes (a multiple of 64·nt) at a, b, c.
  ;; mode 0 read (Σ a), 1 copy (b ← a), 2 triad (c ← a + s·b), 3 write (a ← 0). Parameters:
  ;; 0 mode, 1 a, 2 b, 3 c, 4 n; the read sum goes to c + 16·tid (so it is not optimised away).
  (func (export "probe") (param $job i32) (param $tid i32) (param $nt i32)
    (local $mode i32) (local $a i32) (local $b i32) (local $c i32) (local $n i32) (local $o i32) (local $end i32)
    (local $s0 v128) (local $s1 v128) (local $s2 v128) (local $s3 v128) (local $k v128)
    (local.set $mode (i32.load offset=0 (local.get $job)))
    (local.set $a (i32.load offset=8 (local.get $job)))
    (local.set $b (i32.load offset=16 (local.get $job)))
    (local.set $c (i32.load offset=24 (local.get $job)))
    (local.set $n (i32.div_u (i32.load offset=32 (local.get $job)) (local.get $nt)))
    (local.set $o (i32.mul (local.get $n) (local.get $tid)))
    (local.set $end (i32.add (local.get $o) (local.get $n)))
    (local.set $k (f32x4.splat (f32.const 0.5)))
    (if (i32.eq (local.get $mode) (i32.const 0))
      (then
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $o) (local.get $end)))
          (local.set $s0 (f32x4.add (local.get $s0) (v128.load offset=0 (i32.add (local.get $a) (local.get $o)))))
          (local.set $s1 (f32x4.add (local.get $s1) (v128.load offset=16 (i32.add (local.get $a) (local.get $o)))))
          (local.set $s2 (f32x4.add (local.get $s2) (v128.load offset=32 (i32.add (local.get $a) (local.get $o)))))
          (local.set $s3 (f32x4.add (local.get $s3) (v128.load offset=48 (i32.add (local.get $a) (local.get $o)))))
          (local.set $o (i32.add (local.get $o) (i32.const 64)))
          (br $l)))
        (v128.store (i32.add (local.get $c) (i32.shl (local.get $tid) (i32.const 4)))
          (f32x4.add (f32x4.add (local.get $s0) (local.get $s1)) (f32x4.add (local.get $s2) (local.get $s3))))))
    (if (i32.eq (local.get $mode) (i32.const 1))
      (then
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $o) (local.get $end)))
          (v128.store offset=0 (i32.add (local.get $b) (local.get $o)) (v128.load offset=0 (i32.add (local.get $a) (local.get $o))))
          (v128.store offset=16 (i32.add (local.get $b) (local.get $o)) (v128.load offset=16 (i32.add (local.get $a) (local.get $o))))
          (v128.store offset=32 (i32.add (local.get $b) (local.get $o)) (v128.load offset=32 (i32.add (local.get $a) (local.get $o))))
          (v128.store offset=48 (i32.add (local.get $b) (local.get $o)) (v128.load offset=48 (i32.add (local.get $a) (local.get $o))))
          (local.set $o (i32.add (local.get $o) (i32.const 64)))
          (br $l)))))
    (if (i32.eq (local.get $mode) (i32.const 2))
      (then
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $o) (local.get $end)))
          (v128.store offset=0 (i32.add (local.get $c) (local.get $o)) (f32x4.add (v128.load offset=0 (i32.add (local.get $a) (local.get $o))) (f32x4.mul (local.get $k) (v128.load offset=0 (i32.add (local.get $b) (local.get $o))))))
          (v128.store offset=16 (i32.add (local.get $c) (local.get $o)) (f32x4.add (v128.load offset=16 (i32.add (local.get $a) (local.get $o))) (f32x4.mul (local.get $k) (v128.load offset=16 (i32.add (local.get $b) (local.get $o))))))
          (v128.store offset=32 (i32.add (local.get $c) (local.get $o)) (f32x4.add (v128.load offset=32 (i32.add (local.get $a) (local.get $o))) (f32x4.mul (local.get $k) (v128.load offset=32 (i32.add (local.get $b) (local.get $o))))))
          (v128.store offset=48 (i32.add (local.get $c) (local.get $o)) (f32x4.add (v128.load offset=48 (i32.add (local.get $a) (local.get $o))) (f32x4.mul (local.get $k) (v128.load offset=48 (i32.add (local.get $b) (local.get $o))))))
          (local.set $o (i32.add (local.get $o) (i32.const 64)))
          (br $l)))))
    (if (i32.eq (local.get $mode) (i32.const 3))
      (then
        (block $d (loop $l
          (br_if $d (i32.ge_u (local.get $o) (local.get $end)))
          (v128.store offset=0 (i32.add (local.get $a) (local.get $o)) (local.get $k))
          (v128.store offset=16 (i32.add (local.get $a) (local.get $o)) (local.get $k))
          (v128.store offset=32 (i32.add (local.get $a) (local.get $o)) (local.get $k))
          (v128.store offset=48 (i32.add (local.get $a) (local.get $o)) (local.get $k))
          (local.set $o (i32.add (local.get $o) (i32.const 64)))
          (br $l))))))

;;@precision
;; ====================================================================================== {P}

;;@define SUMEXP_P_{P} $LA
(block $se_b (loop $se_l
  (br_if $se_b (i32.gt_u (i32.add (local.get $i) (i32.const {L4})) (local.get $V)))
  (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
  (local.set $pat (i32.add (local.get $pbase) (i32.shl (local.get $i) (i32.const {SH}))))
;;@$LA
;;@SX_{P} $x0 $e0 0
;;@SX_{P} $x1 $e1 16
;;@SX_{P} $x2 $e2 32
;;@SX_{P} $x3 $e3 48
  (local.set $a0 ({V}.add (local.get $a0) (local.get $e0)))
  (local.set $a1 ({V}.add (local.get $a1) (local.get $e1)))
  (local.set $a2 ({V}.add (local.get $a2) (local.get $e2)))
  (local.set $a3 ({V}.add (local.get $a3) (local.get $e3)))
  (v128.store offset=0 (local.get $pat) (local.get $e0))
  (v128.store offset=16 (local.get $pat) (local.get $e1))
  (v128.store offset=32 (local.get $pat) (local.get $e2))
  (v128.store offset=48 (local.get $pat) (local.get $e3))
  (local.set $i (i32.add (local.get $i) (i32.const {L4})))
  (br $se_l)))
(block $st_b (loop $st_l
  (br_if $st_b (i32.ge_u (local.get $i) (local.get $V)))
  (local.set $rem (i32.sub (local.get $V) (local.get $i)))
;;@MASK_{P} $mask $rem
  (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
  (local.set $pat (i32.add (local.get $pbase) (i32.shl (local.get $i) (i32.const {SH}))))
;;@SX_{P} $x0 $e0 0
  (local.set $e0 (v128.and (local.get $e0) (local.get $mask)))
  (local.set $a0 ({V}.add (local.get $a0) (local.get $e0)))
;;@STORE_PART_{P} $pat $e0 $rem
  (local.set $i (i32.add (local.get $i) (i32.const {L})))
  (br $st_l)))
;;@end

;;@define SUMEXP_TP_{P} $LA
(block $se_b (loop $se_l
  (br_if $se_b (i32.gt_u (i32.add (local.get $i) (i32.const {L4})) (local.get $V)))
  (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
  (local.set $pat (i32.add (local.get $pbase) (i32.shl (local.get $i) (i32.const {SH}))))
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
  (v128.store offset=0 (local.get $pat) (local.get $e0))
  (v128.store offset=16 (local.get $pat) (local.get $e1))
  (v128.store offset=32 (local.get $pat) (local.get $e2))
  (v128.store offset=48 (local.get $pat) (local.get $e3))
  (local.set $i (i32.add (local.get $i) (i32.const {L4})))
  (br $se_l)))
(block $st_b (loop $st_l
  (br_if $st_b (i32.ge_u (local.get $i) (local.get $V)))
  (local.set $rem (i32.sub (local.get $V) (local.get $i)))
;;@MASK_{P} $mask $rem
  (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
  (local.set $pat (i32.add (local.get $pbase) (i32.shl (local.get $i) (i32.const {SH}))))
;;@SX_{P} $x0 $e0 0
  (local.set $e0 (v128.and (local.get $e0) (local.get $mask)))
  (local.set $a0 ({V}.add (local.get $a0) (local.get $e0)))
  (local.set $b0 ({V}.add (local.get $b0) (v128.and ({V}.mul (local.get $e0) (local.get $x0)) (local.get $mask))))
;;@STORE_PART_{P} $pat $e0 $rem
  (local.set $i (i32.add (local.get $i) (i32.const {L})))
  (br $st_l)))
;;@end

;; ---- the one-pass forward's loop
;; The shift moves to the largest lane of $mx (a logit above m + 64 was seen): rescale the sums
;; (and, with probs, the e stored so far in [0, $i)).
;;@define OP_RESCALE_{P}
;;@HMAX_{P} $mnew $mx
(local.set $alpha (call $exp (f64.sub ({PROMOTE} (local.get $m)) ({PROMOTE} (local.get $mnew)))))
(local.set $av ({V}.splat ({DEMOTE} (local.get $alpha))))
(local.set $dv ({V}.splat ({P}.sub (local.get $m) (local.get $mnew))))
(local.set $b0 ({V}.mul (local.get $av) ({V}.add (local.get $b0) ({V}.mul (local.get $dv) (local.get $a0)))))
(local.set $b1 ({V}.mul (local.get $av) ({V}.add (local.get $b1) ({V}.mul (local.get $dv) (local.get $a1)))))
(local.set $b2 ({V}.mul (local.get $av) ({V}.add (local.get $b2) ({V}.mul (local.get $dv) (local.get $a2)))))
(local.set $b3 ({V}.mul (local.get $av) ({V}.add (local.get $b3) ({V}.mul (local.get $dv) (local.get $a3)))))
(local.set $a0 ({V}.mul (local.get $av) (local.get $a0)))
(local.set $a1 ({V}.mul (local.get $av) (local.get $a1)))
(local.set $a2 ({V}.mul (local.get $av) (local.get $a2)))
(local.set $a3 ({V}.mul (local.get $av) (local.get $a3)))
(if (local.get $pr)
  (then
    (local.set $j (i32.const 0))
    (block $ps_b (loop $ps_l
      (br_if $ps_b (i32.ge_u (local.get $j) (local.get $i)))
      (local.set $nat (i32.add (local.get $pbase) (i32.shl (local.get $j) (i32.const {SH}))))
      ({P}.store (local.get $nat) ({P}.mul ({P}.load (local.get $nat)) ({DEMOTE} (local.get $alpha))))
      (local.set $j (i32.add (local.get $j) (i32.const 1)))
      (br $ps_l)))))
(local.set $m (local.get $mnew))
(local.set $mv ({V}.splat (local.get $m)))
(local.set $lim ({V}.splat ({P}.add (local.get $m) ({P}.const 1))))
;;@end
;; One step: $x ← $r − m, $e ← exp($x), S += $e
;;@define OP_E_{P} $r $x $e $a
(local.set $x ({V}.sub (local.get $r) (local.get $mv)))
;;@EXP_{P} $e $x
(local.set $a ({V}.add (local.get $a) (local.get $e)))
;;@end
;;@define OP_T4_{P}
(local.set $b0 ({V}.add (local.get $b0) ({V}.mul (local.get $e0) (local.get $x0))))
(local.set $b1 ({V}.add (local.get $b1) ({V}.mul (local.get $e1) (local.get $x1))))
(local.set $b2 ({V}.add (local.get $b2) ({V}.mul (local.get $e2) (local.get $x2))))
(local.set $b3 ({V}.add (local.get $b3) ({V}.mul (local.get $e3) (local.get $x3))))
;;@end
;;@define OP_P4_{P}
(local.set $pat (i32.add (local.get $pbase) (i32.shl (local.get $i) (i32.const {SH}))))
(v128.store offset=0 (local.get $pat) (local.get $e0))
(v128.store offset=16 (local.get $pat) (local.get $e1))
(v128.store offset=32 (local.get $pat) (local.get $e2))
(v128.store offset=48 (local.get $pat) (local.get $e3))
;;@end
;;@define OP_TP4_{P}
;;@OP_T4_{P}
;;@OP_P4_{P}
;;@end
;;@define OP_T1_{P}
(local.set $b0 ({V}.add (local.get $b0) (v128.and ({V}.mul (local.get $e0) (local.get $x0)) (local.get $mask))))
;;@end
;;@define OP_P1_{P}
(local.set $pat (i32.add (local.get $pbase) (i32.shl (local.get $i) (i32.const {SH}))))
;;@STORE_PART_{P} $pat $e0 $rem
;;@end
;;@define OP_TP1_{P}
;;@OP_T1_{P}
;;@OP_P1_{P}
;;@end
;; The row: 4 vectors a step (the shift checked first), then one masked vector a step.
;;@define OP_LOOP_{P} $EXTRA4 $EXTRA1
(block $op_b (loop $op_l
  (br_if $op_b (i32.gt_u (i32.add (local.get $i) (i32.const {L4})) (local.get $V)))
  (local.set $at (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))
  (local.set $q0 (v128.load offset=0 (local.get $at)))
  (local.set $q1 (v128.load offset=16 (local.get $at)))
  (local.set $q2 (v128.load offset=32 (local.get $at)))
  (local.set $q3 (v128.load offset=48 (local.get $at)))
  (local.set $mx ({V}.pmax ({V}.pmax (local.get $q0) (local.get $q1)) ({V}.pmax (local.get $q2) (local.get $q3))))
  (if (v128.any_true ({V}.gt (local.get $mx) (local.get $lim)))
    (then
;;@OP_RESCALE_{P}
    ))
;;@OP_E_{P} $q0 $x0 $e0 $a0
;;@OP_E_{P} $q1 $x1 $e1 $a1
;;@OP_E_{P} $q2 $x2 $e2 $a2
;;@OP_E_{P} $q3 $x3 $e3 $a3
;;@$EXTRA4
  (local.set $i (i32.add (local.get $i) (i32.const {L4})))
  (br $op_l)))
(block $ot_b (loop $ot_l
  (br_if $ot_b (i32.ge_u (local.get $i) (local.get $V)))
  (local.set $rem (i32.sub (local.get $V) (local.get $i)))
;;@MASK_{P} $mask $rem
  (local.set $q0 (v128.bitselect (v128.load (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH})))) ({V}.splat ({P}.const -inf)) (local.get $mask)))
  (local.set $mx (local.get $q0))
  (if (v128.any_true ({V}.gt (local.get $mx) (local.get $lim)))
    (then
;;@OP_RESCALE_{P}
    ))
  (local.set $x0 ({V}.sub (local.get $q0) (local.get $mv)))
;;@EXP_{P} $e0 $x0
  (local.set $e0 (v128.and (local.get $e0) (local.get $mask)))
  (local.set $a0 ({V}.add (local.get $a0) (local.get $e0)))
;;@$EXTRA1
  (local.set $i (i32.add (local.get $i) (i32.const {L})))
  (br $ot_l)))
;;@end

;; The look-ahead: the max of the next row (at $nbase) over the same 4 vectors.
;;@define LA_{P}
(local.set $nat (i32.add (local.get $nbase) (i32.shl (local.get $i) (i32.const {SH}))))
(local.set $la0 ({V}.pmax (local.get $la0) (v128.load offset=0 (local.get $nat))))
(local.set $la1 ({V}.pmax (local.get $la1) (v128.load offset=16 (local.get $nat))))
(local.set $la0 ({V}.pmax (local.get $la0) (v128.load offset=32 (local.get $nat))))
(local.set $la1 ({V}.pmax (local.get $la1) (v128.load offset=48 (local.get $nat))))
;;@end

;; Moves $r past ignored rows (< $r1), writing their zero results.
;;@define SKIP_IGNORED_{P} $r
(block $sk_b (loop $sk_l
  (br_if $sk_b (i32.ge_u (local.get $r) (local.get $r1)))
  (br_if $sk_b (i32.ne (i32.load (i32.add (local.get $lab) (i32.shl (local.get $r) (i32.const 2)))) (local.get $ign)))
  ({P}.store (i32.add (local.get $lp) (i32.shl (local.get $r) (i32.const {SH}))) ({P}.const 0))
  ({P}.store (i32.add (local.get $ls) (i32.shl (local.get $r) (i32.const {SH}))) ({P}.const 0))
  (if (local.get $en) (then ({P}.store (i32.add (local.get $en) (i32.shl (local.get $r) (i32.const {SH}))) ({P}.const 0))))
  (if (local.get $pr) (then (memory.fill (i32.add (local.get $pr) (i32.mul (local.get $r) (local.get $rowBytes))) (i32.const 0) (local.get $rowBytes))))
  (local.set $r (i32.add (local.get $r) (i32.const 1)))
  (br $sk_l)))
;;@end

;; Multiplies the V elements at $pbase by the splat $mv (in place).
;;@define SCALE_ROW_{P}
(local.set $i (i32.const 0))
(block $sc_b (loop $sc_l
  (br_if $sc_b (i32.gt_u (i32.add (local.get $i) (i32.const {L4})) (local.get $V)))
  (local.set $pat (i32.add (local.get $pbase) (i32.shl (local.get $i) (i32.const {SH}))))
  (v128.store offset=0 (local.get $pat) ({V}.mul (v128.load offset=0 (local.get $pat)) (local.get $mv)))
  (v128.store offset=16 (local.get $pat) ({V}.mul (v128.load offset=16 (local.get $pat)) (local.get $mv)))
  (v128.store offset=32 (local.get $pat) ({V}.mul (v128.load offset=32 (local.get $pat)) (local.get $mv)))
  (v128.store offset=48 (local.get $pat) ({V}.mul (v128.load offset=48 (local.get $pat)) (local.get $mv)))
  (local.set $i (i32.add (local.get $i) (i32.const {L4})))
  (br $sc_l)))
(block $sd_b (loop $sd_l
  (br_if $sd_b (i32.ge_u (local.get $i) (local.get $V)))
  (local.set $rem (i32.sub (local.get $V) (local.get $i)))
  (local.set $pat (i32.add (local.get $pbase) (i32.shl (local.get $i) (i32.const {SH}))))
  (local.set $e0 ({V}.mul (v128.load (local.get $pat)) (local.get $mv)))
;;@STORE_PART_{P} $pat $e0 $rem
  (local.set $i (i32.add (local.get $i) (i32.const {L})))
  (br $sd_l)))
;;@end

;; The locals and parameter loads shared by both forwards.
;;@define FWD_LOCALS_{P}
(local $z i32) (local $lab i32) (local $lp i32) (local $ls i32) (local $en i32) (local $pr i32)
(local $R i32) (local $V i32) (local $ign i32) (local $rowBytes i32)
(local $row i32) (local $r1 i32) (local $label i32) (local $base i32) (local $pbase i32) (local $at i32) (local $pat i32)
(local $i i32) (local $rem i32) (local $b i32) (local $bend i32) (local $next i32) (local $nbase i32) (local $nat i32)
(local $m {P}) (local $bm {P}) (local $mf f64) (local $alpha f64) (local $sum f64) (local $t f64) (local $s1 f64) (local $t1 f64)
(local $lse f64) (local $logS f64) (local $tmp {P})
(local $mv v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
(local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
(local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
(local $e0 v128) (local $e1 v128) (local $e2 v128) (local $e3 v128) (local $mask v128) (local $la0 v128) (local $la1 v128)
;;@EXP_LOCALS
;;@end
;;@define FWD_PARAMS_{P}
;;@EXP_LOAD_{P}
(local.set $z (i32.load offset=0 (local.get $job)))
(local.set $lab (i32.load offset=8 (local.get $job)))
(local.set $lp (i32.load offset=16 (local.get $job)))
(local.set $ls (i32.load offset=24 (local.get $job)))
(local.set $en (i32.load offset=32 (local.get $job)))
(local.set $pr (i32.load offset=40 (local.get $job)))
(local.set $R (i32.load offset=48 (local.get $job)))
(local.set $V (i32.load offset=56 (local.get $job)))
(local.set $ign (i32.load offset=64 (local.get $job)))
(local.set $rowBytes (i32.shl (local.get $V) (i32.const {SH})))
(local.set $row (i32.div_u (i32.mul (local.get $R) (local.get $tid)) (local.get $nt)))
(local.set $r1 (i32.div_u (i32.mul (local.get $R) (i32.add (local.get $tid) (i32.const 1))) (local.get $nt)))
;;@end
;; An ignored row: zero results, a zero probs row; `br $next`.
;;@define FWD_IGNORED_{P}
(local.set $label (i32.load (i32.add (local.get $lab) (i32.shl (local.get $row) (i32.const 2)))))
(if (i32.eq (local.get $label) (local.get $ign))
  (then
    ({P}.store (i32.add (local.get $lp) (i32.shl (local.get $row) (i32.const {SH}))) ({P}.const 0))
    ({P}.store (i32.add (local.get $ls) (i32.shl (local.get $row) (i32.const {SH}))) ({P}.const 0))
    (if (local.get $en) (then ({P}.store (i32.add (local.get $en) (i32.shl (local.get $row) (i32.const {SH}))) ({P}.const 0))))
    (if (local.get $pr) (then (memory.fill (i32.add (local.get $pr) (i32.mul (local.get $row) (local.get $rowBytes))) (i32.const 0) (local.get $rowBytes))))
    (br $next)))
(local.set $base (i32.add (local.get $z) (i32.mul (local.get $row) (local.get $rowBytes))))
;;@end
;; Stores lse, logps, entropy of the row from $mf (max, f64), $sum (S) and $t (Σ e·(z − max)).
;;@define FWD_RESULTS_{P}
(local.set $logS (call $log (local.get $sum)))
(local.set $lse (f64.add (local.get $mf) (local.get $logS)))
({P}.store (i32.add (local.get $ls) (i32.shl (local.get $row) (i32.const {SH}))) ({DEMOTE} (local.get $lse)))
({P}.store (i32.add (local.get $lp) (i32.shl (local.get $row) (i32.const {SH})))
  ({DEMOTE} (f64.sub ({PROMOTE} ({P}.load (i32.add (local.get $base) (i32.shl (local.get $label) (i32.const {SH}))))) (local.get $lse))))
(if (local.get $en)
  (then ({P}.store (i32.add (local.get $en) (i32.shl (local.get $row) (i32.const {SH})))
          ({DEMOTE} (f64.sub (local.get $logS) (f64.div (local.get $t) (local.get $sum)))))))
;;@end

  ;; Forward, two passes over each row: the max, then Σ exp (the row, 128 KiB at V = 32000 in
  ;; float32, is still in L2 for the second pass), then, with probs, p = e/S in place. The max of
  ;; the next row is taken inside the exp loop of this one ("look-ahead"), so its memory reads
  ;; overlap the exp arithmetic instead of running as a separate, memory-bound pass.
  (func (export "token_fwd_{P}") (param $job i32) (param $tid i32) (param $nt i32)
;;@FWD_LOCALS_{P}
;;@FWD_PARAMS_{P}
;;@SKIP_IGNORED_{P} $row
    (if (i32.lt_u (local.get $row) (local.get $r1))
      (then
        (local.set $base (i32.add (local.get $z) (i32.mul (local.get $row) (local.get $rowBytes))))
;;@ROW_MAX_{P}
      ))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $row) (local.get $r1)))
      (local.set $label (i32.load (i32.add (local.get $lab) (i32.shl (local.get $row) (i32.const 2)))))
      (local.set $base (i32.add (local.get $z) (i32.mul (local.get $row) (local.get $rowBytes))))
      (local.set $next (i32.add (local.get $row) (i32.const 1)))
;;@SKIP_IGNORED_{P} $next
      (local.set $nbase (select (i32.add (local.get $z) (i32.mul (local.get $next) (local.get $rowBytes))) (local.get $base)
                                (i32.lt_u (local.get $next) (local.get $r1))))
      (local.set $la0 ({V}.splat ({P}.const -inf)))
      (local.set $la1 (local.get $la0))
      (local.set $mv ({V}.splat (local.get $m)))
      (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0))
      (local.set $a2 (v128.const i64x2 0 0)) (local.set $a3 (v128.const i64x2 0 0))
      (local.set $b0 (v128.const i64x2 0 0)) (local.set $b1 (v128.const i64x2 0 0))
      (local.set $b2 (v128.const i64x2 0 0)) (local.set $b3 (v128.const i64x2 0 0))
      (local.set $i (i32.const 0))
      (local.set $pbase (i32.add (local.get $pr) (i32.mul (local.get $row) (local.get $rowBytes))))
      (if (i32.eqz (local.get $pr))
        (then
          (if (i32.eqz (local.get $en))
            (then
;;@SUMEXP_{P} LA_{P}
            )
            (else
;;@SUMEXP_T_{P} LA_{P}
            )))
        (else
          (if (i32.eqz (local.get $en))
            (then
;;@SUMEXP_P_{P} LA_{P}
            )
            (else
;;@SUMEXP_TP_{P} LA_{P}
            ))))
      (local.set $a0 ({V}.add ({V}.add (local.get $a0) (local.get $a1)) ({V}.add (local.get $a2) (local.get $a3))))
      (local.set $b0 ({V}.add ({V}.add (local.get $b0) (local.get $b1)) ({V}.add (local.get $b2) (local.get $b3))))
;;@HSUM_{P} $sum $a0
;;@HSUM_{P} $t $b0
      (local.set $mf ({PROMOTE} (local.get $m)))
;;@FWD_RESULTS_{P}
      (if (local.get $pr)
        (then
          (local.set $mv ({V}.splat ({DEMOTE} (f64.div (f64.const 1) (local.get $sum)))))
;;@SCALE_ROW_{P}
        ))
      ;; the next row's max: the look-ahead covered its whole 4-vector steps, the rest here
      (local.set $i (i32.and (local.get $V) (i32.const -{L4})))
      (block $nt_b (loop $nt_l
        (br_if $nt_b (i32.ge_u (local.get $i) (local.get $V)))
        (local.set $rem (i32.sub (local.get $V) (local.get $i)))
;;@MASK_{P} $mask $rem
        (local.set $la0 ({V}.pmax (local.get $la0)
          (v128.bitselect (v128.load (i32.add (local.get $nbase) (i32.shl (local.get $i) (i32.const {SH})))) ({V}.splat ({P}.const -inf)) (local.get $mask))))
        (local.set $i (i32.add (local.get $i) (i32.const {L})))
        (br $nt_l)))
      (local.set $la0 ({V}.pmax (local.get $la0) (local.get $la1)))
;;@HMAX_{P} $m $la0
      (local.set $row (local.get $next))
      (br $rows))))

  ;; Forward, one pass over memory ("online"): each row is read once, by the exp loop itself,
  ;; against a lagging shift m (the row's first logit to start with): m only moves when a step of
  ;; 4 vectors holds a logit above m + 1, to that step's max (so z − m ≤ 1 and the large terms
  ;; keep the accuracy of z − max). Then S ← αS, T ← α(T + (m − m')S), α = exp(m − m'), and, with
  ;; probs, the e already stored are scaled by α (in L1/L2). At the end lse = m + log S; with
  ;; probs, p = e/S in place.
  (func (export "token_fwd_online_{P}") (param $job i32) (param $tid i32) (param $nt i32)
;;@FWD_LOCALS_{P}
    (local $lim v128) (local $mx v128) (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128) (local $av v128) (local $dv v128)
    (local $mnew {P}) (local $j i32)
;;@FWD_PARAMS_{P}
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $row) (local.get $r1)))
      (block $next
;;@FWD_IGNORED_{P}
        (local.set $pbase (i32.add (local.get $pr) (i32.mul (local.get $row) (local.get $rowBytes))))
        (local.set $m ({P}.max ({P}.load (local.get $base)) ({P}.const -1e30)))
        (local.set $mv ({V}.splat (local.get $m)))
        (local.set $lim ({V}.splat ({P}.add (local.get $m) ({P}.const 1))))
        (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0))
        (local.set $a2 (v128.const i64x2 0 0)) (local.set $a3 (v128.const i64x2 0 0))
        (local.set $b0 (v128.const i64x2 0 0)) (local.set $b1 (v128.const i64x2 0 0))
        (local.set $b2 (v128.const i64x2 0 0)) (local.set $b3 (v128.const i64x2 0 0))
        (local.set $i (i32.const 0))
        (if (i32.eqz (local.get $pr))
          (then
            (if (i32.eqz (local.get $en))
              (then
;;@OP_LOOP_{P} NOP NOP
              )
              (else
;;@OP_LOOP_{P} OP_T4_{P} OP_T1_{P}
              )))
          (else
            (if (i32.eqz (local.get $en))
              (then
;;@OP_LOOP_{P} OP_P4_{P} OP_P1_{P}
              )
              (else
;;@OP_LOOP_{P} OP_TP4_{P} OP_TP1_{P}
              ))))
        (local.set $a0 ({V}.add ({V}.add (local.get $a0) (local.get $a1)) ({V}.add (local.get $a2) (local.get $a3))))
        (local.set $b0 ({V}.add ({V}.add (local.get $b0) (local.get $b1)) ({V}.add (local.get $b2) (local.get $b3))))
;;@HSUM_{P} $sum $a0
;;@HSUM_{P} $t $b0
        (local.set $mf ({PROMOTE} (local.get $m)))
;;@FWD_RESULTS_{P}
        (if (local.get $pr)
          (then
            (local.set $mv ({V}.splat ({DEMOTE} (f64.div (f64.const 1) (local.get $sum)))))
;;@SCALE_ROW_{P}
          )))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $rows))))

;; ---------------------------------------------------------------- backward
;; g ← p·nu (nu = −u): probs given, no entropy gradient.
;;@define BWD_A_{P} $off
(v128.store offset=$off (local.get $oat) ({V}.mul (v128.load offset=$off (local.get $pat)) (local.get $nu)))
;;@end
;; g ← p·(e·(c − z) − u): probs given, entropy gradient.
;;@define BWD_B_{P} $off
(v128.store offset=$off (local.get $oat)
  ({V}.mul (v128.load offset=$off (local.get $pat))
           ({V}.sub ({V}.mul (local.get $ev) ({V}.sub (local.get $cv) (v128.load offset=$off (local.get $at)))) (local.get $uv))))
;;@end
;; $g ← exp(z − lse)·nu
;;@define BWD_C_{P} $x $g $off
(local.set $x ({V}.sub (v128.load offset=$off (local.get $at)) (local.get $lv)))
;;@EXP_{P} $g $x
(v128.store offset=$off (local.get $oat) ({V}.mul (local.get $g) (local.get $nu)))
;;@end
;; $g ← exp(z − lse)·(e·(c − z) − u)
;;@define BWD_D_{P} $x $g $off
(local.set $x (v128.load offset=$off (local.get $at)))
(local.set $ex_p ({V}.sub (local.get $x) (local.get $lv)))
;;@EXP_{P} $g $ex_p
(v128.store offset=$off (local.get $oat)
  ({V}.mul (local.get $g) ({V}.sub ({V}.mul (local.get $ev) ({V}.sub (local.get $cv) (local.get $x))) (local.get $uv))))
;;@end
;; One loop over the row: 4 vectors a step, then one vector a step (stores cut at the row's end).
;;@define BWD_LOOP_{P} $STEP4 $STEP1
(block $bw_b (loop $bw_l
  (br_if $bw_b (i32.gt_u (i32.add (local.get $i) (i32.const {L4})) (local.get $V)))
  (local.set $o (i32.shl (local.get $i) (i32.const {SH})))
  (local.set $at (i32.add (local.get $base) (local.get $o)))
  (local.set $pat (i32.add (local.get $pbase) (local.get $o)))
  (local.set $oat (i32.add (local.get $obase) (local.get $o)))
;;@$STEP4
  (local.set $i (i32.add (local.get $i) (i32.const {L4})))
  (br $bw_l)))
(block $bt_b (loop $bt_l
  (br_if $bt_b (i32.ge_u (local.get $i) (local.get $V)))
  (local.set $rem (i32.sub (local.get $V) (local.get $i)))
  (local.set $o (i32.shl (local.get $i) (i32.const {SH})))
  (local.set $at (i32.add (local.get $base) (local.get $o)))
  (local.set $pat (i32.add (local.get $pbase) (local.get $o)))
  (local.set $oat (local.get $tmpTile))
;;@$STEP1
  (local.set $oat (i32.add (local.get $obase) (local.get $o)))
  (local.set $g0 (v128.load (local.get $tmpTile)))
;;@STORE_PART_{P} $oat $g0 $rem
  (local.set $i (i32.add (local.get $i) (i32.const {L})))
  (br $bt_l)))
;;@end
;;@define BWD_A4_{P}
;;@BWD_A_{P} 0
;;@BWD_A_{P} 16
;;@BWD_A_{P} 32
;;@BWD_A_{P} 48
;;@end
;;@define BWD_A1_{P}
;;@BWD_A_{P} 0
;;@end
;;@define BWD_B4_{P}
;;@BWD_B_{P} 0
;;@BWD_B_{P} 16
;;@BWD_B_{P} 32
;;@BWD_B_{P} 48
;;@end
;;@define BWD_B1_{P}
;;@BWD_B_{P} 0
;;@end
;;@define BWD_C4_{P}
;;@BWD_C_{P} $x0 $g0 0
;;@BWD_C_{P} $x1 $g1 16
;;@BWD_C_{P} $x2 $g2 32
;;@BWD_C_{P} $x3 $g3 48
;;@end
;;@define BWD_C1_{P}
;;@BWD_C_{P} $x0 $g0 0
;;@end
;;@define BWD_D4_{P}
;;@BWD_D_{P} $x0 $g0 0
;;@BWD_D_{P} $x1 $g1 16
;;@BWD_D_{P} $x2 $g2 32
;;@BWD_D_{P} $x3 $g3 48
;;@end
;;@define BWD_D1_{P}
;;@BWD_D_{P} $x0 $g0 0
;;@end

  ;; Backward. Parameters: 0 logits (may be 0 when probs are given and there is no entropy
  ;; gradient), 1 labels, 2 lse, 3 entropy (0: none), 4 u = d/dlogps, 5 e = d/dentropy (0: none),
  ;; 6 probs (0: none; may be the gradient block itself), 7 grad (out), 8 rows, 9 vocab, 10 ignore,
  ;; 11 a 16-byte scratch tile per thread (tile + 16·tid).
  (func (export "token_bwd_{P}") (param $job i32) (param $tid i32) (param $nt i32)
    (local $z i32) (local $lab i32) (local $ls i32) (local $en i32) (local $gu i32) (local $ge i32) (local $pr i32) (local $g i32)
    (local $R i32) (local $V i32) (local $ign i32) (local $rowBytes i32) (local $tmpTile i32)
    (local $row i32) (local $r1 i32) (local $label i32) (local $base i32) (local $pbase i32) (local $obase i32)
    (local $at i32) (local $pat i32) (local $oat i32) (local $o i32) (local $i i32) (local $rem i32)
    (local $u {P}) (local $e {P}) (local $lse {P}) (local $c {P})
    (local $nu v128) (local $uv v128) (local $ev v128) (local $cv v128) (local $lv v128)
    (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
    (local $g0 v128) (local $g1 v128) (local $g2 v128) (local $g3 v128)
;;@EXP_LOCALS
;;@EXP_LOAD_{P}
    (local.set $z (i32.load offset=0 (local.get $job)))
    (local.set $lab (i32.load offset=8 (local.get $job)))
    (local.set $ls (i32.load offset=16 (local.get $job)))
    (local.set $en (i32.load offset=24 (local.get $job)))
    (local.set $gu (i32.load offset=32 (local.get $job)))
    (local.set $ge (i32.load offset=40 (local.get $job)))
    (local.set $pr (i32.load offset=48 (local.get $job)))
    (local.set $g (i32.load offset=56 (local.get $job)))
    (local.set $R (i32.load offset=64 (local.get $job)))
    (local.set $V (i32.load offset=72 (local.get $job)))
    (local.set $ign (i32.load offset=80 (local.get $job)))
    (local.set $tmpTile (i32.add (i32.load offset=88 (local.get $job)) (i32.shl (local.get $tid) (i32.const 4))))
    (local.set $rowBytes (i32.shl (local.get $V) (i32.const {SH})))
    (local.set $row (i32.div_u (i32.mul (local.get $R) (local.get $tid)) (local.get $nt)))
    (local.set $r1 (i32.div_u (i32.mul (local.get $R) (i32.add (local.get $tid) (i32.const 1))) (local.get $nt)))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $row) (local.get $r1)))
      (block $next
        (local.set $obase (i32.add (local.get $g) (i32.mul (local.get $row) (local.get $rowBytes))))
        (local.set $label (i32.load (i32.add (local.get $lab) (i32.shl (local.get $row) (i32.const 2)))))
        (local.set $u ({P}.load (i32.add (local.get $gu) (i32.shl (local.get $row) (i32.const {SH})))))
        (local.set $e ({P}.const 0))
        (if (local.get $ge) (then (local.set $e ({P}.load (i32.add (local.get $ge) (i32.shl (local.get $row) (i32.const {SH})))))))
        (if (i32.or (i32.eq (local.get $label) (local.get $ign))
                    (i32.and ({P}.eq (local.get $u) ({P}.const 0)) ({P}.eq (local.get $e) ({P}.const 0))))
          (then
            (memory.fill (local.get $obase) (i32.const 0) (local.get $rowBytes))
            (br $next)))
        (local.set $lse ({P}.load (i32.add (local.get $ls) (i32.shl (local.get $row) (i32.const {SH})))))
        (local.set $c ({P}.const 0))
        (if ({P}.ne (local.get $e) ({P}.const 0))
          (then (local.set $c ({P}.sub (local.get $lse) ({P}.load (i32.add (local.get $en) (i32.shl (local.get $row) (i32.const {SH}))))))))
        (local.set $base (i32.add (local.get $z) (i32.mul (local.get $row) (local.get $rowBytes))))
        (local.set $pbase (i32.add (local.get $pr) (i32.mul (local.get $row) (local.get $rowBytes))))
        (local.set $nu ({V}.splat ({P}.neg (local.get $u))))
        (local.set $uv ({V}.splat (local.get $u)))
        (local.set $ev ({V}.splat (local.get $e)))
        (local.set $cv ({V}.splat (local.get $c)))
        (local.set $lv ({V}.splat (local.get $lse)))
        (local.set $i (i32.const 0))
        (if (local.get $pr)
          (then
            (if ({P}.eq (local.get $e) ({P}.const 0))
              (then
;;@BWD_LOOP_{P} BWD_A4_{P} BWD_A1_{P}
              )
              (else
;;@BWD_LOOP_{P} BWD_B4_{P} BWD_B1_{P}
              )))
          (else
            (if ({P}.eq (local.get $e) ({P}.const 0))
              (then
;;@BWD_LOOP_{P} BWD_C4_{P} BWD_C1_{P}
              )
              (else
;;@BWD_LOOP_{P} BWD_D4_{P} BWD_D1_{P}
              ))))
        (local.set $at (i32.add (local.get $obase) (i32.shl (local.get $label) (i32.const {SH}))))
        ({P}.store (local.get $at) ({P}.add ({P}.load (local.get $at)) (local.get $u))))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $rows))))

  ;; Row max |x| (NaN when the row holds a NaN: f*.max propagates it): [R, V] at $z → f64 [R] at
  ;; $out, the scan of the host check for non-finite values. Two vectors per step.
  (func (export "row_max_abs_{P}") (param $job i32) (param $tid i32) (param $nt i32)
    (local $z i32) (local $out i32) (local $R i32) (local $V i32) (local $row i32) (local $r1 i32)
    (local $rowBytes i32) (local $base i32) (local $i i32) (local $end i32)
    (local $a0 v128) (local $a1 v128) (local $m {P}) (local $x {P})
    (local.set $z (i32.load offset=0 (local.get $job)))
    (local.set $out (i32.load offset=8 (local.get $job)))
    (local.set $R (i32.load offset=16 (local.get $job)))
    (local.set $V (i32.load offset=24 (local.get $job)))
    (local.set $rowBytes (i32.shl (local.get $V) (i32.const {SH})))
    (local.set $row (i32.div_u (i32.mul (local.get $R) (local.get $tid)) (local.get $nt)))
    (local.set $r1 (i32.div_u (i32.mul (local.get $R) (i32.add (local.get $tid) (i32.const 1))) (local.get $nt)))
    (local.set $end (i32.and (local.get $V) (i32.const -{L4})))
    (block $done (loop $rows
      (br_if $done (i32.ge_u (local.get $row) (local.get $r1)))
      (local.set $base (i32.add (local.get $z) (i32.mul (local.get $row) (local.get $rowBytes))))
      (local.set $a0 (v128.const i64x2 0 0))
      (local.set $a1 (v128.const i64x2 0 0))
      (local.set $i (i32.const 0))
      (block $vb (loop $vl
        (br_if $vb (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $a0 ({V}.max (local.get $a0) ({V}.abs (v128.load (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH})))))))
        (local.set $a1 ({V}.max (local.get $a1) ({V}.abs (v128.load offset=16 (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH})))))))
        (local.set $a0 ({V}.max (local.get $a0) ({V}.abs (v128.load offset=32 (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH})))))))
        (local.set $a1 ({V}.max (local.get $a1) ({V}.abs (v128.load offset=48 (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH})))))))
        (local.set $i (i32.add (local.get $i) (i32.const {L4})))
        (br $vl)))
      (local.set $a0 ({V}.max (local.get $a0) (local.get $a1)))
;;@HMAX_{P} $m $a0
      (block $tb (loop $tl
        (br_if $tb (i32.ge_u (local.get $i) (local.get $V)))
        (local.set $x ({P}.abs ({P}.load (i32.add (local.get $base) (i32.shl (local.get $i) (i32.const {SH}))))))
        (local.set $m ({P}.max (local.get $m) (local.get $x)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $tl)))
      (f64.store (i32.add (local.get $out) (i32.shl (local.get $row) (i32.const 3))) ({PROMOTE} (local.get $m)))
      (local.set $row (i32.add (local.get $row) (i32.const 1)))
      (br $rows))))
;;@end-precision
)
