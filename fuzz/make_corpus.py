#!/usr/bin/env python3
"""Write the seed inputs of the fuzz harnesses (fuzz/corpus/graph, fuzz/corpus/files,
fuzz/corpus/equations).

  python3 fuzz/make_corpus.py      (from the source root; rewrites both folders)

The graph seeds are small programs in the byte format described at the top of
fuzz/fuzz_graph.cpp: the lecture's two-layer network, softmax cross-entropy,
every unary op, broadcasting, replays with new shapes, extreme and non-finite
values, explain and the gradient checker. The file seeds are valid and broken
.npy, CSV and IDX files (plain and gzip), and a checkpoint's manifest and file;
their first byte picks the CSV delimiter and header lines, how many IDX items
a partial load reads, and for the checkpoint the parameter's shape and which
of the two files the bytes are (see fuzz/fuzz_files.cpp).
"""
import gzip
import hashlib
import math
import os
import shutil
import struct
import sys

# The harness's table of awkward numbers, in its order.
TABLE = [0.0, 1.0, -1.0, 0.5, -0.5, 2.0, -2.0, 3.0, 0.25, 1.5, -3.0, 10.0, -10.0, 40.0, -40.0, 100.0,
         1000.0, -1000.0, 1e6, -1e6, 1e300, -1e300, 1e-300, -1e-300, 5e-324, 1e-8, 0.999999, 710.0, -745.0, 3.5e38,
         1e-45, -0.0, math.nan, math.inf, -math.inf]


def key(v):
    v = float(v)
    if math.isnan(v):
        return "nan"
    return (v, math.copysign(1.0, v))


# Rows of the op table (tests/op_table.hpp) the seeds use, by name: the
# harness finds a row by its name, so the seeds do not depend on the order of
# the rows. A row with a number reads one after its operands.
UNARY = ["neg", "exp", "log", "square", "pow (p = 3)", "sqrt", "abs", "sigmoid", "tanh", "relu",
         "leaky_relu (alpha = 0.1)", "softplus", "softmax", "sum (all)", "sum (over_rows)", "sum (over_cols)",
         "mean (all)", "mean (over_rows)", "mean (over_cols)", "transpose", "detach",
         "x_plus_s", "x_minus_s", "s_minus_x", "s_times_x", "x_over_s", "s_over_x"]
TAKES_NUMBER = {"pow (p = 3)", "pow (p = -2)", "pow (p = 0.5)", "leaky_relu (alpha = 0.1)",
                "x_plus_s", "x_minus_s", "s_minus_x", "s_times_x", "x_over_s", "s_over_x", "l2_penalty"}
BINARY = {"matmul": "matmul", "add": "add", "sub": "sub", "mul": "mul",
          "div": "div", "bce": "binary_cross_entropy (probabilities)",
          "bce_logits": "binary_cross_entropy_with_logits", "softmax_ce": "softmax_cross_entropy (one-hot)",
          "mse": "mean_squared_error"}
# Rows whose output is 1 x 1, for the loss instruction: the nodes each adds
# (its label and target inputs, a sigmoid for the fused cross-entropy, itself).
LOSSES = {"sum": ("sum (all)", 1), "mean": ("mean (all)", 1), "bce_sigmoid": ("binary_cross_entropy (on sigmoid)", 3),
          "softmax_ce_index": ("softmax_cross_entropy (class indices)", 2), "mse": ("mean_squared_error", 2)}


def number(v):
    """A table value by its index, or any other double as 0xE0 and its 8 bytes."""
    for i, t in enumerate(TABLE):
        if key(t) == key(v):
            return bytes([i])
    return bytes([0xE0]) + struct.pack("<d", float(v))


