(module
  (memory (export "memory") 1)
  ;; Adam's fused update, four float32 lanes at a time (see adam.ts for the formulas):
  ;; adam(p, g, m, v, n, b1, c1, b2, c2, eps, step, k, scale, l2, keep), where p, g, m, v are byte
  ;; offsets of n floats each and n is a multiple of 4 (the arena pads every buffer).
  (func (export "adam")
    (param $p i32) (param $g i32) (param $m i32) (param $v i32) (param $n i32)
    (param $b1 f32) (param $c1 f32) (param $b2 f32) (param $c2 f32) (param $eps f32)
    (param $step f32) (param $k f32) (param $scale f32) (param $l2 f32) (param $keep f32)
    (local $i i32) (local $end i32)
    (local $vb1 v128) (local $vc1 v128) (local $vb2 v128) (local $vc2 v128) (local $veps v128)
    (local $vstep v128) (local $vk v128) (local $vscale v128) (local $vl2 v128) (local $vkeep v128)
    (local $w v128) (local $gi v128) (local $mi v128) (local $vi v128)
    (local.set $vb1 (f32x4.splat (local.get $b1)))
    (local.set $vc1 (f32x4.splat (local.get $c1)))
    (local.set $vb2 (f32x4.splat (local.get $b2)))
    (local.set $vc2 (f32x4.splat (local.get $c2)))
    (local.set $veps (f32x4.splat (local.get $eps)))
    (local.set $vstep (f32x4.splat (local.get $step)))
    (local.set $vk (f32x4.splat (local.get $k)))
    (local.set $vscale (f32x4.splat (local.get $scale)))
    (local.set $vl2 (f32x4.splat (local.get $l2)))
    (local.set $vkeep (f32x4.splat (local.get $keep)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    (local.set $i (i32.const 0))
    (block $done
      (loop $loop
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $w (v128.load (i32.add (local.get $p) (local.get $i))))
        (local.set $gi (f32x4.add
          (f32x4.mul (v128.load (i32.add (local.get $g) (local.get $i))) (local.get $vscale))
          (f32x4.mul (local.get $vl2) (local.get $w))))
        (local.set $mi (f32x4.add
          (f32x4.mul (local.get $vb1) (v128.load (i32.add (local.get $m) (local.get $i))))
          (f32x4.mul (local.get $vc1) (local.get $gi))))
        (local.set $vi (f32x4.add
          (f32x4.mul (local.get $vb2) (v128.load (i32.add (local.get $v) (local.get $i))))
          (f32x4.mul (local.get $vc2) (f32x4.mul (local.get $gi) (local.get $gi)))))
        (v128.store (i32.add (local.get $m) (local.get $i)) (local.get $mi))
        (v128.store (i32.add (local.get $v) (local.get $i)) (local.get $vi))
        (v128.store (i32.add (local.get $p) (local.get $i))
          (f32x4.sub
            (f32x4.mul (local.get $w) (local.get $vkeep))
            (f32x4.div
              (f32x4.mul (local.get $vstep) (local.get $mi))
              (f32x4.add (f32x4.mul (f32x4.sqrt (local.get $vi)) (local.get $vk)) (local.get $veps)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $loop)))))