class Program:
    def __init__(self, float32=False, numerics=False):
        self.b = bytearray([(1 if float32 else 0) | (2 if numerics else 0)])
        self.nodes = 0

    def _matrix(self, rows, cols, values):
        self.b += bytes([rows, cols])
        for v in values[:(rows % 9) * cols]:
            self.b += number(v)

    def input(self, rows, cols, values, grad=False):
        self.b.append(0)
        self._matrix(rows + (9 if grad else 0), cols, values)
        self.nodes += 1
        return self.nodes - 1

    def parameter(self, rows, cols, values):
        self.b.append(1)
        self._matrix(rows, cols, values)
        self.nodes += 1
        return self.nodes - 1

    def reuse(self, k):
        self.b += bytes([2, k])

    def op(self, row, *nodes, arg=None, form=0):
        """Row `row` of the op table (by name) on the nodes; `arg` its number when it takes one."""
        raw = row.encode("ascii")
        self.b += bytes([4, len(raw)]) + raw + bytes([form]) + bytes(nodes)
        if row in TAKES_NUMBER:
            self.b += number(arg)
        self.nodes += 2 if row == "binary_cross_entropy (on sigmoid)" else 1
        return self.nodes - 1

    def unary(self, name, node, arg=None):
        return self.op(name, node, arg=arg)

    def binary(self, name, a, c):
        return self.op(BINARY[name], a, c)

    def set_value(self, k, rows, cols, values):
        self.b += bytes([5, k])
        self._matrix(rows, cols, values)

    def set_parameter(self, k, rows, cols, values):
        self.b += bytes([6, k])
        self._matrix(rows, cols, values)

    def forward(self):
        self.b.append(7)

    def backward(self, node, accumulate=False):
        self.b += bytes([8, node, 1 if accumulate else 0])

    def numerics(self, on):
        self.b += bytes([9, 1 if on else 0])

    def read(self, node):
        self.b += bytes([10, node])

    def explain(self, node, dot=False, style=0, shapes=False, all_nodes=False):
        self.b += bytes([11, node, (1 if dot else 0) | (style << 1) | (8 if shapes else 0) | (16 if all_nodes else 0)])

    def gradcheck(self):
        self.b.append(12)

    def name(self, node, text):
        raw = text.encode("utf-8")
        self.b += bytes([13, node, len(raw)]) + raw

    def loss(self, kind, node):
        """A 1 x 1 row of LOSSES on the node, its labels drawn by the harness."""
        row, adds = LOSSES[kind]
        raw = row.encode("ascii")
        self.b += bytes([14, len(raw)]) + raw + bytes([node])
        self.nodes += adds
        return self.nodes - 1

    def backward_last(self):
        self.b.append(15)

    def op_failing(self, k, row, *nodes, arg=None, form=0):
        """Row `row` (by index in the op table) whose build's (k+1)-th allocation fails."""
        self.b += bytes([16, k, row, form]) + bytes(nodes)
        if arg is not None:
            self.b += number(arg)

    def absurd(self, a, extra=0):
        self.b += bytes([17, a, extra])

    def accept(self):
        self.b.append(18)

    def image_op(self, kind, C, H, W, k, stride, padding, *nodes):
        """kind 0 conv2d(X, K), 1 conv2d(X, K, b), 2 max_pool2d(X), 3 avg_pool2d(X), 4 and 5 the
        convolutions by Winograd; geometry as given."""
        self.b += bytes([19, kind, C, H, W, k, stride, padding]) + bytes(nodes)
        self.nodes += 1
        return self.nodes - 1


def seq(n, start=0.1, step=0.37):
    return [round(start + step * ((k * 7) % 11 - 5), 3) for k in range(n)]


def two_layer(float32=False, numerics=False):
    p = Program(float32, numerics)
    X = p.input(2, 5, seq(10))
    Y = p.input(1, 5, [0, 1, 1, 0, 1])
    W1 = p.parameter(4, 2, seq(8, 0.01, 0.02))
    b1 = p.parameter(4, 1, [0, 0, 0, 0])
    W2 = p.parameter(1, 4, seq(4, 0.01, 0.03))
    b2 = p.parameter(1, 1, [0])
    Z1 = p.binary("add", p.binary("matmul", W1, X), b1)
    A1 = p.unary("tanh", Z1)
    Z2 = p.binary("add", p.binary("matmul", W2, A1), b2)
    A2 = p.unary("sigmoid", Z2)
    J = p.binary("bce", A2, Y)
    p.backward(J)
    p.read(W1)
    p.explain(J)
    p.set_value(0, 2, 7, seq(14))
    p.set_value(1, 1, 7, [1, 0, 1, 0, 1, 0, 1])
    p.forward()
    p.backward(J, accumulate=True)
    return p


def seeds():
    out = {}
    out["two_layer"] = two_layer()
    out["two_layer_float"] = two_layer(float32=True)
    out["two_layer_numerics"] = two_layer(numerics=True)

    p = two_layer()
    p.gradcheck()
    p.explain(p.nodes - 1, dot=True, shapes=True)
    p.explain(p.nodes - 1, style=2, shapes=True, all_nodes=True)
    out["two_layer_check_and_explain"] = p

    # Softmax cross-entropy with class indices and with one-hot labels.
    p = Program()
    Z = p.parameter(3, 4, seq(12))
    y = p.input(1, 4, [0, 2, 1, 2])
    J = p.binary("softmax_ce", Z, y)
    p.backward(J)
    O = p.input(3, 4, [1, 0, 0, 0, 0, 0, 1, 1, 0, 1, 0, 0])
    J2 = p.binary("softmax_ce", Z, O)
    p.backward(J2)
    p.set_value(0, 1, 4, [0, 3, 1, 2])  # an index out of range on replay
    p.forward()
    p.backward(J)
    out["softmax_ce"] = p

    # Every unary op on a positive parameter, each reduced and back-propagated.
    for float32 in (False, True):
        p = Program(float32)
        P = p.parameter(2, 3, [0.5, 1.5, 2, 0.25, 3, 1])
        for name in UNARY:
            arg = {"pow (p = 3)": 1.5, "leaky_relu (alpha = 0.1)": 0.25, "x_plus_s": 2, "x_minus_s": 0.5,
                   "s_minus_x": 1, "s_times_x": -2, "x_over_s": 2, "s_over_x": 3}.get(name)
            u = p.unary(name, P, arg)
            p.backward(p.loss("sum", u))
        out["unary_ops" + ("_float" if float32 else "")] = p

    # Broadcasting in both directions, the same node twice, matmul chains.
    p = Program()
    A = p.parameter(3, 4, seq(12))
    c = p.parameter(3, 1, [1, 2, 3])
    r = p.parameter(1, 4, [1, -1, 2, 0.5])
    s = p.parameter(1, 1, [2])
    t = p.binary("add", A, c)
    t = p.binary("mul", r, t)
    t = p.binary("sub", t, s)
    t = p.binary("div", t, p.unary("x_plus_s", p.unary("square", c), 1))
    t = p.binary("mul", t, t)
    m = p.binary("matmul", p.unary("transpose", t), A)
    o = p.binary("add", c, r)  # 3x1 + 1x4 → 3x4
    p.backward(p.loss("mean", p.binary("add", p.unary("sum (over_rows)", m), p.unary("mean (over_rows)", o))))
    p.gradcheck()
    out["broadcast"] = p

    # Shape mistakes: every binary op on mismatched shapes, then a good one.
    p = Program()
    a = p.parameter(2, 3, seq(6))
    b = p.input(4, 5, seq(20))
    for name in BINARY:
        p.binary(name, a, b)
    p.nodes -= len(BINARY)  # the failed builds add nothing
    p.backward(p.loss("sum", p.binary("mul", a, a)))
    out["shape_errors"] = p

    # Replays: an input changes shape (fits, then does not), a parameter changes shape.
    p = Program()
    X = p.input(2, 3, seq(6))
    W = p.parameter(4, 2, seq(8))
    Z = p.binary("matmul", W, X)
    J = p.loss("bce_sigmoid", Z)
    p.backward(J)
    p.set_value(0, 2, 6, seq(12))
    p.backward(J)  # before forward: an error
    p.forward()
    p.backward(J)
    p.set_value(0, 3, 6, seq(18))
    p.forward()  # no longer fits
    p.set_value(0, 2, 3, seq(6))
    p.forward()
    p.set_parameter(0, 4, 3, seq(12))
    p.backward(J)
    p.forward()
    p.set_parameter(0, 4, 2, seq(8))
    p.forward()
    p.backward(J)
    out["replay_shapes"] = p

    # W·X fused into W·X + c (no buffer of its own), W given another shape,
    # then a second reader of W·X: refused, never read out of bounds.
    p = Program()
    X = p.input(2, 5, seq(10))
    W = p.parameter(3, 2, seq(6))
    c = p.parameter(3, 1, [1, 2, 3])
    WX = p.binary("matmul", W, X)
    p.binary("add", WX, c)
    p.set_parameter(0, 3, 4, seq(12))
    p.unary("sigmoid", WX)
    p.set_parameter(0, 3, 2, seq(6))
    p.forward()
    p.backward(p.loss("sum", p.unary("sigmoid", WX)))
    out["fused_reader_after_reshape"] = p

    # Extremes: logits of ±1000 and ±1e6 through BCE and softmax CE, in both types.
    for float32 in (False, True):
        p = Program(float32, numerics=True)
        Z = p.parameter(2, 4, [1000, -1000, 1e6, -1e6, 0, 40, -40, 1e-8])
        Y = p.input(2, 4, [1, 0, 0, 1, 1, 0, 1, 0])
        p.backward(p.binary("bce", p.unary("sigmoid", Z), Y))
        p.backward(p.binary("bce_logits", Z, Y))
        p.backward(p.binary("softmax_ce", Z, Y))
        p.backward(p.loss("sum", p.unary("tanh", Z)))
        p.backward(p.loss("sum", p.unary("softplus", Z)))
        out["extremes" + ("_float" if float32 else "")] = p

    # Non-finite numbers; then the numeric-debug mode switched on (or off) and a replay.
    for numerics in (False, True):
        p = Program()
        if numerics:
            p.numerics(False)
        N = p.input(2, 2, [math.nan, 1, math.inf, -math.inf])
        P = p.parameter(2, 2, [1e300, 1e-300, 5e-324, -0.0])
        p.loss("sum", p.binary("add", N, P))
        p.loss("sum", p.unary("exp", P))
        p.loss("sum", p.unary("relu", N))
        q = p.loss("mean", p.unary("sqrt", p.unary("abs", P)))
        p.backward(q)
        p.numerics(not numerics)
        p.forward()
        p.backward(q)
        out["non_finite" + ("_numerics" if numerics else "")] = p

    # Domain errors: log of 0, sqrt and pow of negatives, division by 0, labels out of range.
    p = Program()
    Q = p.input(1, 3, [0, -1, 2])
    P = p.parameter(1, 3, [1, 2, 3])
    p.unary("log", Q)
    p.unary("sqrt", Q)
    p.unary("pow (p = 3)", Q, 0.5)
    p.unary("s_over_x", Q, 1)
    p.unary("x_over_s", P, 0)
    p.binary("div", P, Q)
    p.binary("bce", P, Q)
    p.unary("leaky_relu (alpha = 0.1)", P, math.nan)
    p.unary("x_plus_s", P, math.inf)
    p.nodes -= 9
    p.backward(p.loss("sum", p.unary("log", P)))
    out["domain_errors"] = p

    # Empty matrices, and misuse: backward on a non-scalar, gradients not computed.
    p = Program()
    p.input(0, 3, [])
    p.parameter(2, 0, [])
    p.nodes -= 2
    X = p.input(2, 2, [1, 2, 3, 4])
    p.set_value(0, 0, 0, [])
    p.backward(X)
    p.read(X)
    W = p.parameter(2, 2, [1, 0, 0, 1])
    M = p.binary("matmul", W, X)
    p.backward(M)
    p.explain(M)
    p.reuse(0)
    p.backward(p.loss("softmax_ce_index", M))
    out["empty_and_misuse"] = p

    # Names with quotes, backslashes, UTF-8 and control bytes, shown by explain and to_dot.
    p = two_layer()
    p.name(2, 'W"1\\')
    p.name(7, "Z₁\n")
    p.name(0, "")
    p.explain(p.nodes - 1, dot=True)
    p.explain(p.nodes - 1, style=1)
    p.explain(p.nodes - 1, style=2, all_nodes=True)
    out["names"] = p

    # Accumulation over batches, and a detached branch.
    p = Program()
    W = p.parameter(1, 2, [0.5, -0.5])
    X = p.input(2, 3, seq(6), grad=True)
    Z = p.binary("matmul", W, X)
    D = p.unary("detach", Z)
    J = p.loss("mean", p.binary("mul", Z, D))
    p.backward(J)
    p.set_value(0, 2, 3, seq(6, 0.2))
    p.forward()
    p.backward(J, accumulate=True)
    p.gradcheck()
    p.backward_last()
    out["accumulate_detach"] = p

    # Raw doubles (not in the table), and a number read from the last bytes.
    p = Program()
    R = p.parameter(2, 2, [0.1234, -7.5e-3, 123456.789, 2.0 ** -1060])
    p.backward(p.loss("mean", p.unary("pow (p = 3)", R, 2)))
    p.b += bytes([4, 11]) + b"pow (p = 3)" + bytes([0, 0, 0xE0, 1, 2])  # a pow whose exponent is cut short
    out["raw_numbers"] = p

    # Leaf versions: a new value of the same shape, then backward() (refused),
    # an optimiser-like write to a parameter, accept_changed_leaves(), backward().
    p = two_layer()
    p.set_value(0, 2, 7, seq(14, 0.3))  # X, the shape two_layer() left
    p.backward_last()
    p.set_parameter(0, 4, 2, seq(8, 0.2))
    p.backward_last()
    p.accept()
    p.backward_last()
    p.forward()
    p.backward_last()
    out["versions"] = p

    # A small conv net (two 2 x 2 images of 2 channels, 2 kernels of 2 x 2,
    # padding 1): conv2d with a bias, max and average pooling, a loss, the
    # gradient checker and explain; then geometries that must be refused.
    p = Program()
    X = p.input(8, 3, seq(24, 0.2))
    K = p.parameter(2, 8, seq(16, -0.1, 0.11))
    b = p.parameter(2, 1, [0.1, -0.2])
    Y = p.image_op(1, 2, 2, 2, 2, 1, 1, X, K, b)  # 2·3·3 x 3
    M = p.image_op(2, 2, 3, 3, 2, 1, 0, Y)        # 2·2·2 x 3
    A = p.image_op(3, 2, 2, 2, 2, 1, 0, M)        # 2 x 3
    J = p.loss("mean", A)
    p.backward(J)
    p.gradcheck()
    p.explain(J, shapes=True, all_nodes=True)
    p.image_op(0, 2, 2, 2, 2, 0, 1, X, K)   # stride 0
    p.image_op(0, 1, 2, 2, 2, 1, 1, X, K)   # X has 8 rows, C·H·W = 4
    p.image_op(2, 2, 3, 3, 2, 2, 0, Y)      # windows that do not tile 3 x 3 with stride 2
    p.image_op(0, 0, 2, 2, 2, 1, 1, X, K)   # zero channels
    p.image_op(0, 2, 2, 2, 4, 1, 0, X, K)   # a kernel larger than the image
    p.nodes -= 5                            # refused: no node added
    p.forward()
    p.backward_last()
    out["conv_net"] = p

    # Winograd's F(2x2, 3x3) asked for (kind 5: with a bias) on 1 x 2 x 2
    # images, padding 1; a NaN pixel then sends the pass to im2col; Winograd
    # on a 2 x 2 kernel is refused. A 3 x 3 kernel needs 9 columns, more than
    # a leaf has (8): K = (concat_rows(P, Q))ᵀ, 2 x 9.
    p = Program()
    X = p.input(4, 3, seq(12, 0.3))
    P = p.parameter(8, 2, seq(16, -0.2, 0.07))
    Q = p.parameter(1, 2, [0.3, -0.15])
    b = p.parameter(2, 1, [0.05, -0.1])
    K = p.unary("transpose", p.op("concat_rows", P, Q))
    Y = p.image_op(5, 1, 2, 2, 3, 1, 1, X, K, b)  # 2·2·2 x 3
    J = p.loss("mean", Y)
    p.backward(J)
    p.gradcheck()
    p.read(K)
    p.set_value(X, 4, 3, [math.nan] + seq(11, 0.3))
    p.forward()
    p.backward_last()
    p.read(K)
    p.image_op(4, 1, 2, 2, 2, 1, 1, X, K)  # Winograd on a 2 x 2 kernel
    p.nodes -= 1                           # refused: no node added
    out["winograd"] = p

    # The sequence ops: slices of rows and columns, joins of two and three
    # parts, an embedding lookup with a repeated id, losses, the gradient
    # checker and explain; then ids out of range and not integers on replay
    # (refused by forward), and good ids again.
    p = Program()
    X = p.parameter(4, 5, seq(20))
    E = p.parameter(3, 6, seq(18, 0.2))
    ids = p.input(1, 4, [5, 0, 5, 2])
    R = p.op("rows", X)                          # X[1:3, :], 2 x 5
    C = p.op("columns", X)                       # X[:, 1:3], 4 x 2
    V = p.op("concat_rows", R, X)                # 6 x 5
    H = p.op("concat_columns (3 parts)", C, X, C, form=0)  # 4 x 9
    Y = p.op("embedding", E, ids)                # 3 x 4
    F = p.op("rows (first)", p.op("columns (first)", Y))
    J = p.binary("add", p.binary("add", p.loss("mean", V), p.loss("sum", H)), p.binary("add", p.loss("mean", Y), F))
    p.backward(J)
    p.gradcheck()
    p.explain(J, shapes=True)
    p.set_value(0, 1, 4, [6, 0, 1, 2])
    p.forward()
    p.set_value(0, 1, 4, [0.5, 0, 1, 2])
    p.forward()
    p.set_value(0, 1, 4, [1, 1, 1, 1])
    p.forward()
    p.backward_last()
    out["sequence_ops"] = p

    # W · concat_rows(a, x) with x taking no gradient: the sweep writes only
    # a's rows of d(concat), and reading the join's gradient computes the
    # rest; after a forward() the read is refused; the embedding's sweeps on
    # new ids clear only the columns written before.
    p = Program()
    P = p.parameter(3, 4, seq(12, 0.1))
    x = p.input(2, 4, seq(8, -0.3))
    W = p.parameter(2, 5, seq(10, 0.05))
    cat = p.op("concat_rows", p.unary("tanh", P), x)   # 5 x 4
    E = p.parameter(2, 6, seq(12, 0.2))
    ids = p.input(1, 4, [5, 0, 5, 2])
    J = p.binary("add", p.loss("sum", p.binary("matmul", W, cat)), p.loss("mean", p.op("embedding", E, ids)))
    p.backward(J)
    p.read(cat)
    p.backward(J)
    p.forward()
    p.read(cat)
    p.set_value(1, 1, 4, [1, 1, 3, 4])
    p.forward()
    p.backward(J)
    p.read(E)
    p.read(cat)
    p.gradcheck()
    p.explain(J, all_nodes=True)
    out["partial_rows"] = p

    # Builds whose k-th allocation fails (k = 1 … 12) on nodes of the two-layer
    # graph, and shapes whose byte count overflows.
    p = two_layer()
    for k in range(12):
        p.op_failing(k, k % 5, k % 3, (k + 1) % 3)
    p.forward()
    p.backward_last()
    for a in (0, 1, 31, 61):
        p.absurd(a, a % 2)
    p.forward()
    out["allocation_failures_and_absurd_shapes"] = p

    # Batch norm, dropout, layer norm and an L2 penalty: built, checked,
    # replayed on a batch of one column (batch norm refuses it in training).
    p = Program()
    X = p.input(3, 6, seq(18))
    W1 = p.parameter(4, 3, seq(12, 0.05, 0.1))
    g1 = p.parameter(4, 1, [1, 1.5, 0.5, 2])
    b1 = p.parameter(4, 1, [0, 0.5, -0.5, 0])
    Z1 = p.binary("matmul", W1, X)
    N1 = p.op("batch_norm", Z1, g1, b1)
    A1 = p.unary("relu", N1)
    D1 = p.op("dropout", A1)
    L1 = p.op("layer_norm", D1, g1, b1)
    P = p.op("l2_penalty", X, W1, W1, arg=0.7)
    S = p.loss("sum", L1)
    J = p.binary("add", S, P)
    p.backward(J)
    p.gradcheck()
    p.explain(J, all_nodes=True)
    p.forward()
    p.backward_last()
    p.set_value(X, 3, 1, seq(3))
    p.forward()
    out["regularisation"] = p
    return {k: bytes(v.b) for k, v in out.items()}


def npy(descr, shape, data, fortran=False, version=1):
    d = "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }" % (descr, "True" if fortran else "False", shape)
    pre = 8 + (2 if version == 1 else 4)
    d += " " * (63 - (pre + len(d)) % 64) + "\n"
    head = b"\x93NUMPY" + bytes([version, 0])
    head += struct.pack("<H" if version == 1 else "<I", len(d))
    return head + d.encode("latin-1") + data


def manifest(name, data, shape):
    """The manifest save_parameters writes for one parameter saved as `data`."""
    return ("xgrad checkpoint 1\nfolder xgrad-gen-1\n"
            "parameter %s file xgrad-gen-1/%s.npy dtype <f8 shape %s bytes %d sha256 %s\nend 1\n"
            % (name, name, shape, len(data), hashlib.sha256(data).hexdigest())).encode()


def idx(type_byte, dims, data):
    return bytes([0, 0, type_byte, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + data


def gz(data):
    return gzip.compress(data, compresslevel=9, mtime=0)


def file_seeds():
    f8 = struct.pack("<6d", 0.5, -1, 2, 3.25, 0, 1e-300)
    # First byte 0x90: a parameter W of 2 x 3 for the checkpoint; bit 0 picks
    # whether the bytes are the checkpoint's manifest (1) or its file (0).
    ckpt_file = npy("<f8", "(2, 3)", f8)
    ckpt_manifest = manifest("W", ckpt_file, "2x3")
    out = {
        "ckpt_file_intact": b"\x90" + ckpt_file,
        "ckpt_manifest_intact": b"\x91" + ckpt_manifest,
        "ckpt_manifest_truncated": b"\x91" + ckpt_manifest[:-8],
        "ckpt_manifest_other_shape": b"\x91" + ckpt_manifest.replace(b"shape 2x3", b"shape 3x2"),
        "ckpt_manifest_old_layout_file": b"\x91" + ckpt_manifest.replace(b"end 1", b"old-layout-file W.npy\nend 1"),
        "npy_f8": b"\x00" + npy("<f8", "(2, 3)", f8),
        "npy_f4": b"\x00" + npy("<f4", "(3, 2)", struct.pack("<6f", 1, 2, 3, 4, 5, 6)),
        "npy_i8_fortran": b"\x00" + npy("<i8", "(2, 3)", struct.pack("<6q", 1, 2, 3, -4, 5, 6), fortran=True),
        "npy_u1_row": b"\x00" + npy("|u1", "(5,)", bytes([0, 1, 1, 0, 1])),
        "npy_bool": b"\x00" + npy("|b1", "(1, 4)", bytes([1, 0, 1, 1])),
        "npy_scalar": b"\x00" + npy("<f8", "()", struct.pack("<d", 3.5)),
        "npy_i2_v2": b"\x00" + npy("<i2", "(2, 2)", struct.pack("<4h", 1, -2, 3, 4), version=2),
        "npy_f8_v3": b"\x00" + npy("<f8", "(1, 2)", struct.pack("<2d", 1, 2), version=3),
        "npy_empty": b"\x00" + npy("<f8", "(0, 3)", b""),
        "npy_nan": b"\x00" + npy("<f8", "(1, 3)", struct.pack("<3d", 1, math.nan, math.inf)),
        "npy_truncated": b"\x00" + npy("<f8", "(2, 3)", f8)[:-5],
        "npy_big_endian": b"\x00" + npy(">f8", "(2, 3)", f8),
        "npy_3d": b"\x00" + npy("<f8", "(1, 2, 3)", f8),
        "npy_bad_header": b"\x00" + npy("<f8", "(2, 3", f8),
        "csv_plain": b"\x00" + b"1,2,3\n4,5,6\n",
        "csv_header": bytes([0x04]) + b"x,y\n1,2\n3,4\n",
        "csv_semicolon_crlf": bytes([0x01]) + b"1;2\r\n3;4\r\n",
        "csv_tab_comments": bytes([0x02]) + b"# data\n1\t2\n\n3\t4\n",
        "csv_spaces_quotes": bytes([0x03]) + b" 1  \"2\" \n3 4\n",
        "csv_special": b"\x00" + b"nan,inf,-inf\n1e-320,1e308,-0\n",
        "csv_ragged": b"\x00" + b"1,2,3\n4,5\n",
        "csv_labels": bytes([0x15]) + b"0,1,1,0\n",
    }
    # IDX files: bits 4-7 of the first byte are the items a partial load reads.
    images = idx(0x08, [3, 4, 4], bytes(range(0, 240, 5)))
    labels = idx(0x08, [2], bytes([9, 0]))
    out.update({
        "idx_u8_images": b"\x10" + images,
        "idx_u8_images_gz": b"\x20" + gz(images),
        "idx_labels": b"\x10" + labels,
        "idx_labels_out_of_range": b"\x00" + idx(0x08, [2], bytes([3, 12])),
        "idx_i8": b"\x00" + idx(0x09, [4], struct.pack(">4b", -128, -1, 0, 127)),
        "idx_i16": b"\x10" + idx(0x0B, [2, 2], struct.pack(">4h", -32768, 1, 258, 32767)),
        "idx_i32": b"\x00" + idx(0x0C, [3], struct.pack(">3i", -2**31, 65539, 2**31 - 1)),
        "idx_f32": b"\x00" + idx(0x0D, [2], struct.pack(">2f", 1.5, -3e38)),
        "idx_f64": b"\x10" + idx(0x0E, [1, 3], struct.pack(">3d", 1e300, math.nan, -0.25)),
        "idx_empty": b"\x00" + idx(0x08, [0, 28, 28], b""),
        "idx_truncated": b"\x10" + images[:-7],
        "idx_trailing": b"\x00" + labels + b"\x01",
        "idx_bad_type": b"\x00" + idx(0x0A, [2], b"ab"),
        "idx_4d": b"\x00" + idx(0x08, [1, 1, 1, 1], b"a"),
        "idx_huge": b"\x00" + idx(0x0E, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], b""),
        "idx_gz_truncated": b"\x10" + gz(images)[:-6],
        "idx_gz_two_members": b"\x10" + gz(images[:20]) + gz(images[20:]),
        "idx_gz_garbage_after": b"\x00" + gz(labels) + b"junk",
        "idx_gz_bad_crc": b"\x00" + gz(labels)[:-8] + b"\x00\x00\x00\x00" + gz(labels)[-4:],
    })
    return out


def equation_seeds():
    """Typed equations (fuzz/fuzz_equations.cpp reads the bytes as text): the
    lecture's six, xgrad's convention, explain's ASCII and Unicode forms, every
    spelling of the notation, and texts with mistakes."""
    texts = {
        "lecture_six": "dZ2 = A2 - Y\ndW2 = 1/m * dZ2 . A1^T\ndb2 = 1/m * sum_columns(dZ2)\n"
                       "dZ1 = (W2^T . dZ2) * (1 - A1^2)\ndW1 = 1/m * dZ1 . X^T\ndb1 = 1/m * sum_columns(dZ1)\n",
        "autodiff": "dZ2 = (A2 - Y) / m; dW2 = dZ2 @ A1.T; db2 = sum(dZ2, axis=1, keepdims=True)\n"
                    "dA1 = W2.T @ dZ2\ndZ1 = dA1 * (1 - A1^2)  # tanh\n",
        "unicode": "dZ2 = (A2 − Y) / m\ndW2 = dZ2 · A1ᵀ\ndb2 = Σ_columns dZ2\ndA1 = W2ᵀ · dZ2\n"
                   "dZ1 = dA1 ⊙ (1 − A1²)\n",
        "forward": "Z1 = W1 . X + b1\nA1 = tanh(Z1)\nZ2 = W2 @ A1 + b2\nA2 = σ(Z2)\n"
                   "J = −(1 / m) Σ(Y ⊙ log(A2) + (1 − Y) ⊙ log(1 − A2))\n",
        "functions": "dZ = relu(Z) + step(Z) * exp(Z) - log(abs(Z)) / sqrt(Z) + sign(Z) + softplus(Z) + softmax(Z)"
                     " + √(Z) + 2 X + m dZ + Z^-1 + Z⁻¹ + Z³ + np.sum(Z, axis=0, keepdims=True) + sum(Z)\n",
        "mistakes": "dW2 = dZ2 . A1\ndb1 = 1/m * sum_rows(dZ1)\ndZ1 = (W2 . dZ2) * (1 - A1^2)\ndQ = A2 - Q\n",
        "error_unclosed": "dZ1 = (W2^T . dZ2 * (1 - A1^2)\n",
        "error_operator": "dW2 = 1/m * dZ2 .. A1\n",
        "error_character": "dZ2 = A2 $ Y\n",
        "error_twice": "dZ2 = A2 - Y\ndZ2 = Y\n",
        "error_number": "dZ2 = 1e999 * A2 + 5e-324\n",
        "nested": "d = " + "(" * 40 + "x" + ")" * 40 + "\n",
        # A scale of a matrix product inside ⊙ prints as "2 (A · B) ⊙ O" and reads back regrouped.
        "regrouped": "dZ1 = (W−2^T. dZ3 O*2)\n",
        "negated_factor": "dZ = 2 * -A + m * -(B - C)\n",
        # A negated quotient under a division: "1 / −(1 / m) Σ(…)".
        "negated_quotient": "dW2 = 1/ −−(1 / m) Σ(og(1 − A2))\n",
        # A scaled product whose first factor is negated: "m (−1 A ⊙ C ⊙ G)", never "m −1 A ⊙ C ⊙ G".
        "negated_first_factor": "dZ = 1 * -A  C (+m)G\ndZ2 = A2 -01m *- -npm *----++EEE.1 yy +170A3709551++++s(dZ0)\n"
                                "W2 =W2/-----1-----------1------1m *---Z1.-----1m *---Z1.---------1\n",
        # Long sign chains and scales: parsed within the 64 levels, printed with more parentheses than that.
        "deep_rendering": "Z1 = 00*-------------------------------------------------2/-------------------------------"
                          "0000000*90 Z1@ W1 W1 lA@oMZs00000000W24407\n",
        # An exponent prints to 6 digits as any number does: T^1.66667.
        "long_exponent": "dZ1 = (A2 - Y) 1 W^22_2.T.T_^1.666666-0W24407 (1 - A5^2)\nZ = X^1.007631 + X^-0.333333333\n",
        "long_number": "dZ2 = A2 -44444444444444444444444^T\ndb2 = 1/m * 0.123456789 * sum_columns(dZ2)\n",
        # Names with Greek letters and combining marks, as explain prints batch_norm's statistics.
        "batch_norm": "dZ̃1 = dA1 * step(Z̃1)\ndγ1 = 1/m * Σ_columns(dZ̃1 ⊙ X̂1); dβ1 = 1/m * sum_columns(dZ̃1)\n"
                      "dZ1 = (1/m) (γ1 / σ1) ⊙ (m dZ̃1 − Σ_columns dZ̃1 − X̂1 ⊙ Σ_columns(dZ̃1 ⊙ X̂1))\n"
                      "σ1 = sqrt(var1 + 1e-5)\nμσ = σ(Z) + ΩΣ\ndZ = γ1 / √var1 ⊙ √√X̂1² + √(x)\n",
        "combining_marks": "x = \u0302X + X\u0302\u0303\u0302 + \u03a3\u0303 + \u03b1\u0302\u0302\u0302 + \u03c9\u0303\u03c9\n"
                           "d\u03c2 = \u0391\n",
    }
    return {name: text.encode("utf-8") for name, text in texts.items()}


def write_folder(path, files):
    if os.path.isdir(path):
        shutil.rmtree(path)
    os.makedirs(path)
    for name, data in sorted(files.items()):
        with open(os.path.join(path, name), "wb") as f:
            f.write(data)


def main():
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    write_folder(os.path.join(root, "graph"), seeds())
    write_folder(os.path.join(root, "files"), file_seeds())
    write_folder(os.path.join(root, "equations"), equation_seeds())
    return 0


if __name__ == "__main__":
    sys.exit(main())
